"""Telegram channels and forum topics: a channel is managed from a private chat by one of its
admins (`/subscribe @channel ai-act`, rights checked with getChatMember); commands posted in a
channel are never answered there; a subscription made in a forum topic gets its digests in
that topic (message_thread_id kept with the destination).

The real python-telegram-bot client against the fake Bot API, the service's own sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.helpers import config_file, rss
from tests.worlds import telegram_service

TOKEN = "123456:TEST-token-value"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
CHANNEL = -100_900
FORUM = -100_800


@dataclass
class World:
    tg: FakeTelegram
    feeds: FeedServer
    service: Service
    store: Store

    async def poll(self) -> None:
        for feed in self.service.config.feeds:
            await self.service.poll_job(feed.url)

    async def say(self, chat: dict[str, Any], user: dict[str, Any], text: str, **kw: Any) -> str:
        """Send a command; returns the bot's first message after it in that chat."""
        before = len(self.tg.sent_to(chat["id"]))
        self.tg.push_message(chat, user, text, **kw)
        messages = await self.tg.wait_for_messages(before + 1, chat_id=chat["id"])
        return messages[before].plain_text


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies", "Mistral AI raises funds"]))
        config = load_config(
            config_file(
                tmp_path,
                database=tmp_path / "channels.db",
                settings={"embedding": {"backend": "none"}},
                telegram={"api_base_url": tg.base_url},
                feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
                topics={
                    "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
                    "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
                },
                destinations=[
                    {"telegram": "@configured", "topics": ["ai-act"], "schedule": "08:00"}
                ],
            ),
            env={"TELEGRAM_BOT_TOKEN": TOKEN},
        )
        async with telegram_service(config, tg, TOKEN) as (service, _, store):
            yield World(tg, feeds, service, store)


def channel_with_admin(world: World, *, bot_is_admin: bool = True) -> tuple[Any, Any, Any]:
    """@aipolicy, its admin Ada (in a private chat with the bot) and a reader, Bob."""
    tg = world.tg
    channel = tg.channel(CHANNEL, "AI policy", username="aipolicy")
    ada, bob = tg.user(first_name="Ada"), tg.user(first_name="Bob")
    tg.set_admins(CHANNEL, [ada["id"], *([tg.bot_id] if bot_is_admin else [])])
    return channel, ada, bob


async def test_a_channel_admin_manages_the_channel_from_a_private_chat(world: World) -> None:
    await world.poll()
    channel, ada, _ = channel_with_admin(world)
    dm = world.tg.private_chat(ada)
    answer = await world.say(dm, ada, "/subscribe @aipolicy ai-act")
    assert answer.startswith("@aipolicy: Subscribed. Topics: EU AI Act.")
    # The new subscription's backfill goes to the channel, not to the private chat.
    [post] = await world.tg.wait_for_messages(1, chat_id=channel["id"])
    assert "The AI Act applies" in post.plain_text and "Mistral" not in post.plain_text
    row = await world.store.destination(f"telegram:{CHANNEL}")
    assert row is not None and row.target == str(CHANNEL) and row.title == "AI policy"
    assert await world.store.destination(f"telegram:{dm['id']}") is None

    assert "Digest at 07:30" in await world.say(dm, ada, "/schedule @aipolicy 07:30")
    assert "@aipolicy: Topics: EU AI Act." in await world.say(dm, ada, "/list @aipolicy")
    done = await world.say(dm, ada, "/unsubscribe @aipolicy all")
    assert done.startswith("@aipolicy: Unsubscribed from everything.")
    checked = [c.params for c in world.tg.calls_to("getChatMember")]
    assert {str(c["user_id"]) for c in checked} == {str(ada["id"]), str(world.tg.bot_id)}


