"""When an entry was published: feedparser's reading (or the fast path's), RFC 3339 for JSON
Feed, then the localized-date fallback, and never a date in the future.

Part of `policywire.ingest.parse` (see its docstring), apart so that parse.py holds the feed
readers and the building of Items; nothing here is public API, hence the leading underscores.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from policywire.ingest.parse_document import _Context
from policywire.ingest.parse_fields import _as_str, _raw, _text

# Clocks drift and some publishers schedule posts; beyond this, a date is not believed.
FUTURE_TOLERANCE = timedelta(minutes=10)


def _published(
    entry: Mapping[str, Any], context: _Context, language: str | None
) -> datetime | None:
    """The entry's date, or None when it has none we can trust.

    feedparser's reading (the fast path gives the same) comes first; only when it read none
    of the three dates are their texts tried as localized dates.
    """
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _raw(entry, key)
        if isinstance(parsed, time.struct_time):
            return _believable(_from_struct_time(parsed), context.now)
    for key in ("published", "updated", "created"):
        text = _text(entry, key)
        if text and (found := context.dates.read(text, language)) is not None:
            return _believable(found, context.now)
    return None


def _from_struct_time(parsed: time.struct_time) -> datetime | None:
    try:
        # feedparser's *_parsed values are already in UTC; a leap second becomes :59.
        return datetime(*parsed[:5], min(parsed.tm_sec, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _json_published(
    raw: Mapping[str, Any], context: _Context, language: str | None
) -> datetime | None:
    """As `_published`: RFC 3339 (the spec's form) first, then the texts as localized dates."""
    texts = [_as_str(raw.get(key)) for key in ("date_published", "date_modified")]
    for text in texts:
        parsed = _parse_rfc3339(text)
        if parsed is not None:
            return _believable(parsed, context.now)
    for text in texts:
        if text and (found := context.dates.read(text, language)) is not None:
            return _believable(found, context.now)
    return None


def _parse_rfc3339(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # A date without an offset is taken as UTC rather than guessed.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _believable(published: datetime | None, now: datetime) -> datetime | None:
    """The date, unless it is unreadable or in the future (then the item is undated)."""
    if published is None or published > now + FUTURE_TOLERANCE:
        return None
    return published
