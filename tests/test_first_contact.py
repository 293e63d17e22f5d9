"""First contact right after a start: a chat that subscribes or asks for its digest while the
first poll of the feeds is still running is told so, and gets its stories when it ends.

The real python-telegram-bot and discord.py clients against the fakes; the feed server holds
the first poll's answer until the test releases it, so "during the first poll" is a fact, not
a race. The scheduler runs for real (these tests are about its first poll).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord_bot import DiscordBot
from bots.telegram import TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import DestinationRow, Store
from tests.fakes.discord_api import EPHEMERAL, MANAGE_CHANNELS, FakeChannel, FakeDiscord, FakeMember
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss

TOKEN = "123456:TEST-token-value"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
TOPICS = {
    "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
    "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
}
FIRST_POLL = "The first poll is still running; your stories follow in a moment."
GUILD, NEWS = 1_150_000_000_000_000_001, 1_150_000_000_000_000_002
ADMIN = FakeMember(1_150_000_000_000_000_010, "alice", MANAGE_CHANNELS)


class NoJitter(random.Random):
    """The first poll of every feed at once (the service spreads them over 0-2 s)."""

    def uniform(self, a: float, b: float) -> float:
        return a


@dataclass
class World:
    tg: FakeTelegram
    feeds: FeedServer
    release: asyncio.Event  # lets the first poll's answer go
    service: Service
    bot: TelegramBot
    store: Store

    async def first_poll_in_flight(self) -> None:
        async with asyncio.timeout(5):
            await self.feeds.wait_for_hits("/news.xml")

    async def wait_first_poll_done(self) -> None:
        async with asyncio.timeout(5):
            while self.service.first_poll.running():  # noqa: ASYNC110 - a state, not an event
                await asyncio.sleep(0.01)


def write_config(tmp_path: Path, feeds: FeedServer, **platforms: Any) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "first.db",
        settings={"embedding": {"backend": "none"}},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics=TOPICS,
        **platforms,
    )


def chat_row(key: str, target: str, *, platform: str = "telegram") -> DestinationRow:
    """A chat subscribed in an earlier run of the service."""
    return DestinationRow(
        key=key,
        origin="chat",
        platform=platform,
        target=target,
        topics=("ai-act",),
        schedule="08:00",
        timezone="UTC",
        language="en",
        active=True,
        created_at=datetime.now(UTC),
        last_digest_at=None,
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        release = feeds.hold("/news.xml", rss(["The AI Act applies", "Football results"]))
        config = load_config(write_config(tmp_path, feeds, telegram={"api_base_url": tg.base_url}))
        store = await Store.open(config.settings.database)
        # A private chat that followed ai-act before this start.
        await store.upsert_destination(chat_row("telegram:4242", "4242"))
        service = Service(config, store, {}, parse_workers=0, rng=NoJitter())
        bot = TelegramBot(
            TOKEN, tg.base_url, service.subscriptions, service.send_digest, poll_timeout=1
        )
        bot.pacing = FAST
        service.add_transport(bot)
        await bot.start()
        await service.start()
        try:
            yield World(tg, feeds, release, service, bot, store)
        finally:
            release.set()
            await bot.stop()
            await service.stop(grace=2)
            await store.close()


async def test_a_subscription_during_the_first_poll_gets_its_stories_when_it_ends(
    world: World,
) -> None:
    await world.first_poll_in_flight()
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe ai-act")
    [reply] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert reply.plain_text.startswith("Subscribed.")
    assert FIRST_POLL in reply.plain_text

    world.release.set()
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"])
    assert "The AI Act applies" in messages[1].plain_text
    assert "Football" not in messages[1].plain_text

    world.tg.push_message(chat, user, "/digest")  # now there was a digest: "since your last"
    messages = await world.tg.wait_for_messages(3, chat_id=chat["id"])
    assert "Nothing new since your last digest" in messages[2].plain_text


async def test_a_digest_asked_for_during_the_first_poll_follows_it(world: World) -> None:
    await world.first_poll_in_flight()
    user = world.tg.user(4242)
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/digest")
    [reply] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert FIRST_POLL in reply.plain_text
    assert "Nothing new" not in reply.plain_text  # no digest was ever sent to this chat

    world.release.set()
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"])
    assert "The AI Act applies" in messages[1].plain_text


async def test_start_and_the_keyboard_during_the_first_poll(world: World) -> None:
    await world.first_poll_in_flight()
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/start")
    [welcome] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert FIRST_POLL in welcome.plain_text

    world.tg.push_callback_query(chat, user, "t:ai-act")
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"])
    assert messages[1].plain_text == FIRST_POLL

    world.release.set()
    messages = await world.tg.wait_for_messages(3, chat_id=chat["id"])
    assert "The AI Act applies" in messages[2].plain_text


async def test_after_the_first_poll_nothing_waits_and_no_digest_yet_is_said_so(
    world: World,
) -> None:
    world.release.set()
    await world.wait_first_poll_done()
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe mistral")  # nothing matches it
    [reply] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert FIRST_POLL not in reply.plain_text
    world.tg.push_message(chat, user, "/digest")
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"])
    # Never "since your last digest" to a chat that had none.
    assert messages[1].plain_text == (
        "No stories on this chat's topics yet; they come with the next digest."
    )


# --- Discord ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def discord_endpoints() -> Iterator[None]:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


async def answer(dc: FakeDiscord, name: str, **options: Any) -> str:
    callback = await dc.dispatch_interaction(GUILD, NEWS, ADMIN, name, options)
    if callback.type == 4:
        return str(callback.data["content"])
    await dc.wait_for(lambda: bool(dc.followups(callback.interaction_id)))
    [followup] = dc.followups(callback.interaction_id)
    assert int(followup["flags"]) & EPHEMERAL
    return str(followup["content"])


async def test_discord_digest_during_the_first_poll_follows_it(tmp_path: Path) -> None:
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(NEWS, "news")], members=[ADMIN])
        release = feeds.hold("/news.xml", rss(["The AI Act applies"]))
        env = {"DISCORD_BOT_TOKEN": dc.token}
        discord = {"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url}
        config = load_config(write_config(tmp_path, feeds, discord=discord), env=env)
        store = await Store.open(config.settings.database)
        await store.upsert_destination(chat_row(f"discord:{NEWS}", str(NEWS), platform="discord"))
        service = Service(config, store, {}, parse_workers=0, rng=NoJitter())
        bot = DiscordBot(
            dc.token,
            config.settings.discord,
            service.subscriptions,
            service.send_digest,
            pacing=FAST,
            guild_ready_timeout=0.05,
        )
        service.add_transport(bot)
        await bot.start()
        await service.start()
        try:
            async with asyncio.timeout(5):
                await bot.ready.wait()
                await dc.wait_for(lambda: GUILD in dc.commands)
                await feeds.wait_for_hits("/news.xml")
            assert await answer(dc, "digest") == FIRST_POLL
            release.set()
            [post] = await dc.wait_for_messages(1, channel_id=NEWS)
            titles = [e.get("title") for e in post.get("embeds") or []]
            assert titles == ["The AI Act applies"]
            assert "Nothing new since the last digest" in await answer(dc, "digest")
        finally:
            release.set()
            await service.stop(grace=2)
            await bot.stop()
            await store.close()
