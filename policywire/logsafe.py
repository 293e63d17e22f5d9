"""Keep secrets out of logs: every record is scrubbed of the tokens we know about.

HTTP libraries log request URLs, and Telegram puts the bot token in the URL path; a filter on
the root handlers catches that and anything else that quotes a token by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "[redacted]"


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
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
