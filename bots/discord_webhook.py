"""Discord webhooks: digests posted through a channel's webhook URL, no bot user needed.

A `discord_webhook_env: NAME` destination has the target NAME; the URL is read from the
environment at send time (so it can be rotated by restarting with a new value) and never
logged: `webhook_secrets` lists what `redact_secrets` must scrub. Requests go through
discord.py's `Webhook`, so its rate-limit handling applies, and to the configured
`api_base_url` (see `bots.discord_common.configure_endpoints`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import aiohttp
import discord

from bots.discord_common import configure_endpoints, message_arguments, translate
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
        if self._session is None or self._session.closed:
            raise RetryLater("the Discord webhook transport is not running", after=30.0)
        url = self.env.get(target, "").strip()
        if not url:
            raise RetryLater(f"the environment variable {target} is not set", after=300.0)
        try:
            webhook = discord.Webhook.from_url(url, session=self._session)
        except ValueError as exc:
            raise TargetGone(f"${target} does not hold a Discord webhook URL") from exc
        where = f"the webhook in ${target}"
        try:
            message = await webhook.send(wait=True, username=USERNAME, **message_arguments(payload))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise translate(exc, where) from exc
        return str(message.id)
