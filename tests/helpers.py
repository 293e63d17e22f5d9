"""Small builders shared by the tests (no fakes of our own code: real dataclasses)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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


def slug(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.lower())) or "x"


def rss(titles: list[str]) -> str:
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><title><![CDATA[{title}]]></title>"
        f"<link>https://news.example/{slug(title)}</link>"
        f"<guid>https://news.example/{slug(title)}</guid>"
        f"<pubDate>{(now - timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate><description><![CDATA[News about {title}. Second sentence.]]></description>"
        "</item>"
        for n, title in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link>{entries}</channel></rss>"
    )
