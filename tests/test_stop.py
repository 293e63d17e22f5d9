"""Stopping (issue 15): quietly on SIGTERM with a poll in flight, loudly when the database
file disappears. `policywire run` as a real process, feeds from a loopback server.

Before: SIGTERM while a hanging feed's poll waited made APScheduler log a CancelledError
traceback as a failed job; a database deleted under the running service went unnoticed (the
open connections kept writing into the deleted file) until a restart re-sent everything.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss
from tests.test_run_service import start_service, stop


def console_config(tmp_path: Path, feeds: FeedServer) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "stop.db",
        settings={"embedding": {"backend": "none"}},
        feeds=[
            {"url": feeds.url("/news.xml"), "name": "Policy News"},
            {"url": feeds.url("/hang.xml"), "name": "Hanging Feed"},
        ],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[{"console": "stderr", "topics": ["ai-act"]}],
    )


async def read_until(process: asyncio.subprocess.Process, text: str) -> str:
    assert process.stderr is not None
    seen = ""
    async with asyncio.timeout(30):
        while text not in seen:
            line = await process.stderr.readline()
            assert line, f"the service ended before logging {text!r}:\n{seen}"
            seen += line.decode()
    return seen


async def test_sigterm_with_a_poll_in_flight_cancels_it_in_one_line(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        feeds.hang("/hang.xml")  # accepts the request and never answers
        process = await start_service(console_config(tmp_path, feeds), None)
        seen = await read_until(process, "running:")
        async with asyncio.timeout(30):
            await feeds.wait_for_hits("/hang.xml")
        await asyncio.sleep(0.3)  # the poll is now waiting for the body
        code, stderr = await stop(process)
    log = seen + stderr
    assert code == 0, log
    assert "Traceback" not in log and "CancelledError" not in log
    assert "raised an exception" not in log  # APScheduler's failed-job line
    [cancelled] = [line for line in log.splitlines() if "cancelled" in line]
    assert "policywire.service: stopping: cancelled " in cancelled
    assert f"poll {feeds.url('/hang.xml')}" in cancelled
    # APScheduler's per-job INFO lines are quieted (warnings and errors still show).
    assert "apscheduler" not in log, log


async def test_a_database_deleted_while_running_stops_the_service_loudly(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        feeds.add("/hang.xml", rss(["Other news"]))
        process = await start_service(console_config(tmp_path, feeds), None)
        seen = await read_until(process, "running:")
        (tmp_path / "stop.db").unlink()
        try:
            async with asyncio.timeout(20):  # the old code ran on, writing into the lost file
                _, err = await process.communicate()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                await process.wait()
    log = seen + err.decode()
    assert process.returncode == 1, log
    assert "Traceback" not in log
    database = tmp_path / "stop.db"
    # A read between the deletion and the next write may open a connection, and SQLite then
    # creates an empty file under the old name: the watch sees another file, and says so.
    assert log.strip().splitlines()[-1] in {
        f"policywire: the database file {database} was {what} while running; stopping so that "
        "nothing is sent twice (restore it from a backup before starting again)"
        for what in ("deleted", "replaced by another file")
    }
