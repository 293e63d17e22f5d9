"""The real discord.py client, our slash commands and sender, against the fake Discord.

discord.py reaches the fake only through our configuration (`settings.discord.api_base_url`
and `gateway_url` pointing at its plain-HTTP endpoints), the same path a user's proxy takes.
Feeds come from a loopback feed server, the store is a real SQLite file, and the service's
own sender delivers digests: nothing of ours is replaced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord_bot import COMMANDS, DiscordBot
from bots.discord_webhook import DiscordWebhookTransport
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import DestinationRow, Store
from tests.fakes.discord_api import (
    EPHEMERAL,
    MANAGE_CHANNELS,
    SEND_MESSAGES,
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeWebhook,
    Overwrite,
    embed_length,
)
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss
from tests.worlds import discord_service

GUILD = 1_150_000_000_000_000_001
NEWS = 1_150_000_000_000_000_002  # slash commands are used here
CONFIGURED = 1_150_000_000_000_000_003  # a `discord:` destination in feeds.yaml
HOOKED = 1_150_000_000_000_000_004  # the webhook destination's channel
LOCKED = 1_150_000_000_000_000_005  # the bot may not send here
ADMIN = FakeMember(1_150_000_000_000_000_010, "alice", MANAGE_CHANNELS)
MEMBER = FakeMember(1_150_000_000_000_000_011, "bob")
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)


def hostile(n: int) -> str:
    """A title carrying mention and markdown syntax (numbers vary: each is its own story)."""
    return f"AI Act: @everyone <@&{1000 + n}> **bold** [x{n}](https://evil{n}.example) `code`"


@pytest.fixture(autouse=True)
def discord_endpoints() -> Iterator[None]:
    """Our configuration sets discord.py's endpoints for the process; put them back after."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@dataclass
class World:
    dc: FakeDiscord
    feeds: FeedServer
    service: Service
    bot: DiscordBot
    store: Store
    hook: FakeWebhook

    async def poll(self) -> None:
        for feed in self.service.config.feeds:
            await self.service.poll_job(feed.url)

    async def command(
        self, name: str, member: FakeMember = ADMIN, channel: int = NEWS, **options: Any
    ) -> str:
        """Run a slash command; returns the ephemeral answer (reply or follow-up)."""
        callback = await self.dc.dispatch_interaction(GUILD, channel, member, name, options)
        assert callback.ephemeral, name
        if callback.type == 4:
            return str(callback.data["content"])
        assert callback.type == 5  # deferred: the answer is the follow-up
        await self.dc.wait_for(lambda: bool(self.dc.followups(callback.interaction_id)))
        [followup] = self.dc.followups(callback.interaction_id)
        assert int(followup["flags"]) & EPHEMERAL
        return str(followup["content"])


def write_config(tmp_path: Path, feeds: FeedServer, dc: FakeDiscord) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "dc.db",
        # These tests are about the chat, not grouping: their many look-alike test titles are
        # each a story of their own, as names-only grouping sees them.
        settings={"max_stories": 300, "embedding": {"backend": "none"}},
        discord={"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url},
        feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        topics={
            "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
            "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
        },
        destinations=[
            {"discord": CONFIGURED, "topics": ["ai-act"], "schedule": "instant"},
            {
                "discord_webhook_env": "POLICY_WEBHOOK_URL",
                "topics": ["ai-act"],
                "schedule": "09:30",
            },
        ],
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        locked = FakeChannel(LOCKED, "locked", (Overwrite(GUILD, deny=SEND_MESSAGES),))
        channels = [FakeChannel(c, f"ch{c % 10}") for c in (NEWS, CONFIGURED, HOOKED)]
        dc.add_guild(GUILD, "Policy Lab", channels=[*channels, locked], members=[ADMIN, MEMBER])
        hook = dc.add_webhook(HOOKED)
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        env = {"DISCORD_BOT_TOKEN": dc.token, "POLICY_WEBHOOK_URL": hook.url}
        config = load_config(write_config(tmp_path, feeds, dc), env=env)
        webhooks = DiscordWebhookTransport(config.settings.discord, env, pacing=FAST)
        # The tests poll themselves (the scheduler is paused): no jittered poll may race them.
        async with discord_service(config, dc, GUILD, extra=[webhooks]) as (service, bot, store):
            yield World(dc, feeds, service, bot, store, hook)


async def wait_until_sent(world: World, seconds: float = 5) -> None:
    async with asyncio.timeout(seconds):
        while await world.store.outbox_depth():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.02)


