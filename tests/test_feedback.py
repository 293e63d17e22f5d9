"""A story card's buttons, pressed through the fake Bot API: what the chat receives next
changes, and each verdict becomes a row of `policywire labels export`."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from bench.devsets import load
from policywire.chat.feedback import export_labels, parse_press
from tests.test_cards import CHANNEL, World, world_fixture  # noqa: F401 - "world"

ADMIN, READER = 5_000_001, 5_000_002


async def press(world: World, data: str, user_id: int, message_id: int) -> dict[str, str]:
    """A button pressed on the card; returns the bot's answer to the press."""
    answered = len(world.tg.callback_answers)
    user = world.tg.user(user_id, "Ada")
    world.tg.push_callback_query(CHANNEL, user, data, message_id)
    async with asyncio.timeout(5):
        while len(world.tg.callback_answers) == answered:  # noqa: ASYNC110 - the fake records
            await asyncio.sleep(0.01)
    return world.tg.callback_answers[-1]


def story_of(world: World) -> int:
    [card] = world.posts()
    assert card.reply_markup is not None
    data = card.reply_markup["inline_keyboard"][0][0]["callback_data"]
    found = parse_press(data)
    assert found is not None
    return found.story_id


async def test_not_relevant_mutes_the_story_for_that_chat_and_is_exported(
    world: World, tmp_path: Path
) -> None:
    world.tg.set_admins(CHANNEL, [ADMIN, world.tg.bot_id])
    await world.publish("alpha")
    [card] = world.posts()
    story = story_of(world)
    refused = await press(world, f"pw:nr:{story}", READER, card.message_id)
    assert refused.get("show_alert") in (True, "true", "True")
    assert await world.store.verdicts() == []  # not an admin: nothing decided
    answer = await press(world, f"pw:nr:{story}", ADMIN, card.message_id)
    assert "Muted" in answer["text"]
    world.clock.advance(11)
    await world.publish("beta")  # joins the muted story: nothing more in that chat
    world.clock.advance(11)
    await world.send()
    assert len(world.posts()) == 1
    assert [e for e in world.edits() if "outlets" in e.plain_text] == []
    done = await export_labels(world.store, tmp_path / "labels")
    assert done.relevance == 1
    with (tmp_path / "labels" / "relevance" / "labels.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["verdict"] == "not_relevant"
    assert row["link"] == "https://www.alpha.example/news/acme-fine-1"


async def test_wrong_grouping_splits_the_named_article_off_the_card(
    world: World, tmp_path: Path
) -> None:
    world.tg.set_admins(CHANNEL, [ADMIN, world.tg.bot_id])
    await world.publish("alpha")
    world.clock.advance(11)
    await world.publish("beta")
    await world.send()
    [card] = world.posts()
    [grown] = world.edits()
    assert "2 outlets" in grown.plain_text
    story = story_of(world)
    await press(world, f"pw:wg:{story}", ADMIN, card.message_id)
    async with asyncio.timeout(5):  # the card's buttons became its articles
        while "pw:ws:" not in json.dumps(world.tg.message(CHANNEL, card.message_id)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    keyboard = world.tg.message(CHANNEL, card.message_id)["reply_markup"]["inline_keyboard"]
    beta = next(row[0] for row in keyboard if "Beta" in row[0]["text"])
    answer = await press(world, beta["callback_data"], ADMIN, card.message_id)
    assert "kept apart" in answer["text"]
    await world.send()
    final = world.tg.message(CHANNEL, card.message_id)
    assert "beta.example" not in json.dumps(final) and "outlets" not in final["text"]
    assert "Not relevant" in json.dumps(final["reply_markup"])  # the buttons are back
    done = await export_labels(world.store, tmp_path / "labels")
    assert done.pairs == 1
    exported = load(tmp_path / "labels" / "grouping")  # what bench/grouping_eval.py reads
    [(a, b, same, kind)] = exported.pairs
    assert not same and kind == "reader: wrong grouping"
    assert exported.articles[a].item.link == "https://www.beta.example/news/acme-fine-1"
    assert exported.stories[a] != exported.stories[b]
