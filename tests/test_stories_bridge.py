"""Bridging one event's angles (`policywire.curate.stories_bridge`): two stories that keep
naming the same actors, from two feeds, close in time and in meaning, become one; each
condition, when it fails, keeps them apart."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from policywire.curate.entities import extract_entities
from policywire.curate.stories import (
    ArticleKey,
    GroupingParams,
    StoryGroup,
    article_key,
    group_articles,
    merge_same_link,
)
from policywire.curate.stories_bridge import salient_names
from policywire.curate.story_scoring import article_features
from policywire.models import Item, MatchedItem, TopicHit

_START = datetime(2026, 4, 13, 7, tzinfo=UTC)
_DIMENSIONS = 8

# Two angles of one takeover: they share the buyer and the bought, each names people and
# firms of its own, so the pair alone scores under the threshold.
_DEAL = (
    "Cloud provider Corvana agrees to acquire the start-up Lumetra",
    "The founder Hanna Vogt stays; analysts at Brightline and Kestrel call the price bold.",
)
_STAFF = (
    "Engineers at Lumetra write a letter to Corvana about their Ostrava laboratory",
    "Union leader Piet Maarsen wants guarantees from Zorin Bank.",
)


def _matched(
    n: int, title: str, summary: str, *, feed: int, hours: float, site: int | None = None
) -> MatchedItem:
    item = Item(
        feed=f"https://outlet{feed}.example/feed",
        id=f"item-{n}",
        link=f"https://outlet{feed if site is None else site}.example/{n}",
        title=title,
        summary=summary,
        published=_START + timedelta(hours=hours),
        language="en",
        source=f"Outlet {feed}",
    )
    return MatchedItem(item, (TopicHit("news", ()),), (item.source,))


def _at_cosine(cosine: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors whose cosine is `cosine`."""
    first = np.zeros(_DIMENSIONS, dtype=np.float32)
    first[0] = 1.0
    second = np.zeros(_DIMENSIONS, dtype=np.float32)
    second[0], second[1] = cosine, (1.0 - cosine**2) ** 0.5
    return first, second


def _group(
    texts: tuple[tuple[str, str], tuple[str, str]] = (_DEAL, _STAFF),
    *,
    feeds: tuple[int, int] = (1, 2),
    sites: tuple[int | None, int | None] = (None, None),
    hours: float = 5.0,
    cosine: float | None = 0.42,
    params: GroupingParams | None = None,
    explain: bool = True,
) -> list[StoryGroup]:
    (title_a, summary_a), (title_b, summary_b) = texts
    items = [
        _matched(1, title_a, summary_a, feed=feeds[0], hours=0.0, site=sites[0]),
        _matched(2, title_b, summary_b, feed=feeds[1], hours=hours, site=sites[1]),
    ]
    articles = merge_same_link(items)
    vectors: dict[ArticleKey, np.ndarray] = {}
    if cosine is not None:
        vectors = dict(zip((article_key(a) for a in articles), _at_cosine(cosine), strict=True))
    return group_articles(articles, params, vectors, explain=explain)  # type: ignore[arg-type]


_UNBRIDGED = GroupingParams(bridge_names=0)


def _sizes(groups: list[StoryGroup]) -> list[int]:
    return sorted(len(g.articles) for g in groups)


def test_two_angles_naming_the_same_actors_from_two_feeds_are_one_event() -> None:
    groups = _group()
    assert _sizes(groups) == [2]
    line = next(r for r in groups[0].reasons if r.startswith("grouped as one event"))
    assert "Corvana" in line and "Lumetra" in line and "similarity of the two stories 0.42" in line
    # The bridge joined them, not the pair: without it they stay apart.
    assert _sizes(_group(params=_UNBRIDGED)) == [1, 1]


def test_the_same_stories_without_their_reasons_and_in_any_order() -> None:
    assert [g.articles for g in _group(explain=False)] == [g.articles for g in _group()]
    assert all(not g.reasons for g in _group(explain=False))


