"""What the Discord bot and the Discord webhook transport share: endpoints, payloads, errors.

The only bot module another bot module may import (tests/test_import_rules.py says so).

Endpoints: discord.py talks to `https://discord.com/api/v10` and `wss://gateway.discord.gg/`
through two class attributes, `discord.http.Route.BASE` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`. When `settings.discord.api_base_url` or
`gateway_url` differ from those defaults (a REST rate-limit proxy, a gateway proxy, a test
server), `configure_endpoints` sets them once at start; they apply to the whole process, which
runs one Discord bot and the webhook transport, both meant to use the same endpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from policywire.deliver.sender import MessageGone
from policywire.errors import DeliveryError, Rejected, RetryLater, TargetFailing, TargetGone

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# Missing permissions are fixed by a person: check again every 15 minutes, never give up.
PERMISSION_RETRY = 15 * 60.0
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_WEBHOOK = 10003, 10008, 10015
GRANT = "grant the bot View Channel, Send Messages and Embed Links there"


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


def message_arguments(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered payload as discord.py send() arguments; mentions never ping, whatever it says."""
    return {
        "content": payload.get("content") or None,
        "embeds": [discord.Embed.from_dict(e) for e in payload.get("embeds") or ()],
        "allowed_mentions": discord.AllowedMentions.none(),
    }


def buttons_view(payload: Mapping[str, Any]) -> discord.ui.View | None:
    """A story card's buttons (`components` of deliver/discord_embeds.py) as the View
    discord.py sends; None for a payload without any (an edit then removes them).

    The view is stopped before it is sent: presses are handled by the bot's `on_interaction`
    by their custom ids, also after a restart, so discord.py need not keep a view per card.
    """
    rows = payload.get("components") or ()
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows):
        for button in row.get("components") or ():
            view.add_item(
                discord.ui.Button(
                    style=discord.ButtonStyle(int(button.get("style", 2))),
                    label=button.get("label"),
                    custom_id=button.get("custom_id"),
                    row=number,
                )
            )
    view.stop()
    return view


def gone_or_translated(exc: BaseException, where: str) -> DeliveryError:
    """An edit's error: MessageGone when the message was deleted (a card then gets a reply),
    else what `translate` says."""
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE:
        return MessageGone(f"Discord: message in {where} is gone ({exc.code} {exc.text})")
    return translate(exc, where)


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
