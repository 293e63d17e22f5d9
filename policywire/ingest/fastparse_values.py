"""Values as feedparser stores them: text after mixin.pop, URIs joined to their base,
content types, the language of a text construct's detail, and dates.

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import datetime

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urifixer, _urljoin

from policywire.ingest.fastparse_elements import Reject

HTML_TYPES = _FeedParserMixin.html_types
# feedparser's _cp1252 maps code points 0x80-0x9f (C1 controls) to Windows-1252 characters.
_C1_CONTROL = re.compile("[\x80-\x9f]")
# What a UTF-8 continuation byte (0x80-0xBF) becomes when read as Latin-1.
_LATIN1_CONTINUATION = re.compile("[\x80-\xbf]")
if not all(0x80 <= key <= 0x9F for key in _cp1252):
    raise ImportError("feedparser's cp1252 map is not what policywire.ingest.fastparse expects")


def finish(text: str) -> str:
    """What mixin.pop does to text after stripping and URI resolution."""
    if text.isascii() or not _LATIN1_CONTINUATION.search(text):
        # Without a character in U+0080-U+00BF the repair below fails (a UTF-8 sequence
        # needs a continuation byte) and there is no C1 control: nothing changes. Finding
        # that out is cheaper than the failing encode/decode on a text in any accented
        # language.
        return text
    # feedparser's repair of UTF-8 read as Latin-1 (it runs on every value).
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    # translate() costs a dict lookup per character: only when a C1 control is there.
    return text.translate(_cp1252) if _C1_CONTROL.search(text) else text


def join_uri(base: str, uri: str) -> str:
    """feedparser's `_urljoin`, without its work where it would return `uri` unchanged.

    It removes the slashes after a scheme's "://" (`_urifixer`), then joins to `base`, which
    returns the URI as it is when `base` is empty (no xml:base: the usual case).
    """
    if not base:
        fixable = _urifixer.match(uri)
        if fixable is None or not fixable.group(2):
            return uri
    return str(_urljoin(base, uri))


def map_content_type(content_type: str) -> str:
    return str(_FeedParserMixin.map_content_type(content_type))


def detail_language(language: str | None) -> str | None:
    """The "language" of a feedparser text construct's detail (push_content)."""
    return language.replace("_", "-") if language else language


def check_text_type(attributes: dict[str, str], default: str = "text/plain") -> str:
    """An Atom text construct's content type, or Reject when feedparser would not store its
    text as is (mode, base64 for a non-text type, escaping for XHTML).
    """
    content_type = map_content_type(attributes.get("type", default))
    if "mode" in attributes or not content_type.startswith("text/"):
        raise Reject
    return content_type


# The two date forms nearly every feed writes: W3C-DTF with seconds and an offset ("Z" or
# "+hh:mm") and RFC 822 with a day name and GMT or a numeric offset. feedparser's first
# handler (W3C-DTF) reads the first; it finds nothing in the second (a day name followed by
# a comma is never its four-digit year), so its second handler (RFC 822) reads that one. Both
# handlers compute `(datetime(fields) - offset).utctimetuple()`, which is what utctimetuple
# does with an aware datetime, and return None (feedparser then tries its other handlers)
# when that raises. Hours, minutes and seconds are limited to their ranges here, so what is
# left to fail is the calendar (or an offset of a day or more), and that falls back too.
_W3DTF = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_RFC822 = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{1,2}) (" + "|".join(_MONTHS) + r") ([0-9]{4}) "
    r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) (?:GMT|([+-])([0-9]{2})([0-9]{2}))\Z"
)
# An Atom entry's <published> and <updated> are often the same text: read it once.
_DATES: dict[str, time.struct_time | None] = {}
_MAX_DATES = 1024


def parsed_date(value: str) -> time.struct_time | None:
    """feedparser's `_parse_date(value)`; the common forms without its chain of handlers."""
    parsed = _DATES.get(value)
    if parsed is None:
        parsed = _common_date(value) or _parse_date(value)
        if len(_DATES) >= _MAX_DATES:
            _DATES.clear()
        _DATES[value] = parsed
    return parsed


def _common_date(value: str) -> time.struct_time | None:
    """`value` read as feedparser reads the two common forms, or None for anything else
    (including a date those handlers would reject: feedparser then tries the others)."""
    try:
        if _W3DTF.match(value):
            # Exactly the fields and offset the W3C-DTF handler reads, parsed in C.
            return datetime.fromisoformat(value).utctimetuple()
        if match := _RFC822.match(value):
            return datetime.fromisoformat(_rfc822_as_w3dtf(match)).utctimetuple()
    except (ValueError, OverflowError):
        pass
    return None


def _rfc822_as_w3dtf(match: re.Match[str]) -> str:
    """The fields and offset the RFC 822 handler reads, written for `fromisoformat`."""
    day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = match.groups()
    zone = f"{sign}{tz_hours}:{tz_minutes}" if sign else "+00:00"
    return f"{year}-{_MONTHS[month]:02}-{day:0>2}T{hour}:{minute}:{second}{zone}"
