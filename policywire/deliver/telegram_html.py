"""Digest views → Telegram HTML messages, each within Telegram's 4096-unit limit.

Telegram counts UTF-16 code units, so "😀" is two. We measure the whole HTML source, which is
never shorter than the text Telegram counts after parsing: a message that fits here fits there.
Messages are split only between stories; a story too large for one message is shortened
(further reading first, then the summary, then the headline), never dropped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from policywire.deliver.render import DigestView, ReadingLink, StoryView, hashtag

TELEGRAM_LIMIT = 4096
SEPARATOR = "\n\n"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Feed text made inert in Telegram HTML: only &, < and > are special outside tags."""
    return html.escape(text, quote=False)


def _href(url: str) -> str:
    return html.escape(url, quote=True)


def _link(url: str, label: str) -> str:
    if not url.startswith(("http://", "https://")):
        return escape(label)  # javascript: and friends never become links
    return f'<a href="{_href(url)}">{escape(label)}</a>'


def render_telegram(view: DigestView, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The digest as one or more HTML messages, header first, footer last."""
    blocks = [f"<b>{escape(view.header)}</b>"]
    if not view.stories:
        blocks.append(escape(view.empty_text))
    blocks += [_fit_story(story, view, limit) for story in view.stories]
    if view.footer:
        blocks.append(f"<i>{escape(view.footer)}</i>")
    return _pack(blocks, limit)


def story_html(
    story: StoryView,
    view: DigestView,
    *,
    further: Iterable[ReadingLink] | None = None,
    summary: str | None = None,
    headline: str | None = None,
) -> str:
    words = view.wording
    lines = []
    if story.is_update:
        lines.append(f"<i>{escape(words.new_on_story)}</i>")
    lines.append(f"<b>{_link(story.link, headline or story.headline)}</b>")
    lines.append(f"<i>{escape(', '.join(story.outlets))} · {escape(story.date)}</i>")
    text = story.summary if summary is None else summary
    if text:
        lines.append(escape(text))
    readings = list(story.further if further is None else further)
    if readings:
        lines.append(f"<b>{escape(words.further_reading)}</b>")
        lines += [f"• {_link(r.link, r.title)} — {escape(r.outlet)}" for r in readings]
    if story.topics:
        lines.append(" ".join(escape(hashtag(t)) for t in story.topics))
    return "\n".join(lines)


def _fit_story(story: StoryView, view: DigestView, limit: int) -> str:
    """The story's HTML, shortened step by step until it fits in one message."""
    further = list(story.further)
    rendered = story_html(story, view)
    while utf16_len(rendered) > limit and further:
        further.pop()
        rendered = story_html(story, view, further=further)
    summary = story.summary
    while utf16_len(rendered) > limit and summary:
        summary = _shorter(summary)
        rendered = story_html(story, view, further=[], summary=summary)
    headline = story.headline
    while utf16_len(rendered) > limit and len(headline) > 20:
        headline = _shorter(headline)
        rendered = story_html(story, view, further=[], summary=summary, headline=headline)
    return rendered


def _shorter(text: str) -> str:
    """Roughly half the text, cut on a word, with an ellipsis."""
    keep = max(0, len(text) // 2 - 1)
    cut = text[:keep].rsplit(" ", 1)[0] if " " in text[:keep] else text[:keep]
    return (cut.rstrip(" ,;:.") + "…") if cut else ""


def _pack(blocks: list[str], limit: int) -> list[str]:
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{SEPARATOR}{block}" if current else block
        if current and utf16_len(candidate) > limit:
            messages.append(current)
            candidate = block
        current = candidate
    if current:
        messages.append(current)
    return messages
