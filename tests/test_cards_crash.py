"""kill -9 between a story card's edit being queued and its being sent, as real processes.

`policywire run` posts a card to an instant channel through the fake Bot API (then the fake
Discord); a second outlet
publishes the story, the card's edit is queued, and the process is killed with SIGKILL while
the edit is on its way (the fake holds the request). A new process sends the edit: the channel
ends with one card, edited once, listing both outlets.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from policywire.config.load import load_config_without_secrets
from policywire.storage.store import Store
from tests.fakes.discord_api import FakeChannel, FakeDiscord
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file
from tests.test_cards import CHANNEL, OUTLETS, TOKEN, rss
from tests.test_run_discord import start
from tests.test_run_discord import stop as stop_discord
from tests.test_run_service import start_service, stop

GUILD = 1_170_000_000_000_000_001
DISCORD_CHANNEL = 1_170_000_000_000_000_002
DISCORD_TOKEN = "MTE3MDAwMDAwMDAwMDAwMDAwMQ.card-crash.token"
EMPTY = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'


def crash_config(
    tmp_path: Path,
    feeds: FeedServer,
    tg: FakeTelegram | None = None,
    discord: FakeDiscord | None = None,
) -> Path:
    if tg is not None:
        platform: dict[str, object] = {"telegram": {"api_base_url": tg.base_url}}
        destination: dict[str, object] = {"telegram": str(CHANNEL)}
    else:
        assert discord is not None
        platform = {"discord": {"api_base_url": discord.api_base_url,
                                "gateway_url": discord.gateway_url}}  # fmt: skip
        destination = {"discord": DISCORD_CHANNEL}
    return config_file(
        tmp_path,
        database=tmp_path / "cards.db",
        settings={
            "embedding": {"backend": "none"},
            "card_edit_interval": "0s",
            "poll_interval": "2s",
        },
        **platform,
        feeds=[{"url": feeds.url(f"/{n}.xml"), "name": f"{n.title()} News"} for n in OUTLETS[:2]],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[destination | {"topics": ["ai-act"], "schedule": "instant"}],
    )


async def pending_edits(config_path: Path) -> int:
    config, _ = load_config_without_secrets(config_path)
    store = await Store.open(config.settings.database)
    try:
        return sum(m.payload.get("edit") is not None for m in await store.messages("pending"))
    finally:
        await store.close()


async def test_sigkill_after_a_card_edit_is_queued_sends_it_once_after_restart(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        tg.channel(CHANNEL, "AI policy")
        feeds.add("/alpha.xml", rss("alpha", datetime.now(UTC)))
        feeds.add("/beta.xml", EMPTY)
        config = crash_config(tmp_path, feeds, tg=tg)

        first = await start_service(config, TOKEN)
        try:
            [card] = await tg.wait_for_messages(1, chat_id=CHANNEL, timeout=30)
            tg.fail_next("editMessageText", delay=60)  # the edit hangs on its way
            feeds.add("/beta.xml", rss("beta", datetime.now(UTC)))
            await tg.wait_for_calls("editMessageText", timeout=30)
            assert await pending_edits(config) == 1  # queued, not yet sent
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert tg.edits == []

        tg.faults.clear()
        second = await start_service(config, TOKEN)
        try:
            async with asyncio.timeout(30):
                while not [e for e in tg.edits if e.method == "editMessageText"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # a second edit or post would come by now
        finally:
            code, stderr = await stop(second)
    assert code == 0, stderr
    assert [m.message_id for m in tg.sent_to(CHANNEL)] == [card.message_id]  # one card
    [edit] = [e for e in tg.edits if e.method == "editMessageText"]
    assert edit.message_id == card.message_id and "2 outlets" in edit.plain_text
    for outlet in OUTLETS[:2]:
        assert f"https://www.{outlet}.example/news/acme-fine-1" in edit.text
    assert await pending_edits(config) == 0


async def test_sigkill_with_a_discord_card_edit_on_its_way_sends_it_once_after_restart(
    tmp_path: Path,
) -> None:
    fake = FakeDiscord(token=DISCORD_TOKEN, tls=False, wait_timeout=30)
    async with fake as dc, FeedServer() as feeds:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(DISCORD_CHANNEL, "news")])
        feeds.add("/alpha.xml", rss("alpha", datetime.now(UTC)))
        feeds.add("/beta.xml", EMPTY)
        config = crash_config(tmp_path, feeds, discord=dc)
        env = {"DISCORD_BOT_TOKEN": DISCORD_TOKEN}

        first = await start(config, env)
        try:
            await dc.wait_for_messages(1, channel_id=DISCORD_CHANNEL)
            [card] = [m.message for m in dc.recorded_messages(DISCORD_CHANNEL)]
            dc.fail_next("edit_message", status=500, hang=60)  # the edit hangs on its way
            feeds.add("/beta.xml", rss("beta", datetime.now(UTC)))
            await dc.wait_for(lambda: any(r.route == "edit_message" for r in dc.requests))
            assert await pending_edits(config) == 1  # queued, not yet sent
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert dc.edits() == []

        second = await start(config, env)
        try:
            await dc.wait_for(lambda: bool(dc.edits(DISCORD_CHANNEL)))
            await asyncio.sleep(1)  # a second edit or post would come by now
        finally:
            code, stderr = await stop_discord(second)
    assert code == 0, stderr
    assert [m.message["id"] for m in dc.recorded_messages(DISCORD_CHANNEL)] == [card["id"]]
    [edit] = dc.edits(DISCORD_CHANNEL)
    assert str(edit.message_id) == str(card["id"])
    footer = dc.message(card["id"])["embeds"][0]["footer"]["text"]
    assert "2 outlets" in footer and "updated" in footer
    assert await pending_edits(config) == 0
