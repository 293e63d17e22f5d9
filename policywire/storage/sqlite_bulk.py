"""SQLite-only fast paths: statements and rows handed straight to the driver's executemany.

SQLAlchemy's per-row parameter processing was a third of the store's CPU time on a cold
start; these tuples hold exactly what it would have bound (tests/test_store.py compares the
rows). Every other dialect takes the Core statements in `storage/items.py` and `feeds.py`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from policywire.models import Item, Validators

# The PostgreSQL feed upsert (storage/postgresql.py), written out for SQLite's driver
# (tests/test_store.py reads back what it wrote through SQLAlchemy).
SQLITE_UPSERT_FEED = """
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

_ITEM_COLUMNS = (
    "feed, item_id, link, title, summary, published, first_seen, language, tags, links, source"
)
SQLITE_INSERT_ITEM = f"INSERT INTO items ({_ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def sqlite_feed(
    url: str, title: str | None, validators: Validators, now: datetime, items_added: int
) -> tuple[Any, ...]:
    """SQLITE_UPSERT_FEED's parameters for one good poll."""
    when = sqlite_datetime(now)
    return (
        url,
        title or "",
        validators.etag,
        validators.last_modified,
        validators.body_hash,
        when,
        when,
        when,
        items_added,
    )


@functools.lru_cache(maxsize=64)
def sqlite_known_ids(pairs: int) -> str:
    """A plain statement for `pairs` (feed, item id) pairs: rendering 800 bound names each
    time through SQLAlchemy cost more than the lookup."""
    values = ", ".join(["(?, ?)"] * pairs)
    return f"SELECT feed, item_id FROM items WHERE (feed, item_id) IN (VALUES {values})"


def sqlite_item(item: Item, now: datetime) -> tuple[Any, ...]:
    """SQLITE_INSERT_ITEM's parameters for one item first seen `now`."""
    return (
        item.feed,
        item.id,
        item.link,
        item.title,
        item.summary,
        sqlite_datetime(item.published),
        sqlite_datetime(now),
        item.language,
        json_list(item.tags),
        json_list(item.links),
        item.source,
    )


def sqlite_datetime(value: datetime) -> str:
    """What UTCDateTime + SQLAlchemy's SQLite DATETIME store: naive UTC, microseconds."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def json_list(values: Sequence[str]) -> str:
    """A list column's text (tags, links), for either path."""
    return json.dumps(values) if values else "[]"


def enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection's settings (a "connect" event listener)."""
    # WAL lets readers (status, preview) run beside the writer; NORMAL sync is safe under WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
