"""The outbox: every message to send, queued with its digest's deliveries, sent in order.

Also the chat platforms' client states (`PlatformState`, kept in the `meta` table), so that
`status`, another process, can say whether the bot that sends a destination's messages is up.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.storage.base import StoreBase
from policywire.storage.destinations import mark_delivered_in
from policywire.storage.leases import OUTBOX, Holder, claim_in, refuse_delivered, release_except_in
from policywire.storage.rows import OutboxRow, outbox_row_from_row
from policywire.storage.schema import destinations_table, meta_table, outbox_table

PLATFORM_KEY = "platform:"  # meta rows "platform:telegram" → a PlatformState as JSON


@dataclass(frozen=True, slots=True)
class PlatformState:
    """A chat platform client as its supervisor last saw it."""

    platform: str
    state: str  # starting | up | retrying | stopped
    since: datetime  # when it entered this state
    error: str | None = None  # why it is retrying
    attempts: int = 0  # failed starts in a row


@dataclass(frozen=True, slots=True)
class Backlog:
    """One destination's outbox: what waits, why its head waits, what was given up."""

    destination: str
    pending: int
    oldest_pending: datetime | None  # when the oldest waiting message was queued
    head_attempts: int
    head_next_attempt: datetime | None
    head_error: str | None  # why the head message is being retried
    failed: int
    last_failure: str | None  # why the newest failed message was given up


class OutboxMixin(StoreBase):
    """Messages per destination: pending (in order, retried at their head), sent or failed."""

    # Set when several workers share the database (policywire/coordination/): a digest then
    # never queues items another worker queued first, and due messages are only those of the
    # destinations whose outbox lease this worker holds (storage/leases.py).
    holder: Holder | None = None

    async def enqueue_digest(
        self,
        key: str,
        payloads: Sequence[Mapping[str, Any]],
        item_pks: Iterable[int],
        now: datetime,
        digest_id: str,
    ) -> int:
        """Queue a digest's messages and mark its items delivered, in ONE transaction.

        A crash either loses both (the digest is rebuilt next time) or keeps both (the sender
        finds the rows on restart): nothing is lost and nothing is sent twice. With several
        workers, DigestConflict when another one queued some of these items first.
        """
        item_pks = list(item_pks)
        async with self._tx(write=True) as conn:
            if self.holder is not None:
                await refuse_delivered(conn, key, item_pks)
            if payloads:
                await conn.execute(
                    insert(outbox_table),
                    [
                        {
                            "destination": key,
                            "idempotency_key": f"{digest_id}/{index}",
                            "payload": json.dumps(payload, ensure_ascii=False),
                            "state": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                        for index, payload in enumerate(payloads)
                    ],
                )
            await mark_delivered_in(conn, key, item_pks, now)
        return len(payloads)

    async def due_messages(
        self, now: datetime, limit: int = 500, *, platforms: Collection[str] | None = None
    ) -> list[OutboxRow]:
        """Pending messages of every destination whose oldest pending message is due.

        Only a destination's head is ever retried later, so "head due" keeps each destination's
        messages strictly in order: nothing overtakes a message waiting for a retry.
        `platforms`: only destinations of these (the ones with a client running).
        """
        ready = select(outbox_table.c.destination).where(
            outbox_table.c.id.in_(_pending_heads()), outbox_table.c.next_attempt_at <= now
        )
        query = (
            select(outbox_table)
            .join(destinations_table, destinations_table.c.key == outbox_table.c.destination)
            .where(
                outbox_table.c.state == "pending",
                outbox_table.c.destination.in_(ready),
                destinations_table.c.active.is_(True),
                *_on_platforms(platforms),
            )
            .order_by(outbox_table.c.id)
            .limit(limit)
        )
        async with self._tx(write=self.holder is not None) as conn:
            if self.holder is not None:
                # Read after the lease is taken: a message another worker sent meanwhile is
                # never read as pending.
                claimed = await _claim_destinations(conn, query, self.holder, now)
                query = query.where(outbox_table.c.destination.in_(claimed))
            rows = (await conn.execute(query)).all()
        return [outbox_row_from_row(r) for r in rows]

    async def next_due_time(self, *, platforms: Collection[str] | None = None) -> datetime | None:
        """When the earliest destination head falls due (None: nothing pending), counting
        only destinations of `platforms` when given (a platform whose bot is down would
        otherwise be "due" all the time, and a waiting loop would spin on it)."""
        async with self._tx() as conn:
            due: datetime | None = await conn.scalar(
                select(func.min(outbox_table.c.next_attempt_at))
                .join(destinations_table, destinations_table.c.key == outbox_table.c.destination)
                .where(
                    outbox_table.c.id.in_(_pending_heads()),
                    destinations_table.c.active.is_(True),
                    *_on_platforms(platforms),
                )
            )
        return due

    async def mark_sent(self, message_id: int, platform_id: str | None, now: datetime) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id == message_id)
                .values(
                    state="sent",
                    sent_at=now,
                    platform_message_id=platform_id,
                    attempts=outbox_table.c.attempts + 1,
                )
            )

    async def mark_retry(self, message_id: int, error: str, when: datetime) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id == message_id)
                .values(
                    attempts=outbox_table.c.attempts + 1, last_error=error, next_attempt_at=when
                )
            )

    async def mark_failed(self, message_id: int, error: str) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id == message_id)
                .values(state="failed", attempts=outbox_table.c.attempts + 1, last_error=error)
            )

    async def outbox_depth(self) -> int:
        async with self._tx() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.state == "pending")
            )
        return int(count or 0)

    async def messages(self, state: str | None = None) -> list[OutboxRow]:
        """Outbox rows in queue order, optionally of one state (for status and tests)."""
        query = select(outbox_table).order_by(outbox_table.c.id)
        if state is not None:
            query = query.where(outbox_table.c.state == state)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [outbox_row_from_row(r) for r in rows]

    async def outbox_counts(self) -> dict[str, int]:
        """Messages per state: pending, sent, failed."""
        async with self._tx() as conn:
            rows = await conn.execute(
                select(outbox_table.c.state, func.count()).group_by(outbox_table.c.state)
            )
            counts = {str(state): int(count) for state, count in rows}
        return {state: counts.get(state, 0) for state in ("pending", "sent", "failed")}

    async def backlogs(self) -> list[Backlog]:
        """Every destination with pending or failed messages, by key (for status and exit codes)."""
        out = outbox_table.c
        is_pending, is_failed = out.state == "pending", out.state == "failed"
        counts = (
            select(
                out.destination,
                func.sum(case((is_pending, 1), else_=0)).label("pending"),
                func.sum(case((is_failed, 1), else_=0)).label("failed"),
                func.min(case((is_pending, out.created_at))).label("oldest"),
            )
            .where(out.state.in_(("pending", "failed")))
            .group_by(out.destination)
            .order_by(out.destination)
        )
        heads = select(out.destination, out.attempts, out.next_attempt_at, out.last_error).where(
            out.id.in_(_pending_heads())
        )
        newest_failed = (
            select(func.max(out.id)).where(out.state == "failed").group_by(out.destination)
        )
        failures = select(out.destination, out.last_error).where(out.id.in_(newest_failed))
        async with self._tx() as conn:
            rows = (await conn.execute(counts)).all()
            head = {r.destination: r for r in await conn.execute(heads)}
            failure = {r.destination: r.last_error for r in await conn.execute(failures)}
        return [_backlog(row, head.get(row.destination), failure) for row in rows]

    # --- the chat platforms' client states ---------------------------------------------------

    async def set_platform_state(self, state: PlatformState) -> None:
        value = json.dumps(
            {
                "state": state.state,
                "since": state.since.isoformat(),
                "error": state.error,
                "attempts": state.attempts,
            }
        )
        key = PLATFORM_KEY + state.platform
        async with self._tx(write=True) as conn:  # delete + insert: the same SQL everywhere
            await conn.execute(delete(meta_table).where(meta_table.c.key == key))
            await conn.execute(insert(meta_table).values(key=key, value=value))

    async def platform_states(self) -> dict[str, PlatformState]:
        query = select(meta_table).where(meta_table.c.key.startswith(PLATFORM_KEY))
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        states = (_platform_state(row.key.removeprefix(PLATFORM_KEY), row.value) for row in rows)
        return {state.platform: state for state in states if state is not None}


