"""Discord: slash commands in server channels, and digest delivery as embeds (discord.py 2.x).

The client runs inside the service's event loop (`login` then a `connect` task; never
`client.run()`), with the minimal gateway intents (guilds only, no message content). Slash
commands are thin: check the permission, call `Subscriptions`, answer ephemerally; every
answer is a message of `policywire.chat.wording`, rendered in `_text`. Story cards
(docs/cards.md) are edited in place (no edit window on Discord), and their buttons are
component presses handled in `on_card_button` by custom id (`policywire.chat.feedback`).
The endpoints, payloads and error translation shared with the webhook transport live in
`bots.discord_common`.

This module is not called `discord.py`: a module named like the library would shadow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import cache, partial
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.app_commands import locale_str

from bots.discord_common import (
    buttons_view,
    configure_endpoints,
    gone_or_translated,
    message_arguments,
    translate,
)
from policywire.chat import wording
from policywire.chat.feedback import Feedback, Press, parse_press
from policywire.chat.locale import client_language, personal_language
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message, describe
from policywire.config.model import DiscordSettings
from policywire.deliver.sender import Pacing
from policywire.errors import CommandError, RetryLater, StartError
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.locale.catalogues import SOURCE_LANGUAGE, gettext, own_name, pgettext
from policywire.storage.store import DestinationRow

log = logging.getLogger(__name__)

PLATFORM = "discord"
# A 429 asking for longer than this surfaces as RateLimited (→ RetryLater) instead of a sleep.
MAX_RATELIMIT_WAIT = 60.0

SendNow = Callable[[DestinationRow], Awaitable[int]]
Interaction = discord.Interaction[discord.Client]

COMMANDS = wording.DISCORD_COMMANDS  # (name, description key), in menu order


def quiet_voice_warning() -> None:
    """We never use voice: skip discord.py's "PyNaCl/davey is not installed" warning."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