async def test_only_the_channels_admins_may_and_the_bot_must_be_one(world: World) -> None:
    _, ada, bob = channel_with_admin(world)
    bob_dm = world.tg.private_chat(bob)
    refused = await world.say(bob_dm, bob, "/subscribe @aipolicy ai-act")
    assert refused == "Only the admins of @aipolicy can change its digest."
    assert await world.store.destination(f"telegram:{CHANNEL}") is None

    world.tg.channel(-100_901, "Quiet", username="quietchannel")  # the bot is no admin there
    world.tg.set_admins(-100_901, [ada["id"]])
    ada_dm = world.tg.private_chat(ada)
    refused = await world.say(ada_dm, ada, "/subscribe @quietchannel ai-act")
    assert refused == (
        "Make me an administrator of @quietchannel who may post messages, then try again."
    )
    refused = await world.say(ada_dm, ada, "/subscribe @nosuchchannel ai-act")
    assert refused.startswith("I can't find @nosuchchannel")
    assert await world.store.destination("telegram:-100901") is None


async def test_a_channel_set_in_feeds_yaml_stays_the_operators(world: World) -> None:
    world.tg.channel(-100_902, "Configured", username="configured")
    ada = world.tg.user(first_name="Ada")
    world.tg.set_admins(-100_902, [ada["id"], world.tg.bot_id])
    answer = await world.say(world.tg.private_chat(ada), ada, "/subscribe @configured mistral")
    assert "feeds.yaml" in answer
    assert await world.store.destination("telegram:-100902") is None


async def test_commands_posted_in_a_channel_are_never_answered_there(world: World) -> None:
    channel, ada, _ = channel_with_admin(world)
    world.tg.push_message(channel, None, "/frobnicate")
    world.tg.push_message(channel, None, "/subscribe ai-act")
    # Updates are handled in order: once the private chat is answered, so were the posts.
    dm = world.tg.private_chat(ada)
    assert "/subscribe" in await world.say(dm, ada, "/help")
    assert world.tg.sent_to(channel["id"]) == []
    assert await world.store.destination(f"telegram:{CHANNEL}") is None


def in_thread(messages: list[SentMessage], thread: int) -> list[str]:
    return [m.plain_text for m in messages if m.message_thread_id == thread]


async def test_a_forum_topic_subscription_gets_its_digests_in_that_topic(world: World) -> None:
    tg = world.tg
    forum = tg.supergroup(FORUM, "Policy forum", is_forum=True)
    ai_act, funding = tg.forum_topic(forum, "AI Act"), tg.forum_topic(forum, "Funding")
    ada = tg.user(first_name="Ada")
    tg.set_admins(FORUM, [ada["id"]])

    answer = await world.say(forum, ada, "/subscribe ai-act", message_thread_id=ai_act)
    assert answer.startswith("Subscribed.")
    await world.say(forum, ada, "/subscribe mistral", message_thread_id=funding)
    assert in_thread(tg.sent_to(FORUM), ai_act)[0].startswith("Subscribed")  # replied there
    await world.poll()
    for thread in (ai_act, funding):
        row = await world.store.destination(f"telegram:{FORUM}/{thread}")
        assert row is not None and row.thread_id == thread and row.target == str(FORUM)
        await world.service.send_digest(row)
    async with asyncio.timeout(5):
        while await world.store.outbox_depth():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.02)
    sent = tg.sent_to(FORUM)
    assert any("The AI Act applies" in text for text in in_thread(sent, ai_act))
    assert not any("Mistral" in text for text in in_thread(sent, ai_act))
    assert any("Mistral AI raises funds" in text for text in in_thread(sent, funding))
    assert all(m.message_thread_id in (ai_act, funding) for m in sent)  # none in General

    # The bot removed from the forum: every topic's subscription stops at once.
    tg.push_my_chat_member(forum, ada, "kicked", "member")
    for thread in (ai_act, funding):
        key = f"telegram:{FORUM}/{thread}"
        async with asyncio.timeout(5):
            while (row := await world.store.destination(key)) is not None and row.active:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert row is not None and row.last_error == "bot removed"
