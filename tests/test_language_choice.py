"""Whose language the bot speaks (issue 14): the rules, then whole conversations through the
real python-telegram-bot and discord.py clients against the fakes, in Italian, French and
German.

"In language X" is checked two ways: a few sentences as a person would read them, and no
sentence of the English source text anywhere (`assert_in_language`, from the catalogue: a
reply left in English, whatever its key, fails it).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord_bot import DiscordBot
from bots.telegram import COMMANDS
from policywire.chat import wording
from policywire.chat.locale import (
    chat_language,
    client_language,
    initial_language,
    personal_language,
    resolve_language,
)
from policywire.config.load import load_config
from policywire.locale import catalogues
from policywire.locale.update import extract, po_path, read
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.discord_api import MANAGE_CHANNELS, FakeChannel, FakeDiscord, FakeMember
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.test_telegram_bot import TOKEN, TOPICS
from tests.test_telegram_bot import World as TelegramWorld
from tests.test_telegram_bot import write_config as telegram_config
from tests.worlds import discord_service, telegram_service

LANGUAGES = ("it", "fr", "de")
GUILD, NEWS = 1_160_000_000_000_000_001, 1_160_000_000_000_000_002


# --- the rules ----------------------------------------------------------------------------


def test_client_language_tags() -> None:
    assert client_language("it") == "it"
    assert client_language("it-IT") == "it"
    assert client_language("de_AT") == "de"
    assert client_language("en-GB") == "en"
    assert client_language("pt-BR") is None
    assert client_language("") is None and client_language(None) is None


def test_a_chats_setting_wins_then_the_client_then_the_default() -> None:
    assert chat_language("fr", "de", "en", shared=False) == "fr"  # chosen with /language
    assert chat_language(None, "de-CH", "en", shared=False) == "de"
    assert chat_language(None, "es", "it", shared=False) == "it"  # not spoken: the default
    # A group: its setting, else the default; never the language of whoever asked.
    assert chat_language("fr", "de", "en", shared=True) == "fr"
    assert chat_language(None, "de", "en", shared=True) == "en"


def test_a_personal_answer_follows_its_asker() -> None:
    assert personal_language("it", "de", "en", chosen=True) == "de"  # the channel chose
    assert personal_language(None, "de", "en", chosen=True) == "de"
    assert personal_language("it", "de", "en") == "it"
    assert personal_language("es-ES", "de", "en") == "de"
    assert personal_language(None, None, "fr") == "fr"


def test_a_new_chat_starts_in_its_own_language_not_its_first_admins() -> None:
    assert initial_language("it", "en", shared=False) == "it"
    assert initial_language("es", "en", shared=False) == "en"
    assert initial_language("it", "en", shared=True) == "en"
    assert initial_language("it", "en", shared=True, group="fr") == "fr"  # a server's locale


@pytest.mark.parametrize(
    ("typed", "code"),
    [("it", "it"), (" IT ", "it"), ("it-IT", "it"), ("italiano", "it"), ("Italian", "it"),
     ("Italienisch", "it"), ("allemand", "de"), ("Deutsch", "de"), ("français", "fr"),
     ("inglese", "en"), ("xx", None), ("klingon", None)],
)  # fmt: skip
def test_language_names_are_understood(typed: str, code: str | None) -> None:
    assert resolve_language(typed) == code


# --- "in language X" ------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{[^}]*\}")


@cache
def english_fragments(language: str) -> frozenset[str]:
    """Every run of words of the English messages (between placeholders) that the `language`
    translation of the same message does not also contain ("/subscribe ai-act" does). A
    message without a reviewed translation keeps all of its runs."""
    translations: dict[object, list[str]] = {}
    for entry in read(po_path(language), language):
        if entry.id and not entry.fuzzy:
            strings = entry.string if isinstance(entry.string, tuple | list) else [entry.string]
            msgid = entry.id[0] if isinstance(entry.id, tuple | list) else entry.id
            translations[msgid] = [s for s in strings if s]
    found: set[str] = set()
    for message in extract():  # the code's messages, even before the .pot has them
        if not message.id or message.context:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        translated = translations.get(ids[0], [])
        for text in ids:
            for fragment in PLACEHOLDER.split(text):
                fragment = fragment.strip(" .,:;'")
                words = " " in fragment and len(fragment) >= 8
                if words and not any(fragment in t for t in translated):
                    found.add(fragment)
    return frozenset(found)


def assert_in_language(text: str, language: str) -> None:
    english = sorted(f for f in english_fragments(language) if f in text)
    assert not english, f"English in a {language} reply: {english}\n{text}"


def test_the_english_detector_sees_english() -> None:
    assert "Nothing new since your last digest" in english_fragments("it")
    with pytest.raises(AssertionError):
        assert_in_language("Welcome to policywire.", "it")
    assert_in_language("Benvenuto su policywire.", "it")


# --- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[TelegramWorld]:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        config = load_config(telegram_config(tmp_path, feeds, tg), env={})
        async with telegram_service(config, tg, TOKEN) as (service, bot, store):
            yield TelegramWorld(tg, feeds, service, bot, store)


WELCOME = {"it": "Benvenuto su policywire.", "fr": "Bienvenue sur policywire.",
           "de": "Willkommen bei policywire."}  # fmt: skip
SUBSCRIBED = {
    "it": "Iscrizione fatta. Temi: EU AI Act.",
    "fr": "Abonnement enregistré. Sujets : EU AI Act.",
    "de": "Abonniert. Themen: EU AI Act.",
}
OWN_LANGUAGE = {"it": "in italiano.", "fr": "en français.", "de": "auf Deutsch."}
ONE_STORY = {"it": "1 notizia", "fr": "1 article", "de": "1 Meldung"}
FOLLOWING = {"it": "Segui: Mistral AI", "fr": "Suivi : Mistral AI", "de": "Du folgst: Mistral AI"}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_telegram_users_whole_conversation_is_in_their_language(
    telegram: TelegramWorld, language: str
) -> None:
    world = telegram
    await world.poll()
    user = world.tg.user(language_code=language)
    chat = world.tg.private_chat(user)
    script = [
        "/start",
        "/help",
        "/subscribe ai-act",
        "/list",
        "/schedule 07:30",
        "/schedule 25:99",
        "/timezone Mars/Base",
        "/timezone Europe/Rome",
        "/language",
        "/language xx",
        "/subscribe nonsense",
        "/frobnicate",
        "/digest",
    ]
    replies = []
    for command in script:
        before = len(world.tg.sent_to(chat["id"]))
        world.tg.push_message(chat, user, command)
        sent = await world.tg.wait_for_messages(before + 1, chat_id=chat["id"])
        if command == "/subscribe ai-act":  # the reply and the backfill digest, in any order
            sent = await world.tg.wait_for_messages(before + 2, chat_id=chat["id"])
            [digest] = [m for m in sent[before:] if "The AI Act applies" in m.plain_text]
            assert ONE_STORY[language] in digest.plain_text
            assert_in_language(digest.plain_text.replace("The AI Act applies", ""), language)
            sent = [m for m in sent if m is not digest]
        replies.append(sent[-1].plain_text)
    for text in replies:
        assert_in_language(text, language)
    assert replies[0].startswith(WELCOME[language])
    assert "/subscribe — " + catalogues.gettext(language, COMMANDS[3][1]) in replies[1]
    assert replies[2].startswith(SUBSCRIBED[language]) and replies[2].endswith(
        OWN_LANGUAGE[language]
    )
    assert "Unknown" not in replies[6] and "Mars/Base" in replies[6]
    assert "(italiano)" in replies[8]  # the languages to pick, each in its own words

    # The keyboard and its answers.
    world.tg.push_message(chat, user, "/subscribe")
    await world.tg.wait_for_messages(len(replies) + 2, chat_id=chat["id"])
    world.tg.push_callback_query(chat, user, "t:mistral")
    [answer] = await world.tg.wait_for_calls("answerCallbackQuery", 1)
    assert answer.params["text"] == FOLLOWING[language]

    # "all" as the user's language says it.
    everything = catalogues.gettext(language, wording.ALL_TOPICS_CHOICE)
    world.tg.push_message(chat, user, f"/unsubscribe {everything}")
    messages = await world.tg.wait_for_messages(len(replies) + 3, chat_id=chat["id"])
    assert_in_language(messages[-1].plain_text, language)
    row = await world.store.destination(f"telegram:{chat['id']}")
    assert row is not None and row.topics == () and row.language == language


async def test_the_telegram_menu_is_registered_in_every_language(telegram: TelegramWorld) -> None:
    for language in ("en", *LANGUAGES):
        menu = telegram.tg.commands_for(language_code=language)
        assert [c["command"] for c in menu] == [name for name, _ in COMMANDS]
        expected = [catalogues.gettext(language, about) for _, about in COMMANDS]
        assert [c["description"] for c in menu] == expected
    assert telegram.tg.commands_for(language_code="it")[0]["description"] == (
        "Benvenuto e i temi da scegliere"
    )
    # Everyone else (Spanish, no language): the configured default, English here.
    assert telegram.tg.commands_for() == telegram.tg.commands_for(language_code="en")


async def test_a_chosen_language_wins_over_the_telegram_language(telegram: TelegramWorld) -> None:
    world = telegram
    user = world.tg.user(language_code="de")
    chat = world.tg.private_chat(user)
    world.tg.push_message(chat, user, "/language italiano")
    [saved] = await world.tg.wait_for_messages(1, chat_id=chat["id"])
    assert saved.plain_text.startswith("Salvato.")
    world.tg.push_message(chat, user, "/list")
    messages = await world.tg.wait_for_messages(2, chat_id=chat["id"])
    assert messages[1].plain_text.startswith("Questa chat non segue")
    row = await world.store.destination(f"telegram:{chat['id']}")
    assert row is not None and row.language == "it"


async def test_a_group_keeps_its_own_language_whoever_asks(telegram: TelegramWorld) -> None:
    world = telegram
    italian = world.tg.user(first_name="Ada", language_code="it")
    german = world.tg.user(first_name="Bert", language_code="de")
    group = world.tg.supergroup(-100_888, "Policy group")
    world.tg.set_admins(group["id"], [italian["id"]])

    world.tg.push_message(group, italian, "/subscribe ai-act")
    [reply] = await world.tg.wait_for_messages(1, chat_id=group["id"])
    assert reply.plain_text.startswith("Subscribed.")  # the group's language: the default
    row = await world.store.destination("telegram:-100888")
    assert row is not None and row.language == "en"  # not the first admin's Italian

    world.tg.push_message(group, italian, "/language it")
    world.tg.push_message(group, german, "/list")
    messages = await world.tg.wait_for_messages(3, chat_id=group["id"])
    assert messages[1].plain_text.startswith("Salvato.")
    assert messages[2].plain_text.startswith("Temi: EU AI Act.")  # the German member too


# --- Discord --------------------------------------------------------------------------------


@dataclass
class DiscordWorld:
    dc: FakeDiscord
    feeds: FeedServer
    service: Service
    bot: DiscordBot
    store: Store

    async def poll(self) -> None:
        for feed in self.service.config.feeds:
            await self.service.poll_job(feed.url)

    async def command(self, name: str, member: FakeMember, **options: Any) -> str:
        callback = await self.dc.dispatch_interaction(GUILD, NEWS, member, name, options)
        if callback.type == 4:
            return str(callback.data["content"])
        await self.dc.wait_for(lambda: bool(self.dc.followups(callback.interaction_id)))
        [followup] = self.dc.followups(callback.interaction_id)
        return str(followup["content"])


def admin(language: str) -> FakeMember:
    return FakeMember(
        1_160_000_000_000_000_010, f"admin-{language}", MANAGE_CHANNELS, locale=language
    )


def member(language: str) -> FakeMember:
    return FakeMember(1_160_000_000_000_000_011, f"member-{language}", locale=language)


@pytest.fixture
def discord_endpoints() -> Iterator[None]:
    """Our configuration sets discord.py's endpoints for the process; put them back after."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
