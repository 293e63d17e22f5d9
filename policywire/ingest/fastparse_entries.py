"""An RSS <item> or an Atom <entry>, element by element, as feedparser's handlers read it,
and the feed-level checks RSS channels and Atom feeds share (`EntryReader`, the base of the
RSS and Atom readers).

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

import re
from typing import Any

from policywire.ingest.fastparse_elements import (
    COMMENT,
    KEYS,
    Reject,
    element_attributes,
    element_key,
    element_lang,
    leaf_text,
)
from policywire.ingest.fastparse_kinds import (
    ATOM_CONTENT,
    ATOM_KINDS,
    CATEGORY,
    CHANNEL_DANGER,
    CONTENT,
    CONTENT_HANDLERS,
    COPIED_TO_SUMMARY,
    CREATED,
    DESCRIPTION,
    GENERIC,
    GUID,
    HANDLED,
    HARMLESS,
    HARMLESS_TEXT,
    IMAGE,
    ITEM_IMAGE_CHILDREN,
    ITEM_KINDS,
    LANGUAGE,
    LINK,
    MEDIA_CATEGORY,
    MEDIA_KEYWORDS,
    MEDIA_TITLE,
    NESTED_OK,
    PUBLISHED,
    PUSHED,
    READ_KEYS,
    SOURCE,
    SUMMARY,
    TITLE,
    UPDATED,
)
from policywire.ingest.fastparse_values import (
    HTML_TYPES,
    check_text_type,
    detail_language,
    finish,
    join_uri,
    map_content_type,
    parsed_date,
)

_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")


class EntryReader:
    """What the RSS and Atom readers share: items and entries, links, feed-level checks."""

    __slots__ = ("_bases", "_unknown")

    def __init__(
        self, unknown_prefixes: frozenset[str], bases: dict[Any, str] | None = None
    ) -> None:
        self._unknown = unknown_prefixes
        self._bases = bases  # None: no xml:base, every base URI is ""

    def _base(self, element: Any) -> str:
        return self._bases[element] if self._bases is not None else ""

    def _check_channel_element(self, element: Any, key: str) -> None:
        if key in CHANNEL_DANGER:
            raise Reject
        if key in CONTENT_HANDLERS:
            leaf_text(element)
            return
        for child in element:
            child_key = element_key(child, self._unknown)
            if child_key != COMMENT:
                self._check_channel_element(child, child_key)

    def _link(self, element: Any, context: dict[str, Any], *, in_entry: bool) -> None:
        """mixin._start_link + pop('link'), for an entry or the feed."""
        attributes = element_attributes(element)
        href = attributes.get("url", attributes.get("uri", attributes.get("href")))
        if href:
            attributes.pop("url", None)
            attributes.pop("uri", None)
            attributes["href"] = href
        if "href" in attributes:
            if len(element):
                raise Reject
            rel = attributes.get("rel", "alternate")
            default_type = "application/atom+xml" if rel == "self" else "text/html"
            content_type = attributes.get("type", default_type)
            if rel == "alternate" and map_content_type(content_type) in HTML_TYPES:
                context["link"] = join_uri(self._base(element), attributes["href"])
            return
        value = leaf_text(element)
        if value:
            value = join_uri(self._base(element), value)
        value = finish(value)
        if "&" in value:  # the replacements below find nothing without one
            if in_entry:
                value = value.replace("&amp;", "&")
            value = _LINK_ENTITY.sub(r"&\g<1>", value)
        context["link"] = value

    def _read_item(self, element: Any, state: ItemState) -> dict[str, Any]:
        """An RSS <item> or Atom <entry>, child by child, as feedparser's handlers read it."""
        keys, unknown = KEYS, self._unknown
        for child in element:
            # The cache lookup inlined (a comment's tag is a function: never a key there).
            key = keys.get(child.tag) or element_key(child, unknown)
            if key != COMMENT:
                self._item_element(child, key, state, 0)
        entry = state.entry
        if state.media_titles and (state.titles != 1 or not entry["title"] or state.resets):
            raise Reject  # media:title could become the title
        return entry

    def _item_element(self, element: Any, key: str, state: ItemState, depth: int) -> None:
        """One element of an item (depth 0: the item's child), as feedparser's handlers."""
        kind = (ATOM_KINDS if state.atom else ITEM_KINDS).get(key)
        if kind is None:
            if key in HANDLED or key in READ_KEYS:
                raise Reject
            kind = GENERIC
        if depth and kind not in NESTED_OK:
            raise Reject  # feedparser's depth rules differ below the item's children
        entry = state.entry
        if kind == TITLE:
            _title(element, state)
        elif kind == DESCRIPTION:
            _summary(element, state, depth, "text/html")
        elif kind == SUMMARY:
            _summary(element, state, depth, "text/plain")
        elif kind == CONTENT:
            _rss_content(element, state)
        elif kind == ATOM_CONTENT:
            _atom_content(element, state)
        elif kind == LINK:
            self._link(element, entry, in_entry=True)
        elif kind == GUID:
            self._guid(element, state)
        elif kind in (PUBLISHED, UPDATED, CREATED):
            _date(element, entry, kind)
        elif kind in (CATEGORY, MEDIA_CATEGORY):
            _category(element, entry, media=kind == MEDIA_CATEGORY)
        elif kind == MEDIA_KEYWORDS:
            _media_keywords(element, entry)
        elif kind == LANGUAGE:
            entry["language"] = finish(leaf_text(element))
        elif kind == MEDIA_TITLE:
            state.media_titles += 1
            leaf_text(element)
        elif kind == SOURCE:
            state.resets += 1  # feedparser forgets the title it has seen
            _source(element, entry)
        elif kind == IMAGE:
            state.resets += 1
            self._item_image(element)
        elif kind in (HARMLESS, HARMLESS_TEXT):
            leaf_text(element)
        else:  # CONTAINER, GENERIC: look inside
            if kind == GENERIC and key in PUSHED and len(element.attrib):
                raise Reject  # its end tag could pop an enclosing element of that name
            for child in element:
                child_key = element_key(child, self._unknown)
                if child_key != COMMENT:
                    self._item_element(child, child_key, state, depth + 1)

    def _guid(self, element: Any, state: ItemState) -> None:
        """mixin._start_guid + _end_guid in an item: the id, and the link when it is one."""
        state.guids += 1
        if state.guids > 1:
            raise Reject
        is_link = element_attributes(element).get("ispermalink", "true") == "true"
        value = leaf_text(element)
        if value and is_link:
            value = join_uri(self._base(element), value)
        value = finish(value)
        entry = state.entry
        entry["id"] = value
        if is_link:
            entry.setdefault("link", value)

    def _item_image(self, element: Any) -> None:
        """An <image> inside an item: only children feedparser stores nowhere parse_feed looks."""
        for child in element:
            child_key = element_key(child, self._unknown)
            if child_key != COMMENT:
                if child_key not in ITEM_IMAGE_CHILDREN:
                    raise Reject
                leaf_text(child)


