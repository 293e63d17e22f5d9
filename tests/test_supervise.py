"""Supervised chat clients (issue 15): a bot that cannot start is retried until it is up.

The real python-telegram-bot and discord.py clients against the fakes, a real SQLite store,
and `policywire run` / `run --once` as real processes. Before supervision a bot whose
platform was unreachable at start stayed down for good ("could not start", never retried)
while `status` called its destinations active, and `run --once` logged 17 lines a second
until its two-minute deadline.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord_bot import DiscordBot
from bots.telegram import TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.ops.supervise import Client, Supervisor
from policywire.service import Service
from policywire.status import collect_status, format_status
from policywire.storage.lock import InstanceLock
from policywire.storage.store import DestinationRow, Store
from tests.fakes.discord_api import FakeChannel, FakeDiscord
from tests.fakes.feed_server import FeedServer, unused_port
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.test_run_service import ROOT, TOKEN, start_service, stop

FAST = Pacing(0.0, 0.0, 1000)
CHAT = 6101
GUILD, CHANNEL = 1_170_000_000_000_000_001, 1_170_000_000_000_000_002


@pytest.fixture(autouse=True)
def discord_endpoints() -> Iterator[None]:
    """Our configuration sets discord.py's endpoints for the process; put them back after."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@dataclass
class World:
    service: Service
    store: Store
    database: Path

    def supervise(self, name: str, client: Client) -> Supervisor:
        return Supervisor(
            name,
            client,
            on_up=self.service.add_transport,
            on_down=self.service.remove_transport,
            record=self.store.set_platform_state,
            clock=lambda: datetime.now(UTC),
            first_retry=0.05,  # the backoff's shape is the same; the test needs no patience
            max_retry=0.2,
        )

    async def status(self) -> str:
        status = await collect_status(self.service.config, self.store, datetime.now(UTC))
        return format_status(status, "UTC")

    async def queue(self, key: str, platform: str, target: str, payload: dict[str, object]) -> None:
        await self.store.upsert_destination(row(key, platform, target))
        await self.store.enqueue_digest(key, [payload], [], datetime.now(UTC), f"d-{key}")


def row(key: str, platform: str, target: str) -> DestinationRow:
    return DestinationRow(
        key=key,
        origin="chat",
        platform=platform,
        target=target,
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=datetime.now(UTC),
        last_digest_at=None,
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    database = tmp_path / "sv.db"
    path = config_file(
        tmp_path, database=database, feeds=["https://news.example/a.xml"], topics={"a": ["A"]}
    )
    config = load_config(path)
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, parse_workers=0)
    # `status` tells a running instance by its lock: hold it as `run` would.
    lock = InstanceLock.acquire(database)
    try:
        yield World(service, store, database)
    finally:
        lock.release()
        await service.stop(grace=1)
        await store.close()


async def wait_for_state(world: World, platform: str, state: str) -> None:
    async with asyncio.timeout(20):
        while True:
            states = await world.store.platform_states()
            if platform in states and states[platform].state == state:
                return
            await asyncio.sleep(0.02)


async def test_telegram_unreachable_at_start_is_retried_until_it_is_up(world: World) -> None:
    async with FakeTelegram() as tg:
        tg.fail_next("getMe", drop=True, times=3)  # the connection dies: unreachable
        service = world.service
        bot = TelegramBot("1:x", tg.base_url, service.subscriptions, service.send_digest,
                          poll_timeout=1, pacing=FAST)  # fmt: skip
        supervisor = world.supervise("telegram bot", bot)
        await world.queue(f"telegram:{CHAT}", "telegram", str(CHAT), {"html": "<b>hello</b>"})
        supervisor.run()
        try:
            await wait_for_state(world, "telegram", "retrying")
            text = await world.status()
            assert "telegram  retrying since" in text
            assert f"telegram:{CHAT}" in text and "waiting: telegram retrying since" in text

            await wait_for_state(world, "telegram", "up")
            assert len(tg.calls_to("getMe")) >= 4  # three refused starts, then one that worked
            # Its transport joined the sender: the queued message goes out by itself.
            sender = asyncio.create_task(world.service.sender.run(poll_seconds=0.1))
            [message] = await tg.wait_for_messages(1, chat_id=CHAT, timeout=10)
            assert message.plain_text == "hello"
            assert "telegram  up since" in await world.status()
        finally:
            world.service.sender.request_stop()
            await supervisor.stop()
    await asyncio.wait_for(sender, 5)
    states = await world.store.platform_states()
    assert states["telegram"].state == "stopped"
    assert "telegram" not in world.service.sender.transports


