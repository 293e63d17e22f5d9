"""Scenarios 4b and 4c: semantic grouping with cached vectors, and the default model's speed.

`group.semantic`: the grouping scenario's items, embedded by the default model *before* the
clock starts (a digest finds them stored: each item is embedded once, when it first matches),
then `group_articles` with those vectors. Its baseline, in the same run, is the names-only
grouping of the same items (`group.policywire`).

`embed.default`: items/s of the default model (`UniversalEncoder`) on one core, texts cut as
the service cuts them (`article_text`: title and summary, 250 characters), in the service's
batches. Baseline in the same run: the names-only features of the same items
(`extract_entities`), the per-item work grouping did before it had a model.
"""

from __future__ import annotations

import os
from typing import Any

from bench.measure import Meter, Result
from bench.scenarios.grouping import matched_items


def _one_core() -> None:
    """Pin this worker to one core: "items/s on one core" whatever numpy's threads do."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _texts(items: list[Any]) -> list[str]:
    from policywire.curate.embedders.seam import article_text

    return [article_text(m.item.title, m.item.summary) for m in items]


def run_group_semantic(params: dict[str, Any]) -> dict[str, Result]:
    from policywire.curate.embedders.universal import UniversalEncoder
    from policywire.curate.stories import article_key, group_articles, merge_same_link

    items = matched_items(params["items"])
    encoder = UniversalEncoder()
    articles = merge_same_link(items)
    vectors_of = encoder.embed(_texts([a.item for a in articles]))
    vectors = {article_key(article): vectors_of[n] for n, article in enumerate(articles)}
    with Meter() as meter:
        groups = group_articles(merge_same_link(items), vectors=vectors)
    extra = {"stories": len(groups), "unit": "items", "model": encoder.model_id}
    return {"group": Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), extra)}


def run_embed(params: dict[str, Any]) -> dict[str, Result]:
    _one_core()  # first: threads started later (numpy's) inherit the one core
    from policywire.curate.embedders.universal import UniversalEncoder
    from policywire.curate.entities import extract_entities

    items = matched_items(params["items"])
    texts = _texts(items)
    encoder = UniversalEncoder()
    encoder.embed(texts[:8])  # load the model outside the clock: a service loads it once
    batch = params.get("batch", 64)
    with Meter() as meter:
        for start in range(0, len(texts), batch):
            encoder.embed(texts[start : start + batch])
    embed = Result(
        meter.wall, meter.cpu, meter.peak_rss_mb, len(texts), {"unit": "items", "batch": batch}
    )
    with Meter() as meter:
        for matched in items:
            extract_entities(matched.item.title, matched.item.summary, matched.item.language)
    names = Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), {"unit": "items"})
    return {"embed": embed, "names": names}
