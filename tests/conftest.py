"""Test-wide settings."""

from __future__ import annotations

import os

# python-telegram-bot 22 warns on every RetryAfter unless time periods are opted in to
# timedelta; bots/telegram.py opts in at import, the fake server's own tests need it earlier.
os.environ.setdefault("PTB_TIMEDELTA", "true")
