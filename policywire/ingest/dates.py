"""Dates written in the feed's own language ("Seg, 24 Set 2018 10:05:00 -0300", "mer, 16 nov
2022 08:30:00 +0100"), read with dateparser once feedparser's parsers (and the fast path's,
which give the same answers) have found nothing.

dateparser is thorough and slow, so it is only the fallback, and bounded:
- imported on first use, in the parse worker (or the parse thread), never on the event loop;
  a feed whose dates feedparser reads never loads it;
- only absolute dates with a day, a month and a year: no "3 days ago" (relative to what?),
  no timestamps, no date that is missing its year (it would become this year's);
- a few languages, not its search through 200 locales (5 s for one string): the feed's own
  language first when dateparser knows it, then the western European languages whose
  publishing systems write localized RFC 822 dates;
- no attempt on a text longer than `MAX_DATE_CHARS` or without a digit;
- at most `MAX_LOOKUPS_PER_FEED` lookups for one feed body (each costs a few milliseconds),
  and a small cache, since a feed repeats its dates from one poll to the next.

A date this module cannot read is None: the parser then marks the item as undated, never
"published now".
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]

__all__ = ["MAX_DATE_CHARS", "MAX_LOOKUPS_PER_FEED", "LocalizedDates"]

# The longest realistic date ("Donnerstag, 27. November 2025, 14:05:00 Uhr MEZ" is 47).
MAX_DATE_CHARS: Final = 80
# A feed of ten thousand localized dates costs at most this many lookups per parse; the rest
# of its items (its oldest, usually) stay undated.
MAX_LOOKUPS_PER_FEED = 200
# Tried after the feed's own language, in this order.
FALLBACK_LANGUAGES: Final = ("en", "it", "fr", "de", "es", "pt", "nl")
_CACHE_SIZE: Final = 4096

_SETTINGS: Final = {
    "PARSERS": ["absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    # A date without an offset is taken as UTC, as parse.py does with RFC 3339 dates.
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}

_UNKNOWN: Final = object()  # "looked up, and not a date": cached like a date
_cache: dict[tuple[str, str | None], object] = {}
# dateparser keeps per-call state on shared objects (its issue #441): one lookup at a time,
# for the parse threads of `ParsePool(workers=0)`.
_lock = threading.Lock()
_parsers: dict[str | None, DateDataParser] = {}
_known_languages: frozenset[str] | None = None


class LocalizedDates:
    """The localized-date fallback for one feed body, with its own lookup budget."""

    __slots__ = ("lookups_left",)

    def __init__(self, budget: int | None = None) -> None:
        # The module's figure read now, not at import: bench/review_dates.py sets it to 0 to
        # measure what parsing gave before this fallback existed.
        self.lookups_left = MAX_LOOKUPS_PER_FEED if budget is None else budget

    def read(self, text: str, language: str | None = None) -> datetime | None:
        """`text` as an aware UTC datetime, or None when it is no date this module reads.

        `language`: the item's ISO 639-1 code, tried first when dateparser knows it.
        """
        text = " ".join(text.split())
        if not text or len(text) > MAX_DATE_CHARS or not any(c.isdigit() for c in text):
            return None
        if self.lookups_left <= 0:
            return None
        self.lookups_left -= 1
        key = (text, language)
        found = _cache.get(key)
        if found is None:
            found = _lookup(text, language)
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = found
        return found if isinstance(found, datetime) else None


def _lookup(text: str, language: str | None) -> object:
    with _lock:
        parser = _parser(language)
        try:
            found = parser.get_date_data(text).date_obj
        except (ValueError, OverflowError, TypeError):
            # Out-of-range fields some locales' words produce, or dateparser's own slips on
            # odd input: not a date we can trust.
            return _UNKNOWN
    if not isinstance(found, datetime) or found.tzinfo is None:
        return _UNKNOWN
    return found.astimezone(UTC)


def _parser(language: str | None) -> DateDataParser:
    """One dateparser per first language (a handful per worker): building one is cheap, but
    each keeps the locales it has loaded."""
    global _known_languages  # filled once per process, on the first lookup
    if _known_languages is None:
        from dateparser.data import language_order  # type: ignore[import-untyped]

        _known_languages = frozenset(language_order)
    first = language if language in _known_languages else None
    parser = _parsers.get(first)
    if parser is None:
        from dateparser.date import DateDataParser

        languages = list(dict.fromkeys([*([first] if first else []), *FALLBACK_LANGUAGES]))
        parser = DateDataParser(languages=languages, settings=_SETTINGS)
        _parsers[first] = parser
    return parser
