"""The order of a digest's stories, and of the articles inside one story.

Pure functions over `Story`; the caller says which feeds are primary sources (`primary: true`
in feeds.yaml: an EU institution, a company's own newsroom).

* **Stories** rank by independent coverage: the number of distinct outlets (owned domains,
  `curate/outlets.py`: three feeds of one site are one outlet), then whether a primary source
  is among them, then the number of topic keywords hit, then the newest article; ties by the
  lead's link, so the order never depends on arrival order.
* **Inside a story** a primary source's article leads when the story has one (the best of
  them by the destination's language, summary and age, as `stories.lead_order` chooses), and
  the other primary articles head the further reading; the rest keep their order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from policywire.curate.outlets import story_outlets
from policywire.curate.stories import Article, lead_order
from policywire.models import MatchedItem, Story

NO_PRIMARY: frozenset[str] = frozenset()


def rank(stories: Sequence[Story], primary_feeds: Collection[str] = NO_PRIMARY) -> list[Story]:
    """Most independent outlets first (see the module's docstring for the tie-breaks)."""
    return sorted(stories, key=lambda story: rank_key(story, primary_feeds))


def rank_key(
    story: Story, primary_feeds: Collection[str] = NO_PRIMARY
) -> tuple[int, int, int, float, str]:
    hits = {(hit.topic, kw) for m in story.members for hit in m.hits for kw in hit.keywords}
    newest = max(m.item.published.timestamp() for m in story.members)
    primary = has_primary(story, primary_feeds)
    return (-len(story_outlets(story)), -primary, -len(hits), -newest, story.lead.item.link)


def has_primary(story: Story, primary_feeds: Collection[str]) -> bool:
    return any(m.item.feed in primary_feeds for m in (*story.members, *story.copies))


def primary_first(
    story: Story, primary_feeds: Collection[str], language: str | None = None
) -> Story:
    """The story with a primary source's article as its lead, when it has one."""
    if not primary_feeds or not has_primary(story, primary_feeds):
        return story
    members = story.members
    copies_of = _copies_by_link(story)

    def is_primary(member: MatchedItem) -> bool:
        return member.item.feed in primary_feeds or any(
            copy.item.feed in primary_feeds for copy in copies_of.get(member.item.link, ())
        )

    primaries = [m for m in members if is_primary(m)]
    order = lead_order(language)
    lead = min(primaries, key=lambda m: order(Article(m)))
    others = [m for m in members if m is not lead]
    related = [m for m in others if is_primary(m)] + [m for m in others if not is_primary(m)]
    return replace(story, lead=lead, related=tuple(related))


def _copies_by_link(story: Story) -> dict[str, list[MatchedItem]]:
    found: dict[str, list[MatchedItem]] = {}
    for copy in story.copies:
        found.setdefault(copy.item.link, []).append(copy)
    return found