def _title(element: Any, state: ItemState) -> None:
    """mixin._start_title + pop('title'); for Atom, the title's detail language too."""
    state.titles += 1
    attributes = element_attributes(element)
    if state.titles > 1:
        raise Reject
    if state.atom:
        check_text_type(attributes)
    elif "type" in attributes or "mode" in attributes:
        raise Reject
    entry = state.entry
    entry["title"] = finish(leaf_text(element))
    if state.atom:
        language = detail_language(element_lang(element, state.lang))
        entry["title_detail"] = {"language": language}


def _summary(element: Any, state: ItemState, depth: int, default_type: str) -> None:
    """mixin._start_description / _start_summary and what their end tags store."""
    attributes = element_attributes(element)
    content_type = map_content_type(attributes.get("type", default_type))
    if "mode" in attributes or not content_type.startswith("text/"):
        raise Reject  # feedparser would try base64
    value = finish(leaf_text(element))
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
        entry["summary_detail"] = {"language": detail_language(element_lang(element, state.lang))}


def _rss_content(element: Any, state: ItemState) -> None:
    """An RSS item's content:encoded: a content value, and the summary when there is none."""
    attributes = element_attributes(element)
    if "type" in attributes or "mode" in attributes:
        raise Reject
    value = finish(leaf_text(element))
    state.has_content = True
    entry = state.entry
    entry.setdefault("content", []).append({"value": value})
    entry.setdefault("summary", value)


def _atom_content(element: Any, state: ItemState) -> None:
    """_start_content + _end_content: a content value, copied to a missing summary."""
    attributes = element_attributes(element)
    content_type = check_text_type(attributes, "text/plain")
    value = finish(leaf_text(element))
    state.has_content = True
    entry = state.entry
    entry.setdefault("content", []).append({"value": value})
    if content_type in COPIED_TO_SUMMARY:
        entry.setdefault("summary", value)


def _source(element: Any, entry: dict[str, Any]) -> None:
    """_start_source + _end_source for a text-only <source> (RSS 2.0's, naming the outlet an
    aggregator took the item from): the last one replaces any before it, as in feedparser."""
    source: dict[str, Any] = {}
    url = element_attributes(element).get("url")
    if url is not None:
        source["href"] = url
    value = finish(leaf_text(element))
    if value:
        source["title"] = value
    entry["source"] = source


def _date(element: Any, entry: dict[str, Any], kind: int) -> None:
    """A published, updated or created date: the text and its parsed value."""
    name = "published" if kind == PUBLISHED else "updated" if kind == UPDATED else "created"
    value = finish(leaf_text(element))
    entry[name] = value
    entry[f"{name}_parsed"] = parsed_date(value)


def _category(element: Any, entry: dict[str, Any], *, media: bool) -> None:
    """mixin._start_category, _end_category and _add_tag, verbatim."""
    attributes = element_attributes(element)
    if media:
        attributes.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
    tags: list[dict[str, Any]] = entry.setdefault("tags", [])
    _add_tag(
        tags,
        attributes.get("term"),
        attributes.get("scheme", attributes.get("domain")),
        attributes.get("label"),
    )
    value = finish(leaf_text(element))
    if not value:
        return
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        _add_tag(tags, value, None, None)


def _media_keywords(element: Any, entry: dict[str, Any]) -> None:
    """media:keywords: each comma-separated term a tag."""
    if len(element.attrib):
        raise Reject  # feedparser then fails on it
    tags: list[dict[str, Any]] = entry.get("tags", [])
    for term in finish(leaf_text(element)).split(","):
        if term.strip():
            _add_tag(tags, term.strip(), None, None)
            entry["tags"] = tags


class ItemState:
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


def feed_id(element: Any, feed: dict[str, Any], base: str) -> None:
    """_start_guid + _end_guid at feed level: the id, and the link when there is none yet."""
    is_link = element_attributes(element).get("ispermalink", "true") == "true"
    value = leaf_text(element)
    if value and is_link:
        value = join_uri(base, value)
    value = finish(value)
    feed["id"] = value
    if is_link:
        feed.setdefault("link", value)


def _add_tag(tags: list[dict[str, Any]], term: Any, scheme: Any, label: Any) -> None:
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)
