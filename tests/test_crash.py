"""kill -9 in the middle of a multi-message delivery: after a restart, everything arrives.

The service runs as a real process against the fake Bot API; the first run is killed with
SIGKILL after a few messages of a long digest, the second run finishes the job.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from policywire.config.load import load_config
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import rss
from tests.test_run_service import TOKEN, start_service, stop

CHAT = 424242  # a private chat: Telegram's 1 message/s pacing keeps this test short


def crash_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"""
settings:
  database: sqlite+aiosqlite:///{tmp_path / "crash.db"}
  max_stories: 100
  embedding:
    backend: none   # thirty look-alike test titles, each its own story
  telegram:
    api_base_url: {tg.base_url}
feeds:
  - url: {feeds.url("/news.xml")}
topics:
  ai-act:
    any: ["AI Act"]
destinations:
  - telegram: "{CHAT}"
    topics: [ai-act]
    schedule: instant
""",
        encoding="utf-8",
    )
    return path


async def queued_texts(config_path: Path) -> list[str]:
    config = load_config(config_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    store = await Store.open(config.settings.database)
    try:
        assert await store.outbox_depth() == 0
        counts = await store.outbox_counts()
        assert counts["failed"] == 0
        return [str(row.payload["html"]) for row in await store.messages("sent")]
    finally:
        await store.close()


async def test_sigkill_mid_delivery_loses_nothing_and_repeats_at_most_one(tmp_path: Path) -> None:
    summary = "A long summary sentence about the regulation and its many consequences. " * 6
    titles = [f"AI Act story {n}: {summary}" for n in range(30)]
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(titles))
        config = crash_config(tmp_path, feeds, tg)

        first = await start_service(config, TOKEN)
        await tg.wait_for_messages(3, chat_id=CHAT, timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        before_restart = len(tg.sent_to(CHAT))

        second = await start_service(config, TOKEN)
        try:
            async with asyncio.timeout(60):
                while not await _all_sent(config):  # noqa: ASYNC110 - polling the database
                    await asyncio.sleep(0.1)
        finally:
            code, stderr = await stop(second)
        assert code == 0, stderr

    expected = await queued_texts(config)
    received = [m.text for m in tg.sent_to(CHAT)]
    assert before_restart < len(expected)  # the kill really came mid-delivery
    assert set(received) == set(expected)  # every message arrived
    assert len(received) - len(set(received)) <= 1  # at most one twice
    joined = "\n".join(received)
    assert all(f"AI Act story {n}:" in joined for n in range(30))


async def _all_sent(config_path: Path) -> bool:
    config = load_config(config_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    store = await Store.open(config.settings.database)
    try:
        counts = await store.outbox_counts()
    finally:
        await store.close()
    return counts["sent"] > 0 and counts["pending"] == 0
