"""`policywire backup PATH` against real SQLite files, with the service's store writing."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from pathlib import Path

import pytest

from policywire.errors import BackupError
from policywire.models import Item, TopicHit, Validators
from policywire.storage.backup import backup_database, progress_lines
from policywire.storage.store import FeedRow, Store
from scheduler import main
from tests.helpers import NOW, config_file

SUMMARY = "A summary long enough to fill the database's pages quickly. " * 16


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def poll_item(feed: str, n: int) -> Item:
    return Item(
        feed=feed,
        id=f"id-{n}",
        link=f"https://news.example/{n}",
        title=f"The AI Act, part {n}",
        summary=SUMMARY,
        published=NOW,
        language="en",
        source="News",
    )


async def poll(store: Store, feed: str, n: int) -> None:
    """One good poll with one new matching item, written the way the service writes it."""
    item = poll_item(feed, n)
    hits = {(feed, item.id): (TopicHit("ai-act", ("AI Act",)),)}
    await store.record_success(
        feed, Validators(f'"{n}"', None, f"h{n}"), NOW, items=[item], hits=hits
    )


async def seeded(path: Path, polls: int) -> Store:
    store = await Store.open(url_of(path))
    await asyncio.gather(
        *(poll(store, f"https://a{n:04d}.example/feed.xml", n) for n in range(polls))
    )
    return store


def partial_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.suffix == ".partial"]


async def rows_of(path: Path) -> tuple[list[FeedRow], int]:
    store = await Store.open(url_of(path))
    try:
        return await store.feed_rows(), await store.count_items()
    finally:
        await store.close()


async def test_a_backup_taken_while_the_store_writes_is_the_database_at_one_moment(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.db"
    store = await seeded(live, 120)
    committed = threading.Event()
    stop = asyncio.Event()
    writes = 0

    async def writer() -> None:  # the running service: a new feed and item per poll
        nonlocal writes
        while not stop.is_set():
            await poll(store, f"https://w{writes:05d}.example/feed.xml", 10_000 + writes)
            writes += 1
            committed.set()
            await asyncio.sleep(0)

    steps: list[tuple[int, int]] = []

    def between_steps(done: int, total: int) -> None:
        """Let the writer commit between every two steps of the copy (so a backup that
        started over on every write would never end: give up after far too many steps)."""
        steps.append((done, total))
        assert len(steps) <= 3 * math.ceil(total / 4), "the backup keeps starting over"
        committed.clear()
        assert committed.wait(10), "the writer stalled"

    writing = asyncio.create_task(writer())
    try:
        await asyncio.sleep(0)
        result = await asyncio.to_thread(
            backup_database,
            url_of(live),
            tmp_path / "copy.db",
            step_pages=4,
            progress=between_steps,
        )
    finally:
        stop.set()
        await writing
    live_rows, live_items = await store.feed_rows(), await store.count_items()
    await store.close()

    total = steps[0][1]
    assert len(steps) == math.ceil(total / 4) > 10  # no step was repeated
    assert writes >= len(steps)  # and the store wrote all along
    assert result.pages == total and result.target == tmp_path / "copy.db"
    copy_rows, copy_items = await rows_of(tmp_path / "copy.db")
    # Exactly what the database held when the copy began: every row of the first 120 polls
    # and of the writer's first k polls, identical, and nothing of the later ones.
    assert 120 <= len(copy_rows) < len(live_rows)
    assert copy_rows == live_rows[: len(copy_rows)]
    assert copy_items == len(copy_rows) < live_items
    assert not (tmp_path / "copy.db-wal").exists()  # one self-contained file
    assert partial_files(tmp_path) == []


async def test_the_copy_opens_as_the_service_would_and_reads_the_same(tmp_path: Path) -> None:
    store = await seeded(tmp_path / "live.db", 5)
    await store.close()
    backup_database(url_of(tmp_path / "live.db"), tmp_path / "copy.db")
    restored = await Store.open(url_of(tmp_path / "copy.db"))
    try:
        assert restored.schema_upgrade is not None
        assert restored.schema_upgrade.describe().startswith("database already at revision")
        assert await restored.count_items() == 5
    finally:
        await restored.close()
    assert await rows_of(tmp_path / "copy.db") == await rows_of(tmp_path / "live.db")


async def test_large_databases_say_their_progress_every_ten_percent(tmp_path: Path) -> None:
    store = await seeded(tmp_path / "live.db", 40)
    await store.close()
    lines: list[str] = []
    result = backup_database(
        url_of(tmp_path / "live.db"),
        tmp_path / "copy.db",
        step_pages=2,
        progress=progress_lines(lines.append),
    )
    assert len(lines) == 10
    assert lines[-1] == f"backup: 100% ({result.pages:,} of {result.pages:,} pages)"
    percents = [int(line.split()[1].rstrip("%")) for line in lines]
    assert percents == sorted(percents) and all(p // 10 == i + 1 for i, p in enumerate(percents))


def test_a_copy_in_one_step_says_no_progress() -> None:
    lines: list[str] = []
    report = progress_lines(lines.append)
    report(12, 12)
    assert lines == []


# --- the command --------------------------------------------------------------------------


def command_config(tmp_path: Path, database: Path | str) -> Path:
    return config_file(
        tmp_path,
        database=database,
        feeds=["https://news.example/feed.xml"],
        topics={"ai-act": ["AI Act"]},
        destinations=[{"console": "stdout"}],
    )


@pytest.fixture
async def live_config(tmp_path: Path) -> Path:
    store = await seeded(tmp_path / "live.db", 3)
    await store.close()
    return command_config(tmp_path, tmp_path / "live.db")


def run_backup(config: Path, *args: str) -> int:
    return main(["backup", *args, "--config", str(config)])


def test_the_command_writes_the_copy_and_says_so_in_one_line(
    live_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_backup(live_config, str(tmp_path / "copy.db")) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"backup of {tmp_path / 'live.db'} written to {tmp_path / 'copy.db'} "
        f"({(tmp_path / 'copy.db').stat().st_size / 1000:.1f} KB, checked)\n"
    )
    assert "backup:" not in err  # a small database shows no progress
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT count(*) FROM items").fetchone() == (3,)


def test_an_existing_file_is_never_replaced_without_force(
    live_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.db"
    target.write_text("yesterday's backup")
    assert run_backup(live_config, str(target)) == 1
    assert capsys.readouterr().err == (
        f"policywire: {target} already exists: remove it, or pass --force to replace it\n"
    )
    assert target.read_text() == "yesterday's backup"
    assert run_backup(live_config, str(target), "--force") == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM items").fetchone() == (3,)


def test_a_postgresql_database_is_refused_in_one_line_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = command_config(tmp_path, "postgresql+asyncpg://pw:s3cret-pass@db.example/policywire")
    assert run_backup(config, str(tmp_path / "copy.db")) == 1
    err = capsys.readouterr().err
    assert err == (
        "policywire: policywire backup copies SQLite databases only; settings.database is a "
        "postgresql database: use its own tools (for PostgreSQL, pg_dump)\n"
    )
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ("sqlite+aiosqlite:///:memory:", "settings.database is an in-memory database"),
        ("missing", "no database at {tmp}/missing.db (settings.database)"),
    ],
)
def test_nothing_to_copy_is_said_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database: str, problem: str
) -> None:
    url = database if "://" in database else url_of(tmp_path / f"{database}.db")
    config = command_config(tmp_path, url)
    assert run_backup(config, str(tmp_path / "copy.db")) == 1
    assert problem.format(tmp=tmp_path) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"]  # not even an empty db


def test_a_file_that_is_not_a_database_leaves_no_partial_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "live.db").write_bytes(b"not SQLite at all, " * 100)
    config = command_config(tmp_path, tmp_path / "live.db")
    (tmp_path / "backups").mkdir()
    assert run_backup(config, str(tmp_path / "backups" / "copy.db")) == 1
    err = capsys.readouterr().err
    assert err == f"policywire: cannot back up {tmp_path / 'live.db'}: file is not a database\n"
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            "nowhere/copy.db",
            "cannot write {tmp}/nowhere/copy.db: the folder {tmp}/nowhere does not exist",
        ),
        (".", "{tmp} is a folder: name the backup file, e.g. {tmp}/live.db"),
        ("live.db", "{tmp}/live.db is the database itself: choose another file"),
    ],
)
def test_a_target_it_cannot_use_is_refused(
    live_config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    problem: str,
) -> None:
    assert run_backup(live_config, str(tmp_path / target), "--force") == 1
    assert capsys.readouterr().err == f"policywire: {problem.format(tmp=tmp_path)}\n"


def test_the_library_raises_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="in-memory"):
        backup_database("sqlite+aiosqlite://", tmp_path / "copy.db")
