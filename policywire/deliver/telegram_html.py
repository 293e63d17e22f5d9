"""Digest views → Telegram HTML messages, each within Telegram's limits.

Telegram's 4096 is counted on the visible text after entity parsing, in UTF-16 code units
("😀" is two), not on the HTML we send: tags, link targets and escapes cost nothing. Measuring
the source instead left messages half empty (every link's URL counted against the text), so
each block is measured as Telegram will see it (`measure`). Two more limits matter once markup
is free: Telegram ignores formatting beyond a message's 100th entity, and refuses a message
whose entities are too large in total ("Entities_too_long", seen at about 9,500 characters of
mostly link targets, tdlib/telegram-bot-api#165), so a message's link targets are held under
a conservative 6000 units. Messages are split only between stories; a story too large for one
message is shortened (further reading first, then the summary, then the headline), never
dropped; a link too long for any message is left out and its headline kept.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from policywire.deliver.render import DigestView, ReadingLink, StoryView, byline, hashtag

Payload = dict[str, Any]
TELEGRAM_LIMIT = 4096  # visible UTF-16 units after entity parsing
MAX_ENTITIES = 100  # formatting past the 100th entity is silently dropped
MAX_LINKS = 6000  # UTF-16 units of link targets: well under the entities' total size
SEPARATOR = "\n\n"

_TAG = re.compile(r"<[^>]*>")  # our own tags: feed text never carries a raw "<" or ">"
_OPEN_TAG = re.compile(r"<[a-z]")
_HREF = re.compile(r'<a href="([^"]*)">')
# What Telegram turns into entities by itself: hashtags, mentions, cashtags, bot commands,
# URLs and e-mail addresses. Counted generously: one too many only splits a message earlier.
_AUTO_ENTITY = re.compile(r"(?<!\w)[#@$/]\w|https?://|\b[\w.+-]+@[\w-]+\.\w")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Size:
    """A piece of a message as Telegram counts it."""

    visible: int  # UTF-16 units of the text after entity parsing
    entities: int
    links: int  # UTF-16 units of the link targets, which the entities carry

    def __add__(self, other: Size) -> Size:
        return Size(
            self.visible + other.visible,
            self.entities + other.entities,
            self.links + other.links,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    visible: int = TELEGRAM_LIMIT
    entities: int = MAX_ENTITIES
    links: int = MAX_LINKS

    def admit(self, size: Size) -> bool:
        return (
            size.visible <= self.visible
            and size.entities <= self.entities
            and size.links <= self.links
        )


def visible_text(source: str) -> str:
    """The text Telegram shows for HTML this module wrote: tags dropped, escapes read back.

    Exact for our own output only, which is all it is used on: feed text is always escaped,
    so every "<" in the source opens one of our tags and no attribute holds a raw ">".
    """
    return html.unescape(_TAG.sub("", source))


def measure(source: str) -> Size:
    text = visible_text(source)
    entities = len(_OPEN_TAG.findall(source)) + len(_AUTO_ENTITY.findall(text))
    links = sum(utf16_len(html.unescape(url)) for url in _HREF.findall(source))
    return Size(utf16_len(text), entities, links)


def escape(text: str) -> str:
    """Feed text made inert in Telegram HTML: only &, < and > are special outside tags."""
    return html.escape(text, quote=False)


def _href(url: str) -> str:
    return html.escape(url, quote=True)


def _link(url: str, label: str) -> str:
    if not url.startswith(("http://", "https://")):
        return escape(label)  # javascript: and friends never become links
    return f'<a href="{_href(url)}">{escape(label)}</a>'


def render_telegram(view: DigestView, limits: Limits | None = None) -> list[str]:
    """The digest as one or more HTML messages, header first, footer last."""
    limits = limits or Limits()
    blocks = [f"<b>{escape(view.header)}</b>"]
    if not view.stories:
        blocks.append(escape(view.empty_text))
    blocks += [_fit_story(story, view, limits) for story in view.stories]
    if view.footer:
        blocks.append(f"<i>{escape(view.footer)}</i>")
    return _pack(blocks, limits)


def story_html(
    story: StoryView,
    view: DigestView,
    *,
    further: Iterable[ReadingLink] | None = None,
    summary: str | None = None,
    headline: str | None = None,
    links: bool = True,
) -> str:
    words = view.wording
    link = _link if links else (lambda _url, label: escape(label))
    lines = []
    if story.is_update:
        lines.append(f"<i>{escape(words.new_on_story)}</i>")
    lines.append(f"<b>{link(story.link, headline or story.headline)}</b>")
    lines.append(f"<i>{escape(byline(story, words))}</i>")
    text = story.summary if summary is None else summary
    if text:
        lines.append(escape(text))
    readings = list(story.further if further is None else further)
    if readings:
        lines.append(f"<b>{escape(words.further_reading)}</b>")
        lines += [f"• {link(r.link, r.title)} — {escape(r.outlet)}" for r in readings]
    if story.topics:
        lines.append(" ".join(escape(hashtag(t)) for t in story.topics))
    return "\n".join(lines)


def _fit_story(story: StoryView, view: DigestView, limits: Limits) -> str:
    """The story's HTML, shortened step by step until it fits in one message."""

    def fits(rendered: str) -> bool:
        return limits.admit(measure(rendered))

    # A headline link over a whole message's budget (an absurd URL) could never be sent, and
    # no shortening of the text makes room for it: the headline stays, without links.
    links = utf16_len(story.link) <= limits.links
    further = list(story.further) if links else []
    rendered = story_html(story, view, further=further, links=links)
    while not fits(rendered) and further:
        further.pop()
        rendered = story_html(story, view, further=further)
    summary = story.summary
    while not fits(rendered) and summary:
        summary = _shorter(summary)
        rendered = story_html(story, view, further=[], summary=summary, links=links)
    headline = story.headline
    while not fits(rendered) and len(headline) > 20:
        headline = _shorter(headline)
        rendered = story_html(
            story, view, further=[], summary=summary, headline=headline, links=links
        )
    return rendered


