"""The Discord bot's slash commands: their declarations, translations and handlers.

Each command is declared on the client's command tree (`add_commands`, with names,
descriptions and options translated by `CommandTranslator`) and handed over to
`CommandHandlers`, which checks the permission, calls `Subscriptions` and answers ephemerally.
They are apart from the client and transport wiring of `bots.discord_bot`, which builds the tree
with them and routes a failed command's error to `CommandHandlers.on_command_error`.
"""

from __future__ import annotations

import contextlib
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from functools import cache, partial

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bots.discord_bot_replies import (
    PLATFORM,
    Interaction,
    Replies,
    channel_id,
    channel_title,
    message_text,
    reply,
    server_language,
)
from policywire.chat import wording
from policywire.chat.locale import client_language
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message
from policywire.errors import CommandError
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.locale.catalogues import SOURCE_LANGUAGE, gettext, own_name, pgettext
from policywire.storage.store import DestinationRow

# The bot's one logger (the name its log lines have always had).
log = logging.getLogger("bots.discord_bot")

SendNow = Callable[[DestinationRow], Awaitable[int]]

COMMANDS = wording.DISCORD_COMMANDS  # (name, description key), in menu order


class CommandHandlers:
    """What each slash command does, once discord.py has parsed its options."""

    def __init__(self, replies: Replies, subscriptions: Subscriptions, send_now: SendNow) -> None:
        self.replies = replies
        self.subscriptions = subscriptions
        self.send_now = send_now

    async def subscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # may send a backfill
        row = await self.subscriptions.subscribe(
            PLATFORM,
            channel_id(interaction),
            [topic],
            title=channel_title(interaction),
            language=server_language(interaction),
        )
        subscribed = Message(wording.SUBSCRIBED, {"settings": self.replies.describe(row)})
        if not self.subscriptions.first_poll_pending(row):
            await self.replies.say(interaction, subscribed)
            return
        language = await self.replies.reply_language(interaction)
        later = Message(wording.FIRST_POLL_RUNNING)  # right after a start: its digest follows
        await reply(
            interaction, f"{message_text(subscribed, language)}\n{message_text(later, language)}"
        )

    async def unsubscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, channel_id(interaction), [topic])
        if not row.topics:
            await self.replies.say(interaction, Message(wording.UNSUBSCRIBED_ALL))
            return
        await self.replies.say(
            interaction, Message(wording.DONE, {"settings": self.replies.describe(row)})
        )

    async def show_topics(self, interaction: Interaction) -> None:
        lines = [f"`{t}` — {n}" for t, n in self.replies.names().items()]
        if not lines:
            await self.replies.say(interaction, Message(wording.NO_TOPICS_CONFIGURED))
            return
        await reply(interaction, "\n".join(lines))

    async def show_help(self, interaction: Interaction) -> None:
        """The commands by the names and descriptions Discord shows the asker."""
        language = await self.replies.reply_language(interaction)
        lines = [
            f"/{pgettext(language, wording.DISCORD_COMMAND_CONTEXT, name)} — "
            + message_text(Message(about), language)
            for name, about in COMMANDS
        ]
        lines.append("\n" + message_text(Message(wording.HELP_MANAGE_CHANNELS), language))
        await reply(interaction, "\n".join(lines))

    async def show_list(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await self.replies.say(interaction, Message(wording.CHANNEL_FOLLOWS_NOTHING))
            return
        await self.replies.say(interaction, self.replies.describe(row))

    async def post_digest(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await self.replies.say(interaction, Message(wording.NOTHING_TO_POST))
            return
        if self.subscriptions.wait_for_first_poll(row):  # right after a start: it follows
            await self.replies.say(interaction, Message(wording.FIRST_POLL_RUNNING))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.send_now(row)
        if count == 0:
            # "Since the last digest" only once there was one.
            nothing = wording.NOTHING_NEW_SINCE_LAST if row.last_digest_at else None
            await self.replies.say(interaction, Message(nothing or wording.NOTHING_YET_CHANNEL))
        else:
            await self.replies.say(interaction, Message(wording.POSTING, {"count": count}))

    async def setting(self, interaction: Interaction, what: str, value: str) -> None:
        if not await self._may_change(interaction):
            return
        setters: dict[str, Callable[[str, str, str], Awaitable[DestinationRow]]] = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": partial(
                self.subscriptions.set_timezone, language=server_language(interaction)
            ),
        }
        row = await setters[what](PLATFORM, channel_id(interaction), value)
        await self.replies.say(
            interaction, Message(wording.SAVED, {"settings": self.replies.describe(row)})
        )

    def topic_choices(self, current: str) -> list[app_commands.Choice[str]]:
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=f"{name} ({topic})"[:100], value=topic)
            for topic, name in self.replies.names().items()
            if needle in topic.casefold() or needle in name.casefold()
        ][:25]

    async def followed_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        row = await self.subscriptions.get(PLATFORM, channel_id(interaction))
        followed = row.topics if row is not None and row.active else ()
        names = self.replies.names()
        choices = [app_commands.Choice(name=names.get(t, t)[:100], value=t) for t in followed]
        language = self.replies.first_language(interaction, row)
        everything = message_text(Message(wording.ALL_TOPICS_CHOICE), language)
        choices.append(app_commands.Choice(name=everything, value="all"))
        needle = current.strip().casefold()
        return [c for c in choices if needle in c.name.casefold() or needle in c.value][:25]

    async def _may_change(self, interaction: Interaction) -> bool:
        """Only members with Manage Channels change a channel's digest (checked here too:
        server admins can override the commands' default permissions)."""
        if interaction.permissions.manage_channels:
            return True
        await self.replies.say(interaction, Message(wording.MANAGE_CHANNELS_NEEDED))
        return False

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """The adapter's one error handler: a CommandError is the reply; anything else is ours."""
        original = getattr(error, "original", error)
        if isinstance(original, CommandError):
            await self.replies.say(interaction, Message(original.key, original.arguments))
            return
        command = interaction.command.name if interaction.command else "?"
        log.error(
            "discord /%s failed (channel %s): %s",
            command,
            interaction.channel_id,
            original,
            exc_info=original,
        )
        sorry = message_text(
            Message(wording.FAILED_ON_OUR_SIDE), self.replies.first_language(interaction, None)
        )
        with contextlib.suppress(discord.HTTPException):  # no database read: it may be why
            await reply(interaction, sorry)


