"""Migrations: a database of policywire 0.1.0 is adopted and upgraded, and sends nothing again;
a new one is created at head; a newer one is refused in one clear line; `policywire db upgrade`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from policywire.errors import SchemaError, StoreError
from policywire.models import Validators
from policywire.storage import migrate
from policywire.storage.schema import SCHEMA_VERSION, metadata
from policywire.storage.store import Store
from scheduler import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURE = Path(__file__).parent / "data" / "migrations" / "release-0.1.0.sqlite"
PLACEHOLDER = "file:///FIXTURE-FEEDS/"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +[\w.]+: ")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        return raw.execute(sql).fetchall()


def execute(path: Path, sql: str, *parameters: object) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute(sql, parameters)


def schema(path: Path) -> list[tuple[object, ...]]:
    """Every table and index policywire owns, as SQLite stores its DDL, whitespace folded
    (SQLite writes a column added by ALTER TABLE on the line of the column before it)."""
    rows = query(
        path,
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version'",
    )
    return sorted(
        ((kind, name, table, " ".join(str(sql).split())) for kind, name, table, sql in rows),
        key=str,
    )


def release_0_1_0(tmp_path: Path) -> Path:
    """The 0.1.0 fixture as its demo left it: examples/ copied beside it, the feed URLs
    pointing at the copied feeds (as the config resolves them); returns the config's path."""
    feeds = tmp_path / "feeds"
    shutil.copytree(EXAMPLES / "feeds", feeds)
    database = tmp_path / "release.db"
    shutil.copyfile(FIXTURE, database)
    prefix = feeds.resolve().as_uri() + "/"
    execute(database, "UPDATE feeds SET url = replace(url, ?, ?)", PLACEHOLDER, prefix)
    execute(database, "UPDATE items SET feed = replace(feed, ?, ?)", PLACEHOLDER, prefix)
    text = (EXAMPLES / "offline.yaml").read_text(encoding="utf-8")
    pointed, count = re.subn(
        r"^  database: .*$", f"  database: {sqlite_url(database)}", text, flags=re.M
    )
    assert count == 1
    config = tmp_path / "offline.yaml"
    config.write_text(pointed, encoding="utf-8")
    return config


def alembic(path: Path, action: str, revision: str) -> None:
    """Run one Alembic command (upgrade or downgrade to `revision`) on a SQLite file."""
    from alembic import command

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            getattr(command, action)(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)},  # no bot tokens
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_head_is_the_newest_revision_of_the_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == [migrate.HEAD]
    assert scripts.get_base() == migrate.FIRST


def test_the_migrations_are_packaged() -> None:
    from setuptools import find_packages

    packages = find_packages(str(ROOT), include=["policywire*", "bots*"])
    assert "policywire.storage.migrations" in packages
    assert "policywire.storage.migrations.versions" in packages


