"""Several `policywire run` processes on one PostgreSQL database, with no setting of their own.

Each worker runs the whole service (every feed's poll job, every destination's digest job, the
sender, the bots) and the database decides who does what:

- a feed's poll: the worker that takes the feed's lease (storage/leases.py) polls it; the lease
  lasts until the feed is due again, so each feed is polled once per interval, and a dead
  worker's feeds are polled by the others when it runs out;
- a scheduled digest: the first worker to claim (destination, tick) builds it;
- a digest (instant or not): queued in a transaction that refuses items another worker queued
  first (`DigestConflict`, the digest is then built again);
- the outbox: a destination's messages are sent by the worker holding its outbox lease, read
  after taking it, so order holds and only the message in flight when a worker dies is sent
  again;
- a chat platform's updates: one worker at a time receives them (an "updates" lease); the others
  only send (Telegram's webhook mode needs no lease: every worker answers);
- a sharded gateway (Discord's `shard_count`): the shards are spread over the workers running
  that client, each a lease (coordination/shards.py).

Every worker has a row in `workers` (host, pid, heartbeat, the hash of the feeds.yaml it runs).
Its heartbeat, every third of `ttl`, renews its outbox and updates leases; a worker that stops
beating loses them after `ttl`. On SQLite (`Coordination` itself) every claim is granted with
no database work: one instance per file is enforced by its lock file instead.

Why not a job library such as procrastinate: see docs/scaling.md ("Why leases of our own").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from policywire.config.durations import parse_schedule
from policywire.config.model import Config, FeedConfig
from policywire.coordination.shards import ShardBalancer, ShardRunner
from policywire.errors import StoreError
from policywire.storage.groupcommit import GroupCommit
from policywire.storage.leases import UPDATES, Holder
from policywire.storage.store import DestinationRow, FeedState, Store
from policywire.storage.workers import WorkerRow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

LEASE_TTL = timedelta(seconds=30)  # a dead worker's outbox and updates leases run out after this
FORGET_WORKERS = timedelta(hours=1)  # a silent worker's row is shown as gone, then deleted
FORGET_TICKS = timedelta(days=7)
HOUSEKEEPING_EVERY = timedelta(minutes=10)
MISFIRE_GRACE = timedelta(hours=1)  # the digest jobs' misfire_grace_time (service.py)
MAX_JITTER = timedelta(seconds=60)  # the poll jobs' jitter is at most this (service.py)


@dataclass(frozen=True, slots=True)
class PollClaim:
    """Whether this worker polls the feed now, and its state read with the claim."""

    won: bool
    state: FeedState | None = None  # None: the store's own (one instance)


GRANTED = PollClaim(True)
REFUSED = PollClaim(False)


class Receiver(Protocol):
    """A chat platform client that receives updates only while told to (bots/telegram.py)."""

    async def set_receiving(self, on: bool) -> None: ...


class Coordination:
    """One instance on its database (SQLite): every claim is granted, nothing is written.
    `Workers` is the same interface for several workers on PostgreSQL."""

    shared = False
    worker_id: str | None = None

    async def start(self, config: Callable[[], Config]) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def claim_poll(self, feed: FeedConfig) -> PollClaim:
        return GRANTED

    async def hold_feed(self, url: str, until: datetime) -> None:
        return None

    async def claim_tick(self, row: DestinationRow) -> bool:
        return True

    def add_receiver(self, platform: str, receiver: Receiver) -> None:
        return None  # built receiving (`receive_updates=True`): nobody else could

    def add_shards(self, platform: str, count: int, runner: ShardRunner) -> None:
        return None  # built running every shard: nobody else could


class Workers(Coordination):
    """This process as one of several workers on a PostgreSQL database (see the module doc)."""

    shared = True

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        ttl: timedelta = LEASE_TTL,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.id = worker_id or uuid.uuid4().hex[:12]
        self.worker_id = self.id
        self.host = socket.gethostname()
        self.pid = os.getpid()
        # Polls that start together claim their feeds in one transaction, and never more
        # claims wait for a connection than one: 10,000 feeds due at once are a few
        # statements, not 10,000 checked-out connections.
        self._claims: GroupCommit[tuple[str, datetime], FeedState | None] = GroupCommit(
            self._claim_batch, max_weight=500
        )
        self._receivers: dict[str, Receiver] = {}
        self._receiving: dict[str, bool] = {}
        self._shards: list[tuple[ShardBalancer, ShardRunner]] = []
        self._config: Callable[[], Config] | None = None
        self._version: tuple[Config, str] | None = None
        self._beats: asyncio.Task[None] | None = None
        self._last_beat: datetime | None = None
        self._last_housekeeping: datetime | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, config: Callable[[], Config]) -> None:
        """Register, take part in the outbox, and beat until `stop`."""
        if self._beats is not None:
            return
        self._config = config
        now = self.clock()
        version = self.config_version()
        await self.store.register_worker(WorkerRow(self.id, self.host, self.pid, now, now, version))
        self.store.holder = Holder(self.id, self.ttl)
        self._last_beat = now
        self._beats = asyncio.create_task(self._beat_forever(), name="worker-heartbeat")
        log.info(
            "worker %s on %s (pid %d) joined, config %s",
            self.id,
            self.host,
            self.pid,
            version,
        )

    async def stop(self) -> None:
        """Hand over what this worker holds (its feed leases stay: those feeds were polled)."""
        if self._beats is None:
            return
        self._beats.cancel()
        await asyncio.gather(self._beats, return_exceptions=True)
        self._beats = None
        for platform in self._receivers:
            await self._set_receiving(platform, False)
        await self._run_shards(None)
        try:
            await self.store.release_leases(self.id)
            await self.store.unregister_worker(self.id)
        except StoreError as exc:  # the leases run out by themselves
            log.warning("worker %s could not hand over its leases: %s", self.id, exc)
        self.store.holder = None

    # --- claims ----------------------------------------------------------------------------

    async def claim_poll(self, feed: FeedConfig) -> PollClaim:
        """Poll the feed only if no other worker polled it within its interval. The lease
        ends a little before the interval does (by the poll jobs' jitter), so that the first
        worker whose job fires then polls it again."""
        slack = min(MAX_JITTER, feed.interval * 0.1)
        until = self.clock() + feed.interval - slack
        state = await self._claims.submit((feed.url, until))
        return REFUSED if state is None else PollClaim(True, state)

    async def _claim_batch(self, batch: Sequence[tuple[str, datetime]]) -> list[FeedState | None]:
        states = await self.store.claim_feeds(batch, self.id, self.clock())
        # Another worker may have polled these feeds: remember what the database says.
        self.store.remember_feed_states({s.url: s for s in states if s is not None})
        return states

    async def hold_feed(self, url: str, until: datetime) -> None:
        """A failing feed backs off on every worker: nobody polls it before `until`."""
        await self.store.hold_feed(url, self.id, until)

    async def claim_tick(self, row: DestinationRow) -> bool:
        """Build this scheduled digest only if no other worker builds it for this tick."""
        now = self.clock()
        tick = schedule_tick(row.schedule, row.timezone, now)
        won = await self.store.claim_tick(row.key, tick, self.id, now)
        if not won:
            log.debug("digest for %s at %s: built by another worker", row.key, tick)
        return won

    def add_receiver(self, platform: str, receiver: Receiver) -> None:
        """`receiver` receives `platform`'s updates only while this worker holds its lease."""
        self._receivers[platform] = receiver
        self._receiving[platform] = False

    def add_shards(self, platform: str, count: int, runner: ShardRunner) -> None:
        """`runner` runs its share of `platform`'s `count` gateway shards, as leases say."""
        self._shards.append((ShardBalancer(self.store, self.id, platform, count), runner))

    # --- heartbeat -------------------------------------------------------------------------

    async def _beat_forever(self) -> None:
        every = self.ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            await self.beat()

    async def beat(self) -> None:
        """One heartbeat: say we live (and which config we run), keep our leases, take or
        give up the updates leases, forget long-silent workers now and then."""
        now = self.clock()
        try:
            await self._beat(now)
        except StoreError as exc:
            log.warning("worker %s heartbeat failed: %s", self.id, exc)
            if self._last_beat is None or now - self._last_beat >= self.ttl:
                # Our leases may have run out: receiving now could mean two receivers.
                for platform in self._receivers:
                    await self._set_receiving(platform, False)
                await self._run_shards(None)
            return
        self._last_beat = now

    async def _beat(self, now: datetime) -> None:
        version = self.config_version()
        if not await self.store.heartbeat(self.id, now, version):
            log.warning("worker %s was forgotten (silent too long); joining again", self.id)
            await self.store.register_worker(
                WorkerRow(self.id, self.host, self.pid, now, now, version)
            )
        await self.store.renew_leases(self.id, now + self.ttl)
        for platform in self._receivers:
            held = await self.store.claim_lease(UPDATES, platform, self.id, now, now + self.ttl)
            await self._set_receiving(platform, held)
        await self._run_shards(now)
        if self._last_housekeeping is None or now - self._last_housekeeping >= HOUSEKEEPING_EVERY:
            self._last_housekeeping = now
            await self.store.forget_workers(now - FORGET_WORKERS)
            await self.store.forget_ticks(now - FORGET_TICKS)

    async def _set_receiving(self, platform: str, on: bool) -> None:
        receiver = self._receivers[platform]
        if self._receiving.get(platform) != on:
            self._receiving[platform] = on
            what = "receives" if on else "no longer receives"
            log.info("worker %s %s %s updates", self.id, what, platform)
        with contextlib.suppress(Exception):  # a client that is down starts as told later
            await receiver.set_receiving(on)

    async def _run_shards(self, now: datetime | None) -> None:
        """Balance the shard leases (None: give every shard up) and tell the clients."""
        for balancer, runner in self._shards:
            held = () if now is None else await balancer.balance(now, self.ttl)
            with contextlib.suppress(Exception):  # a client that is down starts as told later
                await runner.set_shards(held)

    def config_version(self) -> str:
        """The hash of the feeds.yaml this worker runs (read again after each reload)."""
        if self._config is None:
            return "-"
        config = self._config()
        if self._version is None or self._version[0] is not config:
            self._version = (config, file_version(config))
        return self._version[1]


def file_version(config: Config) -> str:
    """12 hex digits of the config file's sha256 ("-" when it cannot be read)."""
    try:
        return hashlib.sha256(config.path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "-"


def schedule_tick(schedule: str, timezone: str, now: datetime) -> datetime:
    """The schedule's latest fire time at or before `now`: what every worker's digest job
    for that firing agrees on (a job fires at most MISFIRE_GRACE late)."""
    trigger = parse_schedule(schedule).to_trigger(timezone)
    floor = now.replace(second=0, microsecond=0)
    if trigger is None:
        return floor
    latest: datetime | None = None
    fire = trigger.get_next_fire_time(None, now - MISFIRE_GRACE)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest if latest is not None else floor


def coordination_for(store: Store, clock: Clock, *, ttl: timedelta = LEASE_TTL) -> Coordination:
    """Workers on a database several processes can share (PostgreSQL), else one instance."""
    return Workers(store, clock, ttl=ttl) if store.shared else Coordination()
