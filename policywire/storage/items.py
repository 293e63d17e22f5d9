"""Items and their topic matches: storing a poll's new items, and a digest's candidates.

Items are written only by the poll path (FeedsMixin.record_success → `add_new_items`, in the
group commit's transaction); this mixin reads them for digests and forgets old ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Interval, Select, and_, delete, func, insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.models import Item, MatchedItem, TopicHit
from policywire.storage.base import StoreBase, chunks
from policywire.storage.rows import DestinationRow
from policywire.storage.schema import (
    deliveries_table,
    feeds_table,
    item_vectors_table,
    items_table,
    matches_table,
    outbox_table,
)
from policywire.storage.sqlite_bulk import (
    SQLITE_INSERT_ITEM,
    json_list,
    sqlite_item,
    sqlite_known_ids,
)

Hits = Mapping[tuple[str, str], Sequence[TopicHit]]

# items.date_source: where an item's `published` comes from.
DATE_FROM_FEED = "feed"  # the feed's own date
# No date we trust, and first seen on a later read of its feed: the first-seen time stands
# in, and is honest (the item was not there the time before).
DATE_FROM_FIRST_SEEN = "seen"
# No date we trust, and there when we first read its feed: it may be years old, so it is
# stored as seen and never sent as new (`published` holds the first-seen time regardless).
DATE_UNKNOWN = "unknown"


class ItemsMixin(StoreBase):
    """Digest candidates (matched items) and housekeeping."""

    async def undelivered(
        self, destination: DestinationRow, backfill: timedelta, limit: int = 5000
    ) -> list[MatchedItem]:
        """Matched items this destination follows and has not received yet, newest first.

        Eligible: first seen no earlier than `backfill` before the destination was created
        (a new destination neither floods nor starts empty), and published no earlier than
        `backfill` before we first saw it (a new feed's archive is recorded, never sent),
        which an item whose date is unknown (DATE_UNKNOWN) never is.
        At most `limit` items, shared fairly between feeds (`_fair_share`).
        """
        if not destination.topics:
            return []
        delivered = select(deliveries_table.c.item_pk).where(
            deliveries_table.c.destination == destination.key
        )
        following = select(matches_table.c.item_pk).where(
            matches_table.c.topic.in_(destination.topics)
        )
        eligible = select(items_table.c.pk, items_table.c.feed, items_table.c.published).where(
            items_table.c.pk.in_(following),
            items_table.c.first_seen >= destination.created_at - backfill,
            items_table.c.pk.not_in(delivered),
            _not_archive(self._engine.dialect.name, backfill),
            items_table.c.date_source != DATE_UNKNOWN,
        )
        query = (
            select(items_table, matches_table.c.topic, matches_table.c.keywords)
            .join(matches_table, matches_table.c.item_pk == items_table.c.pk)
            .where(
                matches_table.c.topic.in_(destination.topics),
                items_table.c.pk.in_(_fair_share(eligible, limit)),
            )
            .order_by(items_table.c.published.desc(), items_table.c.pk)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [
            matched
            for matched in _group_matches(rows)
            if matched.item.published >= _seen(matched) - backfill
        ]

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

    async def count_items(self) -> int:
        async with self._tx() as conn:
            return int(await conn.scalar(select(func.count()).select_from(items_table)) or 0)

    async def prune(self, older_than: datetime) -> int:
        """Forget items first seen before `older_than` (their matches, deliveries and vectors
        go too)."""
        async with self._tx(write=True) as conn:
            old = select(items_table.c.pk).where(items_table.c.first_seen < older_than)
            await conn.execute(delete(matches_table).where(matches_table.c.item_pk.in_(old)))
            await conn.execute(delete(deliveries_table).where(deliveries_table.c.item_pk.in_(old)))
            await conn.execute(
                delete(item_vectors_table).where(item_vectors_table.c.item_pk.in_(old))
            )
            result = await conn.execute(
                delete(items_table).where(items_table.c.first_seen < older_than)
            )
            await conn.execute(
                delete(outbox_table).where(
                    outbox_table.c.state != "pending", outbox_table.c.created_at < older_than
                )
            )
        return int(result.rowcount or 0)


async def add_new_items(
    conn: AsyncConnection, items: Sequence[Item], hits: Hits, first_seen: Callable[[Item], datetime]
) -> tuple[list[MatchedItem], dict[str, int]]:
    """Insert the items not stored before: the new matching items, and how many new items
    each feed got (its row is the caller's to update)."""
    # A handful of statements however many items: rows go in as executemany batches.
    if not items:
        return [], {}
    known = await _known_ids(conn, [(item.feed, item.id) for item in items])
    fresh = [item for item in _unique(items) if (item.feed, item.id) not in known]
    plain = [i for i in fresh if (i.feed, i.id) not in hits]
    matched = [i for i in fresh if (i.feed, i.id) in hits]
    dates = await _date_sources(conn, fresh)
    if plain:
        await _insert_plain(conn, plain, first_seen, dates)
    new_matched = await _insert_matched(conn, matched, hits, first_seen, dates)
    stored: dict[str, int] = {}
    for item in fresh:
        stored[item.feed] = stored.get(item.feed, 0) + 1
    return new_matched, stored


async def _date_sources(conn: AsyncConnection, items: Sequence[Item]) -> Callable[[Item], str]:
    """Each item's items.date_source. An undated item is new only when its feed had been
    read before (a good poll is recorded after its items, in the same transaction)."""
    undated_feeds = sorted({item.feed for item in items if not item.dated})
    read_before: set[str] = set()
    for chunk in chunks(undated_feeds, 500):
        rows = await conn.execute(
            select(feeds_table.c.url).where(
                feeds_table.c.url.in_(chunk), feeds_table.c.last_success.is_not(None)
            )
        )
        read_before.update(row.url for row in rows)

    def date_source(item: Item) -> str:
        if item.dated:
            return DATE_FROM_FEED
        return DATE_FROM_FIRST_SEEN if item.feed in read_before else DATE_UNKNOWN

    return date_source


async def _insert_plain(
    conn: AsyncConnection,
    items: Sequence[Item],
    first_seen: Callable[[Item], datetime],
    dates: Callable[[Item], str],
) -> None:
    """The items no topic matched: 97 % of a cold start's rows, so the cheapest path."""
    if conn.dialect.name != "sqlite":
        rows = [_item_row(i, first_seen(i), dates(i)) for i in items]
        await conn.execute(insert(items_table), rows)
        return
    # The driver's rows leave items.date_source to its default ("feed"): the few undated
    # items take the Core statement.
    undated = [_item_row(i, first_seen(i), dates(i)) for i in items if not i.dated]
    if undated:
        await conn.execute(insert(items_table), undated)
    dated = [i for i in items if i.dated]
    if dated:
        # SQLAlchemy's per-row parameter processing was a third of the store's CPU time;
        # these tuples hold exactly what it would have bound (tests/test_store.py compares
        # the rows).
        values = [sqlite_item(i, first_seen(i)) for i in dated]
        await conn.exec_driver_sql(SQLITE_INSERT_ITEM, values)


async def _insert_matched(
    conn: AsyncConnection,
    items: Sequence[Item],
    hits: Hits,
    first_seen: Callable[[Item], datetime],
    dates: Callable[[Item], str],
) -> list[MatchedItem]:
    if not items:
        return []
    result = await conn.execute(
        insert(items_table).returning(items_table.c.pk, sort_by_parameter_order=True),
        [_item_row(i, first_seen(i), dates(i)) for i in items],
    )
    pks = [int(row.pk) for row in result]
    matched = [
        MatchedItem(item, tuple(hits[(item.feed, item.id)]), (item.source,), first_seen(item), pk)
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
    conn: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (feed, item id) pairs are stored already: one indexed lookup per pair."""
    known: set[tuple[str, str]] = set()
    sqlite = conn.dialect.name == "sqlite"
    pair = tuple_(items_table.c.feed, items_table.c.item_id)
    for chunk in chunks(keys, 400):  # 800 bound values: under SQLite's oldest limit
        if sqlite:  # a plain statement: rendering 800 bound names each time cost more
            flat = [value for key in chunk for value in key]
            rows: Any = await conn.exec_driver_sql(sqlite_known_ids(len(chunk)), tuple(flat))
            known.update((feed, item_id) for feed, item_id in rows)
        else:
            found = await conn.execute(
                select(items_table.c.feed, items_table.c.item_id).where(pair.in_(chunk))
            )
            known.update((row.feed, row.item_id) for row in found)
    return known


def _not_archive(dialect: str, backfill: timedelta) -> Any:
    """published >= first_seen - backfill, in SQL: a feed's archive is never a candidate,
    so it is not loaded (and thrown away) again for every digest."""
    if dialect == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff"; SQLite's datetime() drops the fraction,
        # so this errs by under a second towards keeping (the exact test follows in Python).
        shifted = func.datetime(
            items_table.c.first_seen, f"-{int(backfill.total_seconds()) + 1} seconds"
        )
        return items_table.c.published >= shifted
    # An explicit interval: bound as the column's own type, a timedelta failed on PostgreSQL.
    return items_table.c.published >= items_table.c.first_seen - literal(backfill, Interval())


def _fair_share(eligible: Select[Any], limit: int) -> Select[Any]:
    """The pks of at most `limit` eligible items, taken feed by feed in turns: every feed's
    newest item, then every feed's second newest, and so on (newest first within a turn).

    A feed that publishes ten thousand items gets the same turns as one that publishes
    three; the turns a quiet feed cannot use go to the busy ones, so the limit is still
    filled. ROW_NUMBER() OVER (PARTITION BY …) runs on SQLite (3.25+) and PostgreSQL.
    """
    turn = func.row_number().over(
        partition_by=items_table.c.feed,
        order_by=(items_table.c.published.desc(), items_table.c.pk),
    )
    ranked = eligible.add_columns(turn.label("turn")).subquery("ranked")
    return (
        select(ranked.c.pk)
        .order_by(ranked.c.turn, ranked.c.published.desc(), ranked.c.pk)
        .limit(limit)
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


def _item_row(item: Item, now: datetime, date_source: str) -> dict[str, Any]:
    return {
        "feed": item.feed,
        "item_id": item.id,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        # An undated item's date is exactly when it was first seen, as the digest says.
        "published": item.published if item.dated else now,
        "date_source": date_source,
        "first_seen": now,
        "language": item.language,
        "tags": json_list(item.tags),
        "links": json_list(item.links),
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
        dated=row.date_source == DATE_FROM_FEED,
    )


def _seen(matched: MatchedItem) -> datetime:
    return matched.first_seen or matched.item.published


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        seen.setdefault((item.feed, item.id), item)
    return list(seen.values())
