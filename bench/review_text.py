"""Summaries with boilerplate, empty summaries and links with tracking parameters, counted.

    python -m bench.review_text                     # ../shared/realfeeds/
    python -m bench.review_text --show byline       # which items (feed file and link) a count holds

Every captured feed is parsed as the service parses it and only its items dated before the
held-out date are counted (undated items take the held-out date as "now" and so fall out).
The detectors below are written independently of policywire/ingest/boilerplate.py, as a
reader would spot the junk, so the same command measures the code before and after a change.
Nothing is printed from the feeds but counts, feed file names and item links: no feed text
is written anywhere.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import feedparser

from policywire.errors import ParseError
from policywire.ingest.parse import parse_feed
from policywire.ingest.text import fold
from policywire.models import Item

ROOT = Path(__file__).resolve().parents[1]
REALFEEDS = ROOT.parent / "shared" / "realfeeds"
HELD_OUT = datetime(2026, 2, 15, tzinfo=UTC)  # items from this date on are never looked at
_HELD_OUT_TUPLE = HELD_OUT.timetuple()[:6]
FEED_SUFFIXES = (".xml", ".atom", ".rdf", ".json")


@dataclass(frozen=True)
class Entry:
    """One parsed item with what the raw feed says about it (for the detectors only)."""

    feed_file: str
    feed_title: str
    item: Item
    outlet: str  # the RSS <source> name an aggregator gives, else ""
    has_content: bool  # the feed carries a body (content:encoded, Atom content) for it


# --- detectors: each says whether an item still shows one kind of junk -----------------------

_SUFFIX = re.compile(r"\s[-|–—]\s((?:(?!\s[-|–—]\s).){2,40})\Z")
_BYLINE = re.compile(r"\A(?:By|Di|Par|Von|Por)\s+[A-ZÀ-Ý][\w'’.-]+\s+[A-ZÀ-Ý&]")
_DATELINE = re.compile(
    r"\A(?:[A-ZÀ-Ý][A-ZÀ-Ý/ .'’-]{2,40}(?:,[^()]{3,25})?\s*)?\([A-Za-z][\w .&'’-]{1,25}\)\s*[-–—]"
)
_CREDIT = re.compile(
    r"\A(?:photo(?:graph)?|image|picture|illustration)s?(?:\s+credit)?\s*(?::|\sby\s)"
    r"|[.!?]\s+(?:photo(?:graph)?|image|picture|illustration)s?(?:\s+credit)?\s*(?::|\sby\s)"
    r"[^.!?]{1,80}\Z"
    r"|\((?:photo|image|picture)s?(?:\s+credit)?\s*:|getty images|shutterstock",
    re.I,
)
_PROMO = re.compile(
    r"sign up (?:here|now|for|to)|subscribe to (?:our|the)\b|for privacy information"
    r"|privacy and opt-out information|your ad choices|follow (?:live|along)\b"
    r"|to read this article in full|submitted by /?u/|full coverage on google news"
    r"|couverture complète sur google",
    re.I,
)
_COMMENTS_ONLY = re.compile(
    r"\A(?:comments?|\[link\]\s*\[comments\]"
    r"|(?:article url: \S+\s+)?comments url: \S+\s+points: \d+\s+# comments: \d+)\Z",
    re.I,
)
# Tracking parameters as the people who set them document them. Kept apart from
# policywire/ingest/links.py on purpose: this is the yardstick, that is what is measured.
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "itm_", "wt_", "guce_", "fb_")
_TRACKING_NAMES = frozenset(
    [
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "igsh",
        "ttclid",
        "twclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "_bhlid",
        "maca",
        "scsonar",
        "ncid",
        "ocid",
        "guccounter",
        "xtor",
        "cmpid",
        "smid",
        "_ga",
        "_gl",
        "ref_src",
    ]
)


def _keys(text: str) -> set[str]:
    """Comparison keys of an outlet's name: folded letters and digits, with and without "the"."""
    words = re.findall(r"\w+", fold(text))
    keys = {"".join(words)}
    if words[:1] == ["the"]:
        keys.add("".join(words[1:]))
    return keys - {""}


def _outlet_names(entry: Entry) -> set[str]:
    names: set[str] = set()
    for part in re.split(r"\s[-|–—:]\s", entry.feed_title):
        names |= _keys(re.sub(r"\.(?:com|org|net|it|fr|de|co\.uk)\Z", "", part.strip()))
    if entry.outlet:
        names |= _keys(entry.outlet)
    host = urlsplit(entry.item.link).hostname or ""
    names |= {label for label in host.split(".")[:-1] if label not in ("www", "co", "com")}
    return names


def _title_suffix(entry: Entry) -> bool:
    match = _SUFFIX.search(entry.item.title)
    return match is not None and bool(_keys(match.group(1)) & _outlet_names(entry))