def card_payload(story: StoryView, view: DigestView, story_id: int, buttons: bool) -> Payload:
    """A story card: one message for one story, with its feedback buttons (docs/cards.md)."""
    payload: Payload = {"html": _fit_story(story, view, Limits())}
    if buttons:
        words = view.wording
        payload["buttons"] = [
            [
                {"text": words.not_relevant, "data": f"pw:nr:{story_id}"},
                {"text": words.wrong_grouping, "data": f"pw:wg:{story_id}"},
            ]
        ]
    return payload


def reply_payload(readings: Sequence[ReadingLink], view: DigestView, reply_to: str) -> Payload:
    """The short "new on this story" reply to a card that can no longer be edited."""
    lines = [f"<i>{escape(view.wording.new_on_story)}</i>"]
    lines += [f"• {_link(r.link, r.title)} — {escape(r.outlet)}" for r in readings]
    text = "\n".join(lines)
    while len(lines) > 2 and not Limits().admit(measure(text)):
        lines.pop()
        text = "\n".join(lines)
    return {"html": text, "reply_to": reply_to}


def _shorter(text: str) -> str:
    """Roughly half the text, cut on a word, with an ellipsis."""
    keep = max(0, len(text) // 2 - 1)
    cut = text[:keep].rsplit(" ", 1)[0] if " " in text[:keep] else text[:keep]
    return (cut.rstrip(" ,;:.") + "…") if cut else ""


def _pack(blocks: list[str], limits: Limits) -> list[str]:
    """Blocks joined into as few messages as Telegram's limits allow, in order."""
    separator = measure(SEPARATOR)
    messages: list[str] = []
    current, size = "", Size(0, 0, 0)
    for block in blocks:
        block_size = measure(block)
        joined = size + separator + block_size
        if current and limits.admit(joined):
            current, size = f"{current}{SEPARATOR}{block}", joined
            continue
        if current:
            messages.append(current)
        current, size = block, block_size
    if current:
        messages.append(current)
    return messages