async def test_a_discord_bot_refused_at_login_is_retried_until_it_is_up(world: World) -> None:
    async with FakeDiscord(tls=False) as dc:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(CHANNEL, "news")])
        dc.fail_next("get_me", status=503, times=2)  # Discord's login answers 503 twice
        config = load_config(
            config_file(
                world.database.parent,
                database=world.database,
                discord={"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url},
                feeds=["https://news.example/a.xml"],
                topics={"a": ["A"]},
            )
        )
        service = world.service
        bot = DiscordBot(dc.token, config.settings.discord, service.subscriptions,
                         service.send_digest, pacing=FAST, guild_ready_timeout=0.05)  # fmt: skip
        supervisor = world.supervise("discord bot", bot)
        await world.queue(f"discord:{CHANNEL}", "discord", str(CHANNEL), {"content": "hello"})
        supervisor.run()
        try:
            await wait_for_state(world, "discord", "up")
            assert len(dc.requests_to("get_me")) >= 3
            await asyncio.wait_for(bot.ready.wait(), 10)  # the gateway came up too
            await world.service.sender.drain()
            [message] = await dc.wait_for_messages(1, channel_id=CHANNEL)
            assert message["content"] == "hello"
        finally:
            await supervisor.stop()
    assert (await world.store.platform_states())["discord"].state == "stopped"


def telegram_config(tmp_path: Path, feeds: FeedServer, api_base_url: str) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "run.db",
        settings={"embedding": {"backend": "none"}},
        telegram={"api_base_url": api_base_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[{"telegram": str(CHAT), "topics": ["ai-act"], "schedule": "instant"}],
    )


async def policywire(*args: str) -> tuple[int, str, str]:
    """A read-only command as a real process, beside the running service."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scheduler.py"), *args,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},  # `check` wants the variable set
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_run_retries_a_telegram_that_is_down_for_its_first_seconds(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        tg.fail_next(None, drop=True, times=None)  # Telegram unreachable from the start
        config = telegram_config(tmp_path, feeds, tg.base_url)
        process = await start_service(config, TOKEN)
        try:
            await tg.wait_for_calls("getMe", 2, timeout=30)  # the start was tried again
            await asyncio.sleep(0.5)
            code, out, err = await policywire("status", "--config", str(config))
            assert code == 0, err
            assert "Service: running (pid" in out
            assert "telegram  retrying since" in out
            assert "waiting: telegram retrying since" in out  # not "active"
            tg.clear_faults()  # Telegram is back
            [post] = await tg.wait_for_messages(1, chat_id=CHAT, timeout=30)
            assert "The AI Act applies" in post.plain_text
        finally:
            code, stderr = await stop(process)
    assert code == 0, stderr
    assert stderr.count("telegram bot could not start") == 1  # then one quieter line per try
    assert "telegram bot up" in stderr
    assert TOKEN not in stderr


async def test_run_once_with_the_bot_down_says_so_in_one_line_and_exits_3(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        nowhere = f"http://127.0.0.1:{unused_port()}/bot"  # nothing listens: connection refused
        config = telegram_config(tmp_path, feeds, nowhere)
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "scheduler.py"), "run", "--once", "--config", str(config),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(40):  # the old code spun until its 120 s deadline
            _, err = await process.communicate()
    stderr = err.decode()
    telegram_lines = [line for line in stderr.splitlines() if "telegram" in line.lower()]
    assert process.returncode == 3, stderr
    assert len([line for line in telegram_lines if "could not start" in line]) == 1
    assert not [line for line in telegram_lines if "no telegram bot running" in line]
    assert f"telegram:{CHAT} not delivered to: 1 messages wait (no telegram client running)" in (
        stderr
    )
    assert len(stderr.splitlines()) < 15, stderr
