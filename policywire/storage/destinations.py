"""Destinations and subscriptions (from the config or from chats), and their deliveries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.storage.base import StoreBase, chunks, insert_ignoring_conflicts
from policywire.storage.rows import DestinationRow, destination_from_row
from policywire.storage.schema import (
    deliveries_table,
    destinations_table,
    matches_table,
    outbox_table,
)


class DestinationsMixin(StoreBase):
    """Where digests go, and which items each destination has received."""

    async def upsert_destination(
        self, row: DestinationRow, *, restart: bool = False
    ) -> DestinationRow:
        """Create a destination or update its settings, keeping its creation time.

        `restart` sets the creation time anew (a chat that comes back after leaving gets the
        backfill window from now, not everything since it first subscribed).
        """
        values = {
            "origin": row.origin,
            "platform": row.platform,
            "target": row.target,
            "topics": json.dumps(list(row.topics)),
            "schedule": row.schedule,
            "timezone": row.timezone,
            "language": row.language,
            "title": row.title,
            "active": row.active,
            "thread_id": row.thread_id,
            "language_chosen": row.language_chosen,
        }
        if restart:
            values["created_at"] = row.created_at
        new = values | {"key": row.key, "created_at": row.created_at}
        table = destinations_table
        async with self._tx(write=True) as conn:
            # Workers starting together upsert the same configured destinations: an INSERT
            # that finds the row already there does nothing, and the row is updated instead.
            inserting = insert_ignoring_conflicts(conn.dialect.name, table, [table.c.key])
            inserted = await conn.execute(inserting.values(new))
            if not inserted.rowcount:
                await conn.execute(
                    update(destinations_table)
                    .where(destinations_table.c.key == row.key)
                    .values(values)
                )
        found = await self.destination(row.key)
        assert found is not None
        return found

    async def destination(self, key: str) -> DestinationRow | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(destinations_table).where(destinations_table.c.key == key)
                )
            ).first()
        return None if row is None else destination_from_row(row._mapping)

    async def destinations(self, *, active_only: bool = True) -> list[DestinationRow]:
        query = select(destinations_table).order_by(destinations_table.c.key)
        if active_only:
            query = query.where(destinations_table.c.active.is_(True))
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [destination_from_row(row._mapping) for row in rows]

    async def destinations_at(self, platform: str, target: str) -> list[DestinationRow]:
        """Every destination in one chat, active or not (a forum's topics are one each)."""
        query = (
            select(destinations_table)
            .where(destinations_table.c.platform == platform)
            .where(destinations_table.c.target == target)
            .order_by(destinations_table.c.key)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [destination_from_row(row._mapping) for row in rows]

    async def rename_topic(self, old: str, new: str) -> list[str]:
        """A topic's id changed (`renamed_from:`): subscriptions and the items it matched go
        with it, in one transaction. Returns the keys of the destinations that followed it."""
        moved: list[str] = []
        async with self._tx(write=True) as conn:
            pattern = "%" + json.dumps(old) + "%"  # a cheap pre-filter; exact check below
            rows = (
                await conn.execute(
                    select(destinations_table.c.key, destinations_table.c.topics).where(
                        destinations_table.c.topics.like(pattern)
                    )
                )
            ).all()
            for key, text in rows:
                topics = list(json.loads(text))
                if old not in topics:
                    continue
                renamed = list(dict.fromkeys(new if t == old else t for t in topics))
                await conn.execute(
                    update(destinations_table)
                    .where(destinations_table.c.key == key)
                    .values(topics=json.dumps(renamed))
                )
                moved.append(key)
            # An item can match the new id already (polled since): keep that row, drop the old.
            already = select(matches_table.c.item_pk).where(matches_table.c.topic == new)
            await conn.execute(
                update(matches_table)
                .where(matches_table.c.topic == old, matches_table.c.item_pk.not_in(already))
                .values(topic=new)
            )
            await conn.execute(delete(matches_table).where(matches_table.c.topic == old))
        return moved

    async def set_destination_active(self, key: str, active: bool, error: str | None) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(destinations_table)
                .where(destinations_table.c.key == key)
                .values(active=active, last_error=error)
            )

    async def rename_destination(self, old_key: str, new_key: str, new_target: str) -> None:
        """A chat moved (Telegram group → supergroup): carry its state to the new id."""
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(destinations_table)
                .where(destinations_table.c.key == old_key)
                .values(key=new_key, target=new_target)
            )
            for table in (outbox_table, deliveries_table):
                await conn.execute(
                    update(table).where(table.c.destination == old_key).values(destination=new_key)
                )

    async def mark_delivered(
        self, key: str, item_pks: Iterable[int], now: datetime, *, touch: bool = True
    ) -> None:
        """Record items as received by a destination (`touch`: and a digest sent now)."""
        async with self._tx(write=True) as conn:
            await mark_delivered_in(conn, key, item_pks, now, touch=touch)


async def mark_delivered_in(
    conn: AsyncConnection,
    key: str,
    item_pks: Iterable[int],
    now: datetime,
    *,
    touch: bool = True,
) -> None:
    """`mark_delivered` inside the caller's transaction (enqueue_digest's, for one)."""
    pks = sorted(set(item_pks))
    already: set[int] = set()
    for chunk in chunks(pks, 500):
        rows = await conn.execute(
            select(deliveries_table.c.item_pk).where(
                deliveries_table.c.destination == key,
                deliveries_table.c.item_pk.in_(chunk),
            )
        )
        already.update(row.item_pk for row in rows)
    fresh = [pk for pk in pks if pk not in already]
    if fresh:
        await conn.execute(
            insert(deliveries_table),
            [{"destination": key, "item_pk": pk, "delivered_at": now} for pk in fresh],
        )
    if touch:
        await conn.execute(
            update(destinations_table)
            .where(destinations_table.c.key == key)
            .values(last_digest_at=now)
        )
