"""Keep secrets out of logs and messages.

Every log record is scrubbed of the tokens we know about (`SecretFilter`): HTTP libraries
log request URLs, and Telegram puts the bot token in the URL path. The filter also masks what
has the shape of a bot token or a webhook URL, known or not, which catches a secret from a
variable we were never told about.

`check` must not repeat a secret pasted where a chat id or a name belongs: `secret_kind` says
whether a value looks like one, and `shown` quotes a value for a message unless it does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"

# A Telegram bot token: the bot's id, a colon, 35 characters (BotFather's format).
_TELEGRAM_TOKEN = re.compile(r"(?<![0-9])[0-9]{6,12}:[A-Za-z0-9_-]{30,}")  # also in "bot123…"
# A Discord bot token: the base64 of the bot's id, a timestamp, an HMAC, dot-separated.
_DISCORD_TOKEN = re.compile(r"\b[A-Za-z0-9_-]{20,30}\.[A-Za-z0-9_-]{5,8}\.[A-Za-z0-9_-]{25,}")
# Webhook URLs carry their secret in the path: Discord's /api/webhooks/…, Slack's
# hooks.slack.com/services/…, and the many whose host or path says "webhook".
_WEBHOOK_URL = re.compile(
    r"(?P<keep>https?://(?:"
    r"hooks\.slack\.com/services/"
    r"|[^\s/]*webhook[^\s/]*/"
    r"|[^\s/]+/(?:[^\s?#]*/)?webhooks?/"
    r"))[^\s\"'<>]+",
    re.IGNORECASE,
)
# An API key or other generated secret: a long run mixing cases and digits, or long hex.
_KEY_RUN = re.compile(r"[A-Za-z0-9_+=-]{24,}")
_HEX_RUN = re.compile(r"\b[0-9a-fA-F]{32,}\b")


def secret_kind(text: str) -> str | None:
    """ "a webhook URL" or "a token" when `text` looks like one (or holds one), else None."""
    if _WEBHOOK_URL.search(text):
        return "a webhook URL"
    if _TELEGRAM_TOKEN.search(text) or _DISCORD_TOKEN.search(text) or _HEX_RUN.search(text):
        return "a token"
    if any(_mixed(run) for run in _KEY_RUN.findall(text)):
        return "a token"
    return None


def shown(text: str) -> str:
    """`text` quoted for a message, or, when it looks secret, only what kind of thing it is."""
    kind = secret_kind(text)
    return repr(text) if kind is None else f"{kind} (not shown)"


def mask_secret_shapes(text: str) -> str:
    """`text` with bot tokens and webhook URL secrets masked, whoever they belong to."""
    text = _WEBHOOK_URL.sub(lambda match: match.group("keep") + MASK, text)
    text = _TELEGRAM_TOKEN.sub(MASK, text)
    return _DISCORD_TOKEN.sub(MASK, text)


def _mixed(run: str) -> bool:
    return (
        any(c.isdigit() for c in run)
        and any(c.islower() for c in run)
        and any(c.isupper() for c in run)
    )


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return mask_secret_shapes(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.scrub(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_secrets(secrets: Iterable[str], logger: logging.Logger | None = None) -> SecretFilter:
    """Attach a scrubbing filter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    secret_filter = SecretFilter(secrets)
    for handler in target.handlers:
        handler.addFilter(secret_filter)
    return secret_filter