Choice = app_commands.Choice[str]


class CommandTranslator(app_commands.Translator):
    """Command and option names, descriptions: from our catalogues, for each Discord locale we
    speak (Discord shows the English source text to every other)."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = client_language(str(locale.value))
        if language is None or language == SOURCE_LANGUAGE:
            return None
        where = string.extras.get("context")
        if isinstance(where, str):
            return pgettext(language, where, string.message)
        return gettext(language, string.message)


def _name(command: str) -> locale_str:
    return locale_str(command, context=wording.DISCORD_COMMAND_CONTEXT)


def _option(name: str) -> locale_str:
    return locale_str(name, context=wording.DISCORD_OPTION_CONTEXT)


def _about(key: str) -> locale_str:
    return locale_str(key)


def _languages() -> list[Choice]:
    """Each language in its own words ("italiano"), as language pickers show them."""
    return [app_commands.Choice(name=own_name(code), value=code) for code in SUPPORTED_LANGUAGES]


def add_commands(tree: app_commands.CommandTree[discord.Client], bot: CommandHandlers) -> None:
    """The slash commands; each one parses its options and hands over to the handlers."""
    descriptions = {name: _about(key) for name, key in COMMANDS}
    _add_following_commands(tree, bot, descriptions)
    _add_setting_commands(tree, bot, descriptions)

    @tree.command(name=_name("help"), description=descriptions["help"])
    @app_commands.guild_only()
    async def help_(interaction: Interaction) -> None:
        await bot.show_help(interaction)


def _add_following_commands(
    tree: app_commands.CommandTree[discord.Client],
    bot: CommandHandlers,
    descriptions: dict[str, locale_str],
) -> None:
    """What a channel follows: subscribe, unsubscribe, the topics, the list, a digest now."""
    manage = app_commands.default_permissions(manage_channels=True)

    @tree.command(name=_name("subscribe"), description=descriptions["subscribe"])
    @app_commands.describe(topic=_about(wording.TOPIC_OPTION))
    @app_commands.rename(topic=_option("topic"))
    @app_commands.guild_only()
    @manage
    async def subscribe(interaction: Interaction, topic: str) -> None:
        await bot.subscribe(interaction, topic)

    @subscribe.autocomplete("topic")
    async def subscribe_topic(interaction: Interaction, current: str) -> list[Choice]:
        return bot.topic_choices(current)

    @tree.command(name=_name("unsubscribe"), description=descriptions["unsubscribe"])
    @app_commands.describe(topic=_about(wording.FOLLOWED_TOPIC_OPTION))
    @app_commands.rename(topic=_option("topic"))
    @app_commands.guild_only()
    @manage
    async def unsubscribe(interaction: Interaction, topic: str) -> None:
        await bot.unsubscribe(interaction, topic)

    @unsubscribe.autocomplete("topic")
    async def unsubscribe_topic(interaction: Interaction, current: str) -> list[Choice]:
        return await bot.followed_choices(interaction, current)

    @tree.command(name=_name("topics"), description=descriptions["topics"])
    @app_commands.guild_only()
    async def topics(interaction: Interaction) -> None:
        await bot.show_topics(interaction)

    @tree.command(name=_name("list"), description=descriptions["list"])
    @app_commands.guild_only()
    async def list_(interaction: Interaction) -> None:
        await bot.show_list(interaction)

    @tree.command(name=_name("digest"), description=descriptions["digest"])
    @app_commands.guild_only()
    async def digest(interaction: Interaction) -> None:
        await bot.post_digest(interaction)


def _add_setting_commands(
    tree: app_commands.CommandTree[discord.Client],
    bot: CommandHandlers,
    descriptions: dict[str, locale_str],
) -> None:
    """A channel's settings: its schedule, language and time zone."""
    manage = app_commands.default_permissions(manage_channels=True)

    @tree.command(name=_name("schedule"), description=descriptions["schedule"])
    @app_commands.describe(when=_about(wording.SCHEDULE_OPTION))
    @app_commands.rename(when=_option("when"))
    @app_commands.guild_only()
    @manage
    async def schedule(interaction: Interaction, when: str) -> None:
        await bot.setting(interaction, "schedule", when)

    @tree.command(name=_name("language"), description=descriptions["language"])
    @app_commands.describe(language=_about(wording.LANGUAGE_OPTION))
    @app_commands.rename(language=_option("language"))
    @app_commands.choices(language=_languages())
    @app_commands.guild_only()
    @manage
    async def language(interaction: Interaction, language: str) -> None:
        await bot.setting(interaction, "language", language)

    @tree.command(name=_name("timezone"), description=descriptions["timezone"])
    @app_commands.describe(zone=_about(wording.TIMEZONE_OPTION))
    @app_commands.rename(zone=_option("zone"))
    @app_commands.guild_only()
    @manage
    async def timezone(interaction: Interaction, zone: str) -> None:
        await bot.setting(interaction, "timezone", zone)

    @timezone.autocomplete("zone")
    async def timezone_zone(interaction: Interaction, current: str) -> list[Choice]:
        needle = current.strip().casefold()
        zones = [z for z in _time_zones() if needle in z.casefold()]
        return [app_commands.Choice(name=z, value=z) for z in zones[:25]]


@cache
def _time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))