class DiscordBot:
    """The Discord adapter: slash commands in, `Transport.send` out."""

    platform = PLATFORM
    # Discord: about 5 messages per 5 s in one channel, 50 requests per second overall.
    pacing = Pacing(per_target_interval=1.0, group_interval=1.0, per_second=40)

    def __init__(
        self,
        token: str,
        settings: DiscordSettings,
        subscriptions: Subscriptions,
        send_now: SendNow,
        *,
        pacing: Pacing | None = None,
        guild_ready_timeout: float = 2.0,
        feedback: Feedback | None = None,
    ) -> None:
        self.token = token
        self.settings = settings
        self.subscriptions = subscriptions
        self.send_now = send_now
        self.feedback = feedback  # what story cards' buttons do (None: presses are ignored)
        self.pacing = pacing or DiscordBot.pacing
        configure_endpoints(settings.api_base_url, settings.gateway_url)
        quiet_voice_warning()
        self.guild_ready_timeout = guild_ready_timeout
        self.client, self.tree = self._new_client()
        self.synced: set[int | None] = set()  # guild ids (None: global) with our commands
        self.ready = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    def _new_client(self) -> tuple[_Client, _Tree]:
        intents = discord.Intents.none()
        intents.guilds = True
        client = _Client(
            self,
            intents=intents,
            guild_ready_timeout=self.guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        tree = _Tree(client)
        _add_commands(tree, self)
        return client, tree

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in over REST, then keep the gateway connection in a task of this loop."""
        if self.client.is_closed():
            # A restart by the supervisor: a closed client's HTTP connector is closed with it
            # (`Client.clear` keeps it), so a new client it is.
            self.client, self.tree = self._new_client()
            self.synced.clear()
            self.ready.clear()
        # Names, descriptions and options in each language we speak (the client's state holds
        # it, so a new client gets it again).
        await self.tree.set_translator(_Translator())
        try:
            await self.client.login(self.token)
        except discord.LoginFailure as exc:
            await self.client.close()
            raise StartError("Discord rejected the bot token") from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.client.close()
            raise StartError(f"Discord unreachable: {exc}") from exc
        self._runner = asyncio.create_task(self._connect(), name="discord-gateway")
        log.info("discord bot %s logged in", self.client.user)

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except Exception as exc:  # a bad intent or token ends the gateway, not the service
            reason = str(exc) or type(exc).__name__
            log.error("discord gateway stopped: %s; the bot is restarted", reason)

    async def stop(self) -> None:
        await self.client.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)

    async def wait_closed(self) -> None:
        """Return when the gateway connection ended by itself (the supervisor restarts us)."""
        if self._runner is not None:
            await asyncio.shield(self._runner)

    async def on_ready(self) -> None:
        if self.settings.sync == "global":
            await self._sync(None)
        else:  # servers whose GUILD_CREATE came too late for on_guild_available (none, mostly)
            for guild in self.client.guilds:
                await self._sync(guild)
        names = ", ".join(g.name for g in self.client.guilds) or "no server yet"
        log.info("discord bot %s ready in %s", self.client.user, names)
        self.ready.set()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Each server as it arrives (at start or when invited): its commands at once."""
        if self.settings.sync != "global":
            await self._sync(guild)

    async def _sync(self, guild: discord.Guild | None) -> None:
        """Register the slash commands in one guild (immediate) or globally (slow to appear)."""
        scope = None if guild is None else guild.id
        if scope in self.synced:
            return
        try:
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            where = f"server {guild.name} ({guild.id})" if guild else "globally"
            log.warning(
                "discord slash commands not registered %s: %s (was the bot invited with the "
                "applications.commands scope?)",
                where,
                exc.text or exc.status,
            )
            return
        self.synced.add(scope)

    async def on_channel_gone(self, channel_id: int, reason: str) -> None:
        if await self.subscriptions.deactivate(PLATFORM, str(channel_id), reason):
            log.info("discord:%s deactivated: %s", channel_id, reason)

    # --- sending (the Transport protocol) --------------------------------------------------

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        if self.client.is_closed():
            raise RetryLater("the Discord bot is stopping", after=30.0)
        channel = self.client.get_partial_messageable(int(target))
        extra: dict[str, Any] = {}
        view = buttons_view(payload)
        if view is not None:
            extra["view"] = view
        if payload.get("reply_to"):  # a card's "new on this story" reply, even if it is gone
            extra["reference"] = discord.MessageReference(
                message_id=int(payload["reply_to"]),
                channel_id=int(target),
                fail_if_not_exists=False,
            )
        try:
            message = await channel.send(**message_arguments(payload), **extra)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise translate(exc, f"channel {target}") from exc
        return str(message.id)

    # Discord lets a bot edit its messages at any age (the Edits protocol of deliver/sender.py).
    edit_window: timedelta | None = None

    async def edit(self, target: str, message_id: str, payload: Mapping[str, Any]) -> None:
        """A story card edited in place, its buttons too; MessageGone when it was deleted."""
        if self.client.is_closed():
            raise RetryLater("the Discord bot is stopping", after=30.0)
        channel = self.client.get_partial_messageable(int(target))
        message = channel.get_partial_message(int(message_id))
        try:
            await message.edit(**message_arguments(payload), view=buttons_view(payload))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise gone_or_translated(exc, f"channel {target}") from exc

    # --- story card buttons ----------------------------------------------------------------

    async def on_card_button(self, interaction: Interaction) -> None:
        """A card's button (chat/feedback.py): not relevant, wrong grouping, or the article
        picked after wrong grouping. The verdict holds for the channel, so only members with
        Manage Channels give one; every answer is ephemeral, in the presser's language."""
        data: Mapping[str, Any] = interaction.data or {}
        press = parse_press(str(data.get("custom_id", "")))
        if press is None or self.feedback is None or interaction.channel_id is None:
            return  # not one of ours (another view's button): discord.py's view store has it
        row = await self.feedback.destination(PLATFORM, [_channel_id(interaction)])
        language = self._first_language(interaction, row)
        if row is None or not row.active:
            await _reply(interaction, _text(Message(wording.CHANNEL_FOLLOWS_NOTHING), language))
            return
        if not interaction.permissions.manage_channels:
            await _reply(interaction, _text(Message(wording.MANAGE_CHANNELS_NEEDED), language))
            return
        await self._decide(interaction, row, press, language)

    async def _decide(
        self, interaction: Interaction, row: DestinationRow, press: Press, language: str
    ) -> None:
        assert self.feedback is not None
        reader = str(interaction.user.id)
        if press.action == "nr":
            answer = await self.feedback.not_relevant(row, press.story_id, reader, language)
            # Muted: the card's buttons are done (the card itself stays as it is).
            await interaction.response.edit_message(view=None)
            await _reply(interaction, answer)
            return
        if press.action == "wg":
            choices = await self.feedback.choices(row, press.story_id, language)
            if isinstance(choices, str):
                await _reply(interaction, choices)
                return
            # The articles to pick from, in an answer only the presser sees: the card keeps
            # its buttons for everyone else.
            view = discord.ui.View(timeout=None)
            for choice in choices[:25]:
                view.add_item(discord.ui.Button(label=choice.label[:80], custom_id=choice.data))
            view.stop()  # its presses come back to on_card_button by custom id
            await interaction.response.send_message(
                self.feedback.question(row, language)[:2000],
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        assert press.item_pk is not None
        answer = await self.feedback.wrong_grouping(
            row, press.story_id, press.item_pk, reader, language
        )
        await _reply(interaction, answer)

    # --- slash commands --------------------------------------------------------------------

    async def subscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # may send a backfill
        row = await self.subscriptions.subscribe(
            PLATFORM,
            _channel_id(interaction),
            [topic],
            title=_title(interaction),
            language=_server_language(interaction),
        )
        subscribed = Message(wording.SUBSCRIBED, {"settings": self._describe(row)})
        if not self.subscriptions.first_poll_pending(row):
            await self._say(interaction, subscribed)
            return
        language = await self._reply_language(interaction)
        later = Message(wording.FIRST_POLL_RUNNING)  # right after a start: its digest follows
        await _reply(interaction, f"{_text(subscribed, language)}\n{_text(later, language)}")

    async def unsubscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, _channel_id(interaction), [topic])
        if not row.topics:
            await self._say(interaction, Message(wording.UNSUBSCRIBED_ALL))
            return
        await self._say(interaction, Message(wording.DONE, {"settings": self._describe(row)}))

    async def show_topics(self, interaction: Interaction) -> None:
        lines = [f"`{t}` — {n}" for t, n in self._names().items()]
        if not lines:
            await self._say(interaction, Message(wording.NO_TOPICS_CONFIGURED))
            return
        await _reply(interaction, "\n".join(lines))

    async def show_help(self, interaction: Interaction) -> None:
        """The commands by the names and descriptions Discord shows the asker."""
        language = await self._reply_language(interaction)
        lines = [
            f"/{pgettext(language, wording.DISCORD_COMMAND_CONTEXT, name)} — "
            + _text(Message(about), language)
            for name, about in COMMANDS
        ]
        lines.append("\n" + _text(Message(wording.HELP_MANAGE_CHANNELS), language))
        await _reply(interaction, "\n".join(lines))

    async def show_list(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await self._say(interaction, Message(wording.CHANNEL_FOLLOWS_NOTHING))
            return
        await self._say(interaction, self._describe(row))

    async def post_digest(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await self._say(interaction, Message(wording.NOTHING_TO_POST))
            return
        if self.subscriptions.wait_for_first_poll(row):  # right after a start: it follows
            await self._say(interaction, Message(wording.FIRST_POLL_RUNNING))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.send_now(row)
        if count == 0:
            # "Since the last digest" only once there was one.
            nothing = wording.NOTHING_NEW_SINCE_LAST if row.last_digest_at else None
            await self._say(interaction, Message(nothing or wording.NOTHING_YET_CHANNEL))
        else:
            await self._say(interaction, Message(wording.POSTING, {"count": count}))

    async def setting(self, interaction: Interaction, what: str, value: str) -> None:
        if not await self._may_change(interaction):
            return
        setters: dict[str, Callable[[str, str, str], Awaitable[DestinationRow]]] = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": partial(
                self.subscriptions.set_timezone, language=_server_language(interaction)
            ),
        }
        row = await setters[what](PLATFORM, _channel_id(interaction), value)
        await self._say(interaction, Message(wording.SAVED, {"settings": self._describe(row)}))

    def topic_choices(self, current: str) -> list[app_commands.Choice[str]]:
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=f"{name} ({topic})"[:100], value=topic)
            for topic, name in self._names().items()
            if needle in topic.casefold() or needle in name.casefold()
        ][:25]

    async def followed_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        followed = row.topics if row is not None and row.active else ()
        names = self._names()
        choices = [app_commands.Choice(name=names.get(t, t)[:100], value=t) for t in followed]
        language = self._first_language(interaction, row)
        everything = _text(Message(wording.ALL_TOPICS_CHOICE), language)
        choices.append(app_commands.Choice(name=everything, value="all"))
        needle = current.strip().casefold()
        return [c for c in choices if needle in c.name.casefold() or needle in c.value][:25]

    async def _may_change(self, interaction: Interaction) -> bool:
        """Only members with Manage Channels change a channel's digest (checked here too:
        server admins can override the commands' default permissions)."""
        if interaction.permissions.manage_channels:
            return True
        await self._say(interaction, Message(wording.MANAGE_CHANNELS_NEEDED))
        return False

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """The adapter's one error handler: a CommandError is the reply; anything else is ours."""
        original = getattr(error, "original", error)
        if isinstance(original, CommandError):
            await self._say(interaction, Message(original.key, original.arguments))
            return
        command = interaction.command.name if interaction.command else "?"
        log.error(
            "discord /%s failed (channel %s): %s",
            command,
            interaction.channel_id,
            original,
            exc_info=original,
        )
        sorry = _text(Message(wording.FAILED_ON_OUR_SIDE), self._first_language(interaction, None))
        with contextlib.suppress(discord.HTTPException):  # no database read: it may be why
            await _reply(interaction, sorry)

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    def _describe(self, row: DestinationRow) -> Message:
        return describe(row, self._names())

    async def _reply_language(self, interaction: Interaction) -> str:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        return self._first_language(interaction, row)

    def _first_language(self, interaction: Interaction, row: DestinationRow | None) -> str:
        """Answers are ephemeral, seen by the asker only: the asker's Discord language, else the
        channel's, else the server's, else the configured default (`policywire.chat.locale`)."""
        setting = row.language if row is not None else _server_language(interaction)
        default = self.subscriptions.defaults().language
        return personal_language(str(interaction.locale.value), setting, default)

    async def _say(self, interaction: Interaction, message: Message) -> None:
        await _reply(interaction, _text(message, await self._reply_language(interaction)))


