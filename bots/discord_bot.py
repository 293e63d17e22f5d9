"""Discord: slash commands in server channels, and digest delivery as embeds (discord.py 2.x).

The client runs inside the service's event loop (`login` then a `connect` task; never
`client.run()`), with the minimal gateway intents (guilds only, no message content). Slash
commands are thin: check the permission, call `Subscriptions`, answer ephemerally; every
answer is a message of `policywire.chat.wording`, rendered in `_text`. The endpoints, payloads
and error translation shared with the webhook transport live in `bots.discord_common`.

This module is not called `discord.py`: a module named like the library would shadow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bots.discord_common import configure_endpoints, message_arguments, translate
from policywire.chat import wording
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message, describe
from policywire.config.model import DiscordSettings
from policywire.deliver.sender import Pacing
from policywire.errors import CommandError, RetryLater, StartError
from policywire.languages import SUPPORTED_LANGUAGES
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
    ) -> None:
        self.token = token
        self.settings = settings
        self.subscriptions = subscriptions
        self.send_now = send_now
        self.pacing = pacing or DiscordBot.pacing
        configure_endpoints(settings.api_base_url, settings.gateway_url)
        quiet_voice_warning()
        intents = discord.Intents.none()
        intents.guilds = True
        self.client = _Client(
            self,
            intents=intents,
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.tree = _Tree(self.client)
        _add_commands(self.tree, self)
        self.synced: set[int | None] = set()  # guild ids (None: global) with our commands
        self.ready = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in over REST, then keep the gateway connection in a task of this loop."""
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
        except Exception:  # a bad intent or token ends the gateway, not the service
            log.exception("discord gateway stopped; messages are still sent over REST")

    async def stop(self) -> None:
        await self.client.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)

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
        try:
            message = await channel.send(**message_arguments(payload))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise translate(exc, f"channel {target}") from exc
        return str(message.id)

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
            language=_guild_language(interaction),
        )
        await _say(interaction, Message(wording.SUBSCRIBED, {"settings": self._describe(row)}))

    async def unsubscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, _channel_id(interaction), [topic])
        if not row.topics:
            await _say(interaction, Message(wording.UNSUBSCRIBED_ALL))
            return
        await _say(interaction, Message(wording.DONE, {"settings": self._describe(row)}))

    async def show_topics(self, interaction: Interaction) -> None:
        lines = [f"`{t}` — {n}" for t, n in self._names().items()]
        await _reply(interaction, "\n".join(lines) or _text(Message(wording.NO_TOPICS_CONFIGURED)))

    async def show_list(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await _say(interaction, Message(wording.CHANNEL_FOLLOWS_NOTHING))
            return
        await _say(interaction, self._describe(row))

    async def post_digest(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await _say(interaction, Message(wording.NOTHING_TO_POST))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.send_now(row)
        if count == 0:
            await _say(interaction, Message(wording.NOTHING_NEW_SINCE_LAST))
        else:
            await _say(interaction, Message(wording.POSTING, {"count": count}))

    async def setting(self, interaction: Interaction, what: str, value: str) -> None:
        if not await self._may_change(interaction):
            return
        setters = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": self.subscriptions.set_timezone,
        }
        row = await setters[what](PLATFORM, _channel_id(interaction), value)
        await _say(interaction, Message(wording.SAVED, {"settings": self._describe(row)}))

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
        choices.append(
            app_commands.Choice(name=_text(Message(wording.ALL_TOPICS_CHOICE)), value="all")
        )
        needle = current.strip().casefold()
        return [c for c in choices if needle in c.name.casefold() or needle in c.value][:25]

    async def _may_change(self, interaction: Interaction) -> bool:
        """Only members with Manage Channels change a channel's digest (checked here too:
        server admins can override the commands' default permissions)."""
        if interaction.permissions.manage_channels:
            return True
        await _say(interaction, Message(wording.MANAGE_CHANNELS_NEEDED))
        return False

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """The adapter's one error handler: a CommandError is the reply; anything else is ours."""
        original = getattr(error, "original", error)
        if isinstance(original, CommandError):
            await _say(interaction, Message(original.key, original.arguments))
            return
        command = interaction.command.name if interaction.command else "?"
        log.error(
            "discord /%s failed (channel %s): %s",
            command,
            interaction.channel_id,
            original,
            exc_info=original,
        )
        with contextlib.suppress(discord.HTTPException):
            await _say(interaction, Message(wording.FAILED_ON_OUR_SIDE))

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    def _describe(self, row: DestinationRow) -> Message:
        return describe(row, self._names())


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
_LANGUAGES = [app_commands.Choice(name=code, value=code) for code in SUPPORTED_LANGUAGES]


def _add_commands(tree: app_commands.CommandTree[discord.Client], bot: DiscordBot) -> None:
    """The slash commands; each one parses its options and hands over to the adapter."""
    descriptions = {name: _text(Message(key)) for name, key in COMMANDS}
    manage = app_commands.default_permissions(manage_channels=True)

    @tree.command(name="subscribe", description=descriptions["subscribe"])
    @app_commands.describe(topic=_text(Message(wording.TOPIC_OPTION)))
    @app_commands.guild_only()
    @manage
    async def subscribe(interaction: Interaction, topic: str) -> None:
        await bot.subscribe(interaction, topic)

    @subscribe.autocomplete("topic")
    async def subscribe_topic(interaction: Interaction, current: str) -> list[Choice]:
        return bot.topic_choices(current)

    @tree.command(name="unsubscribe", description=descriptions["unsubscribe"])
    @app_commands.describe(topic=_text(Message(wording.FOLLOWED_TOPIC_OPTION)))
    @app_commands.guild_only()
    @manage
    async def unsubscribe(interaction: Interaction, topic: str) -> None:
        await bot.unsubscribe(interaction, topic)

    @unsubscribe.autocomplete("topic")
    async def unsubscribe_topic(interaction: Interaction, current: str) -> list[Choice]:
        return await bot.followed_choices(interaction, current)

    @tree.command(name="topics", description=descriptions["topics"])
    @app_commands.guild_only()
    async def topics(interaction: Interaction) -> None:
        await bot.show_topics(interaction)

    @tree.command(name="list", description=descriptions["list"])
    @app_commands.guild_only()
    async def list_(interaction: Interaction) -> None:
        await bot.show_list(interaction)

    @tree.command(name="digest", description=descriptions["digest"])
    @app_commands.guild_only()
    async def digest(interaction: Interaction) -> None:
        await bot.post_digest(interaction)

    @tree.command(name="schedule", description=descriptions["schedule"])
    @app_commands.describe(when=_text(Message(wording.SCHEDULE_OPTION)))
    @app_commands.guild_only()
    @manage
    async def schedule(interaction: Interaction, when: str) -> None:
        await bot.setting(interaction, "schedule", when)

    @tree.command(name="language", description=descriptions["language"])
    @app_commands.describe(language=_text(Message(wording.LANGUAGE_OPTION)))
    @app_commands.choices(language=_LANGUAGES)
    @app_commands.guild_only()
    @manage
    async def language(interaction: Interaction, language: str) -> None:
        await bot.setting(interaction, "language", language)

    @tree.command(name="timezone", description=descriptions["timezone"])
    @app_commands.describe(zone=_text(Message(wording.TIMEZONE_OPTION)))
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


# --- helpers ---------------------------------------------------------------------------------


def _text(message: Message) -> str:
    """A message as this adapter says it: rendered in the source language until issue 14."""
    return message.text(wording.SOURCE_LANGUAGE)


async def _say(interaction: Interaction, message: Message) -> None:
    await _reply(interaction, _text(message))


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


def _guild_language(interaction: Interaction) -> str | None:
    locale = interaction.guild_locale
    code = str(locale.value)[:2].lower() if locale is not None else ""
    return code if code in SUPPORTED_LANGUAGES else None
