"""Command replies are paced like digests: a burst of commands in one chat never earns a 429,
and the digest it asked for is not pushed back by one.

The fake Bot API enforces Telegram's flood limits (one message a second per chat) on a clock
running five times faster than the real one, and the bot's pacing is scaled the same way (with
room to spare): the burst takes about two seconds instead of ten, and nothing is mocked.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.worlds import telegram_service

TOKEN = "123456:TEST-token-value"
SPEED = 5.0  # fake seconds per real second
# Telegram's pacing (1 s per chat) scaled to the fake's clock: 0.2 s; 0.3 s leaves a margin.
SCALED = Pacing(per_target_interval=0.3, group_interval=0.9, per_second=30)


def fake_clock() -> float:
    return time.monotonic() * SPEED


@dataclass
class World:
    tg: FakeTelegram
    service: Service


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram(enforce_rates=True, clock=fake_clock) as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        path = config_file(
            tmp_path,
            database=tmp_path / "paced.db",
            settings={"embedding": {"backend": "none"}},
            telegram={"api_base_url": tg.base_url},
            feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
            topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        )
        config = load_config(path)
        async with telegram_service(config, tg, TOKEN, pacing=SCALED) as (service, _, _):
            for feed in config.feeds:
                await service.poll_job(feed.url)
            yield World(tg, service)


async def test_a_burst_of_commands_earns_no_429_and_the_digest_comes_at_once(
    world: World,
) -> None:
    tg = world.tg
    user = tg.user()
    chat = tg.private_chat(user)
    for command in ("/help", "/topics", "/list", "/subscribe ai-act", "/digest", "/list"):
        tg.push_message(chat, user, command)
    messages = await tg.wait_for_messages(7, chat_id=chat["id"], timeout=15)
    texts = [m.plain_text for m in messages]
    assert tg.stats.rejected_429 == 0, texts
    assert sum("The AI Act applies" in t for t in texts) == 1  # the backfill, sent once
    assert "/subscribe" in texts[0] and "Nothing new since your last digest" in "".join(texts)
    # Telegram's own limit held: a second of its clock between two messages to the chat.
    arrivals = [m.received_at for m in messages]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(arrivals)), arrivals


async def test_keyboard_edits_are_paced_and_button_answers_go_first(world: World) -> None:
    tg = world.tg
    user = tg.user()
    chat = tg.private_chat(user)
    tg.push_message(chat, user, "/start")
    await tg.wait_for_messages(1, chat_id=chat["id"])
    tg.push_callback_query(chat, user, "t:ai-act")  # an answer, a keyboard edit, the backfill
    await tg.wait_for_messages(2, chat_id=chat["id"], timeout=15)
    await tg.wait_for_calls("editMessageReplyMarkup", 1, timeout=15)
    await tg.wait_for_calls("answerCallbackQuery", 1)
    assert tg.stats.rejected_429 == 0
    welcome, digest = tg.sent_to(chat["id"])
    assert "The AI Act applies" in digest.plain_text
    [edit] = tg.edits
    arrivals = sorted(m.received_at for m in (welcome, digest, edit))
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(arrivals)), arrivals
    # The button's answer is not a message: it goes at once, before the paced edit.
    [answered] = tg.calls_to("answerCallbackQuery")
    assert answered.at <= edit.received_at
