"""Replies a person understands: topic names with spaces as typed, time zones in any case with
a "did you mean", one hint per schedule error, "Done." only for a change, schedules in words,
/help on Discord, counts with plurals.

The real python-telegram-bot and discord.py clients against the fakes, a real SQLite store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.discord_api import EPHEMERAL, MANAGE_CHANNELS, FakeChannel, FakeDiscord, FakeMember
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.worlds import discord_service, telegram_service

TOKEN = "123456:TEST-token-value"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
TOPICS = {
    "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
    "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
}
HINT = "Use HH:MM (daily), a cron line like '0 8 * * 1-5', or 'instant'."
GUILD, NEWS = 1_150_000_000_000_000_001, 1_150_000_000_000_000_002
ADMIN = FakeMember(1_150_000_000_000_000_010, "alice", MANAGE_CHANNELS)


def settings_file(tmp_path: Path, feeds: FeedServer, **platform: Any) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "replies.db",
        settings={"embedding": {"backend": "none"}},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics=TOPICS,
        **platform,
    )


@dataclass
class Telegram:
    tg: FakeTelegram
    store: Store
    user: dict[str, Any]
    chat: dict[str, Any]

    async def say(self, text: str) -> str:
        before = len(self.tg.sent_to(self.chat["id"]))
        self.tg.push_message(self.chat, self.user, text)
        messages = await self.tg.wait_for_messages(before + 1, chat_id=self.chat["id"])
        return messages[before].plain_text

    async def topics(self) -> tuple[str, ...]:
        row = await self.store.destination(f"telegram:{self.chat['id']}")
        return row.topics if row is not None and row.active else ()


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[Telegram]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["Football results"]))
        config = load_config(settings_file(tmp_path, feeds, telegram={"api_base_url": tg.base_url}))
        async with telegram_service(config, tg, TOKEN) as (_, _, store):
            user = tg.user()
            yield Telegram(tg, store, user, tg.private_chat(user))


async def test_topic_names_with_spaces_work_as_typed(telegram: Telegram) -> None:
    assert (await telegram.say("/subscribe EU AI Act")).startswith("Subscribed. Topics: EU AI Act.")
    assert await telegram.topics() == ("ai-act",)
    await telegram.say("/unsubscribe eu ai act")
    await telegram.say("/subscribe mistral ai, EU AI Act")
    assert await telegram.topics() == ("mistral", "ai-act")
    refused = await telegram.say("/subscribe EU AI Acts mistral")
    assert refused == "Unknown topic: EU AI Acts. Topics: ai-act, mistral"


async def test_time_zones_in_any_case_and_a_did_you_mean(telegram: Telegram) -> None:
    await telegram.say("/subscribe ai-act")
    assert "(Europe/Rome)" in await telegram.say("/timezone europe/rome")
    assert await telegram.say("/timezone Rome") == (
        "Unknown time zone 'Rome'. Did you mean Europe/Rome?"
    )
    assert await telegram.say("/timezone america/new_yrok") == (
        "Unknown time zone 'america/new_yrok'. Did you mean America/New_York?"
    )
    assert await telegram.say("/timezone Mars/Base") == (
        "Unknown time zone 'Mars/Base': use Area/City, e.g. Europe/Rome."
    )
    row = await telegram.store.destination(f"telegram:{telegram.chat['id']}")
    assert row is not None and row.timezone == "Europe/Rome"


async def test_a_schedule_error_gives_its_hint_once(telegram: Telegram) -> None:
    await telegram.say("/subscribe ai-act")
    for typed, problem in [
        ("25:99", "'25:99' is not a time of day: hours go from 00 to 23, minutes from 00 to 59."),
        ("8am", "I can't read '8am' as a schedule."),
        ("0 8 * * 9", "'0 8 * * 9' is not a cron line I can read"),
    ]:
        reply = await telegram.say(f"/schedule {typed}")
        assert reply.startswith(problem), reply
        assert reply.count("HH:MM") == 1 and reply.endswith(HINT), reply


async def test_done_only_when_something_changed(telegram: Telegram) -> None:
    await telegram.say("/subscribe ai-act")
    assert await telegram.say("/unsubscribe mistral") == "This chat wasn't following Mistral AI."
    already = await telegram.say("/subscribe EU AI Act")
    assert already.startswith("This chat already follows EU AI Act. Topics: EU AI Act.")
    assert (await telegram.say("/schedule 08:00")).startswith("Nothing to change. Topics:")
    assert (await telegram.say("/schedule 07:30")).startswith("Saved. Topics: EU AI Act.")
    assert await telegram.topics() == ("ai-act",)
    assert (await telegram.say("/unsubscribe ai-act")).startswith("Unsubscribed from everything")


async def test_schedules_are_said_in_words(telegram: Telegram) -> None:
    await telegram.say("/subscribe ai-act")
    cases = {
        "0 8 * * 1-5": "Digest on weekdays at 08:00 (UTC)",
        "30 7,18 * * *": "Digest every day at 07:30, 18:30 (UTC)",
        "0 9 * * sat,sun": "Digest at weekends at 09:00 (UTC)",
        "0 9 * * 1,4": "Digest on Mondays, Thursdays at 09:00 (UTC)",
        "*/20 6-9 * * *": "Digest on the cron schedule '*/20 6-9 * * *' (UTC)",
        "07:30": "Digest at 07:30 (UTC)",
    }
    for schedule, words in cases.items():
        reply = await telegram.say(f"/schedule {schedule}")
        assert words in reply, (schedule, reply)
        assert words in await telegram.say("/list")


# --- Discord -----------------------------------------------------------------------------------


@pytest.fixture
def discord_endpoints() -> Iterator[None]:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@dataclass
class Discord:
    dc: FakeDiscord
    feeds: FeedServer
    service: Service

    async def command(self, name: str, **options: Any) -> str:
        callback = await self.dc.dispatch_interaction(GUILD, NEWS, ADMIN, name, options)
        assert callback.ephemeral, name
        if callback.type == 4:
            return str(callback.data["content"])
        await self.dc.wait_for(lambda: bool(self.dc.followups(callback.interaction_id)))
        [followup] = self.dc.followups(callback.interaction_id)
        assert int(followup["flags"]) & EPHEMERAL
        return str(followup["content"])


@pytest.fixture
async def discord(tmp_path: Path, discord_endpoints: None) -> AsyncIterator[Discord]:
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(NEWS, "news")], members=[ADMIN])
        feeds.add("/news.xml", rss(["Football results"]))
        endpoints = {"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url}
        config = load_config(
            settings_file(tmp_path, feeds, discord=endpoints), env={"DISCORD_BOT_TOKEN": dc.token}
        )
        async with discord_service(config, dc, GUILD) as (service, _, _):
            yield Discord(dc, feeds, service)


async def test_discord_has_help(discord: Discord) -> None:
    synced = {c["name"]: c for c in discord.dc.commands[GUILD]}
    assert "help" in synced and synced["help"]["default_member_permissions"] is None
    shown = (await discord.command("help")).splitlines()
    assert "/subscribe — Follow a topic in this channel" in shown
    assert "/help — What this bot can do" in shown
    assert "Manage Channels" in shown[-1]


async def test_discord_counts_stories_with_plurals(discord: Discord) -> None:
    await discord.command("subscribe", topic="EU AI Act")
    assert await discord.command("digest") == (
        "No stories on this channel's topics yet; they come with the next digest."
    )
    discord.feeds.add("/news.xml", rss(["AI Act: new guidance"]))
    for feed in discord.service.config.feeds:
        await discord.service.poll_job(feed.url)
    assert await discord.command("digest") == "Posting 1 story here now."
    discord.feeds.add("/news.xml", rss(["AI Act: fines", "AI Act: timeline", "Football"]))
    for feed in discord.service.config.feeds:
        await discord.service.poll_job(feed.url)
    assert await discord.command("digest") == "Posting 2 stories here now."
    assert await discord.command("digest") == "Nothing new since the last digest."
