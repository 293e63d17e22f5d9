"""A direct lxml reading of plain RSS 2.0, RSS 1.0 and Atom 1.0 that yields exactly what
feedparser would.

`parse_fast` (`parse_rss`, `parse_rdf` or `parse_atom`, by root element) returns the same
`feed` and `entries` mappings (for the keys `parse_feed` reads) that `feedparser.parse(body,
sanitize_html=False, resolve_relative_uris=False)` builds, several times faster, or None when
it cannot promise that. It is a whitelist: a body takes the fast path only when everything in
it is something whose feedparser semantics are reproduced here rule for rule; anything else
(ill-formed XML, a DOCTYPE, a charset feedparser would complain about, RSS 0.90, Atom 0.3,
repeated titles, itunes:summary in a channel, HTML as child elements, XHTML text constructs,
base64 content, unknown handlers…) returns None and `parse_feed` uses feedparser. RSS (2.0 and
1.0) also falls back on any xml:lang or xml:base; Atom reproduces xml:lang on the feed, its
title, its entries and their text constructs (the language feedparser records in title_detail
and summary_detail), and xml:base anywhere (including feedparser's base URI that outlives its
element).

Feedparser's own helpers (encoding conversion, DOCTYPE stripping, date parsing, URI fixing,
the cp1252 map) are called directly, so those parts match it by construction, but for three
shortcuts that skip them where they would change nothing or compute a known result (the two
common date forms, the Latin-1 repair of a text that cannot be mojibake, joining a URI to no
base), each tested against what it replaces; the rest mirrors feedparser 6.0's SAX handlers
(`mixin.pop`, `_start_link`, `_end_guid`, `_add_tag`, `_start_content`, `unknown_starttag`'s
xml:lang and xml:base tracking…) and is checked body by body against feedparser by
tests/test_fastparse.py.

The XML parser resolves no entities, loads no DTD, never touches the network and keeps
libxml2's size limits (huge_tree=False); any DOCTYPE sends the body to feedparser.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import replace_doctype
from feedparser.urls import _urifixer, _urljoin, make_safe_absolute_uri
from lxml import etree  # type: ignore[import-untyped]  # no stubs without lxml-stubs

__all__ = ["FastFeed", "parse_atom", "parse_fast", "parse_rdf", "parse_rss"]


@dataclass(frozen=True, slots=True)
class FastFeed:
    """The parts of a feedparser result that `parse_feed` reads."""

    feed: dict[str, Any]
    entries: list[dict[str, Any]]
    version: str


class _Reject(Exception):
    """This body needs feedparser."""


# --- element names, as feedparser spells them -----------------------------------------------

# feedparser's namespace table, keys lower-cased as it matches them.
_KNOWN_NS: dict[str, str] = {
    uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()
}
_CANONICAL_PREFIXES = frozenset(p.lower() for p in _KNOWN_NS.values() if p)
# Every element feedparser has a _start_ or _end_ handler for (as "prefix_local").
_HANDLED = frozenset(
    name.split("_", 2)[2].lower()
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)
_COMMENT = "#"  # key of comments and processing instructions: feedparser ignores them

_TITLE = 1
_LINK = 2
_GUID = 3
_DESCRIPTION = 4
_CONTENT = 5
_PUBLISHED = 6
_UPDATED = 7
_CREATED = 8
_CATEGORY = 9
_MEDIA_CATEGORY = 10
_LANGUAGE = 11
_MEDIA_TITLE = 12
_HARMLESS = 13  # a feedparser handler that touches nothing parse_feed reads: text only
_HARMLESS_TEXT = 14  # the same, but feedparser treats it as content: text only
_SOURCE = 15
_GENERIC = 16  # no handler: feedparser stores it under its own key
_CONTAINER = 17  # a harmless handler whose children are read like the item's own
_MEDIA_KEYWORDS = 18
_IMAGE = 19
_SUMMARY = 20  # description's sibling handlers (summary, itunes:summary, media:description)
_ATOM_CONTENT = 21  # Atom's <content> (an RSS item's <content> still falls back)

_ITEM_KINDS: dict[str, int] = {
    "title": _TITLE,
    "dc_title": _TITLE,
    "media_title": _MEDIA_TITLE,
    "link": _LINK,
    "guid": _GUID,
    "id": _GUID,
    "description": _DESCRIPTION,
    "dc_description": _DESCRIPTION,
    "media_description": _DESCRIPTION,
    "summary": _SUMMARY,
    "itunes_summary": _SUMMARY,
    "media_keywords": _MEDIA_KEYWORDS,
    "image": _IMAGE,
    "content_encoded": _CONTENT,
    "pubdate": _PUBLISHED,
    "published": _PUBLISHED,
    "issued": _PUBLISHED,
    "dcterms_issued": _PUBLISHED,
    "updated": _UPDATED,
    "modified": _UPDATED,
    "lastbuilddate": _UPDATED,
    "dc_date": _UPDATED,
    "dcterms_modified": _UPDATED,
    "created": _CREATED,
    "dcterms_created": _CREATED,
    "category": _CATEGORY,
    "dc_subject": _CATEGORY,
    "keywords": _CATEGORY,
    "media_category": _MEDIA_CATEGORY,
    "language": _LANGUAGE,
    "dc_language": _LANGUAGE,
    "source": _SOURCE,
    # Authors, enclosures, media attachments, podcast flags: their handlers only fill keys
    # parse_feed never reads (author, links, media_content…).
    **dict.fromkeys(
        (
            "dc_author",
            "dc_creator",
            "itunes_author",
            "managingeditor",
            "webmaster",
            "dc_publisher",
            "dc_contributor",
            "name",
            "email",
            "itunes_name",
            "itunes_email",
            "url",
            "uri",
            "homepage",
            "enclosure",
            "itunes_image",
            "itunes_block",
            "itunes_explicit",
            "media_thumbnail",
            "media_credit",
            "media_rating",
            "media_restriction",
            "media_license",
            "media_player",
            "cloud",
            "generator",
            "expirationdate",
            "width",
            "height",
        ),
        _HARMLESS,
    ),
    **dict.fromkeys(("author", "contributor", "media_content", "media_group"), _CONTAINER),
    **dict.fromkeys(
        ("rights", "copyright", "dc_rights", "subtitle", "tagline", "itunes_subtitle"),
        _HARMLESS_TEXT,
    ),
}
# An Atom entry's elements: RSS's, plus Atom's <content>.
_ATOM_KINDS: dict[str, int] = {**_ITEM_KINDS, "content": _ATOM_CONTENT}
# Atom: the entry children whose own xml:lang is reproduced (the text constructs the language
# of which feedparser records in title_detail and summary_detail).
_ATOM_LANG_KINDS = frozenset({_TITLE, _DESCRIPTION, _SUMMARY, _ATOM_CONTENT})
# Kinds that behave the same below an item's direct children (feedparser's depth rules make
# the others differ there).
_NESTED_OK = frozenset(
    {
        _CATEGORY,
        _MEDIA_CATEGORY,
        _MEDIA_TITLE,
        _HARMLESS,
        _HARMLESS_TEXT,
        _CONTAINER,
        _GENERIC,
        _MEDIA_KEYWORDS,
        _DESCRIPTION,
        _SUMMARY,
    }
)
# Keys parse_feed reads: an unhandled element stored under one of them would change an Item.
_READ_KEYS = frozenset(
    {
        "title",
        "link",
        "id",
        "summary",
        "content",
        "published",
        "updated",
        "created",
        "language",
        "tags",
        "title_detail",
        "summary_detail",
        "published_parsed",
        "updated_parsed",
        "created_parsed",
    }
)
# Channel level: feedparser elements that would change the feed title, link or language, or
# the parser state the items are read with.
_CHANNEL_DANGER = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "link",
        "language",
        "dc_language",
        "item",
        "entry",
        "channel",
        "feed",
        "rss",
        "image",
        "textinput",
        "source",
        "tags",
        # a guid or id sets the feed's link when it has none yet (read directly below the
        # channel or feed only)
        "guid",
        "id",
        # these set feedparser's hasContent (or a feed "summary" that leads to it), which
        # leaks into the first item
        "content",
        "content_encoded",
        "fullitem",
        "summary",
        "itunes_summary",
    }
)
# Handlers that push content: an element child turns feedparser's inline-XHTML mode on.
_CONTENT_HANDLERS = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "description",
        "dc_description",
        "media_description",
        "abstract",
        "summary",
        "itunes_summary",
        "subtitle",
        "tagline",
        "itunes_subtitle",
        "rights",
        "copyright",
        "dc_rights",
        "info",
        "feedburner_browserfriendly",
        "content",
        "content_encoded",
        "fullitem",
        "body",
        "xhtml_body",
    }
)
# Names feedparser's handlers push on its element stack (see _CONTAINER, _GENERIC).
_PUSHED = frozenset(
    (
        *("author", "contributor", "name", "email", "href", "url", "credit", "rating"),
        *("restriction", "license", "publisher", "expired", "generator", "width", "height"),
        *("category", "source", "id", "link", "title", "summary", "content", "description"),
        *("published", "updated", "created", "language", "image", "textinput", "subtitle"),
        *("rights", "info", "tags", "geometry", "where", "validity", "newlocation"),
        *("errorreportsto", "item", "media_player", "itunes_image", "itunes_block"),
        *("itunes_explicit", "media_keywords", "itunes_keywords"),
    )
)
_IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
# An <image> inside an item: feedparser stores nothing of it where parse_feed looks.
_ITEM_IMAGE_CHILDREN = frozenset({"link", "url", "width", "height"})
_TEXTINPUT_CHILDREN = frozenset({"title", "link", "name", "description"})
_HTML_TYPES = _FeedParserMixin.html_types
# The content types _end_content copies to a missing summary (text ones only reach it here).
_COPIED_TO_SUMMARY = frozenset({"text/plain", *_HTML_TYPES})
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}

_XMLNS = re.compile(rb"""xmlns(?::([^\s=/>"']+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# feedparser's _cp1252 maps code points 0x80-0x9f (C1 controls) to Windows-1252 characters.
_C1_CONTROL = re.compile("[\x80-\x9f]")
# What a UTF-8 continuation byte (0x80-0xBF) becomes when read as Latin-1.
_LATIN1_CONTINUATION = re.compile("[\x80-\xbf]")
if not all(0x80 <= key <= 0x9F for key in _cp1252):
    raise ImportError("feedparser's cp1252 map is not what policywire.ingest.fastparse expects")
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
_LANG_OR_BASE = etree.XPath(
    "//@*[translate(local-name(), 'LANGBSE', 'langbse') = 'lang'"
    " or translate(local-name(), 'LANGBSE', 'langbse') = 'base']"
)

_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_RDF_ROOT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
# An <rdf:RDF> is RSS 1.0 to feedparser when this namespace is the first of the three that
# set its version to be declared; the fast path takes it only when the others are absent.
_RSS10_NS = "http://purl.org/rss/1.0/"
_NOT_RSS10_NS = frozenset({"http://my.netscape.com/rdf/simple/0.9/", "http://www.w3.org/2005/atom"})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# Declaring one of these makes feedparser report RSS 0.90 or 1.0, whatever the root element.
_OTHER_VERSION_NS = frozenset(
    {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"}
)

_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            recover=False,
            load_dtd=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


# --- entry point ------------------------------------------------------------------------------


def parse_fast(body: bytes, headers: Mapping[str, str]) -> FastFeed | None:
    """`parse_rss`, `parse_rdf` or `parse_atom`, whichever the document is: None sends it to
    feedparser."""
    return _parse(body, headers, rss=True, rdf=True, atom=True)


def parse_rss(body: bytes, headers: Mapping[str, str]) -> FastFeed | None:
    """feedparser's view of an RSS 2.0 `body`, or None when the fast path cannot guarantee it.

    `headers` are the lower-cased response headers exactly as given to feedparser.
    """
    return _parse(body, headers, rss=True, rdf=False, atom=False)


def parse_rdf(body: bytes, headers: Mapping[str, str]) -> FastFeed | None:
    """feedparser's view of an RSS 1.0 (RDF) `body`, or None when the fast path cannot
    guarantee it.

    `headers` are the lower-cased response headers exactly as given to feedparser.
    """
    return _parse(body, headers, rss=False, rdf=True, atom=False)


def parse_atom(body: bytes, headers: Mapping[str, str]) -> FastFeed | None:
    """feedparser's view of an Atom 1.0 `body`, or None when the fast path cannot guarantee it.

    `headers` are the lower-cased response headers exactly as given to feedparser.
    """
    return _parse(body, headers, rss=False, rdf=False, atom=True)


def _parse(
    body: bytes, headers: Mapping[str, str], *, rss: bool, rdf: bool, atom: bool
) -> FastFeed | None:
    if "content-location" in headers or "content-language" in headers:
        return None  # they change feedparser's base URI and language
    result: dict[str, Any] = {}
    data = convert_to_utf8(dict(headers), body, result)
    if result.get("bozo") or not result.get("encoding"):
        return None
    doctype_version, data, _entities = replace_doctype(data)
    if doctype_version:
        return None
    try:
        prefixes, uris = _declared_namespaces(data)
        root = etree.fromstring(data, _parser())
        if root.getroottree().docinfo.doctype:
            return None
        if rss and root.tag == "rss":
            if _lang_or_base_candidates(data) and _LANG_OR_BASE(root):
                return None
            return _Reader(prefixes).read(root)
        if rdf and root.tag == _RDF_ROOT:
            declared_here = {uri.lower() for uri in root.nsmap.values()}
            if _RSS10_NS not in declared_here or not uris.isdisjoint(_NOT_RSS10_NS):
                return None  # feedparser takes the version from the first of these declared
            if _lang_or_base_candidates(data) and _LANG_OR_BASE(root):
                return None
            return _Reader(prefixes).read_rdf(root)
        if atom and root.tag == _ATOM_FEED:
            if not uris.isdisjoint(_OTHER_VERSION_NS):
                return None  # feedparser would take the version from that namespace
            has_base = _check_atom_lang_and_base(root, prefixes, _lang_or_base_candidates(data))
            return _Reader(prefixes, _bases(root) if has_base else None).read_atom(root)
        return None
    except (etree.XMLSyntaxError, _Reject):
        return None


def _lang_or_base_candidates(data: bytes) -> int:
    """How often "lang" or "base" (any ASCII case) is followed by "=" (whitespace allowed).

    An attribute is written `Name S? = S? value`, so this is at least the number of
    attributes `_LANG_OR_BASE` finds; counting with bytes.find is many times cheaper than
    that XPath's walk over every attribute of the document.
    """
    lowered = data.lower()
    count = 0
    for word in (b"lang", b"base"):
        start = lowered.find(word)
        while start >= 0:
            following = lowered[start + 4 : start + 68].lstrip(b" \t\r\n")
            if not following or following.startswith(b"="):
                count += 1  # (a longer run of whitespace counts too: it may end in "=")
            start = lowered.find(word, start + 4)
    return count


def _is_lang_or_base(name: str) -> bool:
    """Is this attribute name one `_LANG_OR_BASE` selects (local name lang or base)?"""
    return name.rpartition("}")[2].translate(_ASCII_LOWER) in ("lang", "base")


# What XPath's translate(…, 'LANGBSE', 'langbse') does, for the letters that matter: a local
# name equal to "lang" or "base" after it uses no other letters.
_ASCII_LOWER = str.maketrans("LANGBSE", "langbse")


def _check_atom_lang_and_base(root: Any, unknown_prefixes: frozenset[str], candidates: int) -> bool:
    """Whether there is an xml:base (anywhere: `_bases` reproduces it); xml:lang is allowed
    only where its effect is reproduced: the feed, its title, its entries and their text
    constructs. Other lang or base attributes (feedparser reads `lang`, `base` and any
    prefix's lang or base as xml:lang and xml:base) are not reproduced.

    `candidates`: `_lang_or_base_candidates` of the document. When the root's own lang and
    base attributes account for all of them, no other element has one.
    """
    on_root = [name for name in root.attrib if _is_lang_or_base(name)]
    if len(on_root) == candidates:
        for name in on_root:
            if name not in (_XML_BASE, _XML_LANG):
                raise _Reject
        return _XML_BASE in on_root
    has_base = False
    for attribute in _LANG_OR_BASE(root):
        if attribute.attrname == _XML_BASE:
            has_base = True
            continue
        if attribute.attrname != _XML_LANG:
            raise _Reject
        element = attribute.getparent()
        if element is root:
            continue
        parent = element.getparent()
        key = _key(element, unknown_prefixes)
        if parent is root and key in ("entry", "title", "dc_title"):
            continue
        if (
            parent is not None
            and parent.getparent() is root
            and _key(parent, unknown_prefixes) == "entry"
            and _ATOM_KINDS.get(key) in _ATOM_LANG_KINDS
        ):
            continue
        raise _Reject
    return has_base


def _bases(root: Any) -> dict[Any, str]:
    """The base URI feedparser resolves each element's links against (unknown_starttag and
    unknown_endtag, verbatim): a base set by xml:base outlives its element when the enclosing
    elements had none.
    """
    bases: dict[Any, str] = {}
    current = ""
    stack: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            declared = element.get(_XML_BASE) or current
            if current:
                current = make_safe_absolute_uri(current, declared) or current
            else:
                current = _urljoin(current, declared)
            stack.append(current)
            bases[element] = current
        else:
            stack.pop()
            if stack and stack[-1]:
                current = stack[-1]
    return bases


def _declared_namespaces(data: bytes) -> tuple[frozenset[str], frozenset[str]]:
    """Prefixes bound to a namespace feedparser does not know, after rejecting ambiguities,
    and every namespace declared (lower-cased).

    feedparser names an element of an unknown namespace by the first prefix it saw bound to
    it, and maps prefixes of known namespaces to its own: reproduce only the unambiguous case.
    """
    by_prefix: dict[str, str] = {}
    by_uri: dict[str, str] = {}
    unknown: set[str] = set()
    declared: set[str] = set()
    for match in _XMLNS.finditer(data):
        prefix = (match.group(1) or b"").decode("utf-8", "replace")
        uri = (match.group(2) if match.group(2) is not None else match.group(3) or b"").decode(
            "utf-8", "replace"
        )
        if by_prefix.setdefault(prefix, uri) != uri:
            raise _Reject  # a prefix bound twice
        lowered = _lower_uri(uri)
        declared.add(lowered)
        canonical = _KNOWN_NS.get(lowered)
        if canonical is None:
            if by_uri.setdefault(lowered, prefix) != prefix:
                raise _Reject  # an unknown namespace under two prefixes
            if prefix.lower() in _CANONICAL_PREFIXES:
                raise _Reject  # feedparser would read it as its own namespace
            unknown.add(prefix)
        elif prefix and prefix.lower() in _CANONICAL_PREFIXES and prefix.lower() != canonical:
            raise _Reject  # e.g. xmlns:dc bound to dcterms: feedparser renames elements
    return frozenset(unknown), frozenset(declared)


def _lower_uri(uri: str) -> str:
    lowered = uri.lower()
    return "http://backend.userland.com/rss" if "backend.userland.com/rss" in lowered else lowered


_KEYS: dict[str, str] = {}


def _key(element: Any, unknown_prefixes: frozenset[str]) -> str:
    """feedparser's name for an element ("dc_date", "link"…), "#" for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return _COMMENT
    key = _KEYS.get(tag)
    if key is not None:
        return key
    if tag[0] != "{":
        key = tag.lower()
    else:
        uri, _, local = tag[1:].partition("}")
        canonical = _KNOWN_NS.get(_lower_uri(uri))
        if canonical is None:
            # Depends on the document's prefix: not cached.
            prefix = element.prefix or ""
            if prefix not in unknown_prefixes:
                raise _Reject
            return f"{prefix}_{local}".lower() if prefix else local.lower()
        key = f"{canonical}_{local}".lower() if canonical else local.lower()
    _KEYS[tag] = key
    return key


def _attributes(element: Any) -> dict[str, str]:
    """The element's attributes as feedparser's strict parser names and normalizes them."""
    found: dict[str, str] = {}
    for name, value in element.items():  # no _Attrib proxy: cheaper than .attrib
        if name[0] == "{":
            uri, _, local = name[1:].partition("}")
            prefix = _KNOWN_NS.get(uri.lower(), "")
            name = f"{prefix}:{local}" if prefix else local
        name = name.lower()
        found[name] = value.lower() if name in ("rel", "type") else value
    return found


def _finish(text: str) -> str:
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


def _leaf_text(element: Any) -> str:
    if len(element):
        raise _Reject  # child elements, comments or PIs inside a text element
    text = element.text
    return text.strip() if text else ""


def _join(base: str, uri: str) -> str:
    """feedparser's `_urljoin`, without its work where it would return `uri` unchanged.

    It removes the slashes after a scheme's "://" (`_urifixer`), then joins to `base`, which
    returns the URI as it is when `base` is empty (no xml:base: the usual case).
    """
    if not base:
        fixable = _urifixer.match(uri)
        if fixable is None or not fixable.group(2):
            return uri
    return str(_urljoin(base, uri))


def _map_content_type(content_type: str) -> str:
    return str(_FeedParserMixin.map_content_type(content_type))


class _Reader:
    __slots__ = ("_bases", "_unknown")

    def __init__(
        self, unknown_prefixes: frozenset[str], bases: dict[Any, str] | None = None
    ) -> None:
        self._unknown = unknown_prefixes
        self._bases = bases  # None: no xml:base, every base URI is ""

    def _base(self, element: Any) -> str:
        return self._bases[element] if self._bases is not None else ""

    def read(self, root: Any) -> FastFeed:
        version = _rss_version(_attributes(root).get("version", ""))
        channels = [child for child in root if isinstance(child.tag, str)]
        if len(channels) != 1 or _key(channels[0], self._unknown) != "channel":
            raise _Reject
        feed: dict[str, Any] = {}
        entries: list[dict[str, Any]] = []
        self._channel(channels[0], feed, entries)
        return FastFeed(feed=feed, entries=entries, version=version)

    def read_rdf(self, root: Any) -> FastFeed:
        """An RSS 1.0 <rdf:RDF>: its <channel> first, then items, an image and a text input.

        feedparser reads it with the handlers it reads RSS 2.0 with; what differs is only
        where the items are (after the channel, not in it) and an item's rdf:about, its id.
        """
        children = [child for child in root if isinstance(child.tag, str)]
        if not children or _key(children[0], self._unknown) != "channel":
            raise _Reject
        feed: dict[str, Any] = {}
        entries: list[dict[str, Any]] = []
        self._channel(children[0], feed, entries)
        for child in children[1:]:
            key = _key(child, self._unknown)
            if key == "item":
                entries.append(self._rdf_item(child))
            elif key == "image":
                self._only_children(child, _IMAGE_CHILDREN)
            elif key == "textinput":
                self._only_children(child, _TEXTINPUT_CHILDREN)
            else:
                raise _Reject
        return FastFeed(feed=feed, entries=entries, version="rss10")

    def _channel(self, channel: Any, feed: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """An RSS <channel>'s children into `feed`, its items (RSS 2.0) into `entries`."""
        attributes = _attributes(channel)
        if "href" in attributes or "lastmod" in attributes:
            raise _Reject
        titles = 0
        for child in channel:
            key = _key(child, self._unknown)
            if key == _COMMENT:
                continue
            if key == "item":
                entries.append(self._item(child))
            elif key in ("title", "dc_title"):
                titles += 1
                if titles > 1 or "type" in (attrs := _attributes(child)) or "mode" in attrs:
                    raise _Reject
                feed["title"] = _finish(_leaf_text(child))
            elif key == "link":
                self._link(child, feed, in_entry=False)
            elif key in ("language", "dc_language"):
                feed["language"] = _finish(_leaf_text(child))
            elif key in ("guid", "id"):
                _feed_id(child, feed, self._base(child))
            elif key == "image":
                self._only_children(child, _IMAGE_CHILDREN)
            elif key == "textinput":
                self._only_children(child, _TEXTINPUT_CHILDREN)
            else:
                self._check_channel_element(child, key)

    def read_atom(self, root: Any) -> FastFeed:
        """An Atom 1.0 <feed> (feedparser's version "atom10": no RSS 1.0 namespace declared)."""
        language = _lang(root, None)
        feed: dict[str, Any] = {}
        if language:
            feed["language"] = language.replace("_", "-")
        entries: list[dict[str, Any]] = []
        titles = 0
        for child in root:
            key = _key(child, self._unknown)
            if key == _COMMENT:
                continue
            if key == "entry":
                entries.append(self._entry(child, language))
            elif key in ("title", "dc_title"):
                titles += 1
                if titles > 1:
                    raise _Reject
                _check_text_type(_attributes(child))
                feed["title"] = _finish(_leaf_text(child))
                feed["title_detail"] = {"language": _detail_language(_lang(child, language))}
            elif key == "link":
                self._link(child, feed, in_entry=False)
            elif key in ("guid", "id"):
                _feed_id(child, feed, self._base(child))
            else:
                self._check_channel_element(child, key)
        return FastFeed(feed=feed, entries=entries, version="atom10")

    def _entry(self, element: Any, feed_language: str | None) -> dict[str, Any]:
        for name in element.attrib:
            if name not in (_XML_LANG, _XML_BASE):
                raise _Reject  # rdf:about, lastmod and href all mean something to feedparser
        state = _ItemState()
        state.atom = True
        state.lang = _lang(element, feed_language)
        return self._read_item(element, state)

    def _only_children(self, element: Any, allowed: frozenset[str]) -> None:
        for child in element:
            key = _key(child, self._unknown)
            if key == _COMMENT:
                continue
            if key not in allowed:
                raise _Reject
            _leaf_text(child)

    def _check_channel_element(self, element: Any, key: str) -> None:
        if key in _CHANNEL_DANGER:
            raise _Reject
        if key in _CONTENT_HANDLERS:
            _leaf_text(element)
            return
        for child in element:
            child_key = _key(child, self._unknown)
            if child_key != _COMMENT:
                self._check_channel_element(child, child_key)

    def _link(self, element: Any, context: dict[str, Any], *, in_entry: bool) -> None:
        """mixin._start_link + pop('link'), for an entry or the feed."""
        attributes = _attributes(element)
        href = attributes.get("url", attributes.get("uri", attributes.get("href")))
        if href:
            attributes.pop("url", None)
            attributes.pop("uri", None)
            attributes["href"] = href
        if "href" in attributes:
            if len(element):
                raise _Reject
            rel = attributes.get("rel", "alternate")
            default_type = "application/atom+xml" if rel == "self" else "text/html"
            content_type = attributes.get("type", default_type)
            if rel == "alternate" and _map_content_type(content_type) in _HTML_TYPES:
                context["link"] = _join(self._base(element), attributes["href"])
            return
        value = _leaf_text(element)
        if value:
            value = _join(self._base(element), value)
        value = _finish(value)
        if "&" in value:  # the replacements below find nothing without one
            if in_entry:
                value = value.replace("&amp;", "&")
            value = _LINK_ENTITY.sub(r"&\g<1>", value)
        context["link"] = value

    def _item(self, item: Any) -> dict[str, Any]:
        if len(item.attrib):
            raise _Reject  # rdf:about, lastmod and href all mean something to feedparser
        return self._read_item(item, _ItemState())

    def _rdf_item(self, item: Any) -> dict[str, Any]:
        """An RSS 1.0 item: mixin._start_item takes a non-empty rdf:about as its id."""
        names = item.keys()
        if names and names != [_RDF_ABOUT]:
            raise _Reject  # lastmod and href mean something to feedparser
        state = _ItemState()
        # The value as the XML parser gives it: the strict parser's _normalize_attributes
        # keeps it, and nothing strips or repairs it.
        about = item.get(_RDF_ABOUT, "")
        if about:
            state.entry["id"] = about
        return self._read_item(item, state)

    def _read_item(self, element: Any, state: _ItemState) -> dict[str, Any]:
        """An RSS <item> or Atom <entry>, child by child, as feedparser's handlers read it."""
        keys, unknown = _KEYS, self._unknown
        for child in element:
            # The cache lookup inlined (a comment's tag is a function: never a key there).
            key = keys.get(child.tag) or _key(child, unknown)
            if key != _COMMENT:
                self._item_element(child, key, state, 0)
        entry = state.entry
        if state.media_titles and (state.titles != 1 or not entry["title"] or state.resets):
            raise _Reject  # media:title could become the title
        return entry

    def _item_element(self, element: Any, key: str, state: _ItemState, depth: int) -> None:
        """One element of an item (depth 0: the item's child), as feedparser's handlers."""
        kind = (_ATOM_KINDS if state.atom else _ITEM_KINDS).get(key)
        if kind is None:
            if key in _HANDLED or key in _READ_KEYS:
                raise _Reject
            kind = _GENERIC
        if depth and kind not in _NESTED_OK:
            raise _Reject  # feedparser's depth rules differ below the item's children
        entry = state.entry
        if kind == _TITLE:
            state.titles += 1
            attributes = _attributes(element)
            if state.titles > 1:
                raise _Reject
            if state.atom:
                _check_text_type(attributes)
            elif "type" in attributes or "mode" in attributes:
                raise _Reject
            entry["title"] = _finish(_leaf_text(element))
            if state.atom:
                language = _detail_language(_lang(element, state.lang))
                entry["title_detail"] = {"language": language}
        elif kind == _DESCRIPTION:
            self._summary(element, state, depth, "text/html")
        elif kind == _SUMMARY:
            self._summary(element, state, depth, "text/plain")
        elif kind == _CONTENT:
            attributes = _attributes(element)
            if "type" in attributes or "mode" in attributes:
                raise _Reject
            value = _finish(_leaf_text(element))
            state.has_content = True
            entry.setdefault("content", []).append({"value": value})
            entry.setdefault("summary", value)
        elif kind == _ATOM_CONTENT:
            # _start_content + _end_content: a content value, copied to a missing summary
            attributes = _attributes(element)
            content_type = _check_text_type(attributes, "text/plain")
            value = _finish(_leaf_text(element))
            state.has_content = True
            entry.setdefault("content", []).append({"value": value})
            if content_type in _COPIED_TO_SUMMARY:
                entry.setdefault("summary", value)
        elif kind == _LINK:
            self._link(element, entry, in_entry=True)
        elif kind == _GUID:
            state.guids += 1
            if state.guids > 1:
                raise _Reject
            is_link = _attributes(element).get("ispermalink", "true") == "true"
            value = _leaf_text(element)
            if value and is_link:
                value = _join(self._base(element), value)
            value = _finish(value)
            entry["id"] = value
            if is_link:
                entry.setdefault("link", value)
        elif kind in (_PUBLISHED, _UPDATED, _CREATED):
            name = (
                "published" if kind == _PUBLISHED else "updated" if kind == _UPDATED else "created"
            )
            value = _finish(_leaf_text(element))
            entry[name] = value
            entry[f"{name}_parsed"] = _date(value)
        elif kind in (_CATEGORY, _MEDIA_CATEGORY):
            self._category(element, entry, media=kind == _MEDIA_CATEGORY)
        elif kind == _MEDIA_KEYWORDS:
            if len(element.attrib):
                raise _Reject  # feedparser then fails on it
            tags: list[dict[str, Any]] = entry.get("tags", [])
            for term in _finish(_leaf_text(element)).split(","):
                if term.strip():
                    _add_tag(tags, term.strip(), None, None)
                    entry["tags"] = tags
        elif kind == _LANGUAGE:
            entry["language"] = _finish(_leaf_text(element))
        elif kind == _MEDIA_TITLE:
            state.media_titles += 1
            _leaf_text(element)
        elif kind == _SOURCE:
            state.resets += 1  # feedparser forgets the title it has seen
            _leaf_text(element)
        elif kind == _IMAGE:
            state.resets += 1
            for child in element:
                child_key = _key(child, self._unknown)
                if child_key != _COMMENT:
                    if child_key not in _ITEM_IMAGE_CHILDREN:
                        raise _Reject
                    _leaf_text(child)
        elif kind in (_HARMLESS, _HARMLESS_TEXT):
            _leaf_text(element)
        else:  # _CONTAINER, _GENERIC: look inside
            if kind == _GENERIC and key in _PUSHED and len(element.attrib):
                raise _Reject  # its end tag could pop an enclosing element of that name
            for child in element:
                child_key = _key(child, self._unknown)
                if child_key != _COMMENT:
                    self._item_element(child, child_key, state, depth + 1)

    @staticmethod
    def _summary(element: Any, state: _ItemState, depth: int, default_type: str) -> None:
        """mixin._start_description / _start_summary and what their end tags store."""
        attributes = _attributes(element)
        content_type = _map_content_type(attributes.get("type", default_type))
        if "mode" in attributes or not content_type.startswith("text/"):
            raise _Reject  # feedparser would try base64
        value = _finish(_leaf_text(element))
        entry = state.entry
        if "summary" in entry and not state.has_content:
            # feedparser reads a second summary as content (and leaves a stray element on
            # its stack, which changes nothing it stores)
            state.has_content = True
            entry.setdefault("content", []).append({"value": value})
            return
        if state.summary_depth is None or depth <= state.summary_depth:
            entry["summary"] = value
            state.summary_depth = depth
        if state.atom:
            # mixin.pop stores the detail even when the depth rule keeps the summary
            entry["summary_detail"] = {"language": _detail_language(_lang(element, state.lang))}

    def _category(self, element: Any, entry: dict[str, Any], *, media: bool) -> None:
        """mixin._start_category, _end_category and _add_tag, verbatim."""
        attributes = _attributes(element)
        if media:
            attributes.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
        tags: list[dict[str, Any]] = entry.setdefault("tags", [])
        _add_tag(
            tags,
            attributes.get("term"),
            attributes.get("scheme", attributes.get("domain")),
            attributes.get("label"),
        )
        value = _finish(_leaf_text(element))
        if not value:
            return
        if tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        else:
            _add_tag(tags, value, None, None)


class _ItemState:
    __slots__ = (
        "atom",
        "entry",
        "guids",
        "has_content",
        "lang",
        "media_titles",
        "resets",
        "summary_depth",
        "titles",
    )

    def __init__(self) -> None:
        self.entry: dict[str, Any] = {}
        self.titles = 0
        self.guids = 0
        self.media_titles = 0
        self.resets = 0  # <source> and <image> reset feedparser's title tracking
        self.has_content = False  # feedparser's hasContent
        self.summary_depth: int | None = None  # depth the summary was stored from
        self.atom = False  # an Atom entry: text constructs, <content>, xml:lang
        self.lang: str | None = None  # the entry's xml:lang (Atom)


def _feed_id(element: Any, feed: dict[str, Any], base: str) -> None:
    """_start_guid + _end_guid at feed level: the id, and the link when there is none yet."""
    is_link = _attributes(element).get("ispermalink", "true") == "true"
    value = _leaf_text(element)
    if value and is_link:
        value = _join(base, value)
    value = _finish(value)
    feed["id"] = value
    if is_link:
        feed.setdefault("link", value)


def _lang(element: Any, inherited: str | None) -> str | None:
    """The xml:lang feedparser tracks for `element` (an empty one means none)."""
    declared = element.get(_XML_LANG)
    if declared is None:
        return inherited
    return declared or None


def _detail_language(language: str | None) -> str | None:
    """The "language" of a feedparser text construct's detail (push_content)."""
    return language.replace("_", "-") if language else language


def _check_text_type(attributes: dict[str, str], default: str = "text/plain") -> str:
    """An Atom text construct's content type, or _Reject when feedparser would not store its
    text as is (mode, base64 for a non-text type, escaping for XHTML).
    """
    content_type = _map_content_type(attributes.get("type", default))
    if "mode" in attributes or not content_type.startswith("text/"):
        raise _Reject
    return content_type


def _add_tag(tags: list[dict[str, Any]], term: Any, scheme: Any, label: Any) -> None:
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)


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


def _date(value: str) -> time.struct_time | None:
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


def _rss_version(declared: str) -> str:
    """mixin._start_rss: the version feedparser reports for an <rss> root."""
    version = _RSS_VERSIONS.get(declared)
    if version:
        return version
    return "rss20" if declared.startswith("2.") else "rss"
