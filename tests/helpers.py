"""Small builders shared by the tests (no fakes of our own code: real dataclasses)."""

from __future__ import annotations

from datetime import UTC, datetime

from policywire.models import Item, MatchedItem, TopicHit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def item(
    n: int,
    *,
    title: str | None = None,
    summary: str = "A short summary. It has two sentences.",
    link: str | None = None,
    source: str = "News",
    feed: str = "https://news.example/feed.xml",
    published: datetime = NOW,
    language: str | None = "en",
) -> Item:
    return Item(
        feed=feed,
        id=f"id-{n}",
        link=link or f"https://news.example/{n}",
        title=title or f"Story number {n}",
        summary=summary,
        published=published,
        language=language,
        source=source,
    )


def matched(base: Item, *topics: str, pk: int | None = None) -> MatchedItem:
    hits = tuple(TopicHit(topic, (topic.upper(),)) for topic in (topics or ("ai-act",)))
    return MatchedItem(base, hits, (base.source,), first_seen=base.published, pk=pk)
