"""Atom 1.0 (<feed>) read as feedparser reads it, with the xml:lang and xml:base it honours.

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

from typing import Any

from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree  # type: ignore[import-untyped]  # no stubs without lxml-stubs

from policywire.ingest.fastparse_elements import (
    COMMENT,
    LANG_OR_BASE,
    XML_BASE,
    XML_LANG,
    FastFeed,
    Reject,
    element_attributes,
    element_key,
    element_lang,
    leaf_text,
)
from policywire.ingest.fastparse_entries import EntryReader, ItemState, feed_id
from policywire.ingest.fastparse_kinds import ATOM_KINDS, ATOM_LANG_KINDS
from policywire.ingest.fastparse_values import check_text_type, detail_language, finish


class AtomReader(EntryReader):
    __slots__ = ()

    def read(self, root: Any) -> FastFeed:
        """An Atom 1.0 <feed> (feedparser's version "atom10": no RSS 1.0 namespace declared)."""
        language = element_lang(root, None)
        feed: dict[str, Any] = {}
        if language:
            feed["language"] = language.replace("_", "-")
        entries: list[dict[str, Any]] = []
        titles = 0
        for child in root:
            key = element_key(child, self._unknown)
            if key == COMMENT:
                continue
            if key == "entry":
                entries.append(self._entry(child, language))
            elif key in ("title", "dc_title"):
                titles += 1
                if titles > 1:
                    raise Reject
                check_text_type(element_attributes(child))
                feed["title"] = finish(leaf_text(child))
                feed["title_detail"] = {"language": detail_language(element_lang(child, language))}
            elif key == "link":
                self._link(child, feed, in_entry=False)
            elif key in ("guid", "id"):
                feed_id(child, feed, self._base(child))
            else:
                self._check_channel_element(child, key)
        return FastFeed(feed=feed, entries=entries, version="atom10")

    def _entry(self, element: Any, feed_language: str | None) -> dict[str, Any]:
        for name in element.attrib:
            if name not in (XML_LANG, XML_BASE):
                raise Reject  # rdf:about, lastmod and href all mean something to feedparser
        state = ItemState()
        state.atom = True
        state.lang = element_lang(element, feed_language)
        return self._read_item(element, state)


def _is_lang_or_base(name: str) -> bool:
    """Is this attribute name one `LANG_OR_BASE` selects (local name lang or base)?"""
    return name.rpartition("}")[2].translate(_ASCII_LOWER) in ("lang", "base")


# What XPath's translate(…, 'LANGBSE', 'langbse') does, for the letters that matter: a local
# name equal to "lang" or "base" after it uses no other letters.
_ASCII_LOWER = str.maketrans("LANGBSE", "langbse")


def check_lang_and_base(root: Any, unknown_prefixes: frozenset[str], candidates: int) -> bool:
    """Whether there is an xml:base (anywhere: `base_uris` reproduces it); xml:lang is allowed
    only where its effect is reproduced: the feed, its title, its entries and their text
    constructs. Other lang or base attributes (feedparser reads `lang`, `base` and any
    prefix's lang or base as xml:lang and xml:base) are not reproduced.

    `candidates`: `fastparse._lang_or_base_candidates` of the document. When the root's own lang and
    base attributes account for all of them, no other element has one.
    """
    on_root = [name for name in root.attrib if _is_lang_or_base(name)]
    if len(on_root) == candidates:
        for name in on_root:
            if name not in (XML_BASE, XML_LANG):
                raise Reject
        return XML_BASE in on_root
    has_base = False
    for attribute in LANG_OR_BASE(root):
        if attribute.attrname == XML_BASE:
            has_base = True
            continue
        if attribute.attrname != XML_LANG:
            raise Reject
        element = attribute.getparent()
        if element is root:
            continue
        parent = element.getparent()
        key = element_key(element, unknown_prefixes)
        if parent is root and key in ("entry", "title", "dc_title"):
            continue
        if (
            parent is not None
            and parent.getparent() is root
            and element_key(parent, unknown_prefixes) == "entry"
            and ATOM_KINDS.get(key) in ATOM_LANG_KINDS
        ):
            continue
        raise Reject
    return has_base


def base_uris(root: Any) -> dict[Any, str]:
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
            declared = element.get(XML_BASE) or current
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
