"""The feed as a whole, apart from its entries: what a body is (JSON, HTML, XML), what every
entry of it is normalized against (`_Context`), what relative links resolve against, and why a
body that holds no feed is not one (the one-line ParseError messages).

Part of `policywire.ingest.parse` (see its docstring), apart so that parse.py holds the reading
and the building of Items; nothing here is public API, hence the leading underscores.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote, urlsplit
from xml.sax import SAXParseException

from policywire.errors import ParseError
from policywire.ingest.dates import LocalizedDates

_BOM = b"\xef\xbb\xbf"


class _Context:
    """What every entry of one feed is normalized against."""

    __slots__ = ("dates", "feed_url", "language", "named", "now", "source")

    def __init__(self, *, feed_url: str, source: str, language: str | None, now: datetime):
        self.feed_url = feed_url
        self.source = source
        # An operator's own `name:` for the feed, not the one feeds.yaml derives from its URL.
        self.named = bool(source) and source != _default_name(feed_url)
        self.language = language
        self.now = now
        self.dates = LocalizedDates()  # the localized-date fallback, with this body's budget


def _default_name(feed_url: str) -> str:
    """The name feeds.yaml gives a feed without `name:` (config.values.default_feed_name,
    which tests/test_aggregator_source.py checks this against): its host, or a file's name.
    Repeated here so that parse workers do not import the configuration's dependencies."""
    parts = urlsplit(feed_url)
    if parts.scheme == "file":
        return unquote(parts.path).rpartition("/")[2] or feed_url
    return parts.hostname or feed_url


def _outlet(context: _Context, item_source: str, feed_title: str) -> str:
    """Who published an item: the feed's `name:` when the operator wrote one (deliberate,
    even for an aggregator), else the outlet the item itself names (an aggregator's
    <source>), else the feed's default name or its title."""
    if context.named:
        return context.source
    return item_source or context.source or feed_title


def _looks_like_json(head: bytes, content_type: str) -> bool:
    return head.startswith(b"{") or ("json" in content_type.lower() and not head.startswith(b"<"))


def _link_base(version: str, site_link: str, feed_url: str) -> str:
    """What relative entry links are resolved against (feedparser already applied xml:base).

    Atom defines it as the document's address. RSS leaves it undefined, and a feed served
    from elsewhere (a feed proxy, a CDN) means the site, so the channel's link wins there.
    """
    if version.startswith("atom") or not site_link.startswith(("http://", "https://")):
        return feed_url
    return site_link


def _raise_if_not_a_feed(body: bytes, version: str, bozo: object) -> None:
    """A feed with no entries is fine; a body that is no feed at all is an error."""
    if version and bozo is None:
        return
    if version:
        raise ParseError(f"broken feed: {_describe_bozo(bozo, body)}, no entries could be read")
    if b"<html" in body[:4096].lower():
        raise ParseError("not a feed: looks like an HTML page")
    if isinstance(bozo, SAXParseException):
        line = _line_in_body(bozo, body)
        raise ParseError(f"not a feed: XML syntax error at line {line} ({bozo.getMessage()})")
    if bozo is not None:
        raise ParseError(f"not a feed: {_describe_bozo(bozo, body)}")
    raise ParseError("not a feed: no RSS, Atom or RDF document found")


def _describe_bozo(exception: object, body: bytes) -> str:
    """feedparser's complaint about a document, as a short phrase."""
    if isinstance(exception, SAXParseException):
        # str() would prefix "<unknown>:3:0:"; the message and line read better.
        line = _line_in_body(exception, body)
        return f"ill-formed XML ({exception.getMessage()} at line {line})"
    message = " ".join(str(exception).split())
    name = type(exception).__name__
    if name == "CharacterEncodingOverride":
        return f"wrong encoding ({message})"
    if name == "NonXMLContentType":
        return f"unexpected content type ({message})"
    return f"ill-formed feed ({name}: {message})" if message else f"ill-formed feed ({name})"


def _line_in_body(error: SAXParseException, body: bytes) -> int:
    # feedparser puts an XML declaration line in front of a document that has none.
    line = error.getLineNumber() or 1
    if not body.removeprefix(_BOM).startswith(b"<?xml"):
        line -= 1
    return max(line, 1)


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"
