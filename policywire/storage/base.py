"""The store's foundation: the engine, transactions, the write lock, and opening a database.

SQLAlchemy 2 Core over an async engine. SQLite (WAL mode) by default, PostgreSQL by URL;
the same statements serve both. Database errors leave the store as `StoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self

from sqlalchemy import Column, Table, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from policywire.errors import SchemaError, StoreError
from policywire.storage.lock import DatabaseWatch
from policywire.storage.migrate import SchemaUpgrade, upgrade_schema
from policywire.storage.sqlite_bulk import enable_sqlite_pragmas


class StoreBase:
    """What every part of the store shares. Open with `await Store.open(url)`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # SQLite has one writer: a transaction that read before another one committed gets
        # "database is locked" at once when it then writes (busy_timeout cannot help there).
        # Writers of this process take turns here instead; readers never wait.
        self._write_lock = asyncio.Lock()
        self.schema_upgrade: SchemaUpgrade | None = None  # what `open` did to the schema
        self._file_watch: DatabaseWatch | None = None  # SQLite: the file `open` opened

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect, and bring the database to this code's schema (see storage/migrate.py)."""
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", enable_sqlite_pragmas)
        try:
            async with engine.begin() as conn:
                upgrade = await conn.run_sync(upgrade_schema)
        except SchemaError as exc:
            await engine.dispose()
            raise SchemaError(f"cannot use database {safe_url(url)}: {exc}") from exc
        except SQLAlchemyError as exc:
            await engine.dispose()
            # aiosqlite answers a failed connect's clean-up from its thread a moment later: let
            # it, or it finds the loop closed (asyncio.run returned) and fails in that thread.
            await asyncio.sleep(0.05)
            raise StoreError(f"cannot open database {safe_url(url)}: {first_line(exc)}") from exc
        store = cls(engine)
        store.schema_upgrade = upgrade
        store._file_watch = DatabaseWatch.for_url(url)
        return store

    def check_database_file(self) -> None:
        """Raise DatabaseGone when the SQLite file was deleted or replaced since `open`."""
        if self._file_watch is not None:
            self._file_watch.check()

    async def close(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def _tx(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        async with contextlib.AsyncExitStack() as stack:
            # Before reads too: a new pooled connection to a deleted file makes an empty one.
            self.check_database_file()  # and never write into a file nobody can open again
            if write:
                await stack.enter_async_context(self._write_lock)
            try:
                async with self._engine.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                self.check_database_file()  # deleted between the check and the connect
                unencodable = _unencodable(exc)  # asyncpg wraps it in a DataError
                if unencodable is not None:
                    reason = unencodable.reason
                    raise StoreError(f"text the database cannot store: {reason}") from exc
                raise StoreError(f"database error: {first_line(exc)}") from exc
            except UnicodeEncodeError as exc:  # text the driver cannot bind (a lone surrogate)
                raise StoreError(f"text the database cannot store: {exc.reason}") from exc


def _unencodable(exc: BaseException) -> UnicodeEncodeError | None:
    """The UnicodeEncodeError behind a driver's error, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(5):  # SQLAlchemy error → driver error → its cause: never deeper
        if seen is None:
            return None
        if isinstance(seen, UnicodeEncodeError):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def insert_ignoring_conflicts(dialect: str, table: Table, keys: Sequence[Column[Any]]) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING in the dialect's words: of two workers inserting
    the same row at once, one inserts and the other's statement does nothing (rowcount 0)."""
    stmt: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        stmt = postgresql_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def chunks(values: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def safe_url(url: str) -> str:
    """Hide a password in a database URL (postgresql://user:secret@host/db)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