async def wait_for_destination(world: World, key: str, check: Any) -> DestinationRow:
    async with asyncio.timeout(5):
        while True:
            row = await world.store.destination(key)
            if row is not None and check(row):
                return row
            await asyncio.sleep(0.02)


def story_titles(payloads: list[dict[str, Any]]) -> list[str]:
    return [e.get("title", "") for p in payloads for e in p.get("embeds") or []]


async def test_the_configured_endpoints_are_the_ones_used(world: World) -> None:
    assert world.dc.api_base_url == Route.BASE
    assert yarl.URL(world.dc.gateway_url) == DiscordWebSocket.DEFAULT_GATEWAY
    # Minimal intents: guilds only, no message content.
    assert world.dc.identify_payloads[0]["intents"] == 1
    assert world.dc.requests_to("get_me")  # logged in over REST at the fake


async def test_commands_are_synced_to_the_guild_with_permissions(world: World) -> None:
    synced = {c["name"]: c for c in world.dc.commands[GUILD]}
    assert list(synced) == [name for name, _ in COMMANDS]
    assert None not in world.dc.commands  # guild sync by default, not global
    for name in ("subscribe", "unsubscribe", "schedule", "language", "timezone"):
        assert int(synced[name]["default_member_permissions"]) == MANAGE_CHANNELS, name
    for name in ("topics", "list", "digest"):
        assert synced[name]["default_member_permissions"] is None, name
    assert synced["subscribe"]["options"][0]["autocomplete"] is True
    languages = synced["language"]["options"][0]["choices"]
    assert [c["value"] for c in languages] == ["en", "it", "fr", "de"]


async def test_configured_channel_and_webhook_get_embeds(world: World) -> None:
    await world.poll()  # instant: the configured channel gets the story's card at once
    [post] = await world.dc.wait_for_messages(1, channel_id=CONFIGURED)
    assert story_titles([post]) == ["The AI Act applies"]
    embed = post["embeds"][0]
    assert embed["url"] == "https://news.example/the-ai-act-applies"
    assert "Policy News" in embed["footer"]["text"]
    assert post["allowed_mentions"] == {"parse": []}
    assert not post.get("content")  # a story card (docs/cards.md): no digest header
    buttons = [b["label"] for row in post["components"] for b in row["components"]]
    assert buttons == ["Not relevant", "Wrong grouping"]

    # The webhook destination is daily: send its digest the way its job would.
    row = await world.store.destination("discord_webhook:POLICY_WEBHOOK_URL")
    assert row is not None
    await world.service.digest_job(row.key)
    [hooked] = await world.dc.wait_for_messages(1, channel_id=HOOKED)
    [recorded] = world.dc.recorded_messages(HOOKED)
    assert recorded.webhook_id == world.hook.webhook_id
    assert story_titles([hooked]) == ["The AI Act applies"]
    assert hooked["allowed_mentions"] == {"parse": []}
    assert "1 story" in hooked["content"]  # a scheduled digest keeps its header


async def test_subscribe_list_and_digest_conversation(world: World) -> None:
    await world.poll()
    answer = await world.command("subscribe", topic="ai-act")
    assert answer.startswith("Subscribed. Topics: EU AI Act.")
    # A new subscription gets the backfill window at once, in the channel itself.
    [digest] = await world.dc.wait_for_messages(1, channel_id=NEWS)
    assert story_titles([digest]) == ["The AI Act applies"]

    assert "Topics: EU AI Act" in await world.command("list", MEMBER)
    assert "Nothing new" in await world.command("digest", MEMBER)

    world.feeds.add("/news.xml", rss(["AI Act: new guidance", "The AI Act applies"]))
    await world.poll()
    assert "Posting 1 story here now." in await world.command("digest", MEMBER)
    messages = await world.dc.wait_for_messages(2, channel_id=NEWS)
    assert story_titles(messages[1:]) == ["AI Act: new guidance"]  # never twice

    topics = await world.command("topics", MEMBER)
    assert "`ai-act` — EU AI Act" in topics and "`mistral` — Mistral AI" in topics
    row = await world.store.destination(f"discord:{NEWS}")
    assert row is not None and row.topics == ("ai-act",) and row.origin == "chat"
    assert row.title == "#ch2 (Policy Lab)"


