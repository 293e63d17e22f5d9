"""The store against a real SQLite file and a real PostgreSQL: dedup across restarts,
backfill, deliveries."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from policywire.errors import StoreError
from policywire.models import Item, MatchedItem, TopicHit, Validators
from policywire.storage.store import DestinationRow, Store
from tests.databases import BACKENDS, database_url

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FEED = "https://news.example/feed.xml"


def make_item(n: int, published: datetime = NOW, feed: str = FEED) -> Item:
    return Item(
        feed=feed,
        id=f"id-{n}",
        link=f"https://news.example/{n}",
        title=f"Title {n}",
        summary=f"Summary {n}.",
        published=published,
        language="en",
        tags=("policy",),
        source="News",
    )


async def seed(
    store: Store,
    items: Sequence[Item],
    hits: Mapping[tuple[str, str], Sequence[TopicHit]],
    now: datetime,
) -> list[MatchedItem]:
    """Store items the way the service does: one good poll per feed (`record_success`),
    first seen `now`; returns the new ones that matched a topic."""
    by_feed: dict[str, list[Item]] = {}
    for item in items:
        by_feed.setdefault(item.feed, []).append(item)
    new: list[MatchedItem] = []
    for feed, batch in by_feed.items():
        new += await store.record_success(feed, Validators(), now, items=batch, hits=hits)
    return new


def hits_for(*items: Item) -> dict[tuple[str, str], tuple[TopicHit, ...]]:
    return {(i.feed, i.id): (TopicHit("ai-act", ("AI Act",)),) for i in items}


def destination(created: datetime = NOW, topics: tuple[str, ...] = ("ai-act",)) -> DestinationRow:
    return DestinationRow(
        key="console:stdout",
        origin="config",
        platform="console",
        target="stdout",
        topics=topics,
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=created,
        last_digest_at=None,
    )


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every store test runs on SQLite and on a real PostgreSQL (tests/databases.py)."""
    async with database_url(request.param, tmp_path) as url:
        yield url


async def test_items_are_never_reported_twice_across_restarts(db_url: str) -> None:
    first, second = make_item(1), make_item(2)
    store = await Store.open(db_url)
    new = await seed(store, [first, second], hits_for(first), NOW)
    assert [m.item.id for m in new] == ["id-1"]
    await store.close()

    reopened = await Store.open(db_url)
    again = await seed(reopened, [first, second, make_item(3)], hits_for(first), NOW)
    assert again == []
    assert await reopened.count_items() == 3
    await reopened.close()


async def test_undelivered_respects_deliveries_and_topics(db_url: str) -> None:
    store = await Store.open(db_url)
    a, b = make_item(1), make_item(2, NOW - timedelta(hours=1))
    await seed(store, [a, b], hits_for(a, b), NOW)
    dest = await store.upsert_destination(destination())
    pending = await store.undelivered(dest, timedelta(hours=24))
    assert [m.item.id for m in pending] == ["id-1", "id-2"]  # newest first
    assert pending[0].hits == (TopicHit("ai-act", ("AI Act",)),)

    await store.mark_delivered(dest.key, [m.pk for m in pending if m.pk is not None], NOW)
    assert await store.undelivered(dest, timedelta(hours=24)) == []
    other = await store.upsert_destination(destination(topics=("mistral",)))
    assert await store.undelivered(other, timedelta(hours=24)) == []
    await store.close()


async def test_backfill_drops_a_new_feeds_archive(db_url: str) -> None:
    store = await Store.open(db_url)
    fresh = make_item(1, NOW - timedelta(hours=2))
    archive = make_item(2, NOW - timedelta(days=30))
    await seed(store, [fresh, archive], hits_for(fresh, archive), NOW)
    dest = await store.upsert_destination(destination(created=NOW - timedelta(days=90)))
    pending = await store.undelivered(dest, timedelta(hours=24))
    assert [m.item.id for m in pending] == ["id-1"]
    await store.close()


async def test_a_feeds_archive_never_crowds_out_real_candidates(db_url: str) -> None:
    # The archive item sorts first (newer publication) but is filtered in SQL, so the limit
    # is spent on real candidates; filtered after the query, it left the result empty.
    store = await Store.open(db_url)
    real = make_item(1, NOW - timedelta(days=3, hours=1))
    await seed(store, [real], hits_for(real), NOW - timedelta(days=3))
    archive = make_item(2, NOW - timedelta(days=2))  # first seen now, published 2 days ago
    await seed(store, [archive], hits_for(archive), NOW)
    dest = await store.upsert_destination(destination(created=NOW - timedelta(days=3)))
    pending = await store.undelivered(dest, timedelta(hours=24), limit=1)
    assert [m.item.id for m in pending] == ["id-1"]
    await store.close()


