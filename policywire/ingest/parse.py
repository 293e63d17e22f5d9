"""Turn a fetched body (bytes + response headers) into our own frozen Items.

`parse_feed` is pure and synchronous: no I/O, no clock (`now` comes in), so it can run in a
worker process. RSS, Atom and RDF go through feedparser, which gets the bytes and the
response headers (never a URL, so it cannot fetch anything); JSON Feed is read with `json`.
`ParsePool` runs `parse_feed` off the event loop and, given the topic rules, matches the Items
where it parsed them (`parse_and_match`), so the event loop only receives the results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax import SAXParseException

import feedparser

from policywire.errors import ParseError
from policywire.ingest.boilerplate import (
    html_to_clean_text,
    listed_outlet,
    strip_outlet_suffix,
    summary_says_nothing,
)
from policywire.ingest.dates import LocalizedDates
from policywire.ingest.fastparse import parse_fast
from policywire.ingest.html_text import html_to_text, is_link_labels
from policywire.ingest.links import canonical_link, extract_links, url_path
from policywire.ingest.match_text import body_text
from policywire.ingest.sentences import summarize, truncate
from policywire.ingest.text import detect_language_hint
from policywire.models import Item, ParsedFeed

__all__ = ["ParseError", "parse_feed", "parse_feed_with_feedparser"]

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 500
MAX_SOURCE_CHARS = 200  # an outlet's name, as an aggregator's item gives it
MAX_SUMMARY_CHARS = 4000
# A summary the content stands in for (the description said nothing): its first sentences.
CONTENT_SUMMARY_CHARS = 600
CONTENT_SUMMARY_SENTENCES = 4
MAX_TAGS = 20
MAX_LINKS = 20
# Clocks drift and some publishers schedule posts; beyond this, a date is not believed.
FUTURE_TOLERANCE = timedelta(minutes=10)
# A title made from the summary when the entry has none.
_FALLBACK_TITLE_CHARS = 120

_BOM = b"\xef\xbb\xbf"


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    source: str = "",
    language: str | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime,
) -> ParsedFeed:
    """Parse one response body into a ParsedFeed.

    `language` and `source` override what the feed says about itself. Raises ParseError
    when the body holds no feed at all; an ill-formed feed whose entries could still be read
    is returned with a one-line `warning`.
    """
    return _parse_feed(
        body,
        feed_url=feed_url,
        source=source,
        language=language,
        headers=headers,
        now=now,
        fast=True,
    )


def parse_feed_with_feedparser(
    body: bytes,
    *,
    feed_url: str,
    source: str = "",
    language: str | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime,
) -> ParsedFeed:
    """`parse_feed` without the lxml fast path: every XML body goes through feedparser.

    The reference the fast path is checked against (tests/test_fastparse.py) and the
    baseline the bench measures it against.
    """
    return _parse_feed(
        body,
        feed_url=feed_url,
        source=source,
        language=language,
        headers=headers,
        now=now,
        fast=False,
    )


def _parse_feed(
    body: bytes,
    *,
    feed_url: str,
    source: str,
    language: str | None,
    headers: Mapping[str, str] | None,
    now: datetime,
    fast: bool,
) -> ParsedFeed:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    context = _Context(
        feed_url=feed_url,
        source=source,
        language=detect_language_hint(language),
        now=now.astimezone(UTC),
    )
    lowered_headers = {key.lower(): value for key, value in (headers or {}).items()}
    head = body[:2048].lstrip().removeprefix(_BOM).lstrip()
    if not head:
        raise ParseError("not a feed: empty body")
    if _looks_like_json(head, lowered_headers.get("content-type", "")):
        return _parse_json_feed(body, context)
    if head[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise ParseError("not a feed: looks like an HTML page")
    return _parse_xml_feed(body, lowered_headers, context, fast=fast)


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


# ---------------------------------------------------------------------------------------------
# RSS, Atom, RDF
# ---------------------------------------------------------------------------------------------


def _parse_xml_feed(
    body: bytes, headers: dict[str, str], context: _Context, *, fast: bool = True
) -> ParsedFeed:
    # Without a Content-Type feedparser flags the document; application/xml (no charset)
    # makes it do what it would do with no headers: trust the XML declaration.
    response_headers = {"content-type": "application/xml", **headers}
    # Plain RSS 2.0 and Atom 1.0 are read with lxml, giving what feedparser would
    # (tests/test_fastparse.py checks it feed by feed); everything else, and anything unusual
    # in them, with feedparser.
    quick = parse_fast(body, response_headers) if fast else None
    if quick is not None:
        return _feed_from_entries(quick.feed, quick.entries, quick.version, None, body, context)
    result = feedparser.parse(
        body,
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed_info: Mapping[str, Any] = result.get("feed") or {}
    entries: list[Mapping[str, Any]] = list(result.get("entries") or [])
    bozo = result.get("bozo_exception") if result.get("bozo") else None
    version = result.get("version") or ""
    return _feed_from_entries(feed_info, entries, version, bozo, body, context)


def _feed_from_entries(
    feed_info: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    version: str,
    bozo: object,
    body: bytes,
    context: _Context,
) -> ParsedFeed:
    """Items from feedparser-shaped `feed` and `entries` mappings (either reader's)."""
    problem = _describe_bozo(bozo, body) if bozo is not None else None
    if not entries:
        _raise_if_not_a_feed(body, version, bozo)
    title = html_to_text(_text(feed_info, "title"))
    feed_language = detect_language_hint(_text(feed_info, "language")) or _detail_language(
        feed_info, "title_detail"
    )
    base = _link_base(version, _text(feed_info, "link"), context.feed_url)
    items = tuple(
        _unique_by_id(
            item
            for entry in entries
            if (item := _entry_to_item(entry, context, base, title, feed_language)) is not None
        )
    )
    warning = f"{problem}, {_count(len(items), 'entry', 'entries')} used" if problem else None
    if warning:
        log.debug("%s: %s", context.feed_url, warning)
    return ParsedFeed(
        items=items,
        title=title,
        language=context.language or feed_language,
        warning=warning,
    )


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


def _entry_to_item(
    entry: Mapping[str, Any],
    context: _Context,
    base: str,
    feed_title: str,
    feed_language: str | None,
) -> Item | None:
    raw_title = _text(entry, "title")
    raw_link = _text(entry, "link")
    if not raw_title.strip() and not raw_link.strip():
        return None
    link = canonical_link(raw_link, base) if raw_link.strip() else ""
    markup = _entry_markup(entry)
    date_text = _text(entry, "published") or _text(entry, "updated") or _text(entry, "created")
    language = context.language or _entry_language(entry) or feed_language
    title = _clean(raw_title, MAX_TITLE_CHARS)
    summary, listed = _summary(markup, title, language)
    published = _published(entry, context, language)
    item_source = _item_source(entry)
    outlets = (listed, item_source, context.source, feed_title)
    return Item(
        feed=context.feed_url,
        id=_entry_id(_text(entry, "id"), link, raw_title, date_text),
        link=link,
        title=_title(title, summary, language, outlets, link),
        summary=summary,
        published=published or context.now,
        language=language,
        tags=_tags(_raw(entry, "tags")),
        source=_outlet(context, item_source, feed_title),
        links=_content_links(markup, link),
        dated=published is not None,
        content=_body(markup),
    )


def _item_source(entry: Mapping[str, Any]) -> str:
    """The outlet an aggregator (Google News, Bing News…) names for one item: the text of
    RSS 2.0's <source url="…">Outlet</source>, or the title of an Atom entry's <source>
    feed; "" when there is none."""
    detail = _raw(entry, "source")
    if not isinstance(detail, dict):
        return ""
    return truncate(html_to_text(_text(detail, "title")), MAX_SOURCE_CHARS)


def _body(markup: Sequence[str]) -> str:
    """The start of the full content for topic matching, when the summary came from elsewhere."""
    return body_text(markup[1]) if len(markup) > 1 else ""


def _entry_markup(entry: Mapping[str, Any]) -> list[str]:
    """The entry's HTML bodies, the one to summarize first: summary, then full content."""
    bodies = [_text(entry, "summary")]
    contents = _raw(entry, "content")
    if isinstance(contents, list):
        bodies.extend(_text(content, "value") for content in contents if isinstance(content, dict))
    return [body for body in bodies if body.strip()]


def _entry_language(entry: Mapping[str, Any]) -> str | None:
    declared = detect_language_hint(_text(entry, "language"))
    if declared:
        return declared
    for detail in ("title_detail", "summary_detail"):
        if found := _detail_language(entry, detail):
            return found
    return None


def _detail_language(mapping: Mapping[str, Any], key: str) -> str | None:
    """The xml:lang feedparser recorded on a text construct (Atom puts it there)."""
    detail = _raw(mapping, key)
    if isinstance(detail, dict):
        return detect_language_hint(_as_str(dict.get(detail, "language")))
    return None


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


def _tags(raw_tags: object) -> tuple[str, ...]:
    if not isinstance(raw_tags, list):
        return ()
    names = (
        # Atom's label is the display name; its term may be a slug or a URI. dict.get, not
        # FeedParserDict.get (which maps a few other keys, and is slow): same value for these.
        _as_str(dict.get(tag, "label")) or _as_str(dict.get(tag, "term"))
        for tag in raw_tags
        if isinstance(tag, dict)
    )
    return _dedupe_tags(names)


# ---------------------------------------------------------------------------------------------
# JSON Feed 1.0 / 1.1
# ---------------------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, context: _Context) -> ParsedFeed:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise ParseError(f"not a feed: invalid JSON at line {error.lineno} ({error.msg})") from None
    except UnicodeDecodeError:
        raise ParseError("not a feed: JSON that is not UTF-8") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise ParseError("not a feed: JSON without a JSON Feed items list")
    title = html_to_text(_as_str(document.get("title")))
    feed_language = detect_language_hint(_as_str(document.get("language")))
    site_link = _as_str(document.get("home_page_url"))
    base = site_link if site_link.startswith(("http://", "https://")) else context.feed_url
    items = tuple(
        _unique_by_id(
            item
            for raw in document["items"]
            if isinstance(raw, dict)
            and (item := _json_item(raw, context, base, title, feed_language)) is not None
        )
    )
    return ParsedFeed(items=items, title=title, language=context.language or feed_language)


def _json_item(
    raw: Mapping[str, Any],
    context: _Context,
    base: str,
    feed_title: str,
    feed_language: str | None,
) -> Item | None:
    raw_title = _as_str(raw.get("title"))
    external = _as_str(raw.get("external_url"))
    raw_link = _as_str(raw.get("url")) or external
    if not raw_title.strip() and not raw_link.strip():
        return None
    link = canonical_link(raw_link, base) if raw_link.strip() else ""
    content_html = _as_str(raw.get("content_html"))
    bodies = (
        _as_str(raw.get("summary")),
        content_html,
        _plain_as_markup(raw.get("content_text")),
    )
    date_text = _as_str(raw.get("date_published")) or _as_str(raw.get("date_modified"))
    language = context.language or detect_language_hint(_as_str(raw.get("language")))
    language = language or feed_language
    title = _clean(raw_title, MAX_TITLE_CHARS)
    summary, listed = _summary([body for body in bodies if body.strip()], title, language)
    # A link post's external_url is exactly the "other article" grouping looks for.
    extra = f'<a href="{external}"></a>' if external and external != raw_link else ""
    raw_id = raw.get("id")
    published = _json_published(raw, context, language)
    return Item(
        feed=context.feed_url,
        id=_entry_id(_as_str(raw_id) or _scalar_id(raw_id), link, raw_title, date_text),
        link=link,
        title=_title(title, summary, language, (listed, context.source, feed_title), link),
        summary=summary,
        published=published or context.now,
        language=language,
        tags=_dedupe_tags(tag for tag in _as_list(raw.get("tags")) if isinstance(tag, str)),
        source=_outlet(context, "", feed_title),
        links=_content_links([content_html, extra], link),
        content=body_text(content_html) if _as_str(raw.get("summary")) else "",
        dated=published is not None,
    )


def _plain_as_markup(value: object) -> str:
    """content_text is plain text: escape it so html_to_text keeps its "<" and "&"."""
    text = _as_str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _scalar_id(value: object) -> str:
    # The spec says strings, but numbers are common in the wild.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


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


# ---------------------------------------------------------------------------------------------
# shared normalization
# ---------------------------------------------------------------------------------------------


def _clean(markup: str, max_chars: int) -> str:
    return truncate(html_to_clean_text(markup), max_chars)


def _summary(markup: Sequence[str], title: str, language: str | None) -> tuple[str, str]:
    """The summary, from the first of the entry's bodies that says something about the
    article, and the outlet an aggregator's list names for the item ("" when none).

    A description that is link labels ("Comments"), an aggregator's list of other headlines,
    Hacker News metadata, a lone byline or boilerplate alone is passed over; when the content
    has to stand in for it, its first sentences do, as long as a description would be.
    """
    listed = ""
    for index, body in enumerate(markup):
        if is_link_labels(body):
            continue
        text = html_to_clean_text(body)
        if index == 0:
            listed = listed_outlet(text, title) or ""
        if not text or summary_says_nothing(text, title):
            continue
        if index == 0:
            return truncate(text, MAX_SUMMARY_CHARS), listed
        excerpt = summarize(
            text,
            max_chars=CONTENT_SUMMARY_CHARS,
            max_sentences=CONTENT_SUMMARY_SENTENCES,
            language=language,
        )
        return excerpt, listed
    return "", listed


def _title(
    title: str, summary: str, language: str | None, outlets: Sequence[str], link: str
) -> str:
    """The cleaned title without an outlet's name at its end ("… - Example News")."""
    title = strip_outlet_suffix(title, outlets, link)
    if title:
        return title
    # Untitled posts (microblogs, some link feeds) get their first sentence as a title.
    return summarize(summary, max_chars=_FALLBACK_TITLE_CHARS, max_sentences=1, language=language)


def _entry_id(declared: str, link: str, title: str, date_text: str) -> str:
    if declared.strip():
        return declared.strip()
    if link:
        return link
    # Neither guid nor link: the raw title and date are what stays the same between polls.
    return hashlib.sha1(f"{title}\n{date_text}".encode(), usedforsecurity=False).hexdigest()


def _believable(published: datetime | None, now: datetime) -> datetime | None:
    """The date, unless it is unreadable or in the future (then the item is undated)."""
    if published is None or published > now + FUTURE_TOLERANCE:
        return None
    return published


def _content_links(markup: Sequence[str], own_link: str) -> tuple[str, ...]:
    """Links to other articles: grouping uses them to find articles that cite each other."""
    own_page = _page_of(own_link)
    found: dict[str, None] = {}
    for body in markup:
        for link in extract_links(body, own_link or None, limit=MAX_LINKS * 2):
            # The page itself (footers link back to it) and home pages say nothing.
            page = _page_of(link)
            if page != own_page and url_path(link) not in ("", "/"):
                found[link] = None
    return tuple(found)[:MAX_LINKS]


def _page_of(link: str) -> str:
    """A link without its query string and trailing slash: the page it shows."""
    return link.partition("?")[0].rstrip("/")


def _dedupe_tags(names: Iterable[str]) -> tuple[str, ...]:
    tags: dict[str, str] = {}
    for name in names:
        tag, key = _tag_text(name)
        if tag and key not in tags:
            tags[key] = tag
            if len(tags) == MAX_TAGS:
                break
    return tuple(tags.values())


@lru_cache(maxsize=4096)
def _tag_text(name: str) -> tuple[str, str]:
    """A tag name as text, and its case-folded key. Cached: a feed repeats its few categories."""
    tag = html_to_text(name)
    return tag, tag.casefold()


def _unique_by_id(items: Iterable[Item]) -> Iterator[Item]:
    """The first entry wins when a feed repeats an id (republished or paginated entries)."""
    seen: set[str] = set()
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            yield item


def _raw(mapping: Mapping[str, Any], key: str) -> object:
    # dict.get, not mapping.get: feedparser's own lookup of a missing "updated" or
    # "updated_parsed" falls back to "published…" with a DeprecationWarning.
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _text(mapping: Mapping[str, Any], key: str) -> str:
    return _as_str(_raw(mapping, key))


def _as_str(value: object) -> str:
    if not isinstance(value, str):
        return ""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's "\ud800" escapes decode to lone surrogates, which no database can store.
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"
