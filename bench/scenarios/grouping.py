"""Scenario 4: story grouping over N matched items inside the grouping window.

policywire: `policywire.curate.stories.group_stories` when that function exists (the stories issue's
grouping), otherwise today's pipeline `merge_same_link` + `single_article_stories`. The result
says which one ran. Baseline: the grouping a user would write — each item joins the first
earlier story whose lead title shares ≥ 50 % of its words (Jaccard), else starts a story —
on fewer items, as it is quadratic.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.corpus import EPOCH, TARGET_RULES, corpus_items
from bench.measure import Meter, Result
from policywire.models import Item, MatchedItem, TopicHit

WINDOW = timedelta(hours=72)
_WORD = re.compile(r"\w+")


def matched_items(count: int) -> list[MatchedItem]:
    from policywire.ingest.match import Matcher

    matcher = Matcher.compile(TARGET_RULES)
    found = []
    for pk, item in enumerate(corpus_items(count), start=1):
        hits = matcher.match_item(item) or (TopicHit("news", ()),)
        found.append(MatchedItem(item, hits, (item.source,), first_seen=EPOCH, pk=pk))
    return found


def grouping_function() -> tuple[str, Callable[[list[MatchedItem]], list[Any]]]:
    from policywire.curate import stories

    group = getattr(stories, "group_stories", None)
    if group is None:

        def current(items: list[MatchedItem]) -> list[Any]:
            return stories.single_article_stories(stories.merge_same_link(items))

        return "merge_same_link + single_article_stories", current
    # The signature is still moving: pass what we know by name, None to other required ones.
    known: dict[str, Any] = {"now": EPOCH, "window": WINDOW, "language": "en"}
    kwargs: dict[str, Any] = {}
    for name, parameter in list(inspect.signature(group).parameters.items())[1:]:
        if name in known:
            kwargs[name] = known[name]
        elif parameter.default is inspect.Parameter.empty:
            kwargs[name] = None

    def call(items: list[MatchedItem]) -> list[Any]:
        return list(group(items, **kwargs))

    return f"group_stories({', '.join(['items', *kwargs])})", call


def run_policywire(params: dict[str, Any]) -> dict[str, Result]:
    items = matched_items(params["items"])
    name, group = grouping_function()
    with Meter() as meter:
        stories = group(items)
    extra = {"function": name, "stories": len(stories), "unit": "items"}
    return {"group": Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), extra)}


def _words(item: Item) -> frozenset[str]:
    return frozenset(_WORD.findall(item.title.lower()))


def run_naive(params: dict[str, Any]) -> dict[str, Result]:
    items = matched_items(params["items"])
    with Meter() as meter:
        leads: list[tuple[frozenset[str], list[MatchedItem]]] = []
        for matched in items:
            words = _words(matched.item)
            for lead_words, members in leads:
                union = len(words | lead_words)
                if union and len(words & lead_words) / union >= 0.5:
                    members.append(matched)
                    break
            else:
                leads.append((words, [matched]))
    extra = {"stories": len(leads), "unit": "items"}
    return {"group": Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), extra)}
