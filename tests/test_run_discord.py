"""`policywire run` as a real process against the fake Discord: a token, the configured
api_base_url/gateway_url, a channel and a webhook destination, slash commands, a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.fakes.discord_api import MANAGE_CHANNELS, FakeChannel, FakeDiscord, FakeMember
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]
GUILD = 1_160_000_000_000_000_001
CONFIGURED = 1_160_000_000_000_000_002
HOOKED = 1_160_000_000_000_000_003
CHAT = 1_160_000_000_000_000_004
ADMIN = FakeMember(1_160_000_000_000_000_010, "alice", MANAGE_CHANNELS)
TOKEN = "MTE2MDAwMDAwMDAwMDAwMDAwMQ.SECRET.discord-token-never-logged"
VARIABLES = ("DISCORD_BOT_TOKEN", "POLICY_WEBHOOK_URL", "TELEGRAM_BOT_TOKEN")


CHANNEL = {"discord": CONFIGURED, "topics": ["ai-act"], "schedule": "instant"}
WEBHOOK = {"discord_webhook_env": "POLICY_WEBHOOK_URL", "topics": ["ai-act"], "schedule": "instant"}


def write_config(
    tmp_path: Path,
    feeds: FeedServer,
    dc: FakeDiscord,
    destinations: Sequence[Mapping[str, object]] = (CHANNEL, WEBHOOK),
) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "run.db",
        discord={"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=destinations,
    )


async def start(config: Path, env_extra: dict[str, str]) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES} | env_extra
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scheduler.py"), "run", "--config", str(config),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def wait_for_log(process: asyncio.subprocess.Process, text: str) -> str:
    """Read stderr up to the line holding `text` (SIGTERM is handled once the service runs)."""
    assert process.stderr is not None
    seen = ""
    async with asyncio.timeout(20):
        while text not in seen:
            line = await process.stderr.readline()
            assert line, f"the service ended before logging {text!r}:\n{seen}"
            seen += line.decode()
    return seen


async def stop(process: asyncio.subprocess.Process, seen: str = "") -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, seen + stderr.decode()


def titles(payloads: list[dict[str, Any]]) -> list[str]:
    return [e.get("title", "") for p in payloads for e in p.get("embeds") or []]


async def test_run_posts_to_channels_and_webhooks_and_commands_survive_a_restart(
    tmp_path: Path,
) -> None:
    async with FakeDiscord(token=TOKEN, tls=False, wait_timeout=20) as dc, FeedServer() as feeds:
        channels = [FakeChannel(c, f"ch{c % 10}") for c in (CONFIGURED, HOOKED, CHAT)]
        dc.add_guild(GUILD, "Policy Lab", channels=channels, members=[ADMIN])
        hook = dc.add_webhook(HOOKED)
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        config = write_config(tmp_path, feeds, dc)
        env = {"DISCORD_BOT_TOKEN": TOKEN, "POLICY_WEBHOOK_URL": hook.url}

        process = await start(config, env)
        seen = await wait_for_log(process, "running:")
        try:
            [post] = await dc.wait_for_messages(1, channel_id=CONFIGURED)
            [hooked] = await dc.wait_for_messages(1, channel_id=HOOKED)
            assert titles([post]) == titles([hooked]) == ["The AI Act applies"]
            assert dc.recorded_messages(HOOKED)[0].webhook_id == hook.webhook_id
            await dc.wait_for(lambda: GUILD in dc.commands)
            options = {"topic": "ai-act"}
            reply = await dc.dispatch_interaction(GUILD, CHAT, ADMIN, "subscribe", options)
            assert reply.type in (4, 5)
            await dc.wait_for(lambda: len(dc.messages(CHAT)) == 1)  # its backfill
        finally:
            code, stderr = await stop(process, seen)
        assert code == 0, stderr
        assert "discord bot policywire logged in" in stderr
        assert "telegram bot not started: TELEGRAM_BOT_TOKEN is not set" in stderr
        for secret in (TOKEN, "SECRET", hook.token):
            assert secret not in stderr

        syncs = len(dc.requests_to("put_guild_commands"))
        process = await start(config, env)
        seen = await wait_for_log(process, "running:")
        try:
            await dc.wait_for(lambda: len(dc.requests_to("put_guild_commands")) > syncs)
            callback = await dc.dispatch_interaction(GUILD, CHAT, ADMIN, "list")
            assert "Topics: EU AI Act" in callback.data["content"]  # kept across the restart
        finally:
            code, stderr = await stop(process, seen)
        assert code == 0, stderr
        assert titles(dc.messages(CONFIGURED)) == ["The AI Act applies"]  # never twice


async def test_run_without_a_discord_token_says_so_in_one_line(tmp_path: Path) -> None:
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(HOOKED, "hooked")])
        hook = dc.add_webhook(HOOKED)
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        config = write_config(tmp_path, feeds, dc, destinations=[WEBHOOK])
        process = await start(config, {"POLICY_WEBHOOK_URL": hook.url})
        seen = await wait_for_log(process, "running:")
        try:
            [hooked] = await dc.wait_for_messages(1, channel_id=HOOKED)  # webhooks need no bot
            assert titles([hooked]) == ["The AI Act applies"]
        finally:
            code, stderr = await stop(process, seen)
    assert code == 0, stderr
    assert "discord bot not started: DISCORD_BOT_TOKEN is not set" in stderr
    assert not dc.identify_payloads  # no gateway connection without a token
