"""Acceptance: a simulated day and a half across the spring DST change.

Feeds publish, fail and recover; three Telegram destinations (daily 08:00 Rome, instant, and a
cron twice a day) must get exactly the expected digests at the expected local times, and
`status` must tell the truth during the outage and after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from bots.telegram import TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.status import collect_status, format_status
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.sim import Event, VirtualClock, VirtualDay

START = datetime(2026, 3, 28, 5, 0, tzinfo=UTC)  # 06:00 in Rome; clocks go forward on the 29th
END = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
DAILY, INSTANT, TWICE = 1001, 1002, 1003


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def rss(*entries: tuple[str, datetime]) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>https://news.example/{abs(hash(title))}</link>"
        f"<guid>{title}</guid><pubDate>{when:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        "<description>What happened, in two lines. A second sentence.</description></item>"
        for title, when in entries
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )


A1 = ("Commission publishes AI Act guidelines on prohibited practices", at(28, 4, 30))
A2 = ("AI Office opens consultation on GPAI transparency template", at(28, 11, 0))
M1 = ("Mistral AI releases a new open-weight model", at(28, 8, 55))
M2 = ("Mistral AI signs cloud deal with a European telecom operator", at(28, 15, 50))
NOISE = ("Rain expected in Rome over the weekend", at(28, 4, 0))


@dataclass
class Day:
    tg: FakeTelegram
    feeds: FeedServer
    service: Service
    clock: VirtualClock
    received: list[tuple[datetime, int, str]]

    def record(self, now: datetime) -> None:
        seen = len(self.received)
        everything = [m for m in self.tg.sent if m.chat_id in (DAILY, INSTANT, TWICE)]
        for message in everything[seen:]:
            self.received.append((now, message.chat_id, message.plain_text))

    def digests(self, chat: int) -> list[tuple[datetime, str]]:
        return [(when, text) for when, chat_id, text in self.received if chat_id == chat]


def write_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"""
settings:
  database: sqlite+aiosqlite:///{tmp_path / "day.db"}
  timezone: Europe/Rome
  poll_interval: 15m
  # The day's look-alike fixtures (one summary for every article) are each a story of their own.
  embedding:
    backend: none
  telegram:
    api_base_url: {tg.base_url}
feeds:
  - url: {feeds.url("/eu.xml")}
    name: EU Brief
  - url: {feeds.url("/tech.xml")}
    name: Tech Desk
topics:
  ai-act:
    any: ["AI Act", "AI Office"]
  mistral:
    any: ["Mistral AI"]
destinations:
  - telegram: "{DAILY}"
    topics: [ai-act]
    schedule: "08:00"
    timezone: Europe/Rome
  - telegram: "{INSTANT}"
    topics: [mistral]
    schedule: instant
  - telegram: "{TWICE}"
    topics: [ai-act, mistral]
    schedule: "0 12,18 * * *"
    timezone: Europe/Rome
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/eu.xml", rss(A1, NOISE))
        feeds.add("/tech.xml", rss(NOISE))
        config = load_config(write_config(tmp_path, feeds, tg), env={"TELEGRAM_BOT_TOKEN": "1:x"})
        clock = VirtualClock(START)
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
        await service.prepare()
        try:
            yield Day(tg, feeds, service, clock, [])
        finally:
            await service.stop(grace=1)
            await bot.stop()
            await store.close()


def feed_events(day: Day) -> list[Event]:
    feeds = day.feeds
    return [
        Event(at(28, 9), "M1 published", lambda: feeds.add("/tech.xml", rss(M1, NOISE))),
        Event(at(28, 10), "EU feed breaks", lambda: feeds.add("/eu.xml", "oops", status=500)),
        Event(at(28, 14), "EU feed back", lambda: feeds.add("/eu.xml", rss(A2, A1, NOISE))),
        Event(at(28, 16), "M2 published", lambda: feeds.add("/tech.xml", rss(M2, M1, NOISE))),
    ]


async def test_a_simulated_day_sends_exactly_the_expected_digests(day: Day) -> None:
    snapshots: dict[str, str] = {}

    async def after_step(now: datetime) -> None:
        day.record(now)
        if "outage" not in snapshots and now >= at(28, 12):
            snapshots["outage"] = await status_text(day)

    await VirtualDay(day.service, day.clock).run_until(END, feed_events(day), after_step)

    daily = day.digests(DAILY)
    assert [when for when, _ in daily] == [at(28, 7), at(29, 6)]  # 08:00 CET, then 08:00 CEST
    assert A1[0] in daily[0][1] and A2[0] not in daily[0][1]
    assert A2[0] in daily[1][1] and A1[0] not in daily[1][1]

    instant = day.digests(INSTANT)
    assert len(instant) == 2
    assert M1[0] in instant[0][1] and at(28, 9) <= instant[0][0] <= at(28, 9, 17)
    assert M2[0] in instant[1][1] and at(28, 16) <= instant[1][0] <= at(28, 16, 17)

    twice = day.digests(TWICE)
    assert [when for when, _ in twice] == [at(28, 11), at(28, 17), at(29, 10)]
    assert A1[0] in twice[0][1] and M1[0] in twice[0][1]
    assert M2[0] in twice[1][1] and A2[0] not in twice[1][1]  # the EU feed was backing off
    assert A2[0] in twice[2][1]

    everything = "\n".join(text for _, _, text in day.received)
    assert NOISE[0] not in everything
    for title, _ in (A1, A2, M1, M2):
        assert everything.count(title) == 2  # each destination that follows it, once

    assert "EU Brief" in snapshots["outage"]
    outage = next(line for line in snapshots["outage"].splitlines() if "EU Brief" in line)
    assert "HTTP 500 Internal Server Error" in outage
    final = await status_text(day)
    eu = next(line for line in final.splitlines() if line.strip().startswith("EU Brief"))
    assert "HTTP 500" not in eu and eu.split()[-1] == "0"  # recovered: no failures
    assert f"telegram:{DAILY}" in final and "2026-03-30 08:00" in final  # next local digest
    assert "Outbox: 0 pending, 0 failed, 7 sent" in final


async def test_a_failing_feed_backs_off_and_recovers(day: Day) -> None:
    simulation = VirtualDay(day.service, day.clock)
    await simulation.run_until(at(28, 20), feed_events(day))
    eu_url = day.feeds.url("/eu.xml")
    polls = [
        when
        for when, job in simulation.fired
        if job == f"poll:{eu_url}" and at(28, 10) <= when <= at(28, 20)
    ]
    gaps = [later - earlier for earlier, later in pairwise(polls)]
    assert gaps[0] >= timedelta(minutes=29)  # failing: 30 min, 1 h, 2 h, 4 h…
    assert gaps[1] >= timedelta(minutes=59)
    assert gaps[2] >= timedelta(minutes=119)
    state = await day.service.store.feed_state(eu_url)
    assert state.failures == 0 and state.last_success is not None


async def status_text(day: Day) -> str:
    status = await collect_status(day.service.config, day.service.store, day.clock.now)
    return format_status(status, "Europe/Rome")
