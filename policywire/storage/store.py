"""All SQL lives here: feeds' fetch state, items, matches, destinations and deliveries.

SQLAlchemy 2 Core over an async engine. SQLite (WAL mode) by default, PostgreSQL by URL;
the same statements serve both. Database errors leave this module as `StoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from policywire.errors import StoreError
from policywire.models import Item, MatchedItem, TopicHit, Validators
from policywire.storage.groupcommit import GroupCommit

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

# A group commit takes queued polls up to about this many items (a cold start's first polls
# would otherwise hold the write lock for one huge transaction).
MAX_BATCH_ITEMS = 5000


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and gives them back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

meta_table = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

feeds_table = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("title", Text, nullable=False, default=""),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("first_polled", UTCDateTime),
    Column("last_polled", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("failures", Integer, nullable=False, default=0),
    Column("items_total", Integer, nullable=False, default=0),
    Column("next_poll", UTCDateTime),
)

items_table = Table(
    "items",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(2048), nullable=False),
    Column("item_id", String(2048), nullable=False),
    Column("link", String(2048), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("language", String(16)),
    Column("tags", Text, nullable=False, default="[]"),
    Column("links", Text, nullable=False, default="[]"),
    Column("source", Text, nullable=False, default=""),
    Column("story_id", Integer),
    UniqueConstraint("feed", "item_id", name="uq_items_feed_item"),
    Index("ix_items_link", "link"),
    Index("ix_items_first_seen", "first_seen"),
    Index("ix_items_story", "story_id"),
)

matches_table = Table(
    "matches",
    metadata,
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(128), primary_key=True),
    Column("keywords", Text, nullable=False),
    Index("ix_matches_topic", "topic"),
)

destinations_table = Table(
    "destinations",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("origin", String(16), nullable=False),  # "config" or "chat"
    Column("platform", String(32), nullable=False),
    Column("target", String(512), nullable=False),
    Column("topics", Text, nullable=False, default="[]"),
    Column("schedule", String(128), nullable=False, default="instant"),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("language", String(8), nullable=False, default="en"),
    Column("title", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),
    Column("last_error", Text),
)

deliveries_table = Table(
    "deliveries",
    metadata,
    Column("destination", String(512), primary_key=True),
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("delivered_at", UTCDateTime, nullable=False),
)


outbox_table = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("destination", String(512), nullable=False),
    Column("idempotency_key", String(256), nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # JSON: what the platform call needs
    Column("state", String(16), nullable=False, default="pending"),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("platform_message_id", String(64)),
    Column("last_error", Text),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_destination", "destination", "id"),
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    destination: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    validators: Validators
    failures: int
    first_polled: datetime | None
    last_success: datetime | None
    last_error: str | None
    items_total: int


@dataclass(frozen=True, slots=True)
class DestinationRow:
    key: str
    origin: str
    platform: str
    target: str
    topics: tuple[str, ...]
    schedule: str
    timezone: str
    language: str
    active: bool
    created_at: datetime
    last_digest_at: datetime | None
    title: str = ""
    last_error: str | None = None


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (status, preview) run beside the writer; NORMAL sync is safe under WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _check_schema(connection: SyncConnection) -> None:
    metadata.create_all(connection)
    row = connection.execute(
        select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).first()
    if row is None:
        connection.execute(
            insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
        )
    elif int(row[0]) > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {row[0]} is newer than this policywire ({SCHEMA_VERSION})"
        )


class Store:
    """The only place that talks SQL. Open with `await Store.open(url)`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # SQLite has one writer: a transaction that read before another one committed gets
        # "database is locked" at once when it then writes (busy_timeout cannot help there).
        # Writers of this process take turns here instead; readers never wait.
        self._write_lock = asyncio.Lock()
        self._feed_cache: dict[str, FeedState] = {}  # see feed_states
        # Polls' bookkeeping goes through a group commit (see record_success).
        self._writes: GroupCommit[_FeedWrite, list[MatchedItem]] = GroupCommit(
            self._write_batch,
            weight=lambda write: len(write.items) if isinstance(write, _PollWrite) else 0,
            max_weight=MAX_BATCH_ITEMS,
        )

    @classmethod
    async def open(cls, url: str) -> Store:
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_check_schema)
        except SQLAlchemyError as exc:
            await engine.dispose()
            raise StoreError(f"cannot open database {_safe_url(url)}: {_first_line(exc)}") from exc
        return cls(engine)

    async def close(self) -> None:
        await self._writes.drain()  # queued polls are committed, not lost
        await self._engine.dispose()

    @asynccontextmanager
    async def _tx(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        async with contextlib.AsyncExitStack() as stack:
            if write:
                await stack.enter_async_context(self._write_lock)
            try:
                async with self._engine.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                raise StoreError(f"database error: {_first_line(exc)}") from exc
            except UnicodeEncodeError as exc:  # text the driver cannot bind (a lone surrogate)
                raise StoreError(f"text the database cannot store: {exc.reason}") from exc

    # --- feeds -------------------------------------------------------------------------

    async def feed_state(self, url: str) -> FeedState:
        return (await self.feed_states([url]))[url]

    async def feed_states(self, urls: Sequence[str]) -> dict[str, FeedState]:
        """Every named feed's state (a new feed gets an empty one), reading only what this
        store does not already know: this process is the feeds' only writer, so a state it
        wrote itself is current, and an unchanged feed's poll costs no read."""
        missing = [url for url in urls if url not in self._feed_cache]
        rows: dict[str, Any] = {}
        if missing:
            async with self._tx() as conn:
                for chunk in _chunks(missing, 500):
                    found = await conn.execute(
                        select(feeds_table).where(feeds_table.c.url.in_(chunk))
                    )
                    rows.update((row.url, row) for row in found)
            for url in missing:
                self._feed_cache[url] = _feed_state(url, rows.get(url))
        return {url: self._feed_cache[url] for url in urls}

    async def record_success(
        self,
        url: str,
        validators: Validators,
        now: datetime,
        title: str | None = None,
        *,
        items: Sequence[Item] = (),
        hits: Mapping[tuple[str, str], Sequence[TopicHit]] | None = None,
    ) -> list[MatchedItem]:
        """A good poll: its validators and (when a body was parsed) its items, committed
        before this returns.

        Returns the new items that matched a topic (see `add_items`). Polls that finish
        while a commit is running are committed together by the next one (a group commit):
        a 304 then costs a row in a shared statement, not a transaction of its own.
        """
        write = _PollWrite(url, validators, now, title or None, items, hits or {})
        return await self._writes.submit(write)

    async def _write_batch(self, batch: Sequence[_FeedWrite]) -> list[list[MatchedItem]]:
        """One transaction for a group commit: new items, every polled feed's row in one
        upsert, then the next poll times; each write's new matching items, in order."""
        polls = [write for write in batch if isinstance(write, _PollWrite)]
        first_seen = {write.url: write.now for write in polls}
        items = [item for write in polls for item in write.items]
        hits = {key: value for write in polls for key, value in write.hits.items()}
        new: list[MatchedItem] = []
        stored: dict[str, int] = {}
        async with self._tx(write=True) as conn:
            if items:
                new, stored = await self._add_items(
                    conn, items, hits, lambda item: first_seen.get(item.feed, polls[0].now)
                )
            if polls:
                await self._upsert_polled_feeds(conn, polls, stored)
            await self._set_next_polls(
                conn, [write for write in batch if isinstance(write, _NextPoll)]
            )
        self._remember_polls(polls, stored)
        by_feed: dict[str, list[MatchedItem]] = {}
        for matched in new:
            by_feed.setdefault(matched.item.feed, []).append(matched)
        # A feed polled twice in one batch gets its new items reported once, to the first.
        return [
            by_feed.pop(write.url, []) if isinstance(write, _PollWrite) else [] for write in batch
        ]

    async def _set_next_polls(self, conn: AsyncConnection, writes: Sequence[_NextPoll]) -> None:
        if writes:
            await conn.execute(
                update(feeds_table)
                .where(feeds_table.c.url == bindparam("feed_url"))
                .values(next_poll=bindparam("poll_at")),
                [{"feed_url": write.url, "poll_at": write.when} for write in writes],
            )

    async def _upsert_polled_feeds(
        self, conn: AsyncConnection, batch: Sequence[_PollWrite], stored: Mapping[str, int]
    ) -> None:
        counted: set[str] = set()
        rows = []
        for write in batch:
            # The item count is added once per feed, however often it appears in the batch.
            count = 0 if write.url in counted else stored.get(write.url, 0)
            counted.add(write.url)
            rows.append((write, count))
        if conn.dialect.name == "sqlite":  # the driver's executemany, as for items
            await conn.exec_driver_sql(_SQLITE_UPSERT_FEED, [_sqlite_feed(*row) for row in rows])
        else:
            await conn.execute(_postgresql_feed_upsert(), [_feed_row(*row) for row in rows])

    def _remember_polls(self, batch: Sequence[_PollWrite], stored: Mapping[str, int]) -> None:
        """Keep the written state, so the next poll of these feeds reads nothing."""
        counts = dict(stored)
        for write in batch:
            known = self._feed_cache.get(write.url)
            if known is None:
                continue
            self._feed_cache[write.url] = replace(
                known,
                validators=write.validators,
                failures=0,
                first_polled=known.first_polled or write.now,
                last_success=write.now,
                items_total=known.items_total + counts.pop(write.url, 0),
            )

    async def record_failure(self, url: str, error: str, now: datetime) -> int:
        """Remember a failed poll; returns the feed's consecutive failure count."""
        self._feed_cache.pop(url, None)
        async with self._tx(write=True) as conn:
            await self._ensure_feed(conn, url, now)
            await conn.execute(
                update(feeds_table)
                .where(feeds_table.c.url == url)
                .values(
                    last_polled=now,
                    last_error=error,
                    last_error_at=now,
                    failures=feeds_table.c.failures + 1,
                )
            )
            count = await conn.scalar(
                select(feeds_table.c.failures).where(feeds_table.c.url == url)
            )
        return int(count or 0)

    async def set_next_poll(self, url: str, when: datetime) -> None:
        """When the feed is polled next (for `status`); committed with the polls' rows."""
        await self._writes.submit(_NextPoll(url, when))

    async def _ensure_feed(self, conn: AsyncConnection, url: str, now: datetime) -> None:
        exists = await conn.scalar(select(feeds_table.c.url).where(feeds_table.c.url == url))
        if exists is None:
            await conn.execute(
                insert(feeds_table).values(url=url, first_polled=now, failures=0, items_total=0)
            )

    async def feed_rows(self) -> list[Mapping[str, Any]]:
        async with self._tx() as conn:
            rows = (await conn.execute(select(feeds_table).order_by(feeds_table.c.url))).all()
        return [dict(row._mapping) for row in rows]

    # --- items and matches -------------------------------------------------------------

    async def add_items(
        self,
        items: Sequence[Item],
        hits: Mapping[tuple[str, str], Sequence[TopicHit]],
        now: datetime,
    ) -> list[MatchedItem]:
        """Insert the items not seen before; returns the new ones that matched a topic.

        `hits` maps (feed, id) to that item's topic hits. Items already stored are skipped, so
        an item is never reported twice, across restarts too.
        """
        async with self._tx(write=True) as conn:
            new, stored = await self._add_items(conn, items, hits, lambda _item: now)
            for url, count in stored.items():
                await self._ensure_feed(conn, url, now)
                await conn.execute(
                    update(feeds_table)
                    .where(feeds_table.c.url == url)
                    .values(items_total=feeds_table.c.items_total + count)
                )
        for url in stored:
            self._feed_cache.pop(url, None)  # its item count changed
        return new

    async def _add_items(
        self,
        conn: AsyncConnection,
        items: Sequence[Item],
        hits: Mapping[tuple[str, str], Sequence[TopicHit]],
        first_seen: Callable[[Item], datetime],
    ) -> tuple[list[MatchedItem], dict[str, int]]:
        """The new matching items, and how many new items each feed got (its row is the
        caller's to update)."""
        # A handful of statements however many items: rows go in as executemany batches.
        if not items:
            return [], {}
        known = await self._known_ids(conn, [(item.feed, item.id) for item in items])
        fresh = [item for item in _unique(items) if (item.feed, item.id) not in known]
        plain = [i for i in fresh if (i.feed, i.id) not in hits]
        matched = [i for i in fresh if (i.feed, i.id) in hits]
        if plain:
            await self._insert_plain(conn, plain, first_seen)
        new_matched = await self._insert_matched(conn, matched, hits, first_seen)
        stored: dict[str, int] = {}
        for item in fresh:
            stored[item.feed] = stored.get(item.feed, 0) + 1
        return new_matched, stored

    async def _insert_plain(
        self, conn: AsyncConnection, items: Sequence[Item], first_seen: Callable[[Item], datetime]
    ) -> None:
        """The items no topic matched: 97 % of a cold start's rows, so the cheapest path."""
        if conn.dialect.name != "sqlite":
            await conn.execute(insert(items_table), [_item_row(i, first_seen(i)) for i in items])
            return
        # SQLAlchemy's per-row parameter processing was a third of the store's CPU time; these
        # tuples hold exactly what it would have bound (tests/test_store.py compares the rows).
        await conn.exec_driver_sql(
            _SQLITE_INSERT_ITEM, [_sqlite_item(i, first_seen(i)) for i in items]
        )

    async def _insert_matched(
        self,
        conn: AsyncConnection,
        items: Sequence[Item],
        hits: Mapping[tuple[str, str], Sequence[TopicHit]],
        first_seen: Callable[[Item], datetime],
    ) -> list[MatchedItem]:
        if not items:
            return []
        result = await conn.execute(
            insert(items_table).returning(items_table.c.pk, sort_by_parameter_order=True),
            [_item_row(i, first_seen(i)) for i in items],
        )
        pks = [int(row.pk) for row in result]
        matched = [
            MatchedItem(
                item, tuple(hits[(item.feed, item.id)]), (item.source,), first_seen(item), pk
            )
            for item, pk in zip(items, pks, strict=True)
        ]
        await conn.execute(
            insert(matches_table),
            [
                {"item_pk": m.pk, "topic": hit.topic, "keywords": json.dumps(hit.keywords)}
                for m in matched
                for hit in m.hits
            ],
        )
        return matched

    async def _known_ids(
        self, conn: AsyncConnection, keys: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which (feed, item id) pairs are stored already: one indexed lookup per pair."""
        known: set[tuple[str, str]] = set()
        sqlite = conn.dialect.name == "sqlite"
        pair = tuple_(items_table.c.feed, items_table.c.item_id)
        for chunk in _chunks(keys, 400):  # 800 bound values: under SQLite's oldest limit
            if sqlite:  # a plain statement: rendering 800 bound names each time cost more
                flat = [value for key in chunk for value in key]
                rows: Any = await conn.exec_driver_sql(_sqlite_known_ids(len(chunk)), tuple(flat))
                known.update((feed, item_id) for feed, item_id in rows)
            else:
                found = await conn.execute(
                    select(items_table.c.feed, items_table.c.item_id).where(pair.in_(chunk))
                )
                known.update((row.feed, row.item_id) for row in found)
        return known

    async def undelivered(
        self, destination: DestinationRow, backfill: timedelta, limit: int = 5000
    ) -> list[MatchedItem]:
        """Matched items this destination follows and has not received yet, newest first.

        Eligible: first seen no earlier than `backfill` before the destination was created
        (a new destination neither floods nor starts empty), and published no earlier than
        `backfill` before we first saw it (a new feed's archive is recorded, never sent).
        """
        if not destination.topics:
            return []
        delivered = select(deliveries_table.c.item_pk).where(
            deliveries_table.c.destination == destination.key
        )
        query = (
            select(items_table, matches_table.c.topic, matches_table.c.keywords)
            .join(matches_table, matches_table.c.item_pk == items_table.c.pk)
            .where(
                matches_table.c.topic.in_(destination.topics),
                items_table.c.first_seen >= destination.created_at - backfill,
                items_table.c.pk.not_in(delivered),
                self._not_archive(backfill),
            )
            .order_by(items_table.c.published.desc(), items_table.c.pk)
            .limit(limit)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [
            matched
            for matched in _group_matches(rows)
            if matched.item.published >= _seen(matched) - backfill
        ]

    def _not_archive(self, backfill: timedelta) -> Any:
        """published >= first_seen - backfill, in SQL: a feed's archive is never a candidate,
        so it is not loaded (and thrown away) again for every digest."""
        if self._engine.dialect.name == "sqlite":
            # Stored as "YYYY-MM-DD HH:MM:SS.ffffff"; SQLite's datetime() drops the fraction,
            # so this errs by under a second towards keeping (the exact test follows in Python).
            shifted = func.datetime(
                items_table.c.first_seen, f"-{int(backfill.total_seconds()) + 1} seconds"
            )
            return items_table.c.published >= shifted
        return items_table.c.published >= items_table.c.first_seen - backfill

    async def delivered_items(
        self, destination: DestinationRow, since: datetime, limit: int = 5000
    ) -> list[MatchedItem]:
        """Matched items this destination received that were first seen after `since`.

        The digest groups new items with these, so a story already sent grows by updates
        instead of arriving again.
        """
        if not destination.topics:
            return []
        query = (
            select(items_table, matches_table.c.topic, matches_table.c.keywords)
            .join(matches_table, matches_table.c.item_pk == items_table.c.pk)
            .join(
                deliveries_table,
                and_(
                    deliveries_table.c.item_pk == items_table.c.pk,
                    deliveries_table.c.destination == destination.key,
                ),
            )
            .where(
                matches_table.c.topic.in_(destination.topics),
                items_table.c.first_seen >= since,
            )
            .order_by(items_table.c.published.desc(), items_table.c.pk)
            .limit(limit)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return _group_matches(rows)

    # --- destinations ------------------------------------------------------------------

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
        }
        if restart:
            values["created_at"] = row.created_at
        async with self._tx(write=True) as conn:
            existing = (
                await conn.execute(
                    select(destinations_table).where(destinations_table.c.key == row.key)
                )
            ).first()
            if existing is None:
                await conn.execute(
                    insert(destinations_table).values(
                        values | {"key": row.key, "created_at": row.created_at}
                    )
                )
            else:
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
        return None if row is None else _destination_from_row(row._mapping)

    async def destinations(self, *, active_only: bool = True) -> list[DestinationRow]:
        query = select(destinations_table).order_by(destinations_table.c.key)
        if active_only:
            query = query.where(destinations_table.c.active.is_(True))
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [_destination_from_row(row._mapping) for row in rows]

    async def set_destination_active(self, key: str, active: bool, error: str | None) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(
                update(destinations_table)
                .where(destinations_table.c.key == key)
                .values(active=active, last_error=error)
            )

    async def mark_delivered(
        self, key: str, item_pks: Iterable[int], now: datetime, *, touch: bool = True
    ) -> None:
        """Record items as received by a destination (`touch`: and a digest sent now)."""
        async with self._tx(write=True) as conn:
            await self._mark_delivered(conn, key, item_pks, now, touch=touch)

    async def _mark_delivered(
        self,
        conn: AsyncConnection,
        key: str,
        item_pks: Iterable[int],
        now: datetime,
        *,
        touch: bool = True,
    ) -> None:
        pks = sorted(set(item_pks))
        already: set[int] = set()
        for chunk in _chunks(pks, 500):
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

    # --- outbox ------------------------------------------------------------------------

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
            await self._mark_delivered(conn, key, item_pks, now)
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
        return [_outbox_row(r) for r in rows]

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
        return [_outbox_row(r) for r in rows]

    async def outbox_counts(self) -> dict[str, int]:
        """Messages per state: pending, sent, failed."""
        async with self._tx() as conn:
            rows = await conn.execute(
                select(outbox_table.c.state, func.count()).group_by(outbox_table.c.state)
            )
            counts = {str(state): int(count) for state, count in rows}
        return {state: counts.get(state, 0) for state in ("pending", "sent", "failed")}

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

    # --- housekeeping ------------------------------------------------------------------

    async def prune(self, older_than: datetime) -> int:
        """Forget items first seen before `older_than` (their matches and deliveries go too)."""
        async with self._tx(write=True) as conn:
            old = select(items_table.c.pk).where(items_table.c.first_seen < older_than)
            await conn.execute(delete(matches_table).where(matches_table.c.item_pk.in_(old)))
            await conn.execute(delete(deliveries_table).where(deliveries_table.c.item_pk.in_(old)))
            result = await conn.execute(
                delete(items_table).where(items_table.c.first_seen < older_than)
            )
            await conn.execute(
                delete(outbox_table).where(
                    outbox_table.c.state != "pending", outbox_table.c.created_at < older_than
                )
            )
        return int(result.rowcount or 0)

    async def count_items(self) -> int:
        async with self._tx() as conn:
            return int(await conn.scalar(select(func.count()).select_from(items_table)) or 0)


@dataclass(frozen=True, slots=True)
class _PollWrite:
    """One good poll waiting for the group commit (see Store.record_success)."""

    url: str
    validators: Validators
    now: datetime
    title: str | None
    items: Sequence[Item]
    hits: Mapping[tuple[str, str], Sequence[TopicHit]]


@dataclass(frozen=True, slots=True)
class _NextPoll:
    url: str
    when: datetime


_FeedWrite = _PollWrite | _NextPoll


def _feed_row(write: _PollWrite, items_added: int) -> dict[str, Any]:
    return {
        "url": write.url,
        "title": write.title or "",
        "etag": write.validators.etag,
        "last_modified": write.validators.last_modified,
        "body_hash": write.validators.body_hash,
        "first_polled": write.now,
        "last_polled": write.now,
        "last_success": write.now,
        "failures": 0,
        "items_total": items_added,
    }


# _postgresql_feed_upsert below, written out for SQLite's driver (tests/test_store.py reads back
# what it wrote through SQLAlchemy).
_SQLITE_UPSERT_FEED = """
INSERT INTO feeds (url, title, etag, last_modified, body_hash, first_polled, last_polled,
                   last_success, failures, items_total)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (url) DO UPDATE SET
    etag = excluded.etag,
    last_modified = excluded.last_modified,
    body_hash = excluded.body_hash,
    last_polled = excluded.last_polled,
    last_success = excluded.last_success,
    failures = 0,
    title = CASE WHEN excluded.title != '' THEN excluded.title ELSE feeds.title END,
    first_polled = coalesce(feeds.first_polled, excluded.first_polled),
    items_total = feeds.items_total + excluded.items_total
"""


def _sqlite_feed(write: _PollWrite, items_added: int) -> tuple[Any, ...]:
    now = _sqlite_datetime(write.now)
    validators = write.validators
    return (
        write.url,
        write.title or "",
        validators.etag,
        validators.last_modified,
        validators.body_hash,
        now,
        now,
        now,
        items_added,
    )


@functools.cache
def _postgresql_feed_upsert() -> Any:
    """A good poll's feed row as INSERT … ON CONFLICT DO UPDATE (SQLite has its own, above)."""
    # Imported here: loading the PostgreSQL dialect costs a cron run ~20 ms for nothing.
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    stmt: Any = postgresql_insert(feeds_table)
    new, old = stmt.excluded, feeds_table.c
    return stmt.on_conflict_do_update(
        index_elements=[old.url],
        set_={
            "etag": new.etag,
            "last_modified": new.last_modified,
            "body_hash": new.body_hash,
            "last_polled": new.last_polled,
            "last_success": new.last_success,
            "failures": 0,
            "title": case((new.title != "", new.title), else_=old.title),
            "first_polled": func.coalesce(old.first_polled, new.first_polled),
            "items_total": old.items_total + new.items_total,
        },
    )


def _feed_state(url: str, row: Any) -> FeedState:
    if row is None:
        return FeedState(url, Validators(), 0, None, None, None, 0)
    return FeedState(
        url=url,
        validators=Validators(row.etag, row.last_modified, row.body_hash),
        failures=row.failures,
        first_polled=row.first_polled,
        last_success=row.last_success,
        last_error=row.last_error,
        items_total=row.items_total,
    )


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        row.id,
        row.destination,
        row.idempotency_key,
        json.loads(row.payload),
        row.attempts,
        row.next_attempt_at,
    )


def _pending_heads() -> Any:
    """The id of each destination's oldest pending outbox message."""
    return (
        select(func.min(outbox_table.c.id))
        .where(outbox_table.c.state == "pending")
        .group_by(outbox_table.c.destination)
    )


def _group_matches(rows: Sequence[Any]) -> list[MatchedItem]:
    """Fold one row per (item, topic) into one MatchedItem per item, keeping row order."""
    by_pk: dict[int, tuple[Item, datetime, list[TopicHit]]] = {}
    for row in rows:
        entry = by_pk.get(row.pk)
        if entry is None:
            entry = (_item_from_row(row), row.first_seen, [])
            by_pk[row.pk] = entry
        entry[2].append(TopicHit(row.topic, tuple(json.loads(row.keywords))))
    return [
        MatchedItem(item, tuple(hits), (item.source,), first_seen=seen, pk=pk)
        for pk, (item, seen, hits) in by_pk.items()
    ]


_ITEM_COLUMNS = (
    "feed, item_id, link, title, summary, published, first_seen, language, tags, links, source"
)
_SQLITE_INSERT_ITEM = (
    f"INSERT INTO items ({_ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@functools.lru_cache(maxsize=64)
def _sqlite_known_ids(pairs: int) -> str:
    values = ", ".join(["(?, ?)"] * pairs)
    return f"SELECT feed, item_id FROM items WHERE (feed, item_id) IN (VALUES {values})"


def _sqlite_item(item: Item, now: datetime) -> tuple[Any, ...]:
    return (
        item.feed,
        item.id,
        item.link,
        item.title,
        item.summary,
        _sqlite_datetime(item.published),
        _sqlite_datetime(now),
        item.language,
        _json_list(item.tags),
        _json_list(item.links),
        item.source,
    )


def _sqlite_datetime(value: datetime) -> str:
    """What UTCDateTime + SQLAlchemy's SQLite DATETIME store: naive UTC, microseconds."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(values) if values else "[]"


def _item_row(item: Item, now: datetime) -> dict[str, Any]:
    return {
        "feed": item.feed,
        "item_id": item.id,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "published": item.published,
        "first_seen": now,
        "language": item.language,
        "tags": _json_list(item.tags),
        "links": _json_list(item.links),
        "source": item.source,
    }


def _item_from_row(row: Any) -> Item:
    return Item(
        feed=row.feed,
        id=row.item_id,
        link=row.link,
        title=row.title,
        summary=row.summary,
        published=row.published,
        language=row.language,
        tags=tuple(json.loads(row.tags)),
        source=row.source,
        links=tuple(json.loads(row.links)),
    )


def _destination_from_row(row: Any) -> DestinationRow:
    return DestinationRow(
        key=row["key"],
        origin=row["origin"],
        platform=row["platform"],
        target=row["target"],
        topics=tuple(json.loads(row["topics"])),
        schedule=row["schedule"],
        timezone=row["timezone"],
        language=row["language"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        last_digest_at=row["last_digest_at"],
        title=row["title"],
        last_error=row["last_error"],
    )


def _seen(matched: MatchedItem) -> datetime:
    return matched.first_seen or matched.item.published


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        seen.setdefault((item.feed, item.id), item)
    return list(seen.values())


def _chunks(values: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _safe_url(url: str) -> str:
    """Hide a password in a database URL (postgresql://user:secret@host/db)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
