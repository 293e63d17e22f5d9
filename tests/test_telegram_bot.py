"""The real python-telegram-bot client, our handlers and sender, against the fake Bot API.

Feeds come from a loopback feed server, the store is a real SQLite file, and the service's
own sender delivers digests: nothing of ours is replaced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.telegram import COMMANDS, TelegramBot
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import DestinationRow, Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.worlds import telegram_service

TOKEN = "123456:TEST-token-value"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
# Entity-escaped markup survives parsing as literal text: the renderer must keep it inert.
HOSTILE = 'AI Act: &lt;b&gt;bold&lt;/b&gt; &amp; &lt;/a&gt; "quoted" &lt;tg-spoiler 😀 @everyone'
TOPICS = {
    "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
    "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
}


async def wait_until_sent(world: World, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while await world.store.outbox_depth():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.02)


@dataclass
class World:
    tg: FakeTelegram
    feeds: FeedServer
    service: Service
    bot: TelegramBot
    store: Store

    async def poll(self) -> None:
        for feed in self.service.config.feeds:
            await self.service.poll_job(feed.url)


def write_config(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "tg.db",
        # These tests are about the chat, not grouping: their many look-alike test titles are
        # each a story of their own, as names-only grouping sees them.
        settings={"max_stories": 300, "embedding": {"backend": "none"}},
        telegram={"api_base_url": tg.base_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics=TOPICS,
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        config = load_config(write_config(tmp_path, feeds, tg), env={})
        # The tests poll and ask for digests themselves (the scheduler is paused): a scheduled
        # poll landing at a random moment would race them ("nothing polled yet" would not hold).
        async with telegram_service(config, tg, TOKEN) as (service, bot, store):
            yield World(tg, feeds, service, bot, store)


async def test_commands_are_registered_for_the_menu(world: World) -> None:
    names = [c["command"] for c in world.tg.commands_for()]
    assert names == [name for name, _ in COMMANDS]


async def test_start_subscribe_digest_conversation(world: World) -> None:
    await world.poll()
    user = world.tg.user(language_code="it")
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/start")
    [welcome] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert "Benvenuto su policywire." in welcome.plain_text  # the user's Telegram language
    assert welcome.reply_markup is not None

    world.tg.push_message(chat, user, "/subscribe ai-act")
    messages = await world.tg.wait_for_messages(3, chat_id=chat["id"])
    assert "Iscrizione fatta." in messages[1].plain_text
    digest = messages[2]
    # The new subscriber gets the backfill window at once, in their Telegram language.
    assert "The AI Act applies" in digest.plain_text
    assert "Football" not in digest.plain_text
    assert "1 notizia" in digest.plain_text
    assert digest.link_preview_disabled

    world.tg.push_message(chat, user, "/digest")
    messages = await world.tg.wait_for_messages(4, chat_id=chat["id"])
    assert "Nessuna novità" in messages[3].plain_text

    world.feeds.add("/news.xml", rss(["AI Act: new guidance", "The AI Act applies"]))
    await world.poll()
    world.tg.push_message(chat, user, "/digest")
    messages = await world.tg.wait_for_messages(5, chat_id=chat["id"])
    assert "AI Act: new guidance" in messages[4].plain_text
    assert "The AI Act applies" not in messages[4].plain_text  # never twice

    row = await world.store.destination(f"telegram:{chat['id']}")
    assert row is not None and row.topics == ("ai-act",) and row.language == "it"


async def test_keyboard_toggles_topics(world: World) -> None:
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe")
    await world.tg.wait_for_messages(1, chat_id=chat["id"])
    world.tg.push_callback_query(chat, user, "t:mistral")
    await world.tg.wait_for_calls("answerCallbackQuery", 1)
    row = await world.store.destination(f"telegram:{chat['id']}")
    assert row is not None and row.topics == ("mistral",)
    world.tg.push_callback_query(chat, user, "t:mistral")
    await world.tg.wait_for_calls("answerCallbackQuery", 2)
    row = await world.store.destination(f"telegram:{chat['id']}")
    assert row is not None and row.topics == () and not row.active


async def test_only_group_admins_change_the_group(world: World) -> None:
    admin, member = world.tg.user(first_name="Admin"), world.tg.user(first_name="Member")
    group = world.tg.supergroup(-100777, "Policy group")
    world.tg.set_admins(group["id"], [admin["id"]])

    world.tg.push_message(group, member, "/subscribe ai-act")
    [refusal] = await world.tg.wait_for_messages(1, chat_id=group["id"])
    assert "Only the group's admins" in refusal.plain_text
    assert await world.store.destination("telegram:-100777") is None

    world.tg.push_message(group, admin, "/subscribe ai-act")
    messages = await world.tg.wait_for_messages(2, chat_id=group["id"])
    assert "Subscribed" in messages[1].plain_text
    row = await world.store.destination("telegram:-100777")
    assert row is not None and row.topics == ("ai-act",)


async def test_bad_arguments_and_unknown_commands_get_helpful_replies(world: World) -> None:
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    script = [
        ("/subscribe nonsense", "Unknown topic: nonsense. Topics: ai-act, mistral"),
        ("/frobnicate", "I don't know that command"),
        ("/digest", "Nothing to send yet"),
        ("/schedule instant", "no subscription yet"),
        ("/subscribe mistral", "Subscribed"),
        ("/schedule 25:99", "Use HH:MM (daily)"),
        ("/timezone Mars/Base", "Unknown time zone 'Mars/Base'"),
        ("/language xx", "Supported languages: en (English), it (italiano), fr (français)"),
        ("/unsubscribe", "Which topics?"),
    ]
    for n, (command, expected) in enumerate(script, start=1):
        world.tg.push_message(chat, user, command)
        replies = await world.tg.wait_for_messages(n, chat_id=chat["id"])
        assert expected in replies[-1].plain_text, command


async def test_hostile_titles_are_inert_and_a_long_digest_is_split(world: World) -> None:
    titles = [f"{HOSTILE} number {n} " + "😀" * 30 for n in range(200)]
    world.feeds.add("/news.xml", rss(titles))
    await world.poll()
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe ai-act")
    await world.tg.wait_for_messages(2, chat_id=chat["id"])
    await wait_until_sent(world)
    messages = [m for m in world.tg.sent_to(chat["id"]) if "Subscribed" not in m.plain_text]
    assert len(messages) > 2
    digest_text = "\n".join(m.plain_text for m in messages)
    for n in range(200):
        assert f"number {n} " in digest_text
    for message in messages:
        assert len(message.plain_text.encode("utf-16-le")) // 2 <= 4096
    assert "<b>bold</b> & </a>" in digest_text  # shown as text; the strict fake accepted it


async def test_429_is_honoured_and_nothing_is_lost(world: World) -> None:
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe ai-act")  # nothing polled yet: no backfill
    await world.tg.wait_for_messages(1, chat_id=chat["id"])
    await world.poll()  # the subscription is daily: nothing is sent now
    world.tg.fail_next("sendMessage", retry_after=1, chat_id=chat["id"])
    world.tg.push_message(chat, user, "/digest")
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"], timeout=10)
    assert "The AI Act applies" in messages[1].plain_text
    assert world.tg.stats.rejected_429 == 1
    await wait_until_sent(world)
    assert len(world.tg.sent_to(chat["id"])) == 2  # once, not twice


async def wait_inactive(world: World, key: str) -> DestinationRow:
    async with asyncio.timeout(5):
        while True:
            row = await world.store.destination(key)
            if row is not None and not row.active:
                return row
            await asyncio.sleep(0.02)


async def test_a_send_refused_with_403_deactivates_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.poll()
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe mistral")  # nothing matches: no backfill
    await world.tg.wait_for_messages(1, chat_id=chat["id"])
    world.tg.fail_next("sendMessage", status=403, chat_id=chat["id"], times=None)
    key = f"telegram:{chat['id']}"
    row = await world.store.destination(key)
    assert row is not None
    await world.service.send_digest(row, even_if_empty=True)
    await world.service.send_digest(row, even_if_empty=True)
    row = await wait_inactive(world, key)
    assert row.last_error is not None and "blocked" in row.last_error
    await asyncio.sleep(0.2)  # give a wrong second attempt the time to show up
    deactivations = [r for r in caplog.records if "deactivated" in r.getMessage()]
    assert len(deactivations) == 1
    assert await world.store.outbox_depth() == 2  # kept, not dropped, in case they come back


async def test_a_user_blocking_the_bot_is_deactivated_at_once(world: World) -> None:
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe mistral")
    await world.tg.wait_for_messages(1, chat_id=chat["id"])
    world.tg.push_my_chat_member(chat, user, "kicked", "member")
    row = await wait_inactive(world, f"telegram:{chat['id']}")
    assert row.last_error == "bot was blocked"
    assert world.service.scheduler.get_job(f"digest:telegram:{chat['id']}") is None


async def test_group_migrated_to_supergroup_gets_its_digest(world: World) -> None:
    await world.poll()
    admin = world.tg.user()
    group = world.tg.group(-4242, "Old group")
    world.tg.set_admins(group["id"], [admin["id"]])
    world.tg.push_message(group, admin, "/subscribe mistral")
    await world.tg.wait_for_messages(1, chat_id=group["id"])
    new = world.tg.migrate(group["id"])
    row = await world.store.destination("telegram:-4242")
    assert row is not None
    await world.service.send_digest(row, even_if_empty=True)
    [moved] = await world.tg.wait_for_messages(1, chat_id=new["id"], timeout=10)
    assert "Nothing new" in moved.plain_text or "Mistral" in moved.plain_text
    assert await world.store.destination(f"telegram:{new['id']}") is not None


async def test_subscriptions_survive_a_restart(world: World, tmp_path: Path) -> None:
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe mistral")
    world.tg.push_message(chat, user, "/schedule 07:30")
    await world.tg.wait_for_messages(2, chat_id=chat["id"])
    reopened = await Store.open(world.service.config.settings.database)
    row = await reopened.destination(f"telegram:{chat['id']}")
    await reopened.close()
    assert row is not None and row.schedule == "07:30" and row.topics == ("mistral",)
    job = world.service.scheduler.get_job(f"digest:telegram:{chat['id']}")
    assert job is not None  # rescheduled at once, no restart needed
    assert "07:30" not in logging.getLogger().name  # the job exists; its trigger is daily
    assert str(job.trigger).startswith("cron[")


async def subscribed_chat(world: World) -> int:
    """A private chat following ai-act, with nothing queued yet."""
    user = world.tg.user()
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/subscribe ai-act")
    await world.tg.wait_for_messages(1, chat_id=chat["id"])
    await world.poll()
    return int(chat["id"])


async def test_server_errors_are_retried_with_backoff(world: World) -> None:
    chat = await subscribed_chat(world)
    world.tg.fail_next("sendMessage", status=502, chat_id=chat)
    row = await world.store.destination(f"telegram:{chat}")
    assert row is not None
    await world.service.send_digest(row)
    messages = await world.tg.wait_for_messages(2, chat_id=chat, timeout=10)
    assert "The AI Act applies" in messages[1].plain_text
    await wait_until_sent(world)
    [sent] = await world.store.messages("sent")
    assert sent.attempts == 2  # once refused, once delivered


async def test_unparsable_html_is_sent_as_plain_text_and_logged_as_a_bug(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await subscribed_chat(world)
    world.tg.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: Unsupported start tag at byte offset 3",
        chat_id=chat,
    )
    row = await world.store.destination(f"telegram:{chat}")
    assert row is not None
    await world.service.send_digest(row)
    messages = await world.tg.wait_for_messages(2, chat_id=chat, timeout=10)
    assert messages[1].parse_mode is None
    assert "The AI Act applies" in messages[1].text and "<b>" not in messages[1].text
    assert any("BUG" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
