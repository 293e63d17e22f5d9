"""Databases for store tests: a SQLite file, and a fresh PostgreSQL database per test.

PostgreSQL tests read the server from POLICYWIRE_TEST_POSTGRES_URL (an asyncpg URL to any
database on it, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test). Without it they skip
with one line saying how to run them; with it set and the server unreachable they fail, as
CI sets it and runs a server. Each test gets a database of its own, created from the URL's
server and dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ENV = "POLICYWIRE_TEST_POSTGRES_URL"
HOW = f"set {ENV}=postgresql+asyncpg://postgres@127.0.0.1:5432/test to run the PostgreSQL tests"
BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> str:
    """The configured server's URL, or skip the test (with how to run it)."""
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(HOW)
    return url


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the configured server; dropped (connections closed) after."""
    server = make_url(postgres_server_url())
    name = f"pw_test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def database_url(backend: str, tmp_path: os.PathLike[str]) -> AsyncIterator[str]:
    """A store URL on `backend` ("sqlite" or "postgresql") that no other test uses."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{os.fspath(tmp_path)}/test.db"
        return
    async with fresh_postgres_database() as url:
        yield url
