"""Feeds: their fetch state and validators, good and failed polls, the next poll time.

Polls' bookkeeping goes through a group commit (storage/groupcommit.py): the polls that finish
while a commit runs share the next transaction, with their new items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from policywire.models import Item, MatchedItem, TopicHit, Validators
from policywire.storage.base import StoreBase, chunks, insert_ignoring_conflicts
from policywire.storage.groupcommit import GroupCommit
from policywire.storage.items import add_new_items
from policywire.storage.postgresql import feed_upsert
from policywire.storage.rows import FeedRow, FeedState, feed_row_from_row, feed_state_from_row
from policywire.storage.schema import feeds_table
from policywire.storage.sqlite_bulk import SQLITE_UPSERT_FEED, sqlite_feed

# A group commit takes queued polls up to about this many items (a cold start's first polls
# would otherwise hold the write lock for one huge transaction).
MAX_BATCH_ITEMS = 5000


@dataclass(frozen=True, slots=True)
class PollWrite:
    """One good poll waiting for the group commit (see FeedsMixin.record_success)."""

    url: str
    validators: Validators
    now: datetime
    title: str | None
    items: Sequence[Item]
    hits: Mapping[tuple[str, str], Sequence[TopicHit]]


@dataclass(frozen=True, slots=True)
class NextPoll:
    url: str
    when: datetime


FeedWrite = PollWrite | NextPoll


class FeedsMixin(StoreBase):
    """Feeds' state. This process is the feeds' only writer, so it remembers what it wrote."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._feed_cache: dict[str, FeedState] = {}  # see feed_states
        self._writes: GroupCommit[FeedWrite, list[MatchedItem]] = GroupCommit(
            self._write_batch,
            weight=lambda write: len(write.items) if isinstance(write, PollWrite) else 0,
            max_weight=MAX_BATCH_ITEMS,
        )

    async def close(self) -> None:
        await self._writes.drain()  # queued polls are committed, not lost
        await super().close()

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
                for chunk in chunks(missing, 500):
                    found = await conn.execute(
                        select(feeds_table).where(feeds_table.c.url.in_(chunk))
                    )
                    rows.update((row.url, row) for row in found)
            for url in missing:
                self._feed_cache[url] = feed_state_from_row(url, rows.get(url))
        return {url: self._feed_cache[url] for url in urls}

    def remember_feed_states(self, states: Mapping[str, FeedState]) -> None:
        """States read elsewhere (with a poll lease: with several workers, another one may
        have polled the feed since this one wrote it), used from now on."""
        self._feed_cache.update(states)

    async def feed_rows(self) -> list[FeedRow]:
        """Every stored feed's row, by URL."""
        async with self._tx() as conn:
            rows = (await conn.execute(select(feeds_table).order_by(feeds_table.c.url))).all()
        return [feed_row_from_row(row) for row in rows]

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

        Returns the new items that matched a topic: `hits` maps (feed, id) to an item's topic
        hits, and an item already stored is never reported again, across restarts too. Polls
        that finish while a commit is running are committed together by the next one (a group
        commit): a 304 then costs a row in a shared statement, not a transaction of its own.
        """
        write = PollWrite(url, validators, now, title or None, items, hits or {})
        return await self._writes.submit(write)

    async def record_failure(self, url: str, error: str, now: datetime) -> int:
        """Remember a failed poll; returns the feed's consecutive failure count."""
        self._feed_cache.pop(url, None)
        async with self._tx(write=True) as conn:
            await _ensure_feed(conn, url, now)
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
        await self._writes.submit(NextPoll(url, when))

    async def _write_batch(self, batch: Sequence[FeedWrite]) -> list[list[MatchedItem]]:
        """One transaction for a group commit: new items, every polled feed's row in one
        upsert, then the next poll times; each write's new matching items, in order."""
        polls = [write for write in batch if isinstance(write, PollWrite)]
        first_seen = {write.url: write.now for write in polls}
        items = [item for write in polls for item in write.items]
        hits = {key: value for write in polls for key, value in write.hits.items()}
        new: list[MatchedItem] = []
        stored: dict[str, int] = {}
        async with self._tx(write=True) as conn:
            if items:
                new, stored = await add_new_items(
                    conn, items, hits, lambda item: first_seen.get(item.feed, polls[0].now)
                )
            if polls:
                await _upsert_polled_feeds(conn, polls, stored)
            await _set_next_polls(conn, [write for write in batch if isinstance(write, NextPoll)])
        self._remember_polls(polls, stored)
        by_feed: dict[str, list[MatchedItem]] = {}
        for matched in new:
            by_feed.setdefault(matched.item.feed, []).append(matched)
        # A feed polled twice in one batch gets its new items reported once, to the first.
        return [
            by_feed.pop(write.url, []) if isinstance(write, PollWrite) else [] for write in batch
        ]

    def _remember_polls(self, batch: Sequence[PollWrite], stored: Mapping[str, int]) -> None:
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


async def _set_next_polls(conn: AsyncConnection, writes: Sequence[NextPoll]) -> None:
    if writes:
        await conn.execute(
            update(feeds_table)
            .where(feeds_table.c.url == bindparam("feed_url"))
            .values(next_poll=bindparam("poll_at")),
            [{"feed_url": write.url, "poll_at": write.when} for write in writes],
        )


async def _upsert_polled_feeds(
    conn: AsyncConnection, batch: Sequence[PollWrite], stored: Mapping[str, int]
) -> None:
    counted: set[str] = set()
    rows = []
    for write in batch:
        # The item count is added once per feed, however often it appears in the batch.
        count = 0 if write.url in counted else stored.get(write.url, 0)
        counted.add(write.url)
        rows.append((write, count))
    if conn.dialect.name == "sqlite":  # the driver's executemany, as for items
        await conn.exec_driver_sql(
            SQLITE_UPSERT_FEED,
            [sqlite_feed(w.url, w.title, w.validators, w.now, count) for w, count in rows],
        )
    else:
        await conn.execute(feed_upsert(), [_feed_row(*row) for row in rows])


async def _ensure_feed(conn: AsyncConnection, url: str, now: datetime) -> None:
    """The feed's row, inserted unless it exists (another worker's insert is no error)."""
    table = feeds_table
    ensure = insert_ignoring_conflicts(conn.dialect.name, table, [table.c.url])
    await conn.execute(ensure.values(url=url, first_polled=now, failures=0, items_total=0))


def _feed_row(write: PollWrite, items_added: int) -> dict[str, Any]:
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
