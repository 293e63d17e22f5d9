"""Digest → platform-neutral views → text for each platform.

Every renderer goes through `view_digest`, so wording, summaries, dates and the further-reading
list are decided once. Feed text is untrusted: platform renderers escape it; this module only
removes control characters and caps sizes.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from policywire.curate.outlets import story_outlets
from policywire.curate.summarizer import SummarizedStory, extractive_summary
from policywire.deliver import i18n
from policywire.models import Digest, Item, MatchedItem, Story

MAX_TITLE_CHARS = 300
MAX_FURTHER_READING = 8

# C0/C1 controls other than newline and tab: an ESC in a title could drive a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class ReadingLink:
    title: str
    link: str
    outlet: str


@dataclass(frozen=True, slots=True)
class StoryView:
    headline: str
    link: str
    outlets: tuple[str, ...]
    date: str
    summary: str
    further: tuple[ReadingLink, ...]
    topics: tuple[str, ...]  # topic ids, for hashtags and colours
    is_update: bool = False
    machine_written: bool = False  # headline and summary by the story summarizer: say so
    outlets_count: int = 1  # independent outlets (owned domains) that told the story
    # A story card (view_card) says how many outlets told it ("3 outlets") and, once it grew,
    # when its newest article joined; a digest's story says neither.
    outlets_line: str = ""
    updated: str = ""


@dataclass(frozen=True, slots=True)
class DigestView:
    language: str
    header: str
    stories: tuple[StoryView, ...]
    footer: str | None
    empty_text: str

    @property
    def wording(self) -> i18n.Wording:
        return i18n.wording(self.language)


def clean(text: str, limit: int) -> str:
    """Untrusted text made printable and bounded (cut on a word, with an ellipsis)."""
    text = " ".join(_CONTROL.sub("", text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:.") + "…"


def view_digest(digest: Digest) -> DigestView:
    language = digest.language
    date = i18n.long_date(digest.generated_at, language, digest.timezone)
    count = i18n.count_stories(language, len(digest.stories))
    header = " · ".join(part for part in (", ".join(digest.topics), date, count) if part)
    return DigestView(
        language=language,
        header=header,
        stories=tuple(view_story(s, language, digest.timezone) for s in digest.stories),
        footer=i18n.more_stories(language, digest.more) if digest.more else None,
        empty_text=i18n.wording(language).no_stories,
    )


def view_story(story: Story, language: str, timezone: str) -> StoryView:
    lead = story.lead.item
    # A model's text is untrusted like feed text: cleaned here, escaped by each platform.
    written = story.written if isinstance(story, SummarizedStory) else None
    return StoryView(
        headline=clean(written.headline if written else lead.title, MAX_TITLE_CHARS),
        link=lead.link,
        outlets=tuple(clean(o, 80) for o in (story.lead.sources or (lead.source,))),
        date=_date(lead, language, timezone),
        summary=clean(written.summary, 2000) if written else _summary(story.lead),
        further=tuple(_reading(m) for m in story.related[:MAX_FURTHER_READING]),
        topics=story.topics,
        is_update=story.is_update,
        machine_written=written is not None,
        outlets_count=len(story_outlets(story)),
    )


def view_card(story: Story, language: str, timezone: str, updated: datetime | None) -> StoryView:
    """A story as its card shows it: `view_story`, plus "3 outlets" when several independent
    outlets told it and, for a card that grew, when (`updated`: its newest article's time)."""
    view = view_story(story, language, timezone)
    count = view.outlets_count
    return replace(
        view,
        outlets_line=i18n.count_outlets(language, count) if count > 1 else "",
        updated=_updated(updated, story.lead.item.published, language, timezone),
    )


def _updated(updated: datetime | None, published: datetime, language: str, zone: str) -> str:
    """When a card grew: the time alone on its lead's day, else the date too."""
    if updated is None:
        return ""
    local, lead_day = updated.astimezone(ZoneInfo(zone)), published.astimezone(ZoneInfo(zone))
    if local.date() == lead_day.date():
        return f"{local:%H:%M}"
    return i18n.short_datetime(updated, language, zone)


def byline(story: StoryView, words: i18n.Wording) -> str:
    """Outlets and date, plus the machine-written mark when a model wrote the story's text,
    and on a card the outlet count and when it grew (`view_card`)."""
    parts = [", ".join(story.outlets)]
    if story.outlets_line:
        parts.append(story.outlets_line)
    parts.append(story.date)
    if story.updated:
        parts.append(words.updated.format(time=story.updated))
    if story.machine_written:
        parts.append(words.machine_written)
    return " · ".join(parts)


def _date(item: Item, language: str, timezone: str) -> str:
    """When the article was published; for one the feed gave no date, when we saw it."""
    if item.dated:
        return i18n.short_datetime(item.published, language, timezone)
    return i18n.seen_datetime(item.published, language, timezone)


def _summary(matched: MatchedItem) -> str:
    item = matched.item
    return extractive_summary(replace(item, summary=clean(item.summary, 5000)))


def reading_link(matched: MatchedItem) -> ReadingLink:
    """One article as a further-reading line (a card's "new on this story" reply lists these)."""
    return _reading(matched)


def card_view(language: str) -> DigestView:
    """The view a story card is rendered in: the language's wording, no header or footer."""
    return DigestView(language=language, header="", stories=(), footer=None, empty_text="")


def _reading(matched: MatchedItem) -> ReadingLink:
    outlets = matched.sources or (matched.item.source,)
    return ReadingLink(
        title=clean(matched.item.title, MAX_TITLE_CHARS),
        link=matched.item.link,
        outlet=clean(", ".join(outlets), 120),
    )


def hashtag(topic_id: str) -> str:
    """Telegram and Discord hashtags stop at '-': use '_' instead."""
    return "#" + re.sub(r"[^\w]", "_", topic_id)


# --- console ---------------------------------------------------------------------------------


def render_console(view: DigestView, width: int = 88) -> str:
    """Plain text for a terminal or a log file."""
    lines = [view.header, "=" * min(width, max(len(view.header), 10))]
    if not view.stories:
        lines += ["", view.empty_text]
    for story in view.stories:
        lines += ["", *_console_story(story, view.wording, width)]
    if view.footer:
        lines += ["", view.footer]
    return "\n".join(lines) + "\n"


def _console_story(story: StoryView, words: i18n.Wording, width: int) -> list[str]:
    lines = []
    if story.is_update:
        lines.append(f"[{words.new_on_story}]")
    lines += textwrap.wrap(story.headline, width) or [story.headline]
    lines.append(byline(story, words))
    if story.summary:
        lines += textwrap.wrap(story.summary, width)
    lines.append(story.link)
    if story.further:
        lines.append(words.further_reading)
        for reading in story.further:
            lines.append(f"- {reading.title} ({reading.outlet})")
            lines.append(f"  {reading.link}")
    if story.topics:
        lines.append(" ".join(hashtag(t) for t in story.topics))
    return lines
