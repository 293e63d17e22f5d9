"""What the fast path's readers share about elements: the result they build, the refusal that
sends a body to feedparser, and elements named, attributed and read as feedparser does it.

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedparser.mixin import _FeedParserMixin
from lxml import etree  # type: ignore[import-untyped]  # no stubs without lxml-stubs


@dataclass(frozen=True, slots=True)
class FastFeed:
    """The parts of a feedparser result that `parse_feed` reads."""

    feed: dict[str, Any]
    entries: list[dict[str, Any]]
    version: str


class Reject(Exception):
    """This body needs feedparser."""


# --- element names, as feedparser spells them -------------------------------------------------

# feedparser's namespace table, keys lower-cased as it matches them.
KNOWN_NS: dict[str, str] = {
    uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()
}
CANONICAL_PREFIXES = frozenset(p.lower() for p in KNOWN_NS.values() if p)
COMMENT = "#"  # key of comments and processing instructions: feedparser ignores them

# --- elements, as feedparser reads them --------------------------------------------------------

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# Every attribute feedparser takes for xml:lang or xml:base (local name lang or base, any case).
LANG_OR_BASE = etree.XPath(
    "//@*[translate(local-name(), 'LANGBSE', 'langbse') = 'lang'"
    " or translate(local-name(), 'LANGBSE', 'langbse') = 'base']"
)


def lower_uri(uri: str) -> str:
    lowered = uri.lower()
    return "http://backend.userland.com/rss" if "backend.userland.com/rss" in lowered else lowered


KEYS: dict[str, str] = {}


def element_key(element: Any, unknown_prefixes: frozenset[str]) -> str:
    """feedparser's name for an element ("dc_date", "link"…), "#" for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return COMMENT
    key = KEYS.get(tag)
    if key is not None:
        return key
    if tag[0] != "{":
        key = tag.lower()
    else:
        uri, _, local = tag[1:].partition("}")
        canonical = KNOWN_NS.get(lower_uri(uri))
        if canonical is None:
            # Depends on the document's prefix: not cached.
            prefix = element.prefix or ""
            if prefix not in unknown_prefixes:
                raise Reject
            return f"{prefix}_{local}".lower() if prefix else local.lower()
        key = f"{canonical}_{local}".lower() if canonical else local.lower()
    KEYS[tag] = key
    return key


def element_attributes(element: Any) -> dict[str, str]:
    """The element's attributes as feedparser's strict parser names and normalizes them."""
    found: dict[str, str] = {}
    for name, value in element.items():  # no _Attrib proxy: cheaper than .attrib
        if name[0] == "{":
            uri, _, local = name[1:].partition("}")
            prefix = KNOWN_NS.get(uri.lower(), "")
            name = f"{prefix}:{local}" if prefix else local
        name = name.lower()
        found[name] = value.lower() if name in ("rel", "type") else value
    return found


def leaf_text(element: Any) -> str:
    if len(element):
        raise Reject  # child elements, comments or PIs inside a text element
    text = element.text
    return text.strip() if text else ""


def element_lang(element: Any, inherited: str | None) -> str | None:
    """The xml:lang feedparser tracks for `element` (an empty one means none)."""
    declared = element.get(XML_LANG)
    if declared is None:
        return inherited
    return declared or None