async def test_new_destination_gets_only_the_backfill_window(db_url: str) -> None:
    store = await Store.open(db_url)
    old_seen = make_item(1, NOW - timedelta(days=3))
    await seed(store, [old_seen], hits_for(old_seen), NOW - timedelta(days=3))
    recent = make_item(2, NOW - timedelta(hours=3))
    await seed(store, [recent], hits_for(recent), NOW - timedelta(hours=3))
    dest = await store.upsert_destination(destination(created=NOW))
    pending = await store.undelivered(dest, timedelta(hours=24))
    assert [m.item.id for m in pending] == ["id-2"]
    await store.close()


async def test_destination_upsert_keeps_creation_time(db_url: str) -> None:
    store = await Store.open(db_url)
    created = await store.upsert_destination(destination(created=NOW - timedelta(days=5)))
    changed = await store.upsert_destination(destination(created=NOW, topics=("mistral", "ai-act")))
    assert changed.created_at == created.created_at
    assert changed.topics == ("mistral", "ai-act")
    await store.close()


async def test_feed_state_records_validators_and_failures(db_url: str) -> None:
    store = await Store.open(db_url)
    assert (await store.feed_state(FEED)).failures == 0
    assert await store.record_failure(FEED, "HTTP 500 Internal Server Error", NOW) == 1
    assert await store.record_failure(FEED, "timed out after 20s", NOW) == 2
    state = await store.feed_state(FEED)
    assert state.last_error == "timed out after 20s"
    await store.record_success(FEED, Validators('"abc"', "Tue, 10 Mar 2026", "f00"), NOW, "News")
    state = await store.feed_state(FEED)
    assert state.failures == 0
    assert state.validators == Validators('"abc"', "Tue, 10 Mar 2026", "f00")
    assert state.last_success == NOW
    await store.close()


async def test_prune_forgets_old_items(db_url: str) -> None:
    store = await Store.open(db_url)
    old = make_item(1)
    await seed(store, [old], hits_for(old), NOW - timedelta(days=40))
    await seed(store, [make_item(2)], {}, NOW)
    assert await store.prune(NOW - timedelta(days=30)) == 1
    assert await store.count_items() == 1
    await store.close()


async def test_unusable_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'not-a-dir' / 'db.sqlite'}")


async def test_many_concurrent_writers_never_hit_database_is_locked(db_url: str) -> None:
    store = await Store.open(db_url)

    async def one_feed(n: int) -> None:
        feed = f"https://feed{n}.example/rss"
        batch = [make_item(k, feed=feed) for k in range(5)]
        await store.feed_state(feed)  # a read first: the case SQLite cannot upgrade
        await seed(store, batch, hits_for(batch[0]), NOW)
        await store.record_success(feed, Validators('"e"', None, "h"), NOW)

    await asyncio.gather(*(one_feed(n) for n in range(200)))
    assert await store.count_items() == 1000
    await store.close()


async def test_remembered_feed_state_equals_what_a_fresh_read_gives(db_url: str) -> None:
    store = await Store.open(db_url)
    assert (await store.feed_state(FEED)).items_total == 0  # read once, then remembered
    batch = [make_item(1), make_item(2)]
    await store.record_success(FEED, Validators('"a"', None, "h1"), NOW, "News", items=batch)
    await store.record_failure(FEED, "HTTP 500 Internal Server Error", NOW)
    later = NOW + timedelta(minutes=15)
    await store.feed_state(FEED)
    await store.record_success(FEED, Validators('"b"', None, "h2"), later, items=[make_item(3)])
    await store.record_success(FEED, Validators('"b"', None, "h2"), later)  # a 304
    remembered = await store.feed_state(FEED)
    fresh = await Store.open(db_url)
    assert remembered == await fresh.feed_state(FEED)
    assert remembered.items_total == 3 and remembered.failures == 0
    await fresh.close()
    await store.close()


