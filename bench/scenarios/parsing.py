"""The parse stage's anchors, one core: items/s of each parser on the same bodies.

Synthetic corpus feeds and, when present, ../shared/realfeeds (read by path, never copied).
feedparser with its defaults, feedparser with sanitizing and relative-URI resolution off,
policywire's `parse_feed` with and without its lxml fast path (policywire/fastparse.py; the
fast path alone counts only the items of the bodies it accepts), and — only when installed —
fastfeedparser and a bare lxml pass. `fast_path_acceptance` counts the bodies that take the
fast path; tests/test_fastparse.py checks they give the same Items.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import feed_body
from bench.measure import Meter, Result

_REAL_SUFFIXES = (".xml", ".atom", ".rdf", ".rss")


def _bodies(params: dict[str, Any]) -> dict[str, list[bytes]]:
    sets = {"synthetic": [feed_body(i, params["items"]) for i in range(params["feeds"])]}
    real = Path(params["realfeeds"]) if params.get("realfeeds") else None
    if real is not None and real.is_dir():
        files = [p for p in sorted(real.iterdir()) if p.suffix in _REAL_SUFFIXES]
        sets["real"] = [p.read_bytes() for p in files[: params.get("real_files")]]
    return sets


def _parsers() -> dict[str, Callable[[bytes], int]]:
    import feedparser

    from policywire.ingest.fastparse import parse_fast
    from policywire.ingest.parse import ParseError, parse_feed, parse_feed_with_feedparser

    now = datetime.now(UTC)

    def policywire_parse(body: bytes) -> int:
        try:
            return len(parse_feed(body, feed_url="https://bench.example/feed", now=now).items)
        except ParseError:
            return 0

    def policywire_feedparser_only(body: bytes) -> int:
        try:
            feed = parse_feed_with_feedparser(body, feed_url="https://bench.example/feed", now=now)
        except ParseError:
            return 0
        return len(feed.items)

    def fast_path_only(body: bytes) -> int:
        # The lxml reader alone (no normalization); 0 items for a body it sends to feedparser.
        fast = parse_fast(body, {"content-type": "application/xml"})
        return 0 if fast is None else len(fast.entries)

    parsers: dict[str, Callable[[bytes], int]] = {
        "feedparser (defaults)": lambda b: len(feedparser.parse(b).entries),
        "feedparser (no sanitize, no URI resolve)": lambda b: len(
            feedparser.parse(b, sanitize_html=False, resolve_relative_uris=False).entries
        ),
        "policywire parse_feed (feedparser only)": policywire_feedparser_only,
        "policywire parse_feed": policywire_parse,
        "policywire lxml fast path alone (accepted bodies)": fast_path_only,
    }
    if importlib.util.find_spec("fastfeedparser") is not None:
        import fastfeedparser

        def fast(body: bytes) -> int:
            try:
                return len(fastfeedparser.parse(body).entries)
            except Exception:
                return 0

        parsers["fastfeedparser"] = fast
    if importlib.util.find_spec("lxml") is not None:
        from lxml import etree

        def bare_lxml(body: bytes) -> int:
            try:
                root = etree.fromstring(body, etree.XMLParser(recover=True, resolve_entities=False))
            except etree.XMLSyntaxError:
                return 0
            if root is None:
                return 0
            return sum(
                1 for el in root.iter() if str(el.tag).rsplit("}", 1)[-1] in ("item", "entry")
            )

        parsers["bare lxml pass"] = bare_lxml
    return parsers


def run_compare(params: dict[str, Any]) -> dict[str, Result]:
    results: dict[str, Result] = {}
    parsers = _parsers()
    for set_name, bodies in _bodies(params).items():
        for parser_name, parse in parsers.items():
            with Meter() as meter:
                items = sum(parse(body) for body in bodies)
            results[f"{set_name}|{parser_name}"] = Result(
                meter.wall,
                meter.cpu,
                meter.peak_rss_mb,
                items,
                {"unit": "items", "feeds": len(bodies), "bytes": sum(map(len, bodies))},
            )
    return results


# --- the fast-path decision: are fastfeedparser's Items identical to feedparser's? -------------


def _struct_time(value: object) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.timetuple()


def fast_parse_feed(body: bytes, *, feed_url: str, now: datetime) -> Any:
    """fastfeedparser's output pushed through policywire's own normalization (`_entry_to_item`).

    fastfeedparser names and shapes fields its own way (`description` for the summary, ISO
    strings for dates, no `*_parsed`), so each entry is first mapped to the keys feedparser
    uses; everything after that is the code `parse_feed` runs.
    """
    import fastfeedparser

    from policywire.ingest import parse as pw
    from policywire.ingest.html_text import html_to_text
    from policywire.ingest.text import detect_language_hint
    from policywire.models import ParsedFeed

    result = fastfeedparser.parse(body)
    info = dict(result.get("feed") or {})
    context = pw._Context(feed_url=feed_url, source="", language=None, now=now.astimezone(UTC))
    title = html_to_text(pw._text(info, "title"))
    feed_language = detect_language_hint(pw._text(info, "language")) or pw._detail_language(
        info, "title_detail"
    )
    version = "atom" if b"<feed" in body[:4096] else "rss"
    base = pw._link_base(version, pw._text(info, "link"), feed_url)
    entries = []
    for raw in result.get("entries") or []:
        entry: dict[str, Any] = {
            key: raw.get(key) or ""
            for key in ("title", "link", "id", "published", "updated", "language")
        }
        entry["summary"] = raw.get("description") or ""
        entry["content"] = [
            {"value": c.get("value") or ""} for c in raw.get("content") or [] if isinstance(c, dict)
        ]
        entry["tags"] = [dict(tag) for tag in raw.get("tags") or [] if isinstance(tag, dict)]
        for key in ("published", "updated"):
            parsed = _struct_time(raw.get(key))
            if parsed is not None:
                entry[f"{key}_parsed"] = parsed
        entries.append(entry)
    items = tuple(
        pw._unique_by_id(
            item
            for entry in entries
            if (item := pw._entry_to_item(entry, context, base, title, feed_language)) is not None
        )
    )
    return ParsedFeed(items=items, title=title, language=feed_language)


def compare_items(params: dict[str, Any]) -> dict[str, Any]:
    """Per corpus: feeds whose Items are identical both ways, and which Item fields differ."""
    from policywire.ingest.parse import ParseError, parse_feed

    now = datetime(2030, 1, 1, tzinfo=UTC)
    report: dict[str, Any] = {}
    for set_name, bodies in _bodies(params).items():
        identical, differing, fields = 0, [], Counter[str]()
        for index, body in enumerate(bodies):
            url = f"https://bench.example/{set_name}/{index}"
            try:
                slow = parse_feed(body, feed_url=url, now=now).items
            except ParseError:
                slow = ()
            try:
                fast = fast_parse_feed(body, feed_url=url, now=now).items
            except Exception:
                fast = None
            if fast == slow:
                identical += 1
                continue
            differing.append(index)
            if fast is None or len(fast) != len(slow):
                fields["item count"] += 1
                continue
            for a, b in zip(slow, fast, strict=True):
                for name in a.__slots__:
                    if getattr(a, name) != getattr(b, name):
                        fields[name] += 1
        report[set_name] = {
            "feeds": len(bodies),
            "identical": identical,
            "differing_fields": dict(fields.most_common()),
        }
    return report


def fast_path_acceptance(params: dict[str, Any]) -> dict[str, Any]:
    """Per corpus: how many bodies (and their items) the lxml fast path accepts."""
    from policywire.ingest.fastparse import parse_fast

    report: dict[str, Any] = {}
    for set_name, bodies in _bodies(params).items():
        accepted = [
            fast
            for body in bodies
            if (fast := parse_fast(body, {"content-type": "application/xml"})) is not None
        ]
        report[set_name] = {
            "feeds": len(bodies),
            "accepted": len(accepted),
            "accepted_items": sum(len(fast.entries) for fast in accepted),
        }
    return report
