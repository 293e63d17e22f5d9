"""Discord webhooks: digests posted through a channel's webhook URL, no bot user needed.

A `discord_webhook_env: NAME` destination has the target NAME; the URL is read from the
environment at send time (so it can be rotated by restarting with a new value) and never
logged: `webhook_secrets` lists what `redact_secrets` must scrub. Requests go through
discord.py's `Webhook`, so its rate-limit handling applies, and to the configured
`api_base_url` (see `bots.discord_common.configure_endpoints`).

Story cards (docs/cards.md) are edited through the same webhook (`edit_message`), with no
edit window: Discord has none. A webhook no application owns cannot carry buttons nor reply
to a message, so a card's "new on this story" reply is a plain message in the channel.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import aiohttp
import discord

from bots.discord_common import (
    configure_endpoints,
    gone_or_translated,
    message_arguments,
    translate,
)
from policywire.config.model import DiscordSettings
from policywire.deliver.sender import Pacing
from policywire.errors import RetryLater, TargetGone

log = logging.getLogger(__name__)

PLATFORM = "discord_webhook"
USERNAME = "policywire"


def webhook_secrets(url: str) -> list[str]:
    """The URL and its token part: discord.py logs the request URL built from the token."""
    token = url.rstrip("/").rsplit("/", 1)[-1]
    return [url, token]


class DiscordWebhookTransport:
    platform = PLATFORM
    # A webhook takes about 5 requests per 2 seconds, and a channel 30 messages a minute.
    pacing = Pacing(per_target_interval=2.0, group_interval=2.0, per_second=5)

    def __init__(
        self,
        settings: DiscordSettings,
        env: Mapping[str, str] | None = None,
        *,
        pacing: Pacing | None = None,
    ) -> None:
        configure_endpoints(settings.api_base_url, settings.gateway_url)
        self.env = os.environ if env is None else env
        self.pacing = pacing or DiscordWebhookTransport.pacing
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        log.info("discord webhook delivery ready")

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        webhook = self._webhook(target)
        where = f"the webhook in ${target}"
        try:
            message = await webhook.send(wait=True, username=USERNAME, **message_arguments(payload))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise translate(exc, where) from exc
        return str(message.id)

    # Discord lets a message be edited at any age (the Edits protocol of deliver/sender.py).
    edit_window: timedelta | None = None

    async def edit(self, target: str, message_id: str, payload: Mapping[str, Any]) -> None:
        """A story card edited in place; MessageGone when it was deleted."""
        webhook = self._webhook(target)
        arguments = message_arguments(payload)
        where = f"the webhook in ${target}"
        try:
            await webhook.edit_message(
                int(message_id),
                content=arguments["content"],
                embeds=arguments["embeds"],
                allowed_mentions=arguments["allowed_mentions"],
            )
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise gone_or_translated(exc, where) from exc

    def _webhook(self, target: str) -> discord.Webhook:
        """The webhook whose URL the environment variable `target` holds now."""
        if self._session is None or self._session.closed:
            raise RetryLater("the Discord webhook transport is not running", after=30.0)
        url = self.env.get(target, "").strip()
        if not url:
            raise RetryLater(f"the environment variable {target} is not set", after=300.0)
        try:
            return discord.Webhook.from_url(url, session=self._session)
        except ValueError as exc:
            raise TargetGone(f"${target} does not hold a Discord webhook URL") from exc
