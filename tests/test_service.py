"""The running service in-process: hot reload, a hanging feed, --once, clean stop."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bots.console import ConsoleTransport
from policywire.config.load import load_config
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_yaml, rss


def config_text(tmp_path: Path, feeds: FeedServer, paths: list[str], extra_topic: str = "") -> str:
    """feeds.yaml text (`settings.timeout` on line 4); `extra_topic` is YAML under `topics:`."""
    return config_yaml(
        database=tmp_path / "svc.db",
        settings={"timeout": "2s"},
        feeds=[{"url": feeds.url(p), "name": f"Feed {p}"} for p in paths],
        topics={"ai-act": ["AI Act"], **(yaml.safe_load(extra_topic) or {})},
        destinations=[{"console": "stdout"}],
    )


class Running:
    def __init__(self, service: Service, out: io.StringIO, path: Path) -> None:
        self.service, self.out, self.path = service, out, path

    async def wait_for_output(self, text: str, seconds: float = 5) -> None:
        async with asyncio.timeout(seconds):
            while text not in self.out.getvalue():  # noqa: ASYNC110 - the console is a buffer
                await asyncio.sleep(0.02)


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


async def start_service(tmp_path: Path, text: str) -> Running:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env={})
    store = await Store.open(config.settings.database)
    out = io.StringIO()
    service = Service(
        config,
        store,
        {"console": ConsoleTransport({"stdout": out})},
        parse_workers=0,
        config_loader=lambda: load_config(path, env={}),
        reload_every=0.05,
    )
    await service.start()
    return Running(service, out, path)


async def stop_service(running: Running) -> None:
    await running.service.stop(grace=2)
    await running.service.store.close()


async def test_a_hanging_feed_does_not_delay_the_others(tmp_path: Path, feeds: FeedServer) -> None:
    feeds.hang("/slow.xml")
    feeds.add("/fast.xml", rss(["The AI Act applies"]))
    text = config_text(tmp_path, feeds, ["/slow.xml", "/fast.xml"])
    running = await start_service(tmp_path, text.replace("timeout: 2s", "timeout: 8s"))
    try:
        await running.wait_for_output("The AI Act applies", seconds=5)
        async with asyncio.timeout(5):
            await feeds.wait_for_hits("/slow.xml", 1)  # its poll has started and hangs (8 s)
        feeds.add("/fast.xml", rss(["AI Act: second item", "The AI Act applies"]))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await running.service.poll_job(feeds.url("/fast.xml"))
        await running.wait_for_output("AI Act: second item", seconds=3)
        assert loop.time() - started < 3  # the hanging poll did not hold the other one back
        assert feeds.hits("/slow.xml") == 1  # and it is still hanging
    finally:
        await stop_service(running)


async def test_hot_reload_applies_a_good_edit_and_refuses_a_bad_one(
    tmp_path: Path, feeds: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feeds.add("/one.xml", rss(["The AI Act applies"]))
    feeds.add("/two.xml", rss(["Mistral AI raises money", "Weather"]))
    running = await start_service(tmp_path, config_text(tmp_path, feeds, ["/one.xml"]))
    try:
        await running.wait_for_output("The AI Act applies")
        assert "Mistral" not in running.out.getvalue()

        mistral = '  mistral:\n    any: ["Mistral AI"]\n'
        good = config_text(tmp_path, feeds, ["/one.xml", "/two.xml"], mistral)
        running.path.write_text(good, encoding="utf-8")
        await running.wait_for_output("Mistral AI raises money")  # new feed, new topic
        assert running.service.scheduler.get_job(f"poll:{feeds.url('/two.xml')}") is not None

        caplog.clear()
        running.path.write_text(good.replace("timeout: 2s", "timeout: soon"), encoding="utf-8")
        async with asyncio.timeout(5):
            while not any("refused" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any("feeds.yaml:4: settings.timeout:" in line for line in errors)
        assert running.service.config.settings.timeout.total_seconds() == 2  # still in force
        assert len(running.service.config.feeds) == 2

        running.path.write_text(config_text(tmp_path, feeds, ["/two.xml"], mistral), "utf-8")
        async with asyncio.timeout(5):
            while running.service.scheduler.get_job(f"poll:{feeds.url('/one.xml')}"):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        await stop_service(running)


async def test_removed_destination_is_deactivated_on_reload(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.add("/one.xml", rss(["The AI Act applies"]))
    text = config_text(tmp_path, feeds, ["/one.xml"])
    running = await start_service(
        tmp_path,
        text.replace("  - console: stdout\n", "  - console: stdout\n  - console: stderr\n"),
    )
    try:
        assert await running.service.store.destination("console:stderr") is not None
        running.path.write_text(text, encoding="utf-8")
        async with asyncio.timeout(5):
            while True:
                row = await running.service.store.destination("console:stderr")
                if row is not None and not row.active:
                    break
                await asyncio.sleep(0.02)
        assert row.last_error == "removed from the config"
    finally:
        await stop_service(running)


async def test_run_once_polls_sends_and_returns(tmp_path: Path, feeds: FeedServer) -> None:
    feeds.add("/one.xml", rss(["The AI Act applies", "Football"]))
    path = tmp_path / "feeds.yaml"
    path.write_text(config_text(tmp_path, feeds, ["/one.xml"]), encoding="utf-8")
    config = load_config(path, env={})
    for expected in (1, 0):  # the second round finds nothing new
        store = await Store.open(config.settings.database)
        out = io.StringIO()
        service = Service(
            config, store, {"console": ConsoleTransport({"stdout": out})}, parse_workers=0
        )
        assert await service.run_once() == expected
        await service.stop()
        await store.close()
    assert "Football" not in out.getvalue()
