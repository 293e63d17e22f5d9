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

import re
import threading
from collections.abc import Mapping
from typing import Any

from feedparser.encodings import convert_to_utf8
from feedparser.sanitizer import replace_doctype
from lxml import etree  # type: ignore[import-untyped]  # no stubs without lxml-stubs

from policywire.ingest.fastparse_atom import AtomReader, base_uris, check_lang_and_base
from policywire.ingest.fastparse_elements import (
    CANONICAL_PREFIXES,
    KNOWN_NS,
    LANG_OR_BASE,
    FastFeed,
    Reject,
    lower_uri,
)
from policywire.ingest.fastparse_rss import RssReader

__all__ = ["FastFeed", "parse_atom", "parse_fast", "parse_rdf", "parse_rss"]

_XMLNS = re.compile(rb"""xmlns(?::([^\s=/>"']+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_RDF_ROOT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
# An <rdf:RDF> is RSS 1.0 to feedparser when this namespace is the first of the three that
# set its version to be declared; the fast path takes it only when the others are absent.
_RSS10_NS = "http://purl.org/rss/1.0/"
_NOT_RSS10_NS = frozenset({"http://my.netscape.com/rdf/simple/0.9/", "http://www.w3.org/2005/atom"})
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
            if _lang_or_base_candidates(data) and LANG_OR_BASE(root):
                return None
            return RssReader(prefixes).read(root)
        if rdf and root.tag == _RDF_ROOT:
            declared_here = {uri.lower() for uri in root.nsmap.values()}
            if _RSS10_NS not in declared_here or not uris.isdisjoint(_NOT_RSS10_NS):
                return None  # feedparser takes the version from the first of these declared
            if _lang_or_base_candidates(data) and LANG_OR_BASE(root):
                return None
            return RssReader(prefixes).read_rdf(root)
        if atom and root.tag == _ATOM_FEED:
            if not uris.isdisjoint(_OTHER_VERSION_NS):
                return None  # feedparser would take the version from that namespace
            has_base = check_lang_and_base(root, prefixes, _lang_or_base_candidates(data))
            return AtomReader(prefixes, base_uris(root) if has_base else None).read(root)
        return None
    except (etree.XMLSyntaxError, Reject):
        return None


def _lang_or_base_candidates(data: bytes) -> int:
    """How often "lang" or "base" (any ASCII case) is followed by "=" (whitespace allowed).

    An attribute is written `Name S? = S? value`, so this is at least the number of
    attributes `LANG_OR_BASE` finds; counting with bytes.find is many times cheaper than
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
            raise Reject  # a prefix bound twice
        lowered = lower_uri(uri)
        declared.add(lowered)
        canonical = KNOWN_NS.get(lowered)
        if canonical is None:
            if by_uri.setdefault(lowered, prefix) != prefix:
                raise Reject  # an unknown namespace under two prefixes
            if prefix.lower() in CANONICAL_PREFIXES:
                raise Reject  # feedparser would read it as its own namespace
            unknown.add(prefix)
        elif prefix and prefix.lower() in CANONICAL_PREFIXES and prefix.lower() != canonical:
            raise Reject  # e.g. xmlns:dc bound to dcterms: feedparser renames elements
    return frozenset(unknown), frozenset(declared)
