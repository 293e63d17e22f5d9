"""Scenario 3: topic matching at 10, 100 and 1,000 keyword rules, text preparation included.

Input: Items as the parse stage hands them on (plain-text title and summary, tags). The
measured pass is `Matcher.match_item` over every item once, in a fresh process (cold caches),
so the matcher's own text preparation (word split, case and accent folding) is in the figure.
Rule compilation is timed apart. The naive baseline runs one `re.search` per keyword per item
over title + summary + tags, on fewer items when it is slow.
"""

from __future__ import annotations

import time
from typing import Any

from bench.baselines import naive_match, naive_patterns
from bench.corpus import corpus_items, filler_rules
from bench.measure import Meter, Result


def run_policywire(params: dict[str, Any]) -> dict[str, Result]:
    from policywire.ingest.match import Matcher

    items = corpus_items(params["items"])
    rules = filler_rules(params["rules"])
    started = time.perf_counter()
    matcher = Matcher.compile(rules)
    compile_s = time.perf_counter() - started
    hits = 0
    with Meter() as meter:
        for item in items:
            hits += bool(matcher.match_item(item))
    extra = {"rules": len(rules), "compile_s": compile_s, "matched": hits, "unit": "items"}
    return {"match": Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), extra)}


def run_naive(params: dict[str, Any]) -> dict[str, Result]:
    items = corpus_items(params["items"])
    patterns = naive_patterns(filler_rules(params["rules"]))
    hits = 0
    with Meter() as meter:
        for item in items:
            text = "\n".join((item.title, item.summary, *item.tags))
            hits += bool(naive_match(patterns, text))
    extra = {"rules": params["rules"], "matched": hits, "unit": "items"}
    return {"match": Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), extra)}
