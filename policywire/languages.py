"""The languages policywire speaks, defined once: digests today, chat replies with issue 14.

Stdlib only, so `check`, `run --once` and the chat layer can ask without loading Babel.
"""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("en", "it", "fr", "de")
