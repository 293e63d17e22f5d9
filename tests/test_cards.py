"""Story cards that grow in place, through the real python-telegram-bot against the fake API.

Three outlets publish one story over an hour: the instant channel gets one card, edited
twice (paced by `card_edit_interval`), listing the three outlets at the end. The service's
clock is a test clock; the sender is drained by hand, so every step is deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.telegram import TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.helpers import config_file

TOKEN = "123456:TEST-token-value"
CHANNEL = -1001234567890
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
OUTLETS = ("alpha", "beta", "gamma")
TITLES = {
    "alpha": "Commission fines Acme Robotics under the AI Act for biometric cameras",
    "beta": "Commission fines Acme Robotics under the AI Act over biometric cameras",
    "gamma": "The Commission fines Acme Robotics under the AI Act over biometric cameras",
}


def rss(outlet: str, published: datetime, n: int = 1) -> str:
    link = f"https://www.{outlet}.example/news/acme-fine-{n}"
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{outlet.title()} News</title><link>https://www.{outlet}.example/</link>"
        f"<item><title>{TITLES[outlet]}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        "<description>The fine is the first under the AI Act. It concerns cameras.</description>"
        "</item></channel></rss>"
    )


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class World:
    tg: FakeTelegram
    feeds: FeedServer
    service: Service
    store: Store
    bot: TelegramBot
    clock: Clock
    config_path: Path

    async def publish(self, outlet: str) -> None:
        """The outlet's feed gets the story now; its poll delivers to instant destinations."""
        self.feeds.add(f"/{outlet}.xml", rss(outlet, self.clock.now))
        await self.service.poll_job(self.feeds.url(f"/{outlet}.xml"))
        await self.send()

    async def send(self) -> None:
        await self.service.flush_card_edits()
        await self.service.sender.drain()

    def posts(self) -> list[SentMessage]:
        return self.tg.sent_to(CHANNEL)

    def edits(self) -> list[SentMessage]:
        return [e for e in self.tg.edits if e.method == "editMessageText"]


async def make_service(config_path: Path, clock: Clock, bot: TelegramBot | None) -> Service:
    config = load_config(config_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, clock=clock, parse_workers=0)
    if bot is not None:
        service.add_transport(bot)
    await service.prepare()  # jobs registered, nothing running: the test drives
    return service


def write_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "cards.db",
        settings={"embedding": {"backend": "none"}, "card_edit_interval": "10m"},
        telegram={"api_base_url": tg.base_url},
        feeds=[
            {"url": feeds.url(f"/{name}.xml"), "name": f"{name.title()} News"} for name in OUTLETS
        ],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[{"telegram": str(CHANNEL), "topics": ["ai-act"], "schedule": "instant"}],
    )


@pytest.fixture(name="world")
async def world_fixture(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        for name in OUTLETS:
            feeds.add(f"/{name}.xml", '<?xml version="1.0"?><rss version="2.0"><channel>'
                      f"<title>{name}</title></channel></rss>")  # fmt: skip
        tg.channel(CHANNEL, "AI policy")
        path = write_config(tmp_path, feeds, tg)
        clock = Clock()
        service = await make_service(path, clock, None)
        bot = TelegramBot(
            TOKEN,
            tg.base_url,
            service.subscriptions,
            service.send_digest,
            poll_timeout=1,
            pacing=FAST,
            feedback=service.feedback,
        )
        service.add_transport(bot)
        await bot.start()
        try:
            yield World(tg, feeds, service, service.store, bot, clock, path)
        finally:
            await bot.stop()
            await service.stop(grace=1)
            await service.store.close()


async def test_one_card_grows_twice_paced_and_lists_three_outlets(world: World) -> None:
    await world.publish("alpha")
    [card] = world.posts()
    assert "alpha.example" in card.text and "outlets" not in card.plain_text
    assert card.reply_markup is not None  # the feedback buttons
    labels = [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row]
    assert labels == ["Not relevant", "Wrong grouping"]

    world.clock.advance(5)
    await world.publish("beta")  # joins the story: the edit waits for the interval
    assert world.edits() == [] and len(world.posts()) == 1
    world.clock.advance(5)
    await world.send()
    [first] = world.edits()
    assert first.message_id == card.message_id and "2 outlets" in first.plain_text

    world.clock.advance(2)
    await world.publish("gamma")  # ten minutes after the last edit, not before
    world.clock.advance(7)
    await world.send()
    assert len(world.edits()) == 1
    world.clock.advance(1)
    await world.send()
    assert len(world.posts()) == 1  # one card, never a second message
    edits = world.edits()
    assert len(edits) == 2
    final = world.tg.message(CHANNEL, card.message_id)
    assert "3 outlets" in final["text"]
    for outlet in OUTLETS:
        assert f"https://www.{outlet}.example/news/acme-fine-1" in edits[-1].text
    assert "reply_markup" in final  # the buttons survive the edits
    assert await world.store.outbox_depth() == 0


async def test_an_edit_queued_before_a_crash_is_sent_once_after_it(world: World) -> None:
    await world.publish("alpha")
    world.clock.advance(11)
    world.feeds.add("/beta.xml", rss("beta", world.clock.now))
    await world.service.poll_job(world.feeds.url("/beta.xml"))
    await world.service.flush_card_edits()  # the edit is in the outbox, not sent: "kill -9"
    assert [m.payload.get("edit") is not None for m in await world.store.messages("pending")] == [
        True
    ]
    # A new process on the same database (the old one never ran again), the same bot.
    restarted = await make_service(world.config_path, world.clock, world.bot)
    try:
        await restarted.sender.drain()
        await restarted.flush_card_edits()
        await restarted.sender.drain()
    finally:
        await restarted.stop(grace=1)
        await restarted.store.close()
    assert len(world.posts()) == 1
    [edit] = world.edits()
    assert "2 outlets" in edit.plain_text


async def test_past_the_edit_window_the_card_gets_a_reply(world: World) -> None:
    await world.publish("alpha")
    [card] = world.posts()
    world.clock.advance(49 * 60)  # Telegram's 48 hours are over
    await world.publish("beta")
    await world.send()
    assert world.edits() == []
    card_again, reply = world.posts()
    assert card_again.message_id == card.message_id
    assert reply.reply_to_message_id == card.message_id
    assert reply.plain_text.startswith("New on this story")
    assert "Beta" in reply.plain_text or "beta" in reply.text


async def test_a_deleted_card_gets_a_reply_instead_of_an_edit(world: World) -> None:
    await world.publish("alpha")
    [card] = world.posts()
    world.tg.forget_message(CHANNEL, card.message_id)  # an admin deleted it
    world.clock.advance(11)
    await world.publish("beta")
    await world.send()
    assert world.edits() == []
    _card, reply = world.posts()
    assert reply.plain_text.startswith("New on this story")
    assert await world.store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}


async def test_cards_false_keeps_the_old_updates(world: World, tmp_path: Path) -> None:
    text = world.config_path.read_text(encoding="utf-8")
    world.config_path.write_text(
        text.replace("schedule: instant", "schedule: instant\n    cards: false")
    )
    await world.service.apply_config(
        load_config(world.config_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    )
    await world.publish("alpha")
    world.clock.advance(11)
    await world.publish("beta")
    await asyncio.sleep(0)
    first, update = world.posts()
    assert world.edits() == []
    assert "\nNew on this story\n" in update.plain_text  # a digest's update, as before cards
    assert first.reply_markup is None