async def discord_world(
    tmp_path: Path, request: pytest.FixtureRequest, discord_endpoints: None
) -> AsyncIterator[DiscordWorld]:
    language = getattr(request, "param", "it")
    async with FakeDiscord(tls=False) as dc, FeedServer() as feeds:
        # A server left at Discord's default preferred locale, as most are.
        dc.add_guild(
            GUILD,
            "Policy Lab",
            channels=[FakeChannel(NEWS, "news")],
            members=[admin(language), member(language)],
        )
        feeds.add("/news.xml", rss(["The AI Act applies", "Football results"]))
        path = config_file(
            tmp_path,
            database=tmp_path / "dc.db",
            settings={"max_stories": 300, "embedding": {"backend": "none"}},
            discord={"api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url},
            feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
            topics=TOPICS,
        )
        config = load_config(path, env={"DISCORD_BOT_TOKEN": dc.token})
        async with discord_service(config, dc, GUILD) as (service, bot, store):
            yield DiscordWorld(dc, feeds, service, bot, store)


NAMES = {
    "it": {"subscribe": "iscriviti", "list": "elenco", "timezone": "fuso-orario"},
    "fr": {"subscribe": "abonner", "list": "liste", "timezone": "fuseau-horaire"},
    "de": {"subscribe": "abonnieren", "list": "liste", "timezone": "zeitzone"},
}


@pytest.mark.parametrize("discord_world", LANGUAGES, indirect=True)
async def test_a_discord_members_whole_conversation_is_in_their_language(
    discord_world: DiscordWorld,
) -> None:
    world = discord_world
    language = world.dc.guilds[GUILD].members[0].locale
    boss, plain = admin(language), member(language)
    await world.poll()
    script: list[tuple[str, FakeMember, dict[str, str]]] = [
        ("list", plain, {}),
        ("digest", plain, {}),
        ("subscribe", plain, {"topic": "ai-act"}),  # no Manage Channels
        ("subscribe", boss, {"topic": "nonsense"}),
        ("subscribe", boss, {"topic": "ai-act"}),
        ("list", plain, {}),
        ("topics", plain, {}),
        ("schedule", boss, {"when": "07:30"}),
        ("schedule", boss, {"when": "25:99"}),
        ("timezone", boss, {"zone": "Mars/Base"}),
        ("unsubscribe", boss, {"topic": "all"}),
        # Choosing the channel's language last: from then on it answers everyone in it (see
        # test_a_channels_chosen_language_wins_over_its_members_own).
    ]
    replies = [await world.command(name, who, **options) for name, who, options in script]
    for text in replies:
        assert_in_language(text, language)
    # Commands mentioned by the names this member's Discord shows.
    assert replies[0].endswith(f"/{NAMES[language]['subscribe']}.")
    assert replies[4].startswith(SUBSCRIBED[language])
    # The channel's digests are in the server's language (Discord's default, English): the
    # member is told so in their own words.
    english = {"it": "in inglese.", "fr": "en anglais.", "de": "auf Englisch."}
    assert replies[4].endswith(english[language])
    [digest] = await world.dc.wait_for_messages(1, channel_id=NEWS)
    assert "1 story" in digest["content"]  # the channel's language, not the member's

    callback = await world.dc.dispatch_autocomplete(
        GUILD, NEWS, boss, "unsubscribe", {"topic": ""}, focused="topic"
    )
    everything = catalogues.gettext(language, wording.ALL_TOPICS_CHOICE)
    assert callback.data["choices"] == [{"name": everything, "value": "all"}]


async def test_discord_commands_carry_localizations(discord_world: DiscordWorld) -> None:
    synced = {c["name"]: c for c in discord_world.dc.commands[GUILD]}
    assert list(synced) == [name for name, _ in wording.DISCORD_COMMANDS]
    for name, about in wording.DISCORD_COMMANDS:
        command = synced[name]
        for language in LANGUAGES:
            assert command["name_localizations"][language] == catalogues.pgettext(
                language, "command name", name
            )
            assert command["description_localizations"][language] == catalogues.gettext(
                language, about
            )
        assert "en-US" not in (command.get("name_localizations") or {})  # the source text
    for language, names in NAMES.items():
        for name, localized in names.items():
            assert synced[name]["name_localizations"][language] == localized
    [zone] = synced["timezone"]["options"]
    assert zone["name"] == "zone" and zone["name_localizations"]["it"] == "fuso"
    assert zone["description_localizations"]["de"] == "Eine IANA-Zeitzone, z. B. Europe/Rome"
    [language_option] = synced["language"]["options"]
    assert [c["name"] for c in language_option["choices"]] == [
        "English",
        "italiano",
        "français",
        "Deutsch",
    ]


@pytest.mark.parametrize("discord_world", ["de"], indirect=True)
async def test_a_channels_chosen_language_wins_over_its_members_own(
    discord_world: DiscordWorld,
) -> None:
    world = discord_world
    boss = admin("de")
    french = FakeMember(1_160_000_000_000_000_013, "fr", locale="fr")
    world.dc.guilds[GUILD].members.append(french)
    await world.command("subscribe", boss, topic="mistral")
    # Not chosen yet (the server's locale started it): each member is answered in their own.
    assert (await world.command("list", french)).startswith("Sujets : Mistral AI.")
    assert (await world.command("list", boss)).startswith("Themen: Mistral AI.")

    saved = await world.command("language", boss, language="italiano")
    assert saved.startswith("Salvato.") and saved.endswith("in italiano.")
    row = await world.store.destination(f"discord:{NEWS}")
    assert row is not None and row.language == "it" and row.language_chosen
    # Chosen: everyone in the channel is answered in it, whatever their Discord speaks.
    for member in (boss, french):
        assert (await world.command("list", member)).startswith("Temi: Mistral AI.")
    spanish = FakeMember(1_160_000_000_000_000_012, "es", locale="es-ES")
    world.dc.guilds[GUILD].members.append(spanish)
    assert (await world.command("list", spanish)).startswith("Temi: Mistral AI.")
