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

This module is not called `discord.py`: a module named like the library would shadow it.
"""

from __future__ import annotations

import asyncio
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
        replies = Replies(subscriptions)
        self.commands = CommandHandlers(replies, subscriptions, send_now)  # the slash commands
        self.buttons = CardButtons(replies, feedback)  # story cards' buttons
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
        add_commands(tree, self.commands)
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
        await self.tree.set_translator(CommandTranslator())
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

    # --- interactions: story card buttons, slash command errors ---------------------------

    async def on_card_button(self, interaction: Interaction) -> None:
        """A press on a story card's button (`bots.discord_bot_buttons`)."""
        await self.buttons.on_card_button(interaction)

    async def on_command_error(self, interaction: Interaction, error: Exception) -> None:
        """A slash command or button press that failed (`bots.discord_bot_commands`)."""
        await self.commands.on_command_error(interaction, error)


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
