"""The text features grouping keeps between digests: the same as computed afresh, bounded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from policywire.curate.entities import SUMMARY_CHARS
from policywire.curate.stories import group_articles, merge_same_link
from policywire.curate.stories_text import KEPT, TextFeaturesCache, text_features
from policywire.models import Item, MatchedItem, TopicHit

_START = datetime(2026, 1, 10, 8, tzinfo=UTC)


def _item(n: int, title: str, summary: str = "", language: str = "en") -> Item:
    return Item(
        feed=f"https://outlet{n % 3}.example/feed",
        id=f"item-{n}",
        link=f"https://outlet{n % 3}.example/{n}",
        title=title,
        summary=summary,
        published=_START + timedelta(hours=n),
        language=language,
        source=f"Outlet {n % 3}",
    )


_TITLES = [
    "Mistral AI opens an office in Munich",
    "Mistral AI eröffnet Büro in München",
    "Iran and Iraq hold talks in Geneva on water rights",
    "La Commissione europea multa Google per 2 miliardi",
]


def test_kept_features_are_those_computed_afresh_and_computed_once() -> None:
    cache = TextFeaturesCache(capacity=100)
    items = [_item(n, title, f"{title}. More on it.") for n, title in enumerate(_TITLES)]
    first = cache.features_of(items)
    assert first == [text_features(i.title, i.summary, i.language) for i in items]
    again = cache.features_of(list(reversed(items)))
    assert all(a is b for a, b in zip(again, reversed(first), strict=True))  # not recomputed


def test_a_long_summary_is_read_as_extract_entities_reads_it() -> None:
    # A name cut by the limit must count as it does on the whole summary (not at all), and a
    # summary one character longer than the limit is still cut at its last word.
    filler = "word " * (SUMMARY_CHARS // 5)
    for summary in (filler[: SUMMARY_CHARS - 5] + "Iranian talks", filler + "Geneva " * 700):
        item = _item(1, "Talks resume", summary)
        (kept,) = TextFeaturesCache().features_of([item])
        assert kept == text_features(item.title, item.summary, item.language)


def test_the_newest_used_are_kept_and_a_larger_window_raises_the_bound() -> None:
    cache = TextFeaturesCache(capacity=3)
    items = [_item(n, f"Headline number {n} about Lisbon") for n in range(6)]
    cache.features_of(items[:3])
    cache.features_of(items[:1])  # item 0 is now the newest used
    cache.features_of(items[3:4])  # evicts item 1, the least recently used
    assert len(cache) == 3
    kept = cache.features_of(items[:1])[0]
    assert kept is cache.features_of(items[:1])[0]
    cache.features_of(items)  # one window of six: all of it stays
    assert cache.capacity == 6 and len(cache) == 6


def test_digests_sharing_the_cache_from_threads_lose_nothing() -> None:
    cache = TextFeaturesCache(capacity=5)
    items = [_item(n, f"Storm {n} hits the coast of Galicia") for n in range(40)]
    failures: list[BaseException] = []

    def digest(offset: int) -> None:
        try:
            for start in range(offset, 40, 3):
                window = items[start : start + 4]
                got = cache.features_of(window)
                assert [f.title_words for f in got] == [
                    text_features(i.title, i.summary, i.language).title_words for i in window
                ]
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=digest, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_grouping_with_the_features_kept_groups_as_with_none_kept() -> None:
    items = [
        MatchedItem(_item(n, title, title), (TopicHit("ai", ()),), (f"Outlet {n % 3}",))
        for n, title in enumerate(_TITLES * 2)
    ]
    articles = merge_same_link(items)
    KEPT.clear()
    cold = group_articles(articles, explain=False)
    assert len(KEPT) == len({(i.item.title, i.item.summary) for i in items})
    warm = group_articles(articles, explain=False)
    assert [g.articles for g in warm] == [g.articles for g in cold]
    assert any(len(g.articles) > 1 for g in cold)
