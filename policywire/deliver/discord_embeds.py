"""Digest views → Discord message payloads: one embed per story, within Discord's limits.

A payload is a JSON-serializable dict (the outbox stores it as is) that the Discord transports
send unchanged: ``{"content": str, "embeds": [embed dicts], "allowed_mentions": {"parse": []}}``.

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
title 256, description 4096, 25 fields of name 256 / value 1024, footer 2048, author 256,
at most 10 embeds and 6000 characters over all embeds of one message, content 2000. We
measure in UTF-16 code units, never fewer than the characters Discord counts, so what fits
here fits there. Messages are split only between stories; a story too large for one message
loses further reading first, then summary text, never the story itself.

Feed text is untrusted: Discord markdown is escaped where Discord renders markdown (content,
titles, descriptions, field names and values), and mention syntax (@everyone, @here, <@…>,
<@&…>, <#…>) is broken with a zero-width space everywhere. The transports also send every
message with allowed_mentions that ping nobody.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from policywire.deliver.render import DigestView, ReadingLink, StoryView, byline

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_TOTAL = 6000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256

NO_MENTIONS: dict[str, list[str]] = {"parse": []}
ZWSP = "\u200b"

# Colour-blind-friendly palette (Okabe-Ito, plus two), picked per topic by a stable hash.
PALETTE = (0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9, 0xD55E00, 0xF0E442, 0x6A3D9A)
NEUTRAL = 0x99AAB5

_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()])")
_ORDERED_LIST = re.compile(r"^(\d+)\.(?=\s)", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=\\?[@#:/at])")
_BARE_URL = re.compile(r"(https?://[^\s<>()\[\]`|*~]+)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def neutralize_mentions(text: str) -> str:
    """@everyone, @here and <@id>, <@&role>, <#channel>, <t:…>, <:emoji:…> made inert."""
    return _ANGLE.sub("<" + ZWSP, _MENTION.sub("@" + ZWSP + r"\1", text))


def escape(text: str) -> str:
    """Feed text made inert in Discord markdown: every markup character backslash-escaped.

    Bare web addresses are left as they are, so Discord still turns them into links.
    """
    parts = _BARE_URL.split(text)
    escaped = "".join(
        part if index % 2 else _ORDERED_LIST.sub(r"\1\\.", _MARKDOWN.sub(r"\\\1", part))
        for index, part in enumerate(parts)
    )
    return neutralize_mentions(escaped)


def plain(text: str) -> str:
    """For embed parts Discord shows without markdown (footer, author): mentions only."""
    return neutralize_mentions(text)


