"""The fake Telegram's webhook side: after setWebhook, updates are POSTed to the bot instead of
waiting for getUpdates, as Telegram does.

Telegram sends one update per request, in order, with the secret in the
`X-Telegram-Bot-Api-Secret-Token` header; an answer other than 2xx (or no answer) keeps the
update queued and is retried, and `getWebhookInfo` tells the last error. Kept apart from
telegram_api.py because it is a client of the bot, not part of the Bot API server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

JSON = dict[str, Any]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(slots=True)
class Webhook:
    """What setWebhook registered, and how delivery to it went."""

    url: str
    secret: str | None
    delivered: list[JSON] = field(default_factory=list)
    last_error: str | None = None
    attempts: int = 0


class WebhookDelivery:
    """A task that posts the next deliverable update to the registered webhook, if any.

    `next_update` answers the oldest update to send (or None); `delivered` removes it once the
    webhook accepted it; `changed` returns an event set when either may have changed.
    """

    def __init__(
        self,
        next_update: Callable[[], JSON | None],
        delivered: Callable[[JSON], None],
        changed: Callable[[], asyncio.Event],
        *,
        retry_after: float = 0.2,
    ) -> None:
        self.webhook: Webhook | None = None
        self._next_update = next_update
        self._delivered = delivered
        self._changed = changed
        self.retry_after = retry_after
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                changed = self._changed()
                hook, update = self.webhook, self._next_update()
                if hook is None or update is None:
                    await changed.wait()
                    continue
                if await self._post(session, hook, update):
                    hook.delivered.append(update)
                    self._delivered(update)
                else:
                    await asyncio.sleep(self.retry_after)  # Telegram retries too, later

    async def _post(self, session: aiohttp.ClientSession, hook: Webhook, update: JSON) -> bool:
        hook.attempts += 1
        headers = {SECRET_HEADER: hook.secret} if hook.secret else {}
        try:
            async with session.post(hook.url, json=update, headers=headers) as response:
                if 200 <= response.status < 300:
                    return True
                hook.last_error = f"Wrong response from the webhook: {response.status}"
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            hook.last_error = f"Connection failed: {type(exc).__name__}"
        return False
