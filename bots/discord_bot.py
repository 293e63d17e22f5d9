"""Discord: slash commands in server channels, and digest delivery as embeds (discord.py 2.x).

The client runs inside the service's event loop (`login` then a `connect` task; never
`client.run()`), with the minimal gateway intents (guilds only, no message content). Slash
commands are thin: check the permission, call `Subscriptions`, answer ephemerally; every
answer is a message of `policywire.chat.wording`, rendered in `message_text`. Story cards
(docs/cards.md) are edited in place (no edit window on Discord), and their buttons are
component presses handled in `on_card_button` by custom id (`policywire.chat.feedback`).
The endpoints, payloads and error translation shared with the webhook transport live in
`bots.discord_common`.

This module holds the client and transport wiring: the lifecycle, command registration with
Discord, and sending and editing messages. What the commands do is in
`bots.discord_bot_commands`, what the card buttons do in `bots.discord_bot_buttons`, and how
both answer in `bots.discord_bot_replies`.

Sharding: with `settings.discord.shard_count`, or with several workers on one database, the
client is discord.py's AutoShardedClient running `shard_ids` (None: all of them). Workers
change a bot's shards (`set_shards`, from coordination/shards.py); the bot then replaces its
client with one for the new shards, and meanwhile sends over REST as before.

This module is not called `discord.py`: a module named like the library would shadow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bots.discord_bot_buttons import CardButtons
from bots.discord_bot_commands import COMMANDS as COMMANDS
from bots.discord_bot_commands import CommandHandlers, CommandTranslator, SendNow, add_commands
from bots.discord_bot_replies import PLATFORM as PLATFORM
from bots.discord_bot_replies import Interaction, Replies
from bots.discord_common import (
    buttons_view,
    configure_endpoints,
    gone_or_translated,
    message_arguments,
    translate,
)
from policywire.chat.feedback import Feedback
from policywire.chat.subscriptions import Subscriptions
from policywire.config.model import DiscordSettings
from policywire.deliver.sender import Pacing
from policywire.errors import RetryLater, StartError

log = logging.getLogger(__name__)

# A 429 asking for longer than this surfaces as RateLimited (→ RetryLater) instead of a sleep.
MAX_RATELIMIT_WAIT = 60.0
# How long `stop` lets the gateway end by itself before cancelling it.
STOP_WAIT = 5.0
# How long to let each shard still connecting finish before closing (5 s apart on Discord).
SHARD_CONNECT_WAIT = 6.0


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
        shard_ids: tuple[int, ...] | None = None,
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
        # None: every shard (or no sharding); a tuple: exactly these ((): REST only, no gateway).
        self.shard_ids = shard_ids
        self.running_shards = shard_ids
        self._reshard = asyncio.Event()
        self._stopping = False
        replies = Replies(subscriptions)
        self.commands = CommandHandlers(replies, subscriptions, send_now)  # the slash commands
        self.buttons = CardButtons(replies, feedback)  # story cards' buttons
        self.client, self.tree = self._new_client()
        self.synced: set[int | None] = set()  # guild ids (None: global) with our commands
        self.ready = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    def _new_client(self) -> tuple[_Events, _Tree]:
        intents = discord.Intents.none()
        intents.guilds = True
        options: dict[str, Any] = {
            "intents": intents,
            "guild_ready_timeout": self.guild_ready_timeout,
            "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
        }
        client: _Events
        self.running_shards = self.shard_ids  # what this client runs (`shard_ids` may move on)
        if self.settings.shard_count is None and self.shard_ids is None:
            client = _Client(self, **options)
        else:
            shards = None if self.shard_ids is None else list(self.shard_ids)
            count = self.settings.shard_count or 1
            client = _ShardedClient(self, shard_count=count, shard_ids=shards, **options)
        tree = _Tree(client)
        add_commands(tree, self.commands)
        return client, tree

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in over REST, then keep the gateway connection in a task of this loop."""
        if self.client.is_closed():
            # A restart by the supervisor: a closed client's HTTP connector is closed with it
            # (`Client.clear` keeps it), so a new client it is.
            self._replace_client()
        self._stopping = False
        await self._login()
        self._runner = asyncio.create_task(self._connect(), name="discord-gateway")
        log.info("discord bot %s logged in", self.client.user)

    def _replace_client(self) -> None:
        self.client, self.tree = self._new_client()
        self.synced.clear()
        self.ready.clear()

    async def _login(self) -> None:
        # Names, descriptions and options in each language we speak (the client's state holds
        # it, so a new client gets it again).
        await self.tree.set_translator(CommandTranslator())
        try:
            await self.client.login(self.token)
        except discord.LoginFailure as exc:
            await self.client.close()
            raise StartError("Discord rejected the bot token") from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.client.close()
            raise StartError(f"Discord unreachable: {exc}") from exc

    async def _connect(self) -> None:
        """The gateway for this bot's shards, again for new shards when `set_shards` asks;
        returns when the gateway ended by itself or the bot stops."""
        while not self.client.is_closed():
            self._reshard.clear()
            reshard = asyncio.ensure_future(self._reshard.wait())
            runs = self.running_shards != ()
            gateway = asyncio.ensure_future(self._gateway()) if runs else None
            await asyncio.wait(
                {reshard, *([gateway] if gateway else [])}, return_when="FIRST_COMPLETED"
            )
            reshard.cancel()
            if not self._reshard.is_set() or self.client.is_closed():
                return
            await self._end_gateway(gateway)
            if self._stopping:
                return
            self._replace_client()
            try:
                await self._login()
            except StartError as exc:
                log.error("discord bot could not change shards: %s; the bot is restarted", exc)
                return

    async def _end_gateway(self, gateway: asyncio.Future[None] | None) -> None:
        """Close the client and end its connections, once its shards are up: discord.py keeps
        retrying a shard still connecting on a closed client, and a connection cancelled
        halfway leaves its heartbeat thread behind. Cancelled all the same after a while."""
        if gateway is None:
            await self.client.close()
            return
        await self._let_shards_connect()
        await self.client.close()
        done, _ = await asyncio.wait({gateway}, timeout=STOP_WAIT)
        if not done:
            log.debug("discord shards change: the old gateway did not end; cancelled")
            gateway.cancel()
        await asyncio.gather(gateway, return_exceptions=True)

    async def _let_shards_connect(self) -> None:
        """Wait (a while) for shards still connecting, which Discord allows one per 5 s."""
        if self.ready.is_set() or self._runner is None or self._runner.done():
            return
        if self.running_shards == ():  # no gateway at all
            return
        if self.settings.shard_count is None and self.running_shards is None:
            return  # one unsharded connection: closing it mid-way is clean
        shards = len(self.running_shards or range(self.settings.shard_count or 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.ready.wait()), SHARD_CONNECT_WAIT * shards)

    async def _gateway(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except Exception as exc:  # a bad intent or token ends the gateway, not the service
            reason = str(exc) or type(exc).__name__
            log.error("discord gateway stopped: %s; the bot is restarted", reason)

    async def set_shards(self, shard_ids: tuple[int, ...]) -> None:
        """Run exactly these gateway shards from now on (the worker's share, coordination/)."""
        if shard_ids == self.shard_ids:
            return
        self.shard_ids = shard_ids
        if self._runner is not None and not self._runner.done():
            self._reshard.set()

    async def stop(self) -> None:
        self._stopping = True  # no new client from here on (`_connect` may be changing shards)
        await self._let_shards_connect()
        await self.client.close()
        self._reshard.set()  # wakes a bot that runs no shard
        if self._runner is not None:
            done, _ = await asyncio.wait({self._runner}, timeout=STOP_WAIT)
            if not done:  # a shard stuck in discord.py's connect-retry loop (see _end_gateway)
                self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await self.client.close()  # the client `_connect` made while this stop began, if any

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

    # --- interactions: story card buttons, slash command errors ---------------------------

    async def on_card_button(self, interaction: Interaction) -> None:
        """A press on a story card's button (`bots.discord_bot_buttons`)."""
        await self.buttons.on_card_button(interaction)

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """A slash command or button press that failed (`bots.discord_bot_commands`)."""
        await self.commands.on_command_error(interaction, error)


class _Events(discord.Client):
    """A discord.py client whose events go to the adapter."""

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


class _Client(_Events):
    """One gateway connection, no sharding (one instance without `shard_count`)."""


class _ShardedClient(_Events, discord.AutoShardedClient):
    """The shards in `shard_ids` (all of `shard_count` when None) over one login."""


class _Tree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        client = self.client
        assert isinstance(client, _Events)
        await client.adapter.on_command_error(interaction, error)
