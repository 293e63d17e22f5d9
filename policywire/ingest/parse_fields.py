"""One entry's raw fields, read out of feedparser-shaped mappings (either reader's) and JSON
Feed objects: safe lookups, its HTML bodies, its language, its id, and the one-entry-per-id rule.

Part of `policywire.ingest.parse` (see its docstring), apart so that parse.py holds the feed
readers and the building of Items; nothing here is public API, hence the leading underscores.
None of these call the text helpers parse.py imports (html_to_text, canonical_link…), which
tests/test_text.py replaces on parse.py itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from policywire.ingest.match_text import body_text
from policywire.ingest.text import detect_language_hint
from policywire.models import Item


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


def _plain_as_markup(value: object) -> str:
    """content_text is plain text: escape it so html_to_text keeps its "<" and "&"."""
    text = _as_str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _scalar_id(value: object) -> str:
    # The spec says strings, but numbers are common in the wild.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _entry_id(declared: str, link: str, title: str, date_text: str) -> str:
    if declared.strip():
        return declared.strip()
    if link:
        return link
    # Neither guid nor link: the raw title and date are what stays the same between polls.
    return hashlib.sha1(f"{title}\n{date_text}".encode(), usedforsecurity=False).hexdigest()


def _unique_by_id(items: Iterable[Item]) -> Iterator[Item]:
    """The first entry wins when a feed repeats an id (republished or paginated entries)."""
    seen: set[str] = set()
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            yield item