def test_one_outlets_two_pieces_are_not_bridged() -> None:
    assert _sizes(_group(feeds=(1, 1))) == [1, 1]
    # Two feeds of one outlet (its world and its tech feed): one outlet still.
    assert _sizes(_group(feeds=(1, 2), sites=(3, 3))) == [1, 1]


def test_one_shared_name_is_not_enough() -> None:
    staff = ("Engineers at Lumetra write a letter about their Ostrava laboratory", _STAFF[1])
    assert _sizes(_group((_DEAL, staff))) == [1, 1]


def test_the_words_of_one_long_name_count_once() -> None:
    first = (
        "Ministers are gathering for the annual meeting of the World Economic Forum",
        "The founder Hanna Vogt attends.",
    )
    second = ("A protest outside the World Economic Forum", "The unionist Piet Maarsen marches.")
    written_together = extract_entities(*first, "en").neighbours
    assert written_together >= {("world", "economic"), ("economic", "forum")}
    assert _sizes(_group((first, second), cosine=0.38, params=_UNBRIDGED)) == [1, 1]
    assert _sizes(_group((first, second), cosine=0.38)) == [1, 1]


def test_stories_that_read_apart_or_lie_far_apart_are_not_bridged() -> None:
    assert _sizes(_group(cosine=0.30)) == [1, 1]
    assert _sizes(_group(hours=40.0)) == [1, 1]  # more than the 36 h of bridge_window
    assert _sizes(_group(hours=20.0, params=GroupingParams(window=timedelta(hours=12)))) == [
        1,
        1,
    ]


def test_without_vectors_nothing_is_bridged() -> None:
    # Names alone group this pair already; the bridge adds nothing to names-only grouping.
    names_only = _group(cosine=None)
    unbridged = _group(cosine=None, params=_UNBRIDGED)
    assert [g.articles for g in names_only] == [g.articles for g in unbridged]
    assert not any(r.startswith("grouped as one event") for g in names_only for r in g.reasons)


def test_a_name_salient_in_too_many_stories_bridges_none() -> None:
    assert _sizes(_group(params=GroupingParams(bridge_posting=1))) == [1, 1]


def test_a_name_is_salient_when_enough_of_a_storys_articles_name_it() -> None:
    params = GroupingParams()
    titles = [
        "The cloud provider Corvana acquires the start-up Lumetra",
        "Why would Corvana offer so much for Lumetra",
        "Shares of Corvana rise sharply",
    ]
    features = [
        article_features(_matched(n, title, "", feed=n, hours=n), (), params)
        for n, title in enumerate(titles)
    ]
    assert salient_names(range(3), features, 0.5) == {"corvana", "lumetra"}
    assert salient_names(range(3), features, 0.7) == {"corvana"}


def test_bridged_stories_are_the_same_whatever_the_input_order() -> None:
    rng = random.Random(7)
    params = replace(GroupingParams(), bridge_similarity=0.3)
    items = [
        _matched(n, *(_DEAL if n % 2 else _STAFF), feed=n % 4, hours=n * 2.0) for n in range(8)
    ]
    vectors = {}
    for n, item in enumerate(items):
        vector = np.zeros(_DIMENSIONS, dtype=np.float32)
        vector[0], vector[1 + n % (_DIMENSIONS - 1)] = 0.6, 0.8
        vectors[(item.item.feed, item.item.id)] = vector
    articles = merge_same_link(items)
    expected = [g.articles for g in group_articles(articles, params, vectors)]  # type: ignore[arg-type]
    for _ in range(5):
        rng.shuffle(articles)
        again = [g.articles for g in group_articles(articles, params, vectors)]  # type: ignore[arg-type]
        assert again == expected


def test_only_names_written_one_after_the_other_are_one_name() -> None:
    found = extract_entities(
        "A meeting", "The founder Hanna Vogt meets Kestrel, Brightline and Zorin Bank.", "en"
    )
    assert {"hanna", "vogt", "kestrel", "brightline", "zorin", "bank"} <= found.all
    assert found.neighbours == {("hanna", "vogt"), ("zorin", "bank")}
    possessive = extract_entities("A bid", "The board saw Corvana's Lumetra bid.", "en")
    assert {"corvana", "lumetra"} <= possessive.all and not possessive.neighbours