def _platform_state(platform: str, value: str) -> PlatformState | None:
    try:
        data = json.loads(value)
        return PlatformState(
            platform,
            str(data["state"]),
            datetime.fromisoformat(data["since"]),
            data.get("error"),
            int(data.get("attempts") or 0),
        )
    except (ValueError, KeyError, TypeError):
        return None  # written by another version: not worth failing `status` over


def _backlog(row: Any, head: Any, failures: Mapping[str, str | None]) -> Backlog:
    return Backlog(
        destination=row.destination,
        pending=int(row.pending or 0),
        oldest_pending=row.oldest,
        head_attempts=int(head.attempts) if head is not None else 0,
        head_next_attempt=head.next_attempt_at if head is not None else None,
        head_error=head.last_error if head is not None else None,
        failed=int(row.failed or 0),
        last_failure=failures.get(row.destination),
    )


async def _claim_destinations(
    conn: AsyncConnection, due: Any, holder: Holder, now: datetime
) -> list[str]:
    """Take the outbox leases of the destinations with due messages that no other worker
    holds, and give up this worker's others (its previous round is over)."""
    found = await conn.execute(select(due.subquery().c.destination).distinct())
    until = now + holder.ttl
    keys = {str(key): until for key in found.scalars()}
    won = await claim_in(conn, OUTBOX, keys, holder.worker, now)
    await release_except_in(conn, OUTBOX, holder.worker, won)
    return sorted(won)


def _on_platforms(platforms: Collection[str] | None) -> list[Any]:
    if platforms is None:
        return []
    return [destinations_table.c.platform.in_(list(platforms))]


def _pending_heads() -> Any:
    """The id of each destination's oldest pending outbox message."""
    return (
        select(func.min(outbox_table.c.id))
        .where(outbox_table.c.state == "pending")
        .group_by(outbox_table.c.destination)
    )
