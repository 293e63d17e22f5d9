"""sd_notify against a real AF_UNIX datagram socket, as systemd listens for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from policywire.ops.systemd import Notifier, running, socket_address, watchdog_interval
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """systemd's side: a bound datagram socket and the $NOTIFY_SOCKET value naming it."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.setblocking(False)
        yield sock, str(path)


async def receive(sock: socket.socket, within: float = 10.0) -> list[str]:
    """The next datagram's fields."""
    async with asyncio.timeout(within):
        data = await asyncio.get_running_loop().sock_recv(sock, 4096)
    return data.decode().split("\n")


async def while_running(process: asyncio.subprocess.Process, sock: socket.socket) -> list[str]:
    """The next datagram, or [] once the process has ended (its log then says why)."""
    async with asyncio.timeout(30):
        while process.returncode is None:
            with contextlib.suppress(TimeoutError):
                return await receive(sock, within=0.2)
    return []


def pending(sock: socket.socket) -> list[bytes]:
    """Every datagram already waiting, without waiting for more."""
    found = []
    while True:
        try:
            found.append(sock.recv(4096))
        except BlockingIOError:
            return found


async def test_ready_on_entry_and_stopping_on_exit(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    async with running({"NOTIFY_SOCKET": address}, "polling 3 feeds") as notifier:
        assert notifier.enabled and notifier.watchdog is None
        assert await receive(sock) == ["READY=1", "STATUS=polling 3 feeds"]
        assert pending(sock) == []  # no watchdog asked for: no pings
    assert await receive(sock) == ["STOPPING=1", "STATUS=stopping"]


async def test_stopping_is_sent_when_the_block_fails(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    with pytest.raises(RuntimeError):
        async with running({"NOTIFY_SOCKET": address}):
            raise RuntimeError("the service crashed")
    assert await receive(sock) == ["READY=1"]
    assert await receive(sock) == ["STOPPING=1", "STATUS=stopping"]


async def test_an_abstract_socket_name_starting_with_at() -> None:
    name = f"policywire-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.setblocking(False)
        assert Notifier.from_env({"NOTIFY_SOCKET": f"@{name}"}).ready()
        assert await receive(sock) == ["READY=1"]


async def test_the_watchdog_pings_at_half_of_watchdog_usec(
    listener: tuple[socket.socket, str],
) -> None:
    sock, address = listener
    delays: list[float] = []
    parked = asyncio.Event()

    async def clock_sleep(seconds: float) -> None:  # the loop's time is not ours to spend
        delays.append(seconds)
        if len(delays) == 3:
            parked.set()
            await asyncio.Event().wait()
        await asyncio.sleep(0)

    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}
    async with running(env, sleep=clock_sleep):
        await parked.wait()
        assert await receive(sock) == ["READY=1"]
        assert [await receive(sock) for _ in range(3)] == [["WATCHDOG=1"]] * 3
    assert delays == [30.0, 30.0, 30.0]
    assert await receive(sock) == ["STOPPING=1", "STATUS=stopping"]


def test_a_watchdog_for_another_process_is_not_ours() -> None:
    env = {"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}
    assert watchdog_interval(env, pid=4242) is None
    assert watchdog_interval({**env, "WATCHDOG_PID": "4242"}, pid=4242) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}, pid=4242) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}, pid=4242) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid=4242) is None


async def test_without_notify_socket_nothing_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running({"WATCHDOG_USEC": "1000"}) as notifier:
        assert not notifier.enabled and notifier.watchdog is None
        assert not notifier.ready() and not notifier.ping()
    assert caplog.records == []


def test_an_address_it_cannot_use_is_said_once_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert socket_address("vsock:2:1234") is None
    assert socket_address("relative/notify.sock") is None
    notifier = Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not notifier.enabled and not notifier.ready()
    assert [r.getMessage() for r in caplog.records] == [
        "NOTIFY_SOCKET=vsock:2:1234 is not a socket address policywire can use"
    ]


def test_a_socket_gone_away_is_logged_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens.sock"))
    assert not notifier.ready()
    assert not notifier.ping()
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("could not notify systemd (READY=1): ")


async def test_policywire_run_tells_systemd_ready_pings_and_stopping(
    tmp_path: Path, listener: tuple[socket.socket, str]
) -> None:
    """The real service, as systemd starts it: READY=1 once it runs, watchdog pings, and
    STOPPING=1 on SIGTERM."""
    sock, address = listener
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        config = config_file(
            tmp_path,
            database=tmp_path / "notify.db",
            feeds=[feeds.url("/news.xml")],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout"}],
        )
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
        env |= {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}  # a ping every 0.2 s
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scheduler.py"),
            "run",
            "--config",
            str(config),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            ready = await while_running(process, sock)
            pings = [await while_running(process, sock) for _ in range(2)]
        finally:
            if process.returncode is None:  # it may have stopped on its own, with a reason
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert ready[0] == "READY=1"
    assert pings == [["WATCHDOG=1"]] * 2
    after = [data.decode().split("\n") for data in pending(sock)]
    assert ["STOPPING=1", "STATUS=stopping"] in after
    assert after[-1] == ["STOPPING=1", "STATUS=stopping"]
    assert "told systemd the service is ready, watchdog every 0.2s" in stderr.decode()
