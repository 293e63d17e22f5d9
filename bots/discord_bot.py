"""Discord: slash commands in server channels, and digest delivery as embeds (discord.py 2.x).

The client runs inside the service's event loop (`login` then a `connect` task; never
`client.run()`), with the minimal gateway intents (guilds only, no message content). Slash
commands are thin: check the permission, call `Subscriptions`, answer ephemerally.

Endpoints: discord.py talks to `https://discord.com/api/v10` and `wss://gateway.discord.gg/`
through two class attributes, `discord.http.Route.BASE` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`. When `settings.discord.api_base_url` or
`gateway_url` differ from those defaults (a REST rate-limit proxy, a gateway proxy, a test
server), `configure_endpoints` sets them once at start; they apply to the whole process, which
runs one Discord bot and the webhook transport, both meant to use the same endpoints.

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
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from policywire.chat.subscriptions import Subscriptions
from policywire.config.model import DiscordSettings
from policywire.deliver.i18n import SUPPORTED_LANGUAGES
from policywire.deliver.sender import Pacing
from policywire.errors import (
    CommandError,
    DeliveryError,
    Rejected,
    RetryLater,
    StartError,
    TargetFailing,
    TargetGone,
)
from policywire.storage.store import DestinationRow

log = logging.getLogger(__name__)

PLATFORM = "discord"
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# Missing permissions are fixed by a person: check again every 15 minutes, never give up.
PERMISSION_RETRY = 15 * 60.0
# A 429 asking for longer than this surfaces as RateLimited (→ RetryLater) instead of a sleep.
MAX_RATELIMIT_WAIT = 60.0
UNKNOWN_CHANNEL, UNKNOWN_WEBHOOK = 10003, 10015
GRANT = "grant the bot View Channel, Send Messages and Embed Links there"
MANAGE_CHANNELS_NEEDED = "You need the Manage Channels permission to change this channel's digest."

SendNow = Callable[[DestinationRow], Awaitable[int]]
Interaction = discord.Interaction[discord.Client]

COMMANDS: tuple[tuple[str, str], ...] = (
    ("subscribe", "Follow a topic in this channel"),
    ("unsubscribe", "Stop a topic in this channel, or all of them"),
    ("topics", "All topics this bot can follow"),
    ("list", "This channel's topics, schedule, time zone and language"),
    ("digest", "Post this channel's digest now"),
    ("schedule", "When digests are posted: HH:MM, a cron line, or instant"),
    ("language", "Digest language"),
    ("timezone", "Time zone of the schedule, e.g. Europe/Rome"),
)
CHANGING = frozenset({"subscribe", "unsubscribe", "schedule", "language", "timezone"})


def configure_endpoints(api_base_url: str, gateway_url: str) -> None:
    """Point discord.py at the configured REST base and gateway, when they are not Discord's."""
    api = api_base_url.rstrip("/")
    if api != DEFAULT_API_BASE_URL and api != Route.BASE:
        Route.BASE = api
        log.info("discord REST API at %s", api)
    gateway = yarl.URL(gateway_url)
    default_gateway = yarl.URL(DEFAULT_GATEWAY_URL)
    if gateway != default_gateway and gateway != DiscordWebSocket.DEFAULT_GATEWAY:
        DiscordWebSocket.DEFAULT_GATEWAY = gateway
        log.info("discord gateway at %s", gateway)


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
        await _reply(interaction, f"Subscribed. {describe(row, self._names())}")

    async def unsubscribe(self, interaction: Interaction, topic: str) -> None:
        if not await self._may_change(interaction):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, _channel_id(interaction), [topic])
        if not row.topics:
            await _reply(interaction, "Unsubscribed from everything. /subscribe to come back.")
            return
        await _reply(interaction, f"Done. {describe(row, self._names())}")

    async def show_topics(self, interaction: Interaction) -> None:
        lines = [f"`{t}` — {n}" for t, n in self._names().items()]
        await _reply(interaction, "\n".join(lines) or "No topics are configured.")

    async def show_list(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await _reply(interaction, "This channel follows no topic yet. Try /subscribe.")
            return
        await _reply(interaction, describe(row, self._names()))

    async def post_digest(self, interaction: Interaction) -> None:
        row = await self.subscriptions.get(PLATFORM, _channel_id(interaction))
        if row is None or not row.active or not row.topics:
            await _reply(interaction, "Nothing to post yet: /subscribe to a topic first.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.send_now(row)
        if count == 0:
            await _reply(interaction, "Nothing new since the last digest.")
        else:
            await _reply(interaction, f"Posting {count} stories here now.")

    async def setting(self, interaction: Interaction, what: str, value: str) -> None:
        if not await self._may_change(interaction):
            return
        setters = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": self.subscriptions.set_timezone,
        }
        row = await setters[what](PLATFORM, _channel_id(interaction), value)
        await _reply(interaction, f"Saved. {describe(row, self._names())}")

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
        choices.append(app_commands.Choice(name="all", value="all"))
        needle = current.strip().casefold()
        return [c for c in choices if needle in c.name.casefold() or needle in c.value][:25]

    async def _may_change(self, interaction: Interaction) -> bool:
        """Only members with Manage Channels change a channel's digest (checked here too:
        server admins can override the commands' default permissions)."""
        if interaction.permissions.manage_channels:
            return True
        await _reply(interaction, MANAGE_CHANNELS_NEEDED)
        return False

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """The adapter's one error handler: a CommandError is the reply; anything else is ours."""
        original = getattr(error, "original", error)
        if isinstance(original, CommandError):
            await _reply(interaction, str(original))
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
            await _reply(interaction, "Sorry, that failed on our side; the operator can see why.")

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics


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
    descriptions = dict(COMMANDS)
    manage = app_commands.default_permissions(manage_channels=True)

    @tree.command(name="subscribe", description=descriptions["subscribe"])
    @app_commands.describe(topic="A topic id or name")
    @app_commands.guild_only()
    @manage
    async def subscribe(interaction: Interaction, topic: str) -> None:
        await bot.subscribe(interaction, topic)

    @subscribe.autocomplete("topic")
    async def subscribe_topic(interaction: Interaction, current: str) -> list[Choice]:
        return bot.topic_choices(current)

    @tree.command(name="unsubscribe", description=descriptions["unsubscribe"])
    @app_commands.describe(topic="A topic id or name, or all")
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
    @app_commands.describe(when="HH:MM (daily), a cron line like '0 8 * * 1-5', or instant")
    @app_commands.guild_only()
    @manage
    async def schedule(interaction: Interaction, when: str) -> None:
        await bot.setting(interaction, "schedule", when)

    @tree.command(name="language", description=descriptions["language"])
    @app_commands.describe(language="The digests' language")
    @app_commands.choices(language=_LANGUAGES)
    @app_commands.guild_only()
    @manage
    async def language(interaction: Interaction, language: str) -> None:
        await bot.setting(interaction, "language", language)

    @tree.command(name="timezone", description=descriptions["timezone"])
    @app_commands.describe(zone="An IANA time zone, e.g. Europe/Rome")
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


# --- payloads and errors ---------------------------------------------------------------------


def message_arguments(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered payload as discord.py send() arguments; mentions never ping, whatever it says."""
    return {
        "content": payload.get("content") or None,
        "embeds": [discord.Embed.from_dict(e) for e in payload.get("embeds") or ()],
        "allowed_mentions": discord.AllowedMentions.none(),
    }


def translate(exc: BaseException, where: str) -> DeliveryError:
    """discord.py's errors → the delivery policy's (wait, stop, retry, give up)."""
    if isinstance(exc, discord.RateLimited):
        return RetryLater(f"Discord rate limit on {where}", after=exc.retry_after)
    if isinstance(exc, discord.Forbidden):
        return TargetFailing(
            f"no permission to post in {where} (Discord {exc.code}: {exc.text}); {GRANT}",
            after=PERMISSION_RETRY,
        )
    if isinstance(exc, discord.NotFound):
        if exc.code in (UNKNOWN_CHANNEL, UNKNOWN_WEBHOOK):
            return TargetGone(f"Discord: {where} does not exist ({exc.code} {exc.text})")
        return RetryLater(f"Discord answered 404 for {where}: {exc.text or 'no such route'}")
    if isinstance(exc, discord.DiscordServerError):
        return RetryLater(f"Discord server error {exc.status} for {where}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RetryLater(f"Discord refused {where} for now (429)", after=60.0)
        if exc.status == 401:
            return RetryLater("Discord rejected the bot token", after=300.0)
        return Rejected(f"Discord refused the message for {where}: {exc.status} {exc.text}")
    return RetryLater(f"Discord unreachable for {where}: {exc or type(exc).__name__}")


# --- helpers ---------------------------------------------------------------------------------


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


def describe(row: DestinationRow, names: Mapping[str, str]) -> str:
    topics = ", ".join(names.get(t, t) for t in row.topics) or "none"
    schedule = "as soon as news arrives" if row.schedule == "instant" else f"at {row.schedule}"
    return f"Topics: {topics}. Digest {schedule} ({row.timezone}), in {row.language}."