async def test_a_plain_member_cannot_change_the_channel(world: World) -> None:
    for name, options in [
        ("subscribe", {"topic": "ai-act"}),
        ("unsubscribe", {"topic": "all"}),
        ("schedule", {"when": "instant"}),
        ("language", {"language": "it"}),
        ("timezone", {"zone": "Europe/Rome"}),
    ]:
        answer = await world.command(name, MEMBER, **options)
        assert "Manage Channels" in answer, name
    assert await world.store.destination(f"discord:{NEWS}") is None


async def test_settings_and_helpful_errors(world: World) -> None:
    script = [
        ("subscribe", {"topic": "nonsense"}, "Unknown topic: nonsense. Topics: ai-act, mistral"),
        ("schedule", {"when": "instant"}, "no subscription yet"),
        ("subscribe", {"topic": "Mistral AI"}, "Subscribed. Topics: Mistral AI."),
        ("schedule", {"when": "25:99"}, "Use HH:MM (daily)"),
        ("schedule", {"when": "07:30"}, "Digest at 07:30"),
        ("timezone", {"zone": "Mars/Base"}, "Unknown time zone 'Mars/Base'"),
        ("timezone", {"zone": "Europe/Rome"}, "(Europe/Rome)"),
        # Chosen: from now on the channel is answered in Italian, whoever asks.
        ("language", {"language": "it"}, "in italiano."),
        ("unsubscribe", {"topic": "all"}, "Non segui più nessun tema"),
        ("list", {}, "non segue ancora nessun tema"),
        ("subscribe", {"topic": "ai-act"}, "Iscrizione fatta"),  # back with its settings
    ]
    for name, options, expected in script:
        answer = await world.command(name, **options)
        assert expected in answer, (name, options, answer)
    row = await world.store.destination(f"discord:{NEWS}")
    assert row is not None
    assert (row.schedule, row.timezone, row.language) == ("07:30", "Europe/Rome", "it")
    job = world.service.scheduler.get_job(f"digest:discord:{NEWS}")
    assert job is not None and str(job.trigger).startswith("cron[")


async def test_the_configured_channel_is_managed_in_feeds_yaml(world: World) -> None:
    answer = await world.command("subscribe", channel=CONFIGURED, topic="mistral")
    assert "feeds.yaml" in answer


async def test_autocomplete_offers_topics_and_followed_ones(world: World) -> None:
    dc = world.dc
    callback = await dc.dispatch_autocomplete(
        GUILD, NEWS, MEMBER, "subscribe", {"topic": "mis"}, focused="topic"
    )
    assert callback.type == 8
    assert callback.data["choices"] == [{"name": "Mistral AI (mistral)", "value": "mistral"}]
    await world.command("subscribe", topic="ai-act")
    callback = await dc.dispatch_autocomplete(
        GUILD, NEWS, ADMIN, "unsubscribe", {"topic": ""}, focused="topic"
    )
    assert [c["value"] for c in callback.data["choices"]] == ["ai-act", "all"]
    callback = await dc.dispatch_autocomplete(
        GUILD, NEWS, ADMIN, "timezone", {"zone": "europe/ro"}, focused="zone"
    )
    assert [c["value"] for c in callback.data["choices"]] == ["Europe/Rome"]


async def test_hostile_titles_do_not_ping_and_limits_hold(world: World) -> None:
    # Long, unrelated titles (each its own story) that carry mention and markdown syntax.
    titles = [
        f"{hostile(n)} number {n} " + "😀" * 20 + " ".join(f"w{n}x{k}" for k in range(40))
        for n in range(40)
    ]
    world.feeds.add("/news.xml", rss(titles))
    await world.poll()
    await wait_until_sent(world)
    messages = world.dc.messages(CONFIGURED)
    assert len(messages) >= 4  # 40 stories: at most 10 embeds a message
    for message in messages:
        assert message["allowed_mentions"] == {"parse": []}
        assert len(message["embeds"]) <= 10
        assert sum(embed_length(e) for e in message["embeds"]) <= 6000
        for embed in message["embeds"]:
            assert len(embed.get("title", "")) <= 256
            assert len(embed.get("description", "")) <= 4096
    text = "\n".join(
        str(e.get(k, "")) for m in messages for e in m["embeds"] for k in ("title", "description")
    )
    assert "@everyone" not in text and "<@&" not in text  # broken with a zero-width space
    assert "\\*\\*bold\\*\\*" in text and "\\[x0\\]\\(" in text  # markdown shown, not rendered
    for n in range(40):
        assert f"number {n} " in text  # split across messages, nothing dropped


