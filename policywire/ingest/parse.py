"""Turn a fetched body (bytes + response headers) into our own frozen Items.

`parse_feed` is pure and synchronous: no I/O, no clock (`now` comes in), so it can run in a
worker process. RSS, Atom and RDF go through feedparser, which gets the bytes and the
response headers (never a URL, so it cannot fetch anything); JSON Feed is read with `json`.
`ParsePool` runs `parse_feed` off the event loop and, given the topic rules, matches the Items
where it parsed them (`parse_and_match`), so the event loop only receives the results.

Here are the two readers and the building of Items from what they read. The feed as a whole
(its format, the `_Context` its entries are normalized against, why a body is no feed) is in
parse_document.py, one entry's raw fields in parse_fields.py and its date in parse_dates.py.
Whatever calls the text helpers (html_to_text, html_to_clean_text, canonical_link,
extract_links, url_path) stays here and looks them up in this module, where
tests/test_text.py replaces them with reference implementations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import feedparser

from policywire.errors import ParseError
from policywire.ingest.boilerplate import (
    html_to_clean_text,
    listed_outlet,
    strip_outlet_suffix,
    summary_is_metadata,
)
from policywire.ingest.fastparse import parse_fast
from policywire.ingest.html_text import html_to_text, is_link_labels
from policywire.ingest.links import canonical_link, extract_links, url_path
from policywire.ingest.match_text import body_text
from policywire.ingest.parse_dates import FUTURE_TOLERANCE as FUTURE_TOLERANCE  # tests
from policywire.ingest.parse_dates import _json_published, _published
from policywire.ingest.parse_document import (
    _BOM,
    _Context,
    _count,
    _describe_bozo,
    _link_base,
    _looks_like_json,
    _outlet,
    _raise_if_not_a_feed,
)
from policywire.ingest.parse_document import _default_name as _default_name  # tests
from policywire.ingest.parse_fields import (
    _as_list,
    _as_str,
    _body,
    _detail_language,
    _entry_id,
    _entry_language,
    _entry_markup,
    _plain_as_markup,
    _raw,
    _scalar_id,
    _text,
    _unique_by_id,
)
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
# A title made from the summary when the entry has none.
_FALLBACK_TITLE_CHARS = 120


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
        outlet = listed_outlet(text, title)
        if index == 0:
            listed = outlet or ""
        # summary_says_nothing, with the aggregator's list (the outlet) looked for only once
        if not text or outlet is not None or summary_is_metadata(text):
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


def _content_links(markup: Sequence[str], own_link: str) -> tuple[str, ...]:
    """Links to other articles: grouping uses them to find articles that cite each other."""
    own_page = _page_of(own_link)
    found: dict[str, None] = {}
    # An RSS item with only content:encoded has it as its summary too: the same markup twice,
    # whose links the first reading has already found.
    for body in dict.fromkeys(markup):
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
