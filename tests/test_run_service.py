"""`policywire run` as a real process: a token, the fake Bot API, loopback feeds, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "987654:SECRET-token-never-logged"


def service_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "run.db",
        settings={"language": "it"},
        telegram={"api_base_url": tg.base_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[
            {
                "telegram": "@ai_policy_it",
                "topics": ["ai-act"],
                "schedule": "instant",
                "timezone": "Europe/Rome",
            }
        ],
    )


async def start_service(config: Path, token: str | None) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    if token:
        env["TELEGRAM_BOT_TOKEN"] = token
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "scheduler.py"),
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_run_answers_commands_posts_to_the_channel_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        channel = tg.channel(-100500, "AI policy", username="ai_policy_it")
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        process = await start_service(service_config(tmp_path, feeds, tg), TOKEN)
        try:
            [post] = await tg.wait_for_messages(1, chat_id=channel["id"], timeout=20)
            assert "The AI Act applies" in post.plain_text
            assert "Football" not in post.plain_text
            # An instant channel gets a story card (it grows in place), its buttons in Italian.
            assert "Non pertinente" in json.dumps(post.reply_markup, ensure_ascii=False)

            user = tg.user()
            chat = tg.private_chat(user)
            tg.push_message(chat, user, "/help")
            [reply] = await tg.wait_for_messages(1, chat_id=chat["id"], timeout=20)
            assert "/subscribe" in reply.plain_text
        finally:
            code, stderr = await stop(process)
    assert code == 0, stderr
    assert "telegram bot @policywire_test_bot started" in stderr
    assert TOKEN not in stderr
    assert "SECRET" not in stderr


async def test_run_without_a_token_says_so_and_uses_the_console(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        config = config_file(
            tmp_path,
            database=tmp_path / "console.db",
            feeds=[feeds.url("/news.xml")],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout"}],
        )
        process = await start_service(config, None)
        assert process.stdout is not None
        async with asyncio.timeout(20):
            line = b""
            while b"The AI Act applies" not in line:
                line = await process.stdout.readline()
                assert line, "the service ended without printing the digest"
        code, stderr = await stop(process)
    assert code == 0, stderr
    assert "telegram bot not started: TELEGRAM_BOT_TOKEN is not set" in stderr