async def test_missing_permissions_mark_the_channel_failing_and_the_rest_go_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.poll()
    await world.dc.wait_for_messages(1, channel_id=CONFIGURED)
    answer = await world.command("subscribe", channel=LOCKED, topic="ai-act")  # 403 on backfill
    assert answer.startswith("Subscribed")
    key = f"discord:{LOCKED}"
    row = await wait_for_destination(world, key, lambda r: r.last_error is not None)
    assert row.active  # kept: an admin can fix the channel's permissions
    assert "Send Messages" in (row.last_error or "")
    assert await world.store.outbox_depth() == 1  # the digest waits, it is not dropped
    failing = [r for r in caplog.records if "is failing" in r.getMessage()]
    assert len(failing) == 1 and failing[0].levelno == logging.ERROR
    assert "no permission to post in channel" in failing[0].getMessage()

    # Meanwhile the other destinations go on.
    world.feeds.add("/news.xml", rss(["AI Act: new guidance", "The AI Act applies"]))
    await world.poll()
    messages = await world.dc.wait_for_messages(2, channel_id=CONFIGURED)
    assert story_titles(messages[1:]) == ["AI Act: new guidance"]


async def test_an_unknown_channel_is_deactivated(world: World) -> None:
    await world.command("subscribe", topic="mistral")  # nothing matches: no backfill
    world.dc.fail_next(f"POST /channels/{NEWS}/messages", status=404, times=5)
    row = await world.store.destination(f"discord:{NEWS}")
    assert row is not None
    await world.service.send_digest(row, even_if_empty=True)
    row = await wait_for_destination(world, row.key, lambda r: not r.active)
    assert "does not exist" in (row.last_error or "")
    assert world.dc.messages(NEWS) == []


async def test_server_errors_are_retried_and_nothing_is_lost(world: World) -> None:
    world.dc.fail_next(f"POST /channels/{CONFIGURED}/messages", status=503)
    await world.poll()
    soon = world.service.clock() + timedelta(minutes=1)
    async with asyncio.timeout(5):
        while not (rows := await world.store.due_messages(soon)) or rows[0].attempts == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    [waiting] = rows
    assert waiting.next_attempt_at > world.service.clock()  # backing off, not dropped
    # Make the retry due now rather than sleeping through the backoff (tested elsewhere).
    await world.store.mark_retry(waiting.id, "test: due now", world.service.clock())
    world.service.sender.wake.set()
    [post] = await world.dc.wait_for_messages(1, channel_id=CONFIGURED)
    assert story_titles([post]) == ["The AI Act applies"]
    assert len(world.dc.requests_to("create_message")) == 2


async def test_subscriptions_survive_a_restart(world: World, tmp_path: Path) -> None:
    await world.command("subscribe", topic="mistral")
    await world.command("schedule", when="07:30")
    reopened = await Store.open(world.service.config.settings.database)
    row = await reopened.destination(f"discord:{NEWS}")
    await reopened.close()
    assert row is not None and row.schedule == "07:30" and row.topics == ("mistral",)


async def test_webhook_rate_limit_is_waited_out_by_discord_py(world: World) -> None:
    await world.poll()
    world.dc.fail_next("execute_webhook", status=429, retry_after=0.05)
    await world.service.digest_job("discord_webhook:POLICY_WEBHOOK_URL")
    [post] = await world.dc.wait_for_messages(1, channel_id=HOOKED)
    assert story_titles([post]) == ["The AI Act applies"]
    assert len(world.dc.requests_to("execute_webhook")) == 2  # retried once, sent once


async def test_a_deleted_webhook_deactivates_its_destination(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.poll()
    del world.dc.webhooks[world.hook.webhook_id]  # someone deleted it in Discord
    key = "discord_webhook:POLICY_WEBHOOK_URL"
    await world.service.digest_job(key)
    row = await wait_for_destination(world, key, lambda r: not r.active)
    assert "does not exist" in (row.last_error or "")
    assert world.hook.token not in caplog.text  # the URL's secret part is never logged


async def test_a_deleted_channel_is_deactivated_at_once(world: World) -> None:
    await world.command("subscribe", topic="mistral")
    guild = world.dc.guilds[GUILD]
    channel = guild.channel(NEWS)
    assert channel is not None
    await world.dc.dispatch("CHANNEL_DELETE", guild.channel_payload(channel))
    row = await wait_for_destination(world, f"discord:{NEWS}", lambda r: not r.active)
    assert row.last_error == "channel deleted"
