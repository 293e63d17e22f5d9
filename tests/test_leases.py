"""Leases between workers on one real PostgreSQL database: two stores (two engines, as two
processes have) claim feeds, destinations' outboxes, digest ticks and the updates lease; time
is a clock the test moves. SQLite keeps its one-instance path with no lease at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.coordination.workers import (
    Coordination,
    Workers,
    coordination_for,
    schedule_tick,
)
from policywire.models import Validators
from policywire.status import collect_status, format_status
from policywire.storage.leases import (
    FEED,
    OUTBOX,
    SHARD,
    SHARD_MEMBER,
    UPDATES,
    DigestConflict,
    Holder,
)
from policywire.storage.store import DestinationRow, Store
from policywire.storage.workers import WorkerRow
from tests.databases import fresh_postgres_database
from tests.helpers import NOW, config_file

TTL = timedelta(seconds=30)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two workers' stores on one database."""
    a, b = await Store.open(pg_url), await Store.open(pg_url)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def destination(key: str = "telegram:42") -> DestinationRow:
    return DestinationRow(
        key=key,
        origin="chat",
        platform="telegram",
        target=key.split(":", 1)[1],
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=NOW,
        last_digest_at=None,
    )


def small_config(tmp_path: Path) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "unused.db",
        feeds=["https://f.example/rss"],
        topics={"ai-act": ["AI Act"]},
    )


# --- feeds ---------------------------------------------------------------------------------


