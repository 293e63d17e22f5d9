"""One busy feed cannot crowd the others out: fair candidates (SQL) and a fair digest cap.

The store is a real SQLite file (and a PostgreSQL server when POLICYWIRE_TEST_POSTGRES names
one); items go in the way a poll writes them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policywire.curate.digest import build_digest, fair_cap
from policywire.errors import StoreError
from policywire.models import Item, MatchedItem, Story, TopicHit, Validators
from policywire.storage.store import DestinationRow, Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BUSY = "https://busy.example/feed.xml"
SMALL = [f"https://small{n}.example/feed.xml" for n in range(5)]
# Distinct words, so that names-only grouping keeps every item a story of its own.
WORDS = [
    "harbour", "budget", "railway", "museum", "orchard", "glacier", "tariff", "vaccine",
    "satellite", "election", "drought", "festival", "bridge", "lottery", "census", "pipeline",
]  # fmt: skip


def title(feed_index: int, n: int) -> str:
    picks = [WORDS[(n // len(WORDS) ** k + feed_index * 7 + k) % len(WORDS)] for k in range(3)]
    return f"{' '.join(picks).capitalize()} report {feed_index}-{n}"


def make_item(feed: str, feed_index: int, n: int, published: datetime) -> Item:
    return Item(
        feed=feed,
        id=f"{feed_index}-{n}",
        link=f"https://{feed_index}.example/{n}",
        title=title(feed_index, n),
        summary=f"Item {n} of feed {feed_index}.",
        published=published,
        language="en",
        source=f"Feed {feed_index}",
    )


def destination() -> DestinationRow:
    return DestinationRow(
        key="console:stdout",
        origin="config",
        platform="console",
        target="stdout",
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=NOW - timedelta(hours=1),
        last_digest_at=None,
    )


async def seed(store: Store, per_small_feed: int, busy_items: int = 10_000) -> None:
    """The busy feed publishes `busy_items`, all newer than any small feed's item."""
    batches = {BUSY: [make_item(BUSY, 9, n, NOW - timedelta(seconds=n)) for n in range(busy_items)]}
    for index, feed in enumerate(SMALL):
        batches[feed] = [
            make_item(feed, index, n, NOW - timedelta(hours=3, minutes=n))
            for n in range(per_small_feed)
        ]
    for feed, items in batches.items():
        hits = {(i.feed, i.id): (TopicHit("ai-act", ("AI Act",)),) for i in items}
        await store.record_success(feed, Validators(), NOW, items=items, hits=hits)


def database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("POLICYWIRE_TEST_POSTGRES"):
        urls.append(os.environ["POLICYWIRE_TEST_POSTGRES"])
    return urls


@pytest.fixture(params=database_urls())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = str(request.param)
    if url == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}"
    else:
        pytest.importorskip("asyncpg")
        await _drop_tables(url)
    try:
        opened = await Store.open(url)
    except StoreError as exc:
        pytest.skip(f"no database: {exc}")
    yield opened
    await opened.close()


async def _drop_tables(url: str) -> None:
    """A PostgreSQL test database starts empty each time (the schema is rebuilt)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def by_feed(candidates: Sequence[MatchedItem]) -> Counter[str]:
    return Counter(m.item.feed for m in candidates)


async def test_ten_thousand_items_from_one_feed_leave_room_for_five_small_feeds(
    store: Store,
) -> None:
    await seed(store, per_small_feed=3)
    row = await store.upsert_destination(destination())
    candidates = await store.undelivered(row, timedelta(hours=24))
    counts = by_feed(candidates)
    assert len(candidates) == 5000  # the limit is still filled...
    assert all(counts[feed] == 3 for feed in SMALL)  # ...with every small feed's items
    assert counts[BUSY] == 5000 - 15  # the turns the small feeds cannot use
    published = [m.item.published for m in candidates]
    assert published == sorted(published, reverse=True)  # still newest first

    digest = build_digest(
        candidates,
        destination=row.key,
        language="en",
        topics=["EU AI Act"],
        max_stories=20,
        now=NOW,
    )
    shown = by_feed([m for story in digest.stories for m in story.members])
    assert all(shown[feed] == 3 for feed in SMALL), shown
    assert shown[BUSY] == 5  # and the busy feed fills what is left
    assert digest.more == 5000 - 20


async def test_turns_are_taken_newest_first_and_the_rest_goes_to_busy_feeds(
    store: Store,
) -> None:
    await seed(store, per_small_feed=3, busy_items=40)
    row = await store.upsert_destination(destination())
    candidates = await store.undelivered(row, timedelta(hours=24), limit=20)
    counts = by_feed(candidates)
    # Three turns of six feeds (18), then only the busy feed has a fourth and fifth item.
    assert counts == Counter({BUSY: 5, **dict.fromkeys(SMALL, 3)})
    busy = [m.item.id for m in candidates if m.item.feed == BUSY]
    assert busy == [f"9-{n}" for n in range(5)]  # the busy feed's five newest

    few = await store.undelivered(row, timedelta(hours=24), limit=6)
    assert by_feed(few) == Counter({BUSY: 1, **dict.fromkeys(SMALL, 1)})


async def test_an_item_of_several_topics_takes_one_turn(store: Store) -> None:
    items = [make_item(BUSY, 9, n, NOW - timedelta(minutes=n)) for n in range(3)]
    hits = {
        (i.feed, i.id): (TopicHit("ai-act", ("AI Act",)), TopicHit("mistral", ("Mistral AI",)))
        for i in items
    }
    await store.record_success(BUSY, Validators(), NOW, items=items, hits=hits)
    row = await store.upsert_destination(replace(destination(), topics=("ai-act", "mistral")))
    candidates = await store.undelivered(row, timedelta(hours=24), limit=2)
    assert [m.item.id for m in candidates] == ["9-0", "9-1"]
    assert all(len(m.hits) == 2 for m in candidates)  # both topics, one candidate


# --- the digest cap ---------------------------------------------------------------------------


def story(feed: str, n: int, *others: str) -> Story:
    lead = MatchedItem(make_item(feed, 0, n, NOW), (TopicHit("ai-act", ("AI Act",)),))
    related = tuple(
        MatchedItem(make_item(other, k + 1, n, NOW), lead.hits) for k, other in enumerate(others)
    )
    return Story(lead=lead, related=related)


def test_fair_cap_gives_every_feed_a_turn_before_any_feed_a_second() -> None:
    ranked = [story(BUSY, n) for n in range(8)] + [story(feed, 0) for feed in SMALL]
    chosen = fair_cap(ranked, 7)
    assert [s.lead.item.feed for s in chosen] == [BUSY, BUSY, *SMALL]  # in rank order
    assert [s.lead.item.id for s in chosen[:2]] == ["0-0", "0-1"]  # the busy feed's best two


def test_fair_cap_keeps_stories_several_feeds_told() -> None:
    shared = [story(BUSY, n, SMALL[0]) for n in range(3)]
    ranked = [*shared, story(BUSY, 10), story(SMALL[1], 0), story(SMALL[2], 0)]
    chosen = fair_cap(ranked, 4)
    assert chosen == [*shared, story(BUSY, 10)]


def test_fair_cap_without_pressure_changes_nothing() -> None:
    ranked = [story(BUSY, n) for n in range(3)] + [story(SMALL[0], 0)]
    assert fair_cap(ranked, 10) == ranked
    assert fair_cap(ranked, 0) == []
