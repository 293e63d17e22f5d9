"""Leases: which worker may poll a feed, send a destination's messages or receive a chat
platform's updates, and until when (the `leases` table); scheduled digests' ticks.

Only used when several workers share a PostgreSQL database (policywire/coordination/). A lease
is taken in one transaction: rows that do not exist yet are inserted as ours (INSERT … ON
CONFLICT DO NOTHING: of two inserting workers one wins), existing free ones (expired, or ours
already) are locked with SELECT … FOR UPDATE SKIP LOCKED and renewed. SKIP LOCKED makes two
workers claiming the same feeds at once split them instead of queueing behind each other, and
a lease that expired (its worker died) is free again.

Times are the callers' clocks (the workers' hosts run NTP, as any lease system needs); nothing
here imports the PostgreSQL dialect before a PostgreSQL store uses it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.errors import StoreError
from policywire.storage.base import StoreBase, chunks
from policywire.storage.rows import FeedState, feed_state_from_row
from policywire.storage.schema import (
    deliveries_table,
    destinations_table,
    digest_ticks_table,
    feeds_table,
    leases_table,
)

FEED = "feed"  # poll this feed (name: its URL); expires when its next poll is due
OUTBOX = "outbox"  # send this destination's messages (name: its key); renewed by heartbeats
UPDATES = "updates"  # receive this chat platform's updates (name: "telegram"); renewed too
SHARD = "shard"  # run one gateway shard (name: "discord/3"); renewed too
SHARD_MEMBER = "shard-member"  # this worker runs the platform's shards (name: "discord/<id>")
RENEWED = (OUTBOX, UPDATES, SHARD, SHARD_MEMBER)  # the kinds a live worker's heartbeat keeps


class DigestConflict(StoreError):
    """Another worker queued some of these items for this destination first: build again."""


@dataclass(frozen=True, slots=True)
class Holder:
    """This worker, as the outbox sees it when several share the database."""

    worker: str
    ttl: timedelta  # how long an outbox lease lasts unless the worker's heartbeat renews it


@dataclass(frozen=True, slots=True)
class LeaseRow:
    kind: str
    name: str
    holder: str
    taken_at: datetime
    expires_at: datetime


class LeasesMixin(StoreBase):
    """Leases and digest ticks (see the module doc)."""

    @property
    def shared(self) -> bool:
        """Whether several workers can share this database (PostgreSQL; SQLite is locked to
        one instance per file)."""
        return self._engine.dialect.name == "postgresql"

    async def claim_feeds(
        self, claims: Sequence[tuple[str, datetime]], worker: str, now: datetime
    ) -> list[FeedState | None]:
        """Take the poll lease of each (url, until) that is free; for each claim, the feed's
        state read fresh (another worker may have polled it since this one last did), or
        None when another worker holds it."""
        wanted = dict(claims)
        async with self._tx(write=True) as conn:
            won = await claim_in(conn, FEED, wanted, worker, now)
            rows: dict[str, Any] = {}
            for chunk in chunks(sorted(won), 500):
                found = await conn.execute(select(feeds_table).where(feeds_table.c.url.in_(chunk)))
                rows.update((row.url, row) for row in found)
        return [
            feed_state_from_row(url, rows.get(url)) if url in won else None for url, _ in claims
        ]

    async def hold_feed(self, url: str, worker: str, until: datetime) -> None:
        """Keep a feed this worker polled until `until` (a failing feed's backoff)."""
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(leases_table)
                .where(_named(FEED, url), leases_table.c.holder == worker)
                .values(expires_at=until)
            )

    async def claim_lease(
        self, kind: str, name: str, worker: str, now: datetime, until: datetime
    ) -> bool:
        """Take or keep one lease; False while another worker holds it."""
        async with self._tx(write=True) as conn:
            return name in await claim_in(conn, kind, {name: until}, worker, now)

    async def renew_leases(self, worker: str, until: datetime) -> int:
        """A heartbeat: this worker's outbox and updates leases last until `until`."""
        async with self._tx(write=True) as conn:
            result = await conn.execute(
                update(leases_table)
                .where(leases_table.c.holder == worker, leases_table.c.kind.in_(RENEWED))
                .values(expires_at=until)
            )
        return int(result.rowcount or 0)

    async def release_leases(self, worker: str, kinds: Collection[str] = RENEWED) -> None:
        """Give up this worker's leases of `kinds` (a clean stop): others take them at once."""
        async with self._tx(write=True) as conn:
            await conn.execute(
                delete(leases_table).where(
                    leases_table.c.holder == worker, leases_table.c.kind.in_(list(kinds))
                )
            )

    async def release_lease(self, kind: str, name: str, worker: str) -> None:
        """Give up one lease this worker holds (a shard another worker should run)."""
        async with self._tx(write=True) as conn:
            await conn.execute(delete(leases_table).where(_named(kind, name), _held_by(worker)))

    async def leases(self, kind: str | None = None) -> list[LeaseRow]:
        """Every lease (of `kind`), for `status` and tests."""
        query = select(leases_table).order_by(leases_table.c.kind, leases_table.c.name)
        if kind is not None:
            query = query.where(leases_table.c.kind == kind)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [LeaseRow(r.kind, r.name, r.holder, r.taken_at, r.expires_at) for r in rows]

    async def lease_counts(self, now: datetime) -> dict[tuple[str, str], int]:
        """Unexpired leases per (holder, kind)."""
        query = (
            select(leases_table.c.holder, leases_table.c.kind, func.count())
            .where(leases_table.c.expires_at > now)
            .group_by(leases_table.c.holder, leases_table.c.kind)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return {(str(holder), str(kind)): int(count) for holder, kind, count in rows}

    async def claim_tick(
        self, destination: str, tick: datetime, worker: str, now: datetime
    ) -> bool:
        """Whether this worker builds `destination`'s digest for the schedule tick `tick`:
        the first to insert the row does, every other worker skips that tick."""
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        stmt = (
            postgresql_insert(digest_ticks_table)
            .values(destination=destination, tick=tick, worker=worker, claimed_at=now)
            .on_conflict_do_nothing()
            .returning(digest_ticks_table.c.worker)
        )
        async with self._tx(write=True) as conn:
            return (await conn.execute(stmt)).first() is not None

    async def forget_ticks(self, before: datetime) -> int:
        """Housekeeping: ticks claimed before `before` are history."""
        async with self._tx(write=True) as conn:
            result = await conn.execute(
                delete(digest_ticks_table).where(digest_ticks_table.c.claimed_at < before)
            )
        return int(result.rowcount or 0)


async def claim_in(
    conn: AsyncConnection,
    kind: str,
    wanted: Mapping[str, datetime],
    worker: str,
    now: datetime,
) -> set[str]:
    """In the caller's transaction: take every lease of `wanted` (name → until) that no other
    worker holds; returns the names now ours. Rows another transaction has locked are skipped,
    not waited for."""
    if not wanted:
        return set()
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    won: set[str] = set()
    for chunk in chunks(sorted(wanted), 500):
        fresh = await conn.execute(
            postgresql_insert(leases_table)
            .values(
                [
                    {
                        "kind": kind,
                        "name": name,
                        "holder": worker,
                        "taken_at": now,
                        "expires_at": wanted[name],
                    }
                    for name in chunk
                ]
            )
            .on_conflict_do_nothing()
            .returning(leases_table.c.name)
        )
        inserted = {str(row.name) for row in fresh}
        won |= inserted
        rest = [name for name in chunk if name not in inserted]
        if rest:
            won |= await _take_free(conn, kind, rest, wanted, worker, now)
    return won


async def _take_free(
    conn: AsyncConnection,
    kind: str,
    names: Sequence[str],
    wanted: Mapping[str, datetime],
    worker: str,
    now: datetime,
) -> set[str]:
    """Lock the existing free leases of `names` (SKIP LOCKED) and make them ours."""
    lease = leases_table.c
    free = (
        select(lease.name, lease.holder)
        .where(
            lease.kind == kind,
            lease.name.in_(names),
            or_(lease.expires_at <= now, lease.holder == worker),
        )
        .with_for_update(skip_locked=True)
    )
    taken = (await conn.execute(free)).all()
    for row in taken:
        values: dict[str, Any] = {"holder": worker, "expires_at": wanted[row.name]}
        if row.holder != worker:
            values["taken_at"] = now
        await conn.execute(update(leases_table).where(_named(kind, row.name)).values(values))
    return {str(row.name) for row in taken}


async def release_except_in(
    conn: AsyncConnection, kind: str, worker: str, keep: Iterable[str]
) -> None:
    """In the caller's transaction: give up this worker's `kind` leases not in `keep`."""
    kept = list(keep)
    condition = and_(leases_table.c.kind == kind, leases_table.c.holder == worker)
    if kept:
        condition = and_(condition, leases_table.c.name.not_in(kept))
    await conn.execute(delete(leases_table).where(condition))


async def refuse_delivered(conn: AsyncConnection, key: str, item_pks: Sequence[int]) -> None:
    """In a digest's transaction: lock the destination's row (two workers queueing for it take
    turns here) and raise DigestConflict when any of these items was queued for it already."""
    await conn.execute(
        select(destinations_table.c.key).where(destinations_table.c.key == key).with_for_update()
    )
    pks = sorted(set(item_pks))
    for chunk in chunks(pks, 500):
        already = await conn.scalar(
            select(func.count())
            .select_from(deliveries_table)
            .where(deliveries_table.c.destination == key, deliveries_table.c.item_pk.in_(chunk))
        )
        if already:
            raise DigestConflict(f"{already} of its items were queued by another worker first")


def _named(kind: str, name: str) -> Any:
    return and_(leases_table.c.kind == kind, leases_table.c.name == name)


def _held_by(worker: str) -> Any:
    return leases_table.c.holder == worker
