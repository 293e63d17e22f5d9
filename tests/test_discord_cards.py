"""Story cards on Discord: a bot channel and a webhook, through the real discord.py against the
fake Discord (issue 17, docs/cards.md).

Three outlets publish one story over an hour: each destination gets one card, edited twice
(paced by `card_edit_interval`), listing the three outlets at the end. The card's buttons are
component presses: admin-only, answered ephemerally in the presser's language, and each one
changes what the channel receives next and adds a row to `policywire labels export`.
The service's clock is a test clock and the sender is drained by hand, as in test_cards.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bench.devsets import load
from bots.discord_bot import DiscordBot
from bots.discord_webhook import DiscordWebhookTransport
from policywire.chat.feedback import parse_press
from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from scheduler import main
from tests.fakes.discord_api import (
    EPHEMERAL,
    MANAGE_CHANNELS,
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeWebhook,
    RecordedCallback,
    RecordedEdit,
)
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file
from tests.test_cards import OUTLETS, Clock, rss

GUILD = 1_160_000_000_000_000_001
CHANNEL = 1_160_000_000_000_000_002  # the bot posts here
HOOKED = 1_160_000_000_000_000_003  # the webhook's channel
ADMIN = FakeMember(1_160_000_000_000_000_010, "alice", MANAGE_CHANNELS)
ITALIAN_ADMIN = FakeMember(1_160_000_000_000_000_011, "bianca", MANAGE_CHANNELS, locale="it")
READER = FakeMember(1_160_000_000_000_000_012, "bob")
HOOK_ENV = "CARDS_WEBHOOK_URL"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)


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
    store: Store
    clock: Clock
    hook: FakeWebhook
    config_path: Path
    env: dict[str, str]

    async def publish(self, outlet: str) -> None:
        """The outlet's feed gets the story now; its poll delivers to instant destinations."""
        self.feeds.add(f"/{outlet}.xml", rss(outlet, self.clock.now))
        await self.service.poll_job(self.feeds.url(f"/{outlet}.xml"))
        await self.send()

    async def send(self) -> None:
        await self.service.flush_card_edits()
        await self.service.sender.drain()

    def posts(self, channel: int = CHANNEL) -> list[dict[str, Any]]:
        return self.dc.messages(channel)

    def card_id(self, channel: int = CHANNEL) -> str:
        return str(self.dc.recorded_messages(channel)[0].message["id"])

    def edits(self, channel: int = CHANNEL) -> list[RecordedEdit]:
        return self.dc.edits(channel)

    async def press(
        self, custom_id: str, member: FakeMember, message: dict[str, Any] | None = None
    ) -> RecordedCallback:
        card = message if message is not None else self.dc.message(self.card_id())
        return await self.dc.dispatch_component(GUILD, CHANNEL, member, custom_id, card)

    async def answer(self, callback: RecordedCallback) -> str:
        """The ephemeral text a press was answered with (the reply or its follow-up)."""
        if callback.type == 4:
            assert callback.ephemeral
            return str(callback.data["content"])
        await self.dc.wait_for(lambda: bool(self.dc.followups(callback.interaction_id)))
        [followup] = self.dc.followups(callback.interaction_id)
        assert int(followup["flags"]) & EPHEMERAL
        return str(followup["content"])

    async def export(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> str:
        """`policywire labels export DIR`, the command itself (in a thread: it runs its own
        event loop); returns what it printed."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        argv = ["labels", "export", str(directory), "--config", str(self.config_path)]
        assert await asyncio.to_thread(main, argv) == 0
        return directory.as_posix()


def write_config(tmp_path: Path, feeds: FeedServer, dc: FakeDiscord) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "cards.db",
        settings={"embedding": {"backend": "none"}, "card_edit_interval": "30m"},
        discord={"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url},
        feeds=[
            {"url": feeds.url(f"/{name}.xml"), "name": f"{name.title()} News"} for name in OUTLETS
        ],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[
            {"discord": CHANNEL, "topics": ["ai-act"], "schedule": "instant"},
            {"discord_webhook_env": HOOK_ENV, "topics": ["ai-act"], "schedule": "instant"},
        ],
    )


@pytest.fixture(name="world")
async def world_fixture(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        channels = [FakeChannel(CHANNEL, "ai-policy"), FakeChannel(HOOKED, "hooked")]
        dc.add_guild(GUILD, "Policy Lab", channels=channels, members=[ADMIN, ITALIAN_ADMIN, READER])
        hook = dc.add_webhook(HOOKED)
        for name in OUTLETS:
            feeds.add(f"/{name}.xml", '<?xml version="1.0"?><rss version="2.0"><channel>'
                      f"<title>{name}</title></channel></rss>")  # fmt: skip
        env = {"DISCORD_BOT_TOKEN": dc.token, HOOK_ENV: hook.url}
        path = write_config(tmp_path, feeds, dc)
        config = load_config(path, env=env)
        clock = Clock()
        store = await Store.open(config.settings.database)
        service = Service(config, store, {}, clock=clock, parse_workers=0)
        bot = DiscordBot(
            dc.token,
            config.settings.discord,
            service.subscriptions,
            service.send_digest,
            pacing=FAST,
            guild_ready_timeout=0.05,
            feedback=service.feedback,
        )
        webhooks = DiscordWebhookTransport(config.settings.discord, env, pacing=FAST)
        service.add_transport(bot)
        service.add_transport(webhooks)
        await service.prepare()  # jobs registered, nothing running: the test drives
        await bot.start()
        await webhooks.start()
        try:
            async with asyncio.timeout(5):
                await bot.ready.wait()
            yield World(dc, feeds, service, store, clock, hook, path, env)
        finally:
            await service.stop(grace=1)
            await bot.stop()
            await webhooks.stop()
            await store.close()


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("components") or () for b in row["components"]]


def story_of(world: World) -> int:
    press = parse_press(buttons(world.dc.message(world.card_id()))[0]["custom_id"])
    assert press is not None
    return press.story_id


def further_reading(message: dict[str, Any]) -> str:
    return json.dumps(message["embeds"][0].get("fields", []))


async def test_one_card_per_destination_grows_twice_paced(world: World) -> None:
    await world.publish("alpha")
    [card] = world.posts()
    [hooked] = world.posts(HOOKED)
    assert [b["label"] for b in buttons(card)] == ["Not relevant", "Wrong grouping"]
    assert "components" not in hooked  # a webhook no application owns carries no buttons
    assert "outlets" not in card["embeds"][0]["footer"]["text"]

    world.clock.advance(20)
    await world.publish("beta")  # joins the story: the edit waits for the 30 minutes
    assert world.edits() == [] and world.edits(HOOKED) == []
    world.clock.advance(10)
    await world.send()
    [first] = world.edits()
    [hooked_first] = world.edits(HOOKED)
    assert str(first.message_id) == world.card_id()
    assert hooked_first.webhook_id == world.hook.webhook_id  # edited through the webhook
    assert "2 outlets" in first.payload["embeds"][0]["footer"]["text"]

    world.clock.advance(20)
    await world.publish("gamma")  # fifty minutes in: the second edit is due at sixty
    world.clock.advance(5)
    await world.send()
    assert len(world.edits()) == 1 and len(world.edits(HOOKED)) == 1
    world.clock.advance(5)
    await world.send()
    for channel in (CHANNEL, HOOKED):
        assert len(world.posts(channel)) == 1  # one card, never a second message
        assert len(world.edits(channel)) == 2
        final = world.dc.message(world.card_id(channel))
        assert "3 outlets" in final["embeds"][0]["footer"]["text"]
        assert final["edited_timestamp"] is not None
        reading = further_reading(final)
        for outlet in ("beta", "gamma"):
            assert f"https://www.{outlet}.example/news/acme-fine-1" in reading
        assert final["embeds"][0]["url"] == "https://www.alpha.example/news/acme-fine-1"
    assert [b["label"] for b in buttons(world.dc.message(world.card_id()))] == [
        "Not relevant",
        "Wrong grouping",
    ]  # the buttons survive the edits
    assert await world.store.outbox_depth() == 0


async def test_a_deleted_card_gets_a_reply_instead_of_an_edit(world: World) -> None:
    await world.publish("alpha")
    card_id, hooked_id = world.card_id(), world.card_id(HOOKED)
    world.dc.delete_message(card_id)  # a moderator deleted both cards
    world.dc.delete_message(hooked_id)
    world.clock.advance(31)
    await world.publish("beta")
    await world.send()
    assert world.edits() == [] and world.edits(HOOKED) == []
    _card, reply = world.posts()
    assert reply["content"].startswith("*New on this story*")
    assert "beta.example" in reply["content"]
    assert str(reply["message_reference"]["message_id"]) == card_id  # a reply to the card
    assert reply["message_reference"]["fail_if_not_exists"] is False
    _hooked, hooked_reply = world.posts(HOOKED)  # a webhook cannot reply: a plain message
    assert hooked_reply["content"].startswith("*New on this story*")
    assert "message_reference" not in hooked_reply
    assert await world.store.outbox_counts() == {"pending": 0, "sent": 4, "failed": 0}


async def test_not_relevant_mutes_the_story_in_that_channel_and_is_exported(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.publish("alpha")
    story = story_of(world)
    refused = await world.press(f"pw:nr:{story}", READER)  # no Manage Channels
    assert "Manage Channels" in await world.answer(refused)
    assert await world.store.verdicts() == []
    pressed = await world.press(f"pw:nr:{story}", ITALIAN_ADMIN)
    assert pressed.type == 7 and pressed.data["components"] == []  # the buttons are done
    # The channel is configured (its language chosen in feeds.yaml): answered in it, not in
    # the presser's Italian.
    assert (await world.answer(pressed)).startswith("Muted")
    assert buttons(world.dc.message(world.card_id())) == []

    world.clock.advance(31)
    await world.publish("beta")  # joins the muted story: nothing more in that channel
    world.clock.advance(31)
    await world.send()
    assert len(world.posts()) == 1 and world.edits() == []
    assert len(world.edits(HOOKED)) == 1  # the webhook's channel did not mute it

    directory = tmp_path / "labels"
    await world.export(directory, monkeypatch)
    with (directory / "relevance" / "labels.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["verdict"] == "not_relevant"
    assert row["link"] == "https://www.alpha.example/news/acme-fine-1"
    assert f"discord:{CHANNEL}" in row["note"]


async def test_wrong_grouping_splits_the_named_article_off_the_card(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.publish("alpha")
    world.clock.advance(31)
    await world.publish("beta")
    await world.send()
    [grown] = world.edits()
    assert "2 outlets" in grown.payload["embeds"][0]["footer"]["text"]
    story = story_of(world)

    refused = await world.press(f"pw:wg:{story}", READER)
    assert "Manage Channels" in await world.answer(refused)
    asked = await world.press(f"pw:wg:{story}", ADMIN)
    assert asked.type == 4 and asked.ephemeral  # the pick is the presser's alone
    assert asked.data["content"] == "Which article does not belong to this story?"
    choices = buttons(asked.data)
    assert len(choices) == 2 and all(c["custom_id"].startswith("pw:ws:") for c in choices)
    assert len(buttons(world.dc.message(world.card_id()))) == 2  # the card is unchanged
    beta = next(c for c in choices if "Beta" in c["label"])
    picker = world.dc.interaction_message(asked.interaction_id)
    split = await world.press(beta["custom_id"], ADMIN, picker)
    assert "kept apart" in await world.answer(split)

    await world.send()  # the card is edited without Beta at once, not paced
    final = world.dc.message(world.card_id())
    assert len(world.edits()) == 2
    assert "beta.example" not in json.dumps(final["embeds"])
    assert "outlets" not in final["embeds"][0]["footer"]["text"]
    assert [b["label"] for b in buttons(final)] == ["Not relevant", "Wrong grouping"]
    hooked = world.dc.message(world.card_id(HOOKED))  # the webhook's card keeps Beta
    assert "beta.example" in json.dumps(hooked["embeds"])

    directory = tmp_path / "labels"
    await world.export(directory, monkeypatch)
    exported = load(directory / "grouping")  # what bench/grouping_eval.py reads
    [(a, b, same, kind)] = exported.pairs
    assert not same and kind == "reader: wrong grouping"
    assert exported.articles[a].item.link == "https://www.beta.example/news/acme-fine-1"
    assert exported.stories[a] != exported.stories[b]


async def test_an_edit_refused_for_a_server_error_is_retried(world: World) -> None:
    await world.publish("alpha")
    world.clock.advance(31)
    world.dc.fail_next("edit_message", status=503)
    await world.publish("beta")
    await world.send()
    assert world.edits() == []  # not replied to either: the card is still there
    assert len(world.posts()) == 1
    [waiting] = await world.store.messages("pending")
    await world.store.mark_retry(waiting.id, "test: due now", world.clock())
    await world.service.sender.drain()
    [edit] = world.edits()
    assert "2 outlets" in edit.payload["embeds"][0]["footer"]["text"]
