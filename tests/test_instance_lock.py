"""One instance per SQLite database (issue 15): two used to deliver everything twice.

Real processes on one real SQLite file: the running instance holds `<db>.lock`; a second
`run` or `run --once` exits 1 with one line; the read-only commands work beside it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from policywire.errors import AlreadyRunning
from policywire.storage.lock import InstanceLock, lock_holder
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.test_run_service import ROOT, TOKEN, start_service, stop

CHATS = (8101, 8102)


def two_story_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    """Two chats following one story: two messages in all, as in the issue's reproduction."""
    feeds.add("/news.xml", rss(["The AI Act applies"]))
    return config_file(
        tmp_path,
        database=tmp_path / "shared.db",
        settings={"embedding": {"backend": "none"}},
        telegram={"api_base_url": tg.base_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[
            {"telegram": str(chat), "topics": ["ai-act"], "schedule": "instant"} for chat in CHATS
        ],
    )


def sent(tg: FakeTelegram) -> list[str]:
    return [m.plain_text for chat in CHATS for m in tg.sent_to(chat)]


async def policywire(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scheduler.py"), *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_two_cron_runs_at_once_deliver_each_message_once(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        config = two_story_config(tmp_path, feeds, tg)
        results = await asyncio.gather(
            policywire("run", "--once", "--config", str(config)),
            policywire("run", "--once", "--config", str(config)),
        )
        received = sent(tg)
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 1]), results  # the second waited out the first, or refused
    assert len(received) == 2, received  # not 4
    for code, _, err in results:
        if code == 1:
            assert (
                err.strip()
                .splitlines()[-1]
                .startswith("policywire: another policywire instance (pid ")
            )


async def test_a_second_instance_refuses_and_read_only_commands_work_beside_the_first(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        config = two_story_config(tmp_path, feeds, tg)
        first = await start_service(config, TOKEN)
        try:
            await tg.wait_for_messages(2, timeout=30)
            database = str(tmp_path / "shared.db")
            for second in (["run"], ["run", "--once"]):
                code, out, err = await policywire(*second, "--config", str(config))
                assert code == 1, out + err
                [line] = [ln for ln in err.splitlines() if ln.startswith("policywire: ")]
                assert line == (
                    f"policywire: another policywire instance (pid {first.pid}) is running on "
                    f"{database} (lock {database}.lock); stop it first, or give this one "
                    "another settings.database"
                )
            code, out, err = await policywire("status", "--config", str(config))
            assert code == 0, err
            assert f"Service: running (pid {first.pid})" in out
            assert (await policywire("check", "--config", str(config)))[0] == 0
            assert (await policywire("preview", "--config", str(config)))[0] == 0
            code, _, err = await policywire(
                "backup", str(tmp_path / "copy.db"), "--config", str(config)
            )
            assert code == 0, err
        finally:
            code, stderr = await stop(first)
    assert code == 0, stderr
    assert len(sent(tg)) == 2  # nothing sent twice
    code, out, _ = await policywire("status", "--config", str(config))
    assert "Service: not running" in out


def test_the_lock_is_the_kernels_and_status_only_peeks(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    url = f"sqlite+aiosqlite:///{database}"
    assert lock_holder(url) is None
    lock = InstanceLock.acquire(database)
    try:
        assert lock_holder(url) == os.getpid()
        try:
            InstanceLock.acquire(database, patience=0.05)
        except AlreadyRunning as exc:
            assert f"(pid {os.getpid()})" in str(exc)
        else:
            raise AssertionError("a second lock on the same database was granted")
    finally:
        lock.release()
    assert lock_holder(url) is None
    assert lock_holder("postgresql+asyncpg://u@h/db") is None  # no lock file for PostgreSQL
    InstanceLock.acquire(database).release()  # free again, the file left in place
