"""Telegram webhook mode: Telegram (the fake) posts updates to one public URL, a load balancer
(a small round-robin proxy here) hands each to one of two workers' PTB webhook servers, and
every update is answered exactly once, by whichever worker got it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bots.telegram import TelegramBot
from bots.telegram_webhook import WebhookEndpoint, webhook_endpoint
from policywire.config.load import load_config
from policywire.config.model import TelegramSettings
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_webhook import SECRET_HEADER
from tests.helpers import config_file

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-token-value"
SECRET = "s3cret_webhook-token"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RoundRobin:
    """A load balancer: each request goes to the next worker, path and headers unchanged."""

    def __init__(self, backends: list[int]) -> None:
        self.port = free_port()
        self._next = itertools.cycle(backends)
        self.sent_to: list[int] = []
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> RoundRobin:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        port = next(self._next)
        self.sent_to.append(port)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}{request.path}", data=await request.read(), headers=headers
            ) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())


@dataclass
class Fleet:
    tg: FakeTelegram
    balancer: RoundRobin
    endpoints: list[WebhookEndpoint]


async def start_worker(
    tmp_path: Path, tg: FakeTelegram, name: str, webhook: WebhookEndpoint
) -> tuple[TelegramBot, Service, Store]:
    path = config_file(
        tmp_path / name,
        database=tmp_path / name / "worker.db",
        settings={"embedding": {"backend": "none"}},
        telegram={"api_base_url": tg.base_url},
        feeds=[],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
    )
    config = load_config(path, env={})
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, parse_workers=0)
    bot = TelegramBot(
        TOKEN, tg.base_url, service.subscriptions, service.send_digest, pacing=FAST,
        webhook=webhook,
    )  # fmt: skip
    service.add_transport(bot)
    await bot.start()
    return bot, service, store


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    ports = [free_port(), free_port()]
    async with FakeTelegram(tokens={TOKEN}) as tg, RoundRobin(ports) as balancer:
        url = f"http://127.0.0.1:{balancer.port}/hooks/telegram"
        endpoints = [WebhookEndpoint(url, "127.0.0.1", port, SECRET) for port in ports]
        workers = []
        for name, endpoint in zip("ab", endpoints, strict=True):
            (tmp_path / name).mkdir()
            workers.append(await start_worker(tmp_path, tg, name, endpoint))
        try:
            yield Fleet(tg, balancer, endpoints)
        finally:
            for bot, service, store in workers:
                await bot.stop()
                await service.stop(grace=1)
                await store.close()


async def test_every_update_is_answered_once_by_whichever_worker_gets_it(fleet: Fleet) -> None:
    tg = fleet.tg
    hook = tg.webhooks.webhook
    assert hook is not None and hook.url == fleet.endpoints[0].url and hook.secret == SECRET
    users = [tg.user(first_name=f"Reader {n}", language_code="en") for n in range(4)]
    for user in users:
        tg.push_message(tg.private_chat(user), user, "/start")
    replies = await tg.wait_for_messages(4)
    await asyncio.sleep(0.3)  # a second answer to any of them would arrive by now
    assert sorted(r.chat_id for r in tg.sent) == sorted(u["id"] for u in users)
    assert all("policywire" in r.plain_text for r in replies)
    assert set(fleet.balancer.sent_to) == {e.port for e in fleet.endpoints}  # both answered
    assert tg.pending_updates == []


async def test_a_post_without_the_secret_is_refused_and_not_handled(fleet: Fleet) -> None:
    endpoint = fleet.endpoints[1]
    user = fleet.tg.user()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user["id"], "type": "private"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{endpoint.port}/{endpoint.path}"
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {SECRET_HEADER: "guessed"}):
            async with session.post(url, json=update, headers=headers) as answer:
                assert answer.status == 403
    await asyncio.sleep(0.3)
    assert fleet.tg.sent == []


async def test_a_worker_that_stops_leaves_the_webhook_to_the_others(tmp_path: Path) -> None:
    port = free_port()
    async with FakeTelegram(tokens={TOKEN}) as tg:
        url = f"http://127.0.0.1:{port}/telegram"
        (tmp_path / "a").mkdir()
        bot, service, store = await start_worker(
            tmp_path, tg, "a", WebhookEndpoint(url, "127.0.0.1", port, SECRET)
        )
        await bot.stop()
        await service.stop(grace=1)
        await store.close()
        assert tg.webhooks.webhook is not None  # not deleted: the other workers still answer
        assert "deleteWebhook" not in [c.method for c in tg.calls]


def test_webhook_mode_needs_a_secret_telegram_accepts() -> None:
    settings = TelegramSettings(webhook_url="https://bots.example.org/telegram")
    for bad in ("", "with space", "x" * 257, "ünïcode"):
        with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET set to 1-256 characters"):
            webhook_endpoint(settings, bad)
    endpoint = webhook_endpoint(settings, SECRET)
    assert (endpoint.host, endpoint.port, endpoint.path) == ("127.0.0.1", 8443, "telegram")


async def run_service(
    tmp_path: Path, tg: FakeTelegram, port: int, secret: str | None
) -> asyncio.subprocess.Process:
    config = config_file(
        tmp_path,
        database=tmp_path / "run.db",
        telegram={
            "api_base_url": tg.base_url,
            "webhook_url": f"http://127.0.0.1:{port}/policywire/telegram",
            "webhook_listen": f"127.0.0.1:{port}",
        },
        feeds=[],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    if secret is not None:
        env["TELEGRAM_WEBHOOK_SECRET"] = secret
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scheduler.py"), "run", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        _, stderr = await process.communicate()
    return stderr.decode()


async def test_policywire_run_in_webhook_mode_answers_through_the_webhook(
    tmp_path: Path,
) -> None:
    async with FakeTelegram(tokens={TOKEN}) as tg:
        process = await run_service(tmp_path, tg, free_port(), SECRET)
        try:
            user = tg.user()
            tg.push_message(tg.private_chat(user), user, "/help")
            [reply] = await tg.wait_for_messages(1, timeout=30)
        finally:
            stderr = await stop(process)
    assert "/subscribe" in reply.plain_text
    assert "getUpdates" not in [c.method for c in tg.calls]  # no long polling at all
    assert process.returncode == 0, stderr
    assert "telegram webhook listening on 127.0.0.1:" in stderr
    assert SECRET not in stderr and TOKEN not in stderr


async def test_policywire_run_without_the_webhook_secret_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    async with FakeTelegram(tokens={TOKEN}) as tg:
        process = await run_service(tmp_path, tg, free_port(), None)
        assert process.stderr is not None
        async with asyncio.timeout(30):
            line = b""
            while b"running:" not in line:
                line = await process.stderr.readline()
                assert line, "the service ended before running"
                if b"telegram bot not started" in line:
                    break
        stderr = line.decode() + await stop(process)
    assert (
        "telegram bot not started: webhook mode needs TELEGRAM_WEBHOOK_SECRET set to 1-256 "
        "characters of A-Z, a-z, 0-9, _ and -" in stderr
    )
    assert tg.webhooks.webhook is None