class _Client(discord.Client):
    """discord.Client whose events go to the adapter."""

    def __init__(self, bot: DiscordBot, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = bot

    async def on_ready(self) -> None:
        await self.adapter.on_ready()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.adapter.on_guild_available(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.adapter.on_guild_available(guild)

    async def on_interaction(self, interaction: Interaction) -> None:
        # Slash commands are the tree's; button presses on story cards are ours.
        if interaction.type is not discord.InteractionType.component:
            return
        try:
            await self.adapter.on_card_button(interaction)
        except Exception as exc:  # a press must get an answer, whatever went wrong
            await self.adapter.on_command_error(interaction, exc)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.adapter.on_channel_gone(channel.id, "channel deleted")

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        for channel in guild.channels:
            await self.adapter.on_channel_gone(channel.id, "bot removed from the server")


class _Tree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        client = self.client
        assert isinstance(client, _Client)
        await client.adapter.on_command_error(interaction, error)


Choice = app_commands.Choice[str]


class _Translator(app_commands.Translator):
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


def _add_commands(tree: app_commands.CommandTree[discord.Client], bot: DiscordBot) -> None:
    """The slash commands; each one parses its options and hands over to the adapter."""
    descriptions = {name: _about(key) for name, key in COMMANDS}
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

    @tree.command(name=_name("help"), description=descriptions["help"])
    @app_commands.guild_only()
    async def help_(interaction: Interaction) -> None:
        await bot.show_help(interaction)

    @timezone.autocomplete("zone")
    async def timezone_zone(interaction: Interaction, current: str) -> list[Choice]:
        needle = current.strip().casefold()
        zones = [z for z in _time_zones() if needle in z.casefold()]
        return [app_commands.Choice(name=z, value=z) for z in zones[:25]]


@cache
def _time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


# --- helpers ---------------------------------------------------------------------------------


# A command as replies write it ("/subscribe", as on Telegram), not inside a path like
# "Europe/list".
_MENTION = re.compile(r"(?<![\w/])/(" + "|".join(wording.DISCORD_COMMAND_NAMES) + r")\b")


def _text(message: Message, language: str) -> str:
    """A message in `language`, its command mentions in the names Discord shows in it."""
    return _MENTION.sub(
        lambda found: "/" + pgettext(language, wording.DISCORD_COMMAND_CONTEXT, found[1]),
        message.text(language),
    )


async def _reply(interaction: Interaction, text: str) -> None:
    """An ephemeral answer, as the first response or as a follow-up after a defer."""
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text[:2000], ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(
            text[:2000], ephemeral=True, allowed_mentions=mentions
        )


def _channel_id(interaction: Interaction) -> str:
    assert interaction.channel_id is not None
    return str(interaction.channel_id)


def _title(interaction: Interaction) -> str:
    channel = getattr(interaction.channel, "name", None) or str(interaction.channel_id)
    guild = interaction.guild.name if interaction.guild is not None else ""
    return f"#{channel} ({guild})" if guild else f"#{channel}"


def _server_language(interaction: Interaction) -> str | None:
    """The server's preferred locale, when we speak it: a new channel's digests start in it."""
    locale = interaction.guild_locale
    return client_language(str(locale.value)) if locale is not None else None