async def test_a_new_database_is_created_at_head(tmp_path: Path) -> None:
    database = tmp_path / "new.db"
    store = await Store.open(sqlite_url(database))
    assert store.schema_upgrade == migrate.SchemaUpgrade(None, migrate.HEAD)
    await store.record_success("https://a.example/rss", Validators(), _now())
    assert len(await store.feed_rows()) == 1
    await store.close()
    assert query(database, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    assert query(database, "SELECT key, value FROM meta") == [
        ("schema_version", str(SCHEMA_VERSION))
    ]
    reopened = await Store.open(sqlite_url(database))
    assert reopened.schema_upgrade == migrate.SchemaUpgrade(migrate.HEAD, migrate.HEAD)
    await reopened.close()


def test_the_first_revision_is_the_schema_of_0_1_0(tmp_path: Path) -> None:
    first = tmp_path / "first.db"
    alembic(first, "upgrade", migrate.FIRST)
    assert schema(first) == schema(FIXTURE)


async def test_head_is_the_schema_of_the_metadata(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    await (await Store.open(sqlite_url(migrated))).close()
    created = tmp_path / "created.db"
    engine = create_engine(f"sqlite:///{created}")
    metadata.create_all(engine)
    engine.dispose()
    assert schema(migrated) == schema(created)


async def test_a_database_at_0001_with_items_is_upgraded_at_open(tmp_path: Path) -> None:
    database = tmp_path / "at-0001.db"
    alembic(database, "upgrade", migrate.FIRST)
    execute(
        database,
        "INSERT INTO items (feed, item_id, link, title, summary, published, first_seen, tags,"
        " links, source) VALUES ('https://a.example/rss', 'a-1', 'https://a.example/1', 'Title',"
        " 'Summary', '2026-01-02 03:04:05.000000', '2026-01-02 03:04:05.000000', '[]', '[]',"
        " 'a.example')",
    )
    execute(database, "INSERT INTO matches (item_pk, topic, keywords) VALUES (1, 'ai', '[]')")

    store = await Store.open(sqlite_url(database))
    assert store.schema_upgrade == migrate.SchemaUpgrade(migrate.FIRST, migrate.HEAD)
    assert await store.count_items() == 1
    key = ("https://a.example/rss", "a-1")
    assert await store.save_vectors("model-x", {key: b"\x00\x00\x80\x3f"}) == 1
    assert await store.load_vectors("model-x", [key]) == {key: b"\x00\x00\x80\x3f"}
    await store.close()
    assert query(database, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    assert query(database, "SELECT key, value FROM meta") == [
        ("schema_version", str(SCHEMA_VERSION))
    ]
    assert query(database, "SELECT pk, item_id, title FROM items") == [(1, "a-1", "Title")]


async def test_the_item_vectors_revision_downgrades_to_0001(tmp_path: Path) -> None:
    database = tmp_path / "down.db"
    await (await Store.open(sqlite_url(database))).close()
    alembic(database, "downgrade", migrate.FIRST)
    assert schema(database) == schema(FIXTURE)
    assert query(database, "SELECT key, value FROM meta") == [("schema_version", "1")]


async def test_the_workers_revision_adds_its_tables_and_downgrades_to_0004(
    tmp_path: Path,
) -> None:
    database = tmp_path / "workers.db"
    alembic(database, "upgrade", "0005")
    tables = {str(name) for (name,) in query(database, "SELECT name FROM sqlite_master")}
    assert {"workers", "leases", "digest_ticks"} <= tables
    assert query(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [("5",)]
    alembic(database, "downgrade", "0004")
    tables = {str(name) for (name,) in query(database, "SELECT name FROM sqlite_master")}
    assert not {"workers", "leases", "digest_ticks"} & tables
    assert query(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [("4",)]


async def test_items_of_a_database_at_0002_read_as_dated_after_0003(tmp_path: Path) -> None:
    database = tmp_path / "at-0002.db"
    alembic(database, "upgrade", "0002")
    execute(
        database,
        "INSERT INTO items (feed, item_id, link, title, summary, published, first_seen, tags,"
        " links, source) VALUES ('https://a.example/rss', 'a-1', 'https://a.example/1', 'Title',"
        " 'Summary', '2026-01-02 03:04:05.000000', '2026-01-02 03:04:05.000000', '[]', '[]',"
        " 'a.example')",
    )
    store = await Store.open(sqlite_url(database))
    assert store.schema_upgrade == migrate.SchemaUpgrade("0002", migrate.HEAD)
    await store.close()
    assert query(database, "SELECT item_id, date_source FROM items") == [("a-1", "feed")]
    assert query(database, "SELECT value FROM meta") == [(str(SCHEMA_VERSION),)]
    alembic(database, "downgrade", "0002")
    columns = [row[1] for row in query(database, "PRAGMA table_info(items)")]
    assert "date_source" not in columns and "story_id" in columns
    assert query(database, "SELECT value FROM meta") == [("2",)]


async def test_subscriptions_of_a_database_at_0003_post_into_the_chat_after_0004(
    tmp_path: Path,
) -> None:
    database = tmp_path / "at-0003.db"
    alembic(database, "upgrade", "0003")
    execute(
        database,
        "INSERT INTO destinations (key, origin, platform, target, topics, schedule, timezone,"
        " language, title, active, created_at) VALUES ('telegram:-100123', 'chat', 'telegram',"
        " '-100123', '[\"ai-act\"]', '08:00', 'UTC', 'it', 'Forum', 1,"
        " '2026-01-02 03:04:05.000000')",
    )
    store = await Store.open(sqlite_url(database))
    assert store.schema_upgrade == migrate.SchemaUpgrade("0003", migrate.HEAD)
    row = await store.destination("telegram:-100123")
    assert row is not None and row.thread_id is None and row.topics == ("ai-act",)
    await store.upsert_destination(replace(row, key="telegram:-100123/7", thread_id=7))
    topic = await store.destination("telegram:-100123/7")
    assert topic is not None and topic.thread_id == 7 and topic.target == "-100123"
    await store.close()
    alembic(database, "downgrade", "0003")
    columns = [row[1] for row in query(database, "PRAGMA table_info(destinations)")]
    assert "thread_id" not in columns and "title" in columns
    assert query(database, "SELECT value FROM meta") == [("3",)]
    assert len(query(database, "SELECT key FROM destinations")) == 2


def test_a_database_of_0_1_0_is_upgraded_and_sends_nothing_again(tmp_path: Path) -> None:
    config = release_0_1_0(tmp_path)
    database = tmp_path / "release.db"
    items = query(database, "SELECT count(*) FROM items")
    outbox = query(database, "SELECT id, state, sent_at FROM outbox ORDER BY id")
    assert outbox and all(state == "sent" for _, state, _ in outbox)

    result = cli("run", "--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert query(database, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    assert "database of policywire 0.1.0 stamped as revision 0001" in result.stderr
    assert query(database, "SELECT value FROM meta") == [(str(SCHEMA_VERSION),)]
    assert query(database, "SELECT count(*) FROM item_vectors") == [(0,)]  # nothing was sent
    assert "one round done: 0 messages sent" in result.stderr
    # The Italian digest would go to stdout, the English one to stderr between the log lines.
    assert result.stdout == ""
    assert all(LOG_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    assert query(database, "SELECT id, state, sent_at FROM outbox ORDER BY id") == outbox
    assert query(database, "SELECT count(*) FROM items") == items  # the same feeds, known

    again = cli("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"database already at revision {migrate.HEAD}\n"


def test_db_upgrade_says_what_it_did(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "settings:\n  database: sqlite+aiosqlite:///pw.db\n"
        "feeds:\n  - url: http://127.0.0.1:9/feed.xml\n"
        "topics:\n  ai-act:\n    any: [AI Act]\n"
        "destinations:\n  - console: stdout\n",
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert (
        capsys.readouterr().out == f"new database upgraded from empty to revision {migrate.HEAD}\n"
    )
    assert main(["db", "--config", str(config), "upgrade"]) == 0
    assert capsys.readouterr().out == f"database already at revision {migrate.HEAD}\n"


async def test_a_database_of_a_newer_policywire_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "future.db"
    await (await Store.open(sqlite_url(database))).close()
    execute(database, "UPDATE alembic_version SET version_num = '0042_future'")
    with pytest.raises(SchemaError) as refused:
        await Store.open(sqlite_url(database))
    message = str(refused.value)
    assert "\n" not in message
    assert "schema revision 0042_future" in message
    assert "this policywire is older" in message
    assert isinstance(refused.value, StoreError)
    assert query(database, "SELECT version_num FROM alembic_version") == [("0042_future",)]


def test_the_cli_refuses_a_newer_database_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = release_0_1_0(tmp_path)
    newer = SCHEMA_VERSION + 1
    execute(
        tmp_path / "release.db", "UPDATE meta SET value = ? WHERE key = 'schema_version'", newer
    )
    assert main(["db", "upgrade", "--config", str(config)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"schema version {newer}, newer than this policywire knows ({SCHEMA_VERSION})" in line
    assert "this policywire is older" in line
    tables = query(tmp_path / "release.db", "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert ("alembic_version",) not in tables  # refused before anything was written


async def test_tables_without_a_schema_version_are_not_taken_for_ours(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    execute(database, "CREATE TABLE feeds (url TEXT PRIMARY KEY)")
    with pytest.raises(SchemaError, match="not a policywire database"):
        await Store.open(sqlite_url(database))


def test_a_database_at_head_is_opened_without_alembic(tmp_path: Path) -> None:
    # Alembic loads every SQL dialect: a cron run on an up-to-date database must not pay it.
    database = tmp_path / "pw.db"
    asyncio.run(_create(database))
    probe = (
        "import asyncio, sys\n"
        "from policywire.storage.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({sqlite_url(database)!r})\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "loaded = ('alembic', 'sqlalchemy.dialects.postgresql')\n"
        "print(sorted(m for m in sys.modules if m.startswith(loaded)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


async def test_postgresql_is_upgraded_too() -> None:
    url = os.environ.get("POLICYWIRE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "set POLICYWIRE_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test "
            "to run the PostgreSQL tests"
        )
    # Set and unreachable is a failure, not a skip: CI sets it and runs a server.
    store = await Store.open(url)
    await store.close()
    await _drop_everything(url)
    try:
        store = await Store.open(url)
        assert store.schema_upgrade == migrate.SchemaUpgrade(None, migrate.HEAD)
        await store.record_success("https://a.example/rss", Validators('"e"', None, "h"), _now())
        await store.record_success("https://a.example/rss", Validators('"f"', None, "h"), _now())
        (row,) = await store.feed_rows()
        assert row.etag == '"f"'
        await store.close()
        reopened = await Store.open(url)
        assert reopened.schema_upgrade == migrate.SchemaUpgrade(migrate.HEAD, migrate.HEAD)
        await reopened.close()
    finally:
        await _drop_everything(url)


async def _drop_everything(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()


async def _create(database: Path) -> None:
    await (await Store.open(sqlite_url(database))).close()


def _now() -> datetime:
    return datetime.now(UTC)
