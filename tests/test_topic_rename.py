"""Edits of feeds.yaml never orphan a subscription silently: a renamed topic (`renamed_from:`)
takes its subscriptions and matches along, a removed one is named in the log with the chats
that follow it, shown as no longer offered, and can still be unsubscribed.

The real python-telegram-bot client against the fake Bot API, a real SQLite store, and the
service's own hot reload of the edited file.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from policywire.config.load import load_config
from policywire.deliver.sender import Pacing
from policywire.errors import ConfigError
from policywire.service import Service
from policywire.storage.store import DestinationRow, Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, config_yaml, rss
from tests.worlds import telegram_service

TOKEN = "123456:TEST-token-value"
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
BEFORE = {
    "ai-act": {"name": "EU AI Act", "any": ["AI Act"]},
    "mistral": {"name": "Mistral AI", "any": ["Mistral AI"]},
}
# ai-act is now eu-ai-act; mistral is gone.
AFTER = {"eu-ai-act": {"name": "EU AI Act", "any": ["AI Act"], "renamed_from": "ai-act"}}


@dataclass
class World:
    tg: FakeTelegram
    feeds: FeedServer
    service: Service
    store: Store
    path: Path

    def write(self, topics: dict[str, Any]) -> None:
        config_file(self.path.parent, **parts(self.path.parent, self.feeds, self.tg, topics))

    async def poll(self) -> None:
        for feed in self.service.config.feeds:
            await self.service.poll_job(feed.url)


def parts(tmp_path: Path, feeds: FeedServer, tg: FakeTelegram, topics: Any) -> dict[str, Any]:
    return {
        "database": tmp_path / "rename.db",
        "settings": {"embedding": {"backend": "none"}},
        "telegram": {"api_base_url": tg.base_url},
        "feeds": [{"url": feeds.url("/news.xml"), "name": "Policy News"}],
        "topics": topics,
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        path = config_file(tmp_path, **parts(tmp_path, feeds, tg, BEFORE))
        config = load_config(path)
        reload = lambda: load_config(path)  # noqa: E731 - the test reloads itself
        async with telegram_service(config, tg, TOKEN, config_loader=reload) as (service, _, store):
            yield World(tg, feeds, service, store, path)


async def say(world: World, chat: dict[str, Any], user: dict[str, Any], text: str) -> str:
    before = len(world.tg.sent_to(chat["id"]))
    world.tg.push_message(chat, user, text)
    messages = await world.tg.wait_for_messages(before + 1, chat_id=chat["id"])
    return messages[before].plain_text


async def test_a_rename_carries_subscriptions_and_a_removal_is_named(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    user = world.tg.user(first_name="Ada")
    chat = world.tg.private_chat(user)
    key = f"telegram:{chat['id']}"
    await say(world, chat, user, "/subscribe ai-act mistral")  # nothing polled: no backfill
    await world.poll()  # the story matches ai-act; the daily digest is not due

    world.write(AFTER)
    caplog.set_level(logging.INFO, logger="policywire.service")
    assert await world.service.reload_if_changed()
    lines = [r.getMessage() for r in caplog.records]
    assert f"topic ai-act renamed to eu-ai-act: subscriptions carried over for {key}" in lines
    assert f"topic mistral is no longer in feeds.yaml; still followed by {key} (Ada)" in lines
    row = await world.store.destination(key)
    assert row is not None and row.topics == ("eu-ai-act", "mistral")

    listed = await say(world, chat, user, "/list")
    assert listed.startswith("Topics: EU AI Act.")
    assert "No longer offered: mistral (/unsubscribe to drop them)." in listed
    assert "Unknown topic: mistral" in await say(world, chat, user, "/subscribe mistral")

    # The item matched as ai-act before the rename is the renamed topic's now.
    digest = await say(world, chat, user, "/digest")
    assert "The AI Act applies" in digest

    done = await say(world, chat, user, "/unsubscribe mistral")
    assert done.startswith("Done. Topics: EU AI Act.") and "No longer offered" not in done
    row = await world.store.destination(key)
    assert row is not None and row.topics == ("eu-ai-act",)


async def test_a_rename_made_while_the_service_was_down_applies_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "down.db"
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    row = DestinationRow(
        key="telegram:77",
        origin="chat",
        platform="telegram",
        target="77",
        topics=("ai-act", "mistral"),
        schedule="08:00",
        timezone="UTC",
        language="en",
        active=True,
        created_at=datetime.now(UTC),
        last_digest_at=None,
        title="Ada",
    )
    await store.upsert_destination(row)
    path = config_file(
        tmp_path,
        database=database,
        feeds=["http://127.0.0.1:9/feed.xml"],
        topics=AFTER,
        destinations=[{"console": "stdout", "topics": ["eu-ai-act"]}],
    )
    service = Service(load_config(path), store, {}, parse_workers=0)
    caplog.set_level(logging.INFO, logger="policywire.service")
    await service.prepare()
    try:
        found = await store.destination("telegram:77")
        assert found is not None and found.topics == ("eu-ai-act", "mistral")
        lines = [r.getMessage() for r in caplog.records]
        assert "topic ai-act renamed to eu-ai-act: subscriptions carried over for telegram:77" in (
            lines
        )
        assert "topic mistral is no longer in feeds.yaml; still followed by telegram:77 (Ada)" in (
            lines
        )
    finally:
        await service.stop(grace=1)
        await store.close()


# --- feeds.yaml: renamed_from is checked like the other topic keys ----------------------------


def problems(tmp_path: Path, topics: dict[str, Any]) -> list[str]:
    text = config_yaml(database=tmp_path / "x.db", feeds=["https://a.example/rss"], topics=topics)
    (tmp_path / "feeds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "feeds.yaml")
    return [line.split("feeds.yaml:", 1)[1] for line in refused.value.errors]


def test_renamed_from_takes_one_id_or_a_list(tmp_path: Path) -> None:
    text = config_yaml(
        database=tmp_path / "x.db",
        feeds=["https://a.example/rss"],
        topics={
            "eu-ai-act": {"any": ["AI Act"], "renamed_from": ["ai-act", "aiact"]},
            "mistral-ai": {"any": ["Mistral"], "renamed_from": "mistral"},
            "gdpr": {"any": ["GDPR"]},
        },
    )
    (tmp_path / "feeds.yaml").write_text(text, encoding="utf-8")
    topics = load_config(tmp_path / "feeds.yaml").topics
    assert topics["eu-ai-act"].renamed_from == ("ai-act", "aiact")
    assert topics["mistral-ai"].renamed_from == ("mistral",)
    assert topics["gdpr"].renamed_from == ()


def test_renamed_from_problems_name_their_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "eu-ai-act": {"any": ["AI Act"], "renamed_from": ["ai-act", "Not An Id", "gdpr"]},
            "mistral": {"any": ["Mistral"], "renamed_from": ["mistral", "ai-act"]},
            "gdpr": {"any": ["GDPR"], "renamed_from": []},
        },
    )
    # Lines: 5 settings…, topics at 7; eu-ai-act's list at 11-13, mistral's at 17-18, gdpr at 19.
    text = config_yaml(
        database=tmp_path / "x.db",
        feeds=["https://a.example/rss"],
        topics={
            "eu-ai-act": {"any": ["AI Act"], "renamed_from": ["ai-act", "Not An Id", "gdpr"]},
            "mistral": {"any": ["Mistral"], "renamed_from": ["mistral", "ai-act"]},
            "gdpr": {"any": ["GDPR"], "renamed_from": []},
        },
    ).splitlines()

    def line(fragment: str, after: int = 0) -> int:
        return next(n for n, t in enumerate(text, 1) if n > after and fragment in t)

    gdpr_topic = line("  gdpr:")
    first_ai_act = line("- ai-act")
    assert found == [
        f"{line('Not An Id')}: topics.eu-ai-act.renamed_from[1]: 'Not An Id' is not a topic id"
        " (lowercase letters, digits, '-', '_')",
        f"{line('- gdpr')}: topics.eu-ai-act.renamed_from[2]: 'gdpr' is still a topic "
        f"(line {gdpr_topic}); a former id must be free",
        f"{line('- mistral')}: topics.mistral.renamed_from[0]: a topic cannot be renamed from "
        "its own id",
        f"{line('- ai-act', first_ai_act)}: topics.mistral.renamed_from[1]: 'ai-act' is already"
        f" renamed to 'eu-ai-act' (line {first_ai_act})",
    ]
