"""The parse stage's anchors, one core: items/s of each parser on the same bodies.

Synthetic corpus feeds and, when present, ../shared/realfeeds (read by path, never copied).
feedparser with its defaults, feedparser with sanitizing and relative-URI resolution off,
policywire's `parse_feed` (feedparser + normalization to Items), and — only when installed —
fastfeedparser and a bare lxml pass, for the fast-path decision.
"""

from __future__ import annotations

import importlib.util
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
        sets["real"] = [
            p.read_bytes() for p in sorted(real.iterdir()) if p.suffix in _REAL_SUFFIXES
        ]
    return sets


def _parsers() -> dict[str, Callable[[bytes], int]]:
    import feedparser

    from policywire.parse import ParseError, parse_feed

    now = datetime.now(UTC)

    def policywire_parse(body: bytes) -> int:
        try:
            return len(parse_feed(body, feed_url="https://bench.example/feed", now=now).items)
        except ParseError:
            return 0

    parsers: dict[str, Callable[[bytes], int]] = {
        "feedparser (defaults)": lambda b: len(feedparser.parse(b).entries),
        "feedparser (no sanitize, no URI resolve)": lambda b: len(
            feedparser.parse(b, sanitize_html=False, resolve_relative_uris=False).entries
        ),
        "policywire parse_feed": policywire_parse,
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