def _aggregator_list(entry: Entry) -> bool:
    """The summary opens with the item's own headline and outlet, then lists others."""
    summary, title = entry.item.summary, entry.item.title
    match = _SUFFIX.search(title)
    if match is not None and summary.startswith(f"{title[: match.start()]} {match.group(1)}"):
        return True
    return bool(entry.outlet) and summary.startswith(title) and f"{entry.outlet}." in summary


def _has_tracking(link: str) -> bool:
    for name, _ in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        lowered = name.lower()
        if lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES):
            return True
    return False


SUMMARY_CHECKS: dict[str, Callable[[Entry], bool]] = {
    "aggregator list": _aggregator_list,
    "title outlet suffix": _title_suffix,
    "byline": lambda e: bool(_BYLINE.match(e.item.summary)),
    "wire dateline": lambda e: bool(_DATELINE.match(e.item.summary)),
    "image credit": lambda e: bool(_CREDIT.search(e.item.summary)),
    "newsletter/podcast": lambda e: bool(_PROMO.search(e.item.summary)),
    "comments only": lambda e: bool(_COMMENTS_ONLY.match(e.item.summary.strip())),
    "empty summary": lambda e: not e.item.summary,
    "empty, content there": lambda e: not e.item.summary and e.has_content,
}


# --- reading the feeds ---------------------------------------------------------------------


def entries(folder: Path) -> Iterator[Entry]:
    for path in sorted(folder.iterdir()):
        if path.suffix not in FEED_SUFFIXES:
            continue
        body = path.read_bytes()
        try:
            parsed = parse_feed(body, feed_url=path.as_uri(), now=HELD_OUT)
        except ParseError:  # a broken capture is part of the set; it just adds no items
            continue
        raw = _raw_entries(body)
        for item in parsed.items:
            if item.published >= HELD_OUT:
                continue
            found = raw.get(item.id, {})
            yield Entry(path.name, parsed.title, item, *_raw_facts(found))


def _raw_entries(body: bytes) -> dict[str, Any]:
    """feedparser's entries by id (or link): what the feed carries beyond our Item."""
    if body.lstrip()[:1] == b"{":
        return {}
    result = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    by_id: dict[str, Any] = {}
    for entry in result.get("entries") or []:
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        if parsed is not None and tuple(parsed[:6]) >= _HELD_OUT_TUPLE:
            continue
        for key in (entry.get("id"), entry.get("link")):
            if key:
                by_id.setdefault(key.strip(), entry)
    return by_id


def _raw_facts(entry: Any) -> tuple[str, bool]:
    source = entry.get("source") or {}
    outlet = source.get("title") or source.get("value") or "" if isinstance(source, dict) else ""
    has_content = any(c.get("value", "").strip() for c in entry.get("content") or [])
    return str(outlet), has_content


# --- the report ----------------------------------------------------------------------------


def review(found: Sequence[Entry]) -> tuple[Counter[str], dict[str, list[Entry]]]:
    counts: Counter[str] = Counter()
    hits: dict[str, list[Entry]] = defaultdict(list)
    for entry in found:
        for name, check in SUMMARY_CHECKS.items():
            if check(entry):
                counts[name] += 1
                hits[name].append(entry)
        links = (entry.item.link, *entry.item.links)
        tracked = [link for link in links if _has_tracking(link)]
        counts["links"] += len(links)
        counts["links with tracking parameters"] += len(tracked)
        if _has_tracking(entry.item.link):
            counts["item links with tracking parameters"] += 1
            hits["tracking"].append(entry)
    item_links = [e.item.link for e in found if e.item.link]
    counts["item links"] = len(item_links)
    counts["distinct item links"] = len(set(item_links))
    return counts, hits


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realfeeds", type=Path, default=REALFEEDS)
    parser.add_argument("--show", metavar="KIND", help="list feed file and link of each hit")
    args = parser.parse_args(argv)
    if not args.realfeeds.is_dir():
        print(f"{args.realfeeds}: not found, nothing to review")
        return 0
    found = list(entries(args.realfeeds))
    counts, hits = review(found)
    print(f"{args.realfeeds}: {len(found)} items dated before {HELD_OUT.date()}")
    for name in (*SUMMARY_CHECKS, "item links with tracking parameters"):
        print(f"  {name:<36} {counts[name]:>5}")
    tracked, links = counts["links with tracking parameters"], counts["links"]
    print(f"  {'links (item + in-body) with tracking':<36} {tracked:>5} of {links}")
    distinct, item_links = counts["distinct item links"], counts["item links"]
    print(f"  {'distinct item links':<36} {distinct:>5} of {item_links}")
    if args.show:
        for entry in hits.get(args.show, []):
            print(f"    {entry.feed_file}  {entry.item.link}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