async def test_concurrent_polls_are_committed_together_and_each_gets_its_items(
    db_url: str,
) -> None:
    store = await Store.open(db_url)
    feeds = [f"https://feed{n}.example/rss" for n in range(300)]
    await store.feed_states(feeds)

    async def poll(n: int, feed: str) -> int:
        batch = [make_item(k, feed=feed) for k in range(n % 3)]  # some polls are 304s
        new = await store.record_success(
            feed, Validators(f'"e{n}"', None, "h"), NOW, items=batch, hits=hits_for(*batch)
        )
        await store.set_next_poll(feed, NOW + timedelta(minutes=n))
        assert all(m.item.feed == feed for m in new)
        return len(new)

    counts = await asyncio.gather(*(poll(n, feed) for n, feed in enumerate(feeds)))
    assert counts == [n % 3 for n in range(300)]
    rows = {row.url: row for row in await store.feed_rows()}
    await store.close()
    reopened = await Store.open(db_url)
    for n, feed in enumerate(feeds):
        state = await reopened.feed_state(feed)
        assert state.validators.etag == f'"e{n}"' and state.items_total == n % 3
        assert rows[feed].next_poll == NOW + timedelta(minutes=n)
        assert rows[feed].last_polled == rows[feed].last_success == NOW
    await reopened.close()


async def test_one_unstorable_poll_fails_alone_and_the_others_are_kept(db_url: str) -> None:
    store = await Store.open(db_url)
    bad_feed = "https://bad.example/feed.json"
    bad = replace(make_item(1, feed=bad_feed), title="lone \ud800 surrogate")

    async def good(n: int) -> int:
        item = make_item(1, feed=f"https://good{n}.example/rss")
        new = await store.record_success(item.feed, Validators(), NOW, items=[item])
        return len(new)

    outcomes = await asyncio.gather(
        good(0),
        store.record_success(bad_feed, Validators(), NOW, items=[bad], hits=hits_for(bad)),
        *(good(n) for n in range(1, 5)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], StoreError)
    assert "cannot store" in str(outcomes[1])
    assert await store.count_items() == 5
    await store.close()


async def test_the_fast_sqlite_insert_stores_what_sqlalchemy_would(
    db_url: str, tmp_path: Path
) -> None:
    """Unmatched items skip SQLAlchemy's parameter processing; their rows must not differ."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the fast insert is SQLite's own")
    rome = timezone(timedelta(hours=2))
    published = datetime(2026, 3, 10, 14, 5, 6, 789, tzinfo=rome)
    store = await Store.open(db_url)
    core = replace(make_item(1, published), tags=(), links=("https://a.example/é",))
    fast = replace(core, feed="https://other.example/rss")
    await seed(store, [core], hits_for(core), NOW)  # matched: the Core path
    await seed(store, [fast], {}, NOW)  # unmatched: the driver path
    assert [m.item for m in await store.undelivered(destination(), timedelta(days=1))] == [core]
    await store.close()
    with sqlite3.connect(tmp_path / "test.db") as raw:
        rows = raw.execute("SELECT * FROM items ORDER BY pk").fetchall()
    (_, core_feed, *core_rest), (_, fast_feed, *fast_rest) = rows
    assert (core_feed, fast_feed) == (core.feed, fast.feed)
    assert core_rest == fast_rest
    assert "2026-03-10 12:05:06.000789" in core_rest


async def test_a_later_poll_keeps_the_title_and_the_first_poll_time(db_url: str) -> None:
    store = await Store.open(db_url)
    await store.record_success(FEED, Validators('"a"', None, "h1"), NOW, "News", items=[])
    later = NOW + timedelta(hours=1, microseconds=7)
    await store.record_success(FEED, Validators(None, "Tue, 10 Mar 2026", "h2"), later)
    (row,) = await store.feed_rows()
    assert row.title == "News" and row.first_polled == NOW
    assert row.last_polled == row.last_success == later
    assert (row.etag, row.last_modified, row.body_hash) == (
        None,
        "Tue, 10 Mar 2026",
        "h2",
    )
    await store.close()


def test_the_postgresql_feed_upsert_renders_what_the_sqlite_one_does() -> None:
    # No PostgreSQL server here: render the statement and compare its parts with SQLite's.
    from sqlalchemy.dialects import postgresql

    from policywire.storage.postgresql import feed_upsert

    sql = str(feed_upsert().compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (url) DO UPDATE SET" in sql
    for column in ("etag", "last_modified", "body_hash", "last_polled", "last_success"):
        assert f"{column} = excluded.{column}" in sql
    assert "items_total = (feeds.items_total + excluded.items_total)" in sql
    assert "coalesce(feeds.first_polled, excluded.first_polled)" in sql
    assert "CASE WHEN (excluded.title != %(title_1)s" in sql
    assert "THEN excluded.title ELSE feeds.title END" in sql
