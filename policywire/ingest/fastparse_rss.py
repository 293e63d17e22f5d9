"""RSS 2.0 (<rss><channel>) and RSS 1.0 (<rdf:RDF>) read as feedparser reads them.

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

from typing import Any

from policywire.ingest.fastparse_elements import (
    COMMENT,
    FastFeed,
    Reject,
    element_attributes,
    element_key,
    leaf_text,
)
from policywire.ingest.fastparse_entries import EntryReader, ItemState, feed_id
from policywire.ingest.fastparse_kinds import IMAGE_CHILDREN, TEXTINPUT_CHILDREN
from policywire.ingest.fastparse_values import finish

_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


class RssReader(EntryReader):
    __slots__ = ()

    def read(self, root: Any) -> FastFeed:
        """An RSS 2.0 <rss>: one <channel>, the items inside it."""
        version = _rss_version(element_attributes(root).get("version", ""))
        channels = [child for child in root if isinstance(child.tag, str)]
        if len(channels) != 1 or element_key(channels[0], self._unknown) != "channel":
            raise Reject
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
        if not children or element_key(children[0], self._unknown) != "channel":
            raise Reject
        feed: dict[str, Any] = {}
        entries: list[dict[str, Any]] = []
        self._channel(children[0], feed, entries)
        for child in children[1:]:
            key = element_key(child, self._unknown)
            if key == "item":
                entries.append(self._rdf_item(child))
            elif key == "image":
                self._only_children(child, IMAGE_CHILDREN)
            elif key == "textinput":
                self._only_children(child, TEXTINPUT_CHILDREN)
            else:
                raise Reject
        return FastFeed(feed=feed, entries=entries, version="rss10")

    def _channel(self, channel: Any, feed: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """An RSS <channel>'s children into `feed`, its items (RSS 2.0) into `entries`."""
        attributes = element_attributes(channel)
        if "href" in attributes or "lastmod" in attributes:
            raise Reject
        titles = 0
        for child in channel:
            key = element_key(child, self._unknown)
            if key == COMMENT:
                continue
            if key == "item":
                entries.append(self._item(child))
            elif key in ("title", "dc_title"):
                titles += 1
                if titles > 1 or "type" in (attrs := element_attributes(child)) or "mode" in attrs:
                    raise Reject
                feed["title"] = finish(leaf_text(child))
            elif key == "link":
                self._link(child, feed, in_entry=False)
            elif key in ("language", "dc_language"):
                feed["language"] = finish(leaf_text(child))
            elif key in ("guid", "id"):
                feed_id(child, feed, self._base(child))
            elif key == "image":
                self._only_children(child, IMAGE_CHILDREN)
            elif key == "textinput":
                self._only_children(child, TEXTINPUT_CHILDREN)
            else:
                self._check_channel_element(child, key)

    def _item(self, item: Any) -> dict[str, Any]:
        if len(item.attrib):
            raise Reject  # rdf:about, lastmod and href all mean something to feedparser
        return self._read_item(item, ItemState())

    def _rdf_item(self, item: Any) -> dict[str, Any]:
        """An RSS 1.0 item: mixin._start_item takes a non-empty rdf:about as its id."""
        names = item.keys()
        if names and names != [_RDF_ABOUT]:
            raise Reject  # lastmod and href mean something to feedparser
        state = ItemState()
        # The value as the XML parser gives it: the strict parser's _normalize_attributes
        # keeps it, and nothing strips or repairs it.
        about = item.get(_RDF_ABOUT, "")
        if about:
            state.entry["id"] = about
        return self._read_item(item, state)

    def _only_children(self, element: Any, allowed: frozenset[str]) -> None:
        for child in element:
            key = element_key(child, self._unknown)
            if key == COMMENT:
                continue
            if key not in allowed:
                raise Reject
            leaf_text(child)


def _rss_version(declared: str) -> str:
    """mixin._start_rss: the version feedparser reports for an <rss> root."""
    version = _RSS_VERSIONS.get(declared)
    if version:
        return version
    return "rss20" if declared.startswith("2.") else "rss"
