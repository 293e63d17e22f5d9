"""Telegram webhook mode: Telegram posts each update to one public URL, and a load balancer
hands it to any worker, so no worker has to hold the updates lease (docs/scaling.md).

PTB's own webhook server (tornado) does the listening and checks the secret token Telegram
sends with every request; this module only turns the settings into its arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from policywire.config.model import TelegramSettings
from policywire.config.values import split_listen_address

# What Telegram accepts as a webhook's secret_token.
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where this worker listens, and the public URL Telegram is told to post to."""

    url: str
    host: str
    port: int
    secret: str

    @property
    def path(self) -> str:
        """The path PTB serves: the public URL's, so a proxy may forward it unchanged."""
        return urlsplit(self.url).path.strip("/")


def webhook_endpoint(settings: TelegramSettings, secret: str) -> WebhookEndpoint:
    """The endpoint for `settings.webhook_url`; ValueError (one line) when the secret is unfit."""
    assert settings.webhook_url is not None
    if not SECRET.fullmatch(secret):
        raise ValueError(
            f"webhook mode needs {settings.webhook_secret_env} set to 1-256 characters "
            "of A-Z, a-z, 0-9, _ and -"
        )
    host, port = split_listen_address(settings.webhook_listen)
    return WebhookEndpoint(settings.webhook_url, host, port, secret)
