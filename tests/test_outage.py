"""Acceptance (issue 15): a six-minute Bot API outage delays messages, it never loses one.

The real python-telegram-bot client sends through the service's own sender to the fake Bot
API, which fails every request for six minutes: 502s, then dropped connections, then 429s
with retry_after, then 500s. Time is virtual (retries wait minutes): the test moves the clock
to the next retry, as the sender's own loop would wait for it, and switches the outage's
phases by the same clock. The fake's clock is the virtual one too, so the attempts it
records carry virtual times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from bots.telegram import TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import DestinationRow, Store
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file
from tests.sim import VirtualClock

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
OUTAGE = timedelta(minutes=6)
CHATS = (5101, 5102, 5103, 5104)
PER_CHAT = 10  # 40 messages, as in the outage the issue reports (it lost 6 of them)


@dataclass(frozen=True)
class Phase:
    begins: timedelta
    name: str
    inject: Callable[[FakeTelegram], object]


PHASES = (
    Phase(timedelta(0), "502", lambda tg: tg.fail_next(None, status=502, times=None)),
    Phase(timedelta(seconds=90), "drop", lambda tg: tg.fail_next(None, drop=True, times=None)),
    Phase(
        timedelta(seconds=180),
        "429",
        lambda tg: tg.fail_next("sendMessage", retry_after=20, times=None),
    ),
    Phase(timedelta(seconds=270), "500", lambda tg: tg.fail_next(None, status=500, times=None)),
)


@dataclass
class World:
    tg: FakeTelegram
    store: Store
    service: Service
    clock: VirtualClock


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = VirtualClock(START)
    virtual_seconds = lambda: (clock.now - START).total_seconds()  # noqa: E731
    async with FakeTelegram(clock=virtual_seconds) as tg:
        path = config_file(
            tmp_path,
            database=tmp_path / "outage.db",
            telegram={"api_base_url": tg.base_url},
            feeds=["https://news.example/feed.xml"],
            topics={"ai-act": ["AI Act"]},
        )
        config = load_config(path, env={"TELEGRAM_BOT_TOKEN": "1:x"})
        store = await Store.open(config.settings.database)
        service = Service(config, store, {}, clock=clock, parse_workers=0)
        bot = TelegramBot(
            "1:x",
            tg.base_url,
            service.subscriptions,
            service.send_digest,
            poll_timeout=1,
            pacing=Pacing(0.0, 0.0, 1000),
        )
        await bot.start()
        service.add_transport(bot)
        try:
            yield World(tg, store, service, clock)
        finally:
            tg.clear_faults()
            await service.stop(grace=1)
            await bot.stop()
            await store.close()


async def queue_digests(world: World) -> None:
    """Ten digest messages per chat, queued the way `Service.send_digest` queues them."""
    for chat in CHATS:
        key = f"telegram:{chat}"
        await world.store.upsert_destination(destination(key, str(chat)))
        payloads = [{"html": f"<b>chat {chat}</b> message {n}"} for n in range(PER_CHAT)]
        await world.store.enqueue_digest(key, payloads, [], START, f"digest-{chat}")


def destination(key: str, target: str) -> DestinationRow:
    return DestinationRow(
        key=key,
        origin="chat",
        platform="telegram",
        target=target,
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=START,
        last_digest_at=None,
    )


async def run_through_the_outage(world: World) -> None:
    """Send, move the clock to the next retry (or the outage's next phase), repeat."""
    boundaries = [START + phase.begins for phase in PHASES] + [START + OUTAGE]
    phase_index = -1
    while True:
        elapsed = world.clock.now - START
        current = sum(1 for phase in PHASES if phase.begins <= elapsed) - 1
        if elapsed >= OUTAGE:
            current = len(PHASES)
        if current != phase_index:
            world.tg.clear_faults()
            if current < len(PHASES):
                PHASES[current].inject(world.tg)
            phase_index = current
        await world.service.sender.drain()
        if not await world.store.outbox_depth():
            return
        due = await world.store.next_due_time()
        assert due is not None, "messages pending but none will ever be retried"
        upcoming = [b for b in boundaries if b > world.clock.now]
        world.clock.now = max(world.clock.now, min([due, *upcoming]))
        assert world.clock.now - START < timedelta(hours=1), "still not delivered after 1 h"


async def test_every_message_arrives_after_a_six_minute_outage(world: World) -> None:
    await queue_digests(world)
    await run_through_the_outage(world)

    counts = await world.store.outbox_counts()
    assert counts == {"pending": 0, "sent": len(CHATS) * PER_CHAT, "failed": 0}
    for chat in CHATS:
        received = [m.plain_text for m in world.tg.sent_to(chat)]
        assert received == [f"chat {chat} message {n}" for n in range(PER_CHAT)]  # once, in order

    attempts = [call for call in world.tg.calls_to("sendMessage")]
    refused_during_outage = [call for call in attempts if call.at < OUTAGE.total_seconds()]
    assert len(refused_during_outage) >= 4 * len(CHATS)  # every chat kept trying
    for chat in CHATS:
        times = [call.at for call in attempts if call.params.get("chat_id") == str(chat)]
        assert max(later - earlier for earlier, later in pairwise(times)) <= 15 * 60
    # Once Telegram is back, nobody waits longer than the longest backoff.
    finished = max(m.received_at for m in world.tg.sent)
    assert finished <= OUTAGE.total_seconds() + 15 * 60