async def test_two_workers_claiming_the_same_feeds_at_once_split_them(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    urls = [f"https://feed{n}.example/rss" for n in range(300)]
    until = NOW + timedelta(minutes=15)
    for _ in range(3):  # each worker's polls in three batches, racing the other's
        got_a, got_b = await asyncio.gather(
            a.claim_feeds([(u, until) for u in urls], "worker-a", NOW),
            b.claim_feeds([(u, until) for u in urls], "worker-b", NOW),
        )
    mine_a = {u for u, s in zip(urls, got_a, strict=True) if s is not None}
    mine_b = {u for u, s in zip(urls, got_b, strict=True) if s is not None}
    assert mine_a.isdisjoint(mine_b)  # never both
    holders = {lease.name: lease.holder for lease in await a.leases(FEED)}
    assert set(holders) == set(urls)  # every feed is someone's
    assert {u for u, h in holders.items() if h == "worker-a"} == mine_a
    assert {u for u, h in holders.items() if h == "worker-b"} == mine_b


async def test_a_feed_lease_lasts_its_interval_then_another_worker_polls_it(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    url = "https://feed.example/rss"
    until = NOW + timedelta(minutes=15)
    assert (await a.claim_feeds([(url, until)], "worker-a", NOW))[0] is not None
    assert (await b.claim_feeds([(url, until)], "worker-b", NOW + timedelta(minutes=14))) == [None]
    # A claim of its own lease is granted (its own poll job again, or a retry).
    assert (await a.claim_feeds([(url, until)], "worker-a", NOW + timedelta(minutes=1)))[0]
    later = NOW + timedelta(minutes=15, seconds=1)
    assert (await b.claim_feeds([(url, later + timedelta(minutes=15))], "worker-b", later))[0]
    (lease,) = await a.leases(FEED)
    assert (lease.holder, lease.taken_at) == ("worker-b", later)


async def test_a_failing_feed_is_held_through_its_backoff(two: tuple[Store, Store]) -> None:
    a, b = two
    url = "https://feed.example/rss"
    await a.claim_feeds([(url, NOW + timedelta(minutes=15))], "worker-a", NOW)
    await a.hold_feed(url, "worker-a", NOW + timedelta(hours=2))
    at = NOW + timedelta(hours=1)
    assert await b.claim_feeds([(url, at + timedelta(minutes=15))], "worker-b", at) == [None]
    await b.hold_feed(url, "worker-b", NOW)  # only the holder moves its lease
    (lease,) = await a.leases(FEED)
    assert lease.expires_at == NOW + timedelta(hours=2)


async def test_a_claim_reads_the_state_another_worker_wrote(two: tuple[Store, Store]) -> None:
    a, b = two
    url = "https://feed.example/rss"
    assert (await b.feed_state(url)).validators == Validators()  # b remembers "never polled"
    await a.record_success(url, Validators('"v2"', "Tue, 10 Mar 2026 12:00:00 GMT", "h"), NOW)
    (state,) = await b.claim_feeds([(url, NOW + timedelta(minutes=15))], "worker-b", NOW)
    assert state is not None
    assert state.validators.etag == '"v2"'  # a's poll, not b's stale memory
    assert state.first_polled == NOW


async def test_the_service_polls_a_feed_only_with_its_lease(tmp_path: Path, pg_url: str) -> None:
    from policywire.service import Service

    path = config_file(
        tmp_path,
        database=pg_url,
        feeds=["http://127.0.0.1:9/never-fetched.xml"],
        topics={"ai-act": ["AI Act"]},
        destinations=[{"console": "stdout"}],
    )
    config = load_config(path, env={})
    store = await Store.open(pg_url)
    other = await Store.open(pg_url)
    clock = Clock()
    coordination = Workers(store, clock, worker_id="worker-a")
    service = Service(config, store, {}, parse_workers=0, clock=clock, coordination=coordination)
    try:
        await service.prepare()
        (feed,) = config.feeds
        await other.claim_feeds([(feed.url, NOW + timedelta(minutes=15))], "worker-b", NOW)
        await service.poll_job(feed.url)  # b polled it: a does not fetch
        assert (await store.feed_state(feed.url)).failures == 0
        clock.advance(16 * 60)
        await service.poll_job(feed.url)  # its lease ran out: a polls (port 9 refuses)
        assert (await store.feed_state(feed.url)).failures == 1
        (lease,) = await store.leases(FEED)
        assert lease.holder == "worker-a"
        assert lease.expires_at > clock.now + feed.interval  # held through the backoff
    finally:
        await service.stop(grace=1)
        await store.close()
        await other.close()


# --- the outbox ----------------------------------------------------------------------------


async def queue(store: Store, key: str, *texts: str) -> None:
    await store.upsert_destination(destination(key))
    await store.enqueue_digest(key, [{"html": t} for t in texts], [], NOW, f"{key}/{texts[0]}")


async def test_a_destinations_messages_go_to_one_worker_until_its_lease_runs_out(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    await queue(a, "telegram:1", "one-1", "one-2")
    await queue(a, "telegram:2", "two-1")
    a.holder, b.holder = Holder("worker-a", TTL), Holder("worker-b", TTL)

    got = await a.due_messages(NOW)
    assert [row.payload["html"] for row in got] == ["one-1", "one-2", "two-1"]
    assert await b.due_messages(NOW) == []  # a holds both destinations
    assert await a.renew_leases("worker-a", NOW + timedelta(seconds=50)) == 2
    assert await b.due_messages(NOW + timedelta(seconds=40)) == []  # renewed: still a's

    # a dies without a word: its leases run out and b takes over, in order, where a stopped.
    await a.mark_sent(got[0].id, "m1", NOW)
    after = NOW + timedelta(seconds=51)
    taken = await b.due_messages(after)
    assert [row.payload["html"] for row in taken] == ["one-2", "two-1"]
    holders = {lease.name: lease.holder for lease in await a.leases(OUTBOX)}
    assert holders == {"telegram:1": "worker-b", "telegram:2": "worker-b"}


async def test_a_worker_gives_up_the_destinations_it_has_nothing_for(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    await queue(a, "telegram:1", "one-1")
    a.holder, b.holder = Holder("worker-a", TTL), Holder("worker-b", TTL)
    (row,) = await a.due_messages(NOW)
    await a.mark_sent(row.id, "m1", NOW)
    await queue(a, "telegram:2", "two-1")
    assert [r.payload["html"] for r in await a.due_messages(NOW)] == ["two-1"]
    assert {lease.name for lease in await a.leases(OUTBOX)} == {"telegram:2"}  # 1 released
    await queue(a, "telegram:1", "one-2")
    assert [r.payload["html"] for r in await b.due_messages(NOW)] == ["one-2"]  # at once


async def test_what_one_worker_sent_is_never_read_as_pending_by_the_next(
    two: tuple[Store, Store],
) -> None:
    """The rows are read after the lease is taken: a send committed just before counts."""
    a, b = two
    await queue(a, "telegram:1", "one-1", "one-2")
    a.holder, b.holder = Holder("worker-a", TTL), Holder("worker-b", TTL)
    first, second = await a.due_messages(NOW)
    await a.mark_sent(first.id, "m1", NOW)
    await a.mark_sent(second.id, "m2", NOW)
    await a.release_leases("worker-a")  # a clean stop hands the destination over
    assert await b.due_messages(NOW) == []
    assert await a.leases(OUTBOX) == []


async def test_a_digest_of_items_another_worker_queued_first_is_refused(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    await a.upsert_destination(destination())
    items = [f"https://news.example/{n}" for n in range(3)]
    pks = await _stored_items(a, items)
    a.holder, b.holder = Holder("worker-a", TTL), Holder("worker-b", TTL)
    key = "telegram:42"
    results = await asyncio.gather(
        a.enqueue_digest(key, [{"html": "from a"}], pks[:2], NOW, "digest-a"),
        b.enqueue_digest(key, [{"html": "from b"}], pks[1:], NOW, "digest-b"),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DigestConflict)]
    assert len(refused) == 1 and results.count(1) == 1  # one queued, the other built again
    assert len(await a.messages()) == 1
    # Built again from what is left, the second digest goes through.
    left = [pk for pk in pks if pk not in await _delivered(a, key)]
    assert await b.enqueue_digest(key, [{"html": "rest"}], left, NOW, "digest-c") == 1
    assert sorted(await _delivered(a, key)) == sorted(pks)


async def test_one_instance_never_refuses_a_digest_and_takes_no_lease(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'solo.db'}")
    try:
        assert not store.shared
        assert type(coordination_for(store, Clock())) is Coordination
        await queue(store, "telegram:1", "one-1")
        assert len(await store.due_messages(NOW)) == 1
        assert await store.leases() == []
    finally:
        await store.close()


# --- digest ticks, workers, the updates lease ----------------------------------------------


async def test_a_schedule_tick_is_built_by_one_worker(two: tuple[Store, Store]) -> None:
    a, b = two
    tick = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    assert await a.claim_tick("telegram:42", tick, "worker-a", NOW)
    assert not await b.claim_tick("telegram:42", tick, "worker-b", NOW)
    assert await b.claim_tick("telegram:42", tick + timedelta(days=1), "worker-b", NOW)
    assert await a.forget_ticks(NOW + timedelta(seconds=1)) == 2


def test_every_worker_names_a_firing_by_the_same_tick() -> None:
    rome_8 = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 in Rome
    for late in (0.0, 0.2, 59, 1800):  # however late each worker's job fires
        now = rome_8 + timedelta(seconds=late)
        assert schedule_tick("08:00", "Europe/Rome", now) == rome_8
    quarter = datetime(2026, 3, 10, 12, 15, tzinfo=UTC)
    assert schedule_tick("*/15 * * * *", "UTC", quarter + timedelta(seconds=3)) == quarter


class Receiver:
    def __init__(self) -> None:
        self.on = False
        self.calls = 0

    async def set_receiving(self, on: bool) -> None:
        self.on = on
        self.calls += 1


async def test_the_updates_lease_fails_over_when_its_holder_goes_silent(
    tmp_path: Path, two: tuple[Store, Store]
) -> None:
    a, b = two
    clock = Clock()
    config = load_config(small_config(tmp_path), env={})
    first, second = Workers(a, clock, worker_id="w-a"), Workers(b, clock, worker_id="w-b")
    got_a, got_b = Receiver(), Receiver()
    first.add_receiver("telegram", got_a)
    second.add_receiver("telegram", got_b)
    await first.start(lambda: config)
    await second.start(lambda: config)
    try:
        await first.beat()
        await second.beat()
        assert (got_a.on, got_b.on) == (True, False)
        for _ in range(3):  # a keeps it while it beats
            clock.advance(10)
            await first.beat()
            await second.beat()
        assert (got_a.on, got_b.on) == (True, False)
        (lease,) = await b.leases(UPDATES)
        assert lease.holder == "w-a"

        clock.advance(TTL.total_seconds() + 1)  # a went silent (killed): its lease ran out
        await second.beat()
        assert got_b.on
        (lease,) = await b.leases(UPDATES)
        assert lease.holder == "w-b"
        await first.beat()  # a comes back: b holds it now, a must not receive too
        assert not got_a.on
    finally:
        await first.stop()
        await second.stop()
    assert await a.workers() == []  # both said goodbye
    assert await a.leases(UPDATES) == []


async def test_workers_say_who_they_are_and_which_config_they_run(
    tmp_path: Path, two: tuple[Store, Store]
) -> None:
    a, b = two
    clock = Clock()
    path = small_config(tmp_path)
    config = load_config(path, env={})
    worker = Workers(a, clock, worker_id="w-a")
    await worker.start(lambda: config)
    try:
        (row,) = await b.workers()
        assert (row.id, row.started_at, row.heartbeat_at) == ("w-a", NOW, NOW)
        assert len(row.config_version) == 12
        path.write_text(path.read_text() + "\n# edited\n", encoding="utf-8")
        config = load_config(path, env={})  # a hot reload: the next beat says the new version
        clock.advance(10)
        await worker.beat()
        (after,) = await b.workers()
        assert after.heartbeat_at == clock.now
        assert after.config_version != row.config_version
    finally:
        await worker.stop()


async def test_a_worker_silent_for_an_hour_is_forgotten(two: tuple[Store, Store]) -> None:
    a, _ = two
    await a.register_worker(WorkerRow("old", "h", 1, NOW, NOW, "abc"))
    await a.register_worker(WorkerRow("new", "h", 2, NOW, NOW + timedelta(hours=1), "abc"))
    assert await a.forget_workers(NOW + timedelta(minutes=30)) == 1
    assert [w.id for w in await a.workers()] == ["new"]
    assert not await a.heartbeat("old", NOW, "abc")  # it must join again


async def test_status_shows_the_workers_their_leases_and_versions(
    tmp_path: Path, two: tuple[Store, Store]
) -> None:
    a, b = two
    now = datetime.now(UTC)
    path = small_config(tmp_path)
    config = load_config(path, env={})
    await a.register_worker(WorkerRow("w-a", "host1", 11, now, now, "aaaaaaaaaaaa"))
    await a.register_worker(WorkerRow("w-b", "host2", 12, now, now, "bbbbbbbbbbbb"))
    gone = now - timedelta(minutes=5)
    await a.register_worker(WorkerRow("w-c", "host3", 13, gone, gone, "aaaaaaaaaaaa"))
    await a.claim_feeds([("https://f.example/rss", now + timedelta(minutes=15))], "w-a", now)
    await b.claim_lease(UPDATES, "telegram", "w-b", now, now + TTL)
    for shard in (2, 0):
        await b.claim_lease(SHARD, f"discord/{shard}", "w-b", now, now + TTL)
    await b.claim_lease(SHARD_MEMBER, "discord/w-b", "w-b", now, now + TTL)
    status = await collect_status(config, b, now)
    text = format_status(status, "UTC")
    assert "Service: running (2 workers)" in text
    assert "w-a" in text and "1 feed" in text and "1 updates, discord shards 0, 2" in text
    assert "shard-member" not in text  # bookkeeping, not for the operator
    assert "(gone)" in text  # w-c
    assert "workers run 2 different config versions" in text


async def _stored_items(store: Store, links: list[str]) -> list[int]:
    from policywire.models import TopicHit
    from tests.helpers import item

    items = [item(n, link=link) for n, link in enumerate(links)]
    hits = {(i.feed, i.id): (TopicHit("ai-act", ("AI Act",)),) for i in items}
    new = await store.record_success(items[0].feed, Validators(), NOW, items=items, hits=hits)
    return [m.pk for m in new if m.pk is not None]


async def _delivered(store: Store, key: str) -> list[int]:
    from sqlalchemy import select

    from policywire.storage.schema import deliveries_table

    async with store._tx() as conn:
        rows = await conn.execute(
            select(deliveries_table.c.item_pk).where(deliveries_table.c.destination == key)
        )
        return [int(r.item_pk) for r in rows]


async def test_workers_starting_together_upsert_the_same_destinations(
    two: tuple[Store, Store],
) -> None:
    """Each worker writes feeds.yaml's destinations at start: at once, neither may fail."""
    a, b = two
    rows = [destination(f"telegram:{n}") for n in range(30)]
    for _ in range(3):
        await asyncio.gather(*(store.upsert_destination(r) for r in rows for store in (a, b)))
    assert [d.key for d in await a.destinations()] == sorted(r.key for r in rows)
