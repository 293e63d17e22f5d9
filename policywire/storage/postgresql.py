"""PostgreSQL-only statements, built on first use.

Nothing here imports the PostgreSQL dialect at module level: loading it costs a cron run on
SQLite ~20 ms for nothing (tests/test_cli.py checks that such a run never loads it).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import case, func

from policywire.storage.schema import feeds_table


@functools.cache
def feed_upsert() -> Any:
    """A good poll's feed row as INSERT … ON CONFLICT DO UPDATE (the SQLite twin is
    `sqlite_bulk.SQLITE_UPSERT_FEED`)."""
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
