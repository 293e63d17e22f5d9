"""The outbox: every message to send, queued with its digest's deliveries, sent in order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from policywire.storage.base import StoreBase
from policywire.storage.destinations import mark_delivered_in
from policywire.storage.rows import OutboxRow, outbox_row_from_row
from policywire.storage.schema import destinations_table, outbox_table


class OutboxMixin(StoreBase):
    """Messages per destination: pending (in order, retried at their head), sent or failed."""

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
        finds the rows on restart): nothing is lost and nothing is sent twice.
        """
        async with self._tx(write=True) as conn:
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

    async def due_messages(self, now: datetime, limit: int = 500) -> list[OutboxRow]:
        """Pending messages of every destination whose oldest pending message is due.

        Only a destination's head is ever retried later, so "head due" keeps each destination's
        messages strictly in order: nothing overtakes a message waiting for a retry.
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
            )
            .order_by(outbox_table.c.id)
            .limit(limit)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [outbox_row_from_row(r) for r in rows]

    async def next_due_time(self) -> datetime | None:
        """When the earliest destination head falls due (None: nothing pending)."""
        async with self._tx() as conn:
            due: datetime | None = await conn.scalar(
                select(func.min(outbox_table.c.next_attempt_at))
                .join(destinations_table, destinations_table.c.key == outbox_table.c.destination)
                .where(
                    outbox_table.c.id.in_(_pending_heads()),
                    destinations_table.c.active.is_(True),
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


def _pending_heads() -> Any:
    """The id of each destination's oldest pending outbox message."""
    return (
        select(func.min(outbox_table.c.id))
        .where(outbox_table.c.state == "pending")
        .group_by(outbox_table.c.destination)
    )