def fit(text: str, limit: int, render: Callable[[str], str] = escape) -> str:
    """`render(text)`, with `text` cut on a word (plus "…") until the result fits `limit`."""
    rendered = render(text)
    keep = len(text)
    while utf16_len(rendered) > limit and keep > 0:
        keep = min(keep - 1, keep * limit // utf16_len(rendered))
        cut = text[:keep]
        if " " in cut[len(cut) // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        cut = cut.rstrip(" ,;:.…")
        keep = len(cut)
        rendered = render(cut + "…") if cut else ""
    return rendered


def colour(topics: tuple[str, ...]) -> int:
    """A stable colour for a story's first topic (the same topic is the same colour)."""
    if not topics:
        return NEUTRAL
    return PALETTE[zlib.crc32(topics[0].encode()) % len(PALETTE)]


def embed_length(embed: Mapping[str, Any]) -> int:
    """What Discord counts towards the 6000-character budget of one message."""
    total = utf16_len(embed.get("title", "")) + utf16_len(embed.get("description", ""))
    total += utf16_len(embed.get("footer", {}).get("text", ""))
    total += utf16_len(embed.get("author", {}).get("name", ""))
    for item in embed.get("fields", ()):
        total += utf16_len(item["name"]) + utf16_len(item["value"])
    return total


def _url(link: str) -> str | None:
    """A link safe inside markdown `(…)` and as an embed url; None for non-web schemes."""
    if not link.startswith(("http://", "https://")):
        return None
    return link.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


def _reading_line(reading: ReadingLink) -> str:
    title = fit(reading.title, 300)
    url = _url(reading.link)
    label = f"[{title}]({url})" if url else title
    line = f"• {label} — {escape(reading.outlet)}"
    if utf16_len(line) > MAX_FIELD_VALUE:  # an absurd URL: show the title without the link
        line = f"• {fit(reading.title, 300)} — {fit(reading.outlet, 200)}"
    return line


def _reading_fields(readings: list[ReadingLink], heading: str) -> list[dict[str, Any]]:
    """Further reading as a field list: lines packed into fields of at most 1024 units."""
    values: list[str] = []
    for line in (_reading_line(r) for r in readings):
        if values and utf16_len(values[-1]) + 1 + utf16_len(line) <= MAX_FIELD_VALUE:
            values[-1] = f"{values[-1]}\n{line}"
        else:
            values.append(line)
    # Only the first field carries the heading; the others continue it under a blank name.
    names = [fit(heading, MAX_FIELD_NAME), *[ZWSP] * (len(values) - 1)]
    return [
        {"name": name, "value": value, "inline": False}
        for name, value in zip(names, values, strict=True)
    ][:MAX_FIELDS]


def story_embed(
    story: StoryView,
    view: DigestView,
    *,
    further: list[ReadingLink] | None = None,
    summary_limit: int = MAX_DESCRIPTION,
) -> dict[str, Any]:
    words = view.wording
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(story.headline, MAX_TITLE),
        "color": colour(story.topics),
    }
    url = _url(story.link)
    if url:
        embed["url"] = url
    if story.is_update:
        embed["author"] = {"name": fit(words.new_on_story, MAX_AUTHOR, plain)}
    if story.summary and summary_limit > 0:
        embed["description"] = fit(story.summary, summary_limit)
    readings = list(story.further if further is None else further)
    if readings:
        embed["fields"] = _reading_fields(readings, words.further_reading)
    footer = byline(story, words)
    embed["footer"] = {"text": fit(footer, MAX_FOOTER, plain)}
    return embed


def fit_story(story: StoryView, view: DigestView, budget: int = MAX_TOTAL) -> dict[str, Any]:
    """The story's embed, shortened step by step until it fits one message's budget."""
    further = list(story.further)
    embed = story_embed(story, view)
    while embed_length(embed) > budget and further:
        further.pop()
        embed = story_embed(story, view, further=further)
    limit = MAX_DESCRIPTION
    while embed_length(embed) > budget and limit > 0:
        limit = max(0, limit - (embed_length(embed) - budget) - 1)
        embed = story_embed(story, view, further=[], summary_limit=limit)
    return embed


def _header(view: DigestView) -> str:
    return f"**{fit(view.header, MAX_CONTENT - 4)}**"


def render_discord(view: DigestView) -> list[dict[str, Any]]:
    """The digest as one or more message payloads: header in the first, footer in the last."""
    header = _header(view)
    if not view.stories:
        text = f"{header}\n{escape(view.empty_text)}"
        return [{"content": text[:MAX_CONTENT], "embeds": [], "allowed_mentions": NO_MENTIONS}]
    embeds = [fit_story(story, view) for story in view.stories]
    if view.footer:
        embeds.append({"type": "rich", "description": f"*{fit(view.footer, 4000)}*"})
    messages: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for embed in embeds:
        length = embed_length(embed)
        if batch and (len(batch) >= MAX_EMBEDS or size + length > MAX_TOTAL):
            messages.append(_message(batch, header if not messages else ""))
            batch, size = [], 0
        batch.append(embed)
        size += length
    messages.append(_message(batch, header if not messages else ""))
    return messages


def card_payload(
    story: StoryView, view: DigestView, story_id: int, buttons: bool
) -> dict[str, Any]:
    """A story card: one embed for one story, with its feedback buttons (docs/cards.md).

    The buttons are message components (an action row of two grey buttons whose custom ids
    carry the story id); a webhook that no application owns cannot carry them (`buttons`).
    """
    payload = _message([fit_story(story, view)], "")
    if buttons:
        words = view.wording
        payload["components"] = [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": fit(label, 80, plain), "custom_id": custom}
                    for label, custom in (
                        (words.not_relevant, f"pw:nr:{story_id}"),
                        (words.wrong_grouping, f"pw:wg:{story_id}"),
                    )
                ],
            }
        ]
    return payload


def reply_payload(readings: list[ReadingLink], view: DigestView, reply_to: str) -> dict[str, Any]:
    """The short "new on this story" reply to a card that is gone or can no longer be edited."""
    heading = f"*{escape(view.wording.new_on_story)}*"
    lines = [heading, *(_reading_line(r) for r in readings)]
    while len(lines) > 2 and utf16_len("\n".join(lines)) > MAX_CONTENT:
        lines.pop()
    content = "\n".join(lines)[:MAX_CONTENT]
    return {"content": content, "embeds": [], "allowed_mentions": NO_MENTIONS, "reply_to": reply_to}


def _message(embeds: list[dict[str, Any]], content: str) -> dict[str, Any]:
    return {"content": content, "embeds": embeds, "allowed_mentions": NO_MENTIONS}
