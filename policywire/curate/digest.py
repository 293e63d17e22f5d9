"""Choose what one destination receives: candidates → stories → ranked, capped digest.

Pure: the caller brings the candidates (from the store, or from memory for `preview`), the
items this destination received recently (`delivered`) and `now`.

* Candidates and delivered items are grouped together (`policywire.stories`), so an article
  about a story the destination already received joins that story instead of arriving as a
  fresh duplicate. A story made only of delivered articles is dropped; a story mixing both is
  an update (`Story.is_update`) whose lead and further reading are the new articles only.
* The lead is chosen for the destination: its language first, then the fullest summary, then
  the earliest article.
* Ranking (`curate/ranking.py`): more independent outlets first (owned domains: two feeds of
  one site are one outlet), then a primary source, then more topic keywords hit, then the
  newest article; ties by the lead's link, so the order never depends on arrival order. A
  primary source's article leads its story.
* The cap is fair between feeds (`fair_cap`): stories several feeds told come first, then the
  stories of a single feed take turns, so one busy feed cannot fill a digest on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from policywire.curate import ranking
from policywire.curate.ranking import NO_PRIMARY, primary_first
from policywire.curate.stories import (
    DEFAULT_WINDOW,
    Article,
    ArticleKey,
    GroupingParams,
    StoryGroup,
    group_articles,
    merge_same_link,
    story_from_group,
)
from policywire.curate.story_scoring import Vector
from policywire.models import Digest, MatchedItem, Story


def build_digest(
    candidates: Sequence[MatchedItem],
    *,
    destination: str,
    language: str,
    topics: Sequence[str],
    max_stories: int,
    now: datetime,
    timezone: str = "UTC",
    delivered: Sequence[MatchedItem] = (),
    window: timedelta = DEFAULT_WINDOW,
    vectors: Mapping[ArticleKey, Vector] | None = None,
    primary_feeds: Collection[str] = NO_PRIMARY,
    explain: bool = True,
) -> Digest:
    """The digest for one destination; `topics` are the display names for the header.

    `delivered` are the items this destination received within the last `window` (the story
    window); they are never sent again, but new articles on their stories become updates.
    `primary_feeds`: the feeds marked `primary: true`, whose articles lead their stories.
    `explain=False`: the stories carry no reasons (`group_articles`).
    """
    made = make_stories(
        candidates,
        delivered=delivered,
        language=language,
        window=window,
        vectors=vectors,
        explain=explain,
    )
    stories = rank([primary_first(s, primary_feeds, language) for s in made], primary_feeds)
    return Digest(
        destination=destination,
        language=language,
        topics=tuple(topics),
        stories=tuple(fair_cap(stories, max_stories)),
        generated_at=now,
        timezone=timezone,
        more=max(0, len(stories) - max_stories),
    )


def make_stories(
    candidates: Sequence[MatchedItem],
    *,
    delivered: Sequence[MatchedItem] = (),
    language: str | None,
    window: timedelta = DEFAULT_WINDOW,
    vectors: Mapping[ArticleKey, Vector] | None = None,
    explain: bool = True,
) -> list[Story]:
    """Group candidates (with the delivered items as context) into this destination's stories."""
    old_keys = {_key(m) for m in delivered}
    old_links = {m.item.link for m in delivered if m.item.link}
    articles = merge_same_link([*delivered, *candidates])
    groups = group_articles(articles, GroupingParams(window=window), vectors, explain=explain)
    stories: list[Story] = []
    for group in groups:
        new = tuple(a for a in group.articles if not _was_delivered(a, old_keys, old_links))
        if not new:
            continue
        if len(new) == len(group.articles):
            stories.append(story_from_group(group, language))
            continue
        old = [a for a in group.articles if a not in new]
        context = tuple(_update_reason(a) for a in old) if explain else ()
        update = StoryGroup(new, (*context, *group.reasons))
        story = story_from_group(update, language, is_update=True)
        delivered_before = tuple(m for a in old for m in (a.item, *a.copies))
        copies = _without_delivered(story.copies, old_keys)
        stories.append(replace(story, copies=copies, context=delivered_before))
    return stories


def _key(matched: MatchedItem) -> tuple[str, str]:
    return (matched.item.feed, matched.item.id)


def _was_delivered(article: Article, old_keys: set[tuple[str, str]], old_links: set[str]) -> bool:
    if article.item.item.link in old_links:
        return True
    return any(_key(m) in old_keys for m in (article.item, *article.copies))


def _without_delivered(
    copies: tuple[MatchedItem, ...], old_keys: set[tuple[str, str]]
) -> tuple[MatchedItem, ...]:
    return tuple(m for m in copies if _key(m) not in old_keys)


def _update_reason(article: Article) -> str:
    item = article.item.item
    outlets = ", ".join(article.item.sources or (item.source,))
    return f"update to: «{item.title}» ({outlets}, {item.published:%Y-%m-%d %H:%M} UTC)"


def rank(stories: Sequence[Story], primary_feeds: Collection[str] = NO_PRIMARY) -> list[Story]:
    """More independent outlets (owned domains), a primary source, more topic keywords, newer
    first; ties by the lead's link (`curate/ranking.py`)."""
    return ranking.rank(stories, primary_feeds)


def fair_cap(ranked: Sequence[Story], max_stories: int) -> list[Story]:
    """The best `max_stories` of the ranked stories, with every feed getting its turn.

    A story whose articles come from several feeds belongs to no single feed and keeps its
    place. A single feed's stories are counted in rank order (its 1st, 2nd, …): all the feeds'
    1st stories are chosen before any feed's 2nd, and so on, best ranked first within a turn.
    The chosen stories keep their rank order.
    """
    turns: dict[str, int] = {}
    keyed: list[tuple[int, int]] = []
    for position, story in enumerate(ranked):
        feeds = {member.item.feed for member in story.members}
        turn = 0
        if len(feeds) == 1:
            (feed,) = feeds
            turn = turns[feed] = turns.get(feed, 0) + 1
        keyed.append((turn, position))
    chosen = sorted(position for _, position in sorted(keyed)[:max_stories])
    return [ranked[position] for position in chosen]
