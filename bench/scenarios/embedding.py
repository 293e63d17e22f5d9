"""Scenarios 4b and 4c: semantic grouping with cached vectors, and the default model's speed.

`group.semantic`: a news window (`bench.corpus.news_window`: events told by 1–24 outlets in
four languages, texts varied enough that the model's cosines between unrelated items look like
real news), embedded by the default model *before* the clock starts (a digest finds them
stored: each item is embedded once, when it first matches), then `group_articles` with those
vectors (`group`) and, in the same process on the same articles, without them (`names`, the
names-only grouping). Both runs are warm: the names of every item are extracted once before
either clock starts, as a long-running service has them. The vectors are cached on disk
(`vector_cache`), so only the first run on a machine spends minutes embedding.

`embed.default`: items/s of the default model (`UniversalEncoder`) on one core, texts cut as
the service cuts them (`article_text`: title and summary, 250 characters), in the service's
batches. Baseline in the same run: the names-only features of the same items
(`extract_entities`), the per-item work grouping did before it had a model.

    python -m bench.scenarios.embedding --cosines [--items N]

prints the cosine distribution of the news window's pairs beside the labelled dev sets'
(`bench/devsets.py`), the check that the window is realistic.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.corpus import EPOCH, NewsArticle, news_window
from bench.measure import Meter, Result
from bench.scenarios.grouping import matched_items
from policywire.models import MatchedItem, TopicHit

if TYPE_CHECKING:
    from policywire.curate.embedders.seam import Embedder, Vectors
    from policywire.curate.stories import Article, StoryGroup

# Where embedded corpora are kept between runs; never in the repository.
CACHE_ENV = "POLICYWIRE_BENCH_CACHE"


def _one_core() -> None:
    """Pin this worker to one core: "items/s on one core" whatever numpy's threads do."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _texts(items: Sequence[MatchedItem]) -> list[str]:
    from policywire.curate.embedders.seam import article_text

    return [article_text(m.item.title, m.item.summary) for m in items]


def cache_dir() -> Path:
    """`$POLICYWIRE_BENCH_CACHE`, else `policywire-bench` in the system's temporary folder."""
    return Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "policywire-bench")


def vector_cache(
    texts: Sequence[str], embedder: Embedder, directory: Path | None = None
) -> Vectors:
    """The embeddings of `texts`, computed once per machine and read back on later runs.

    Keyed by the model id and a digest of the texts themselves, so a corpus of another seed,
    size or generator version, or another model, is never served stale vectors.
    """
    digest = hashlib.blake2b(embedder.model_id.encode(), digest_size=16)
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    directory = directory or cache_dir()
    path = directory / f"vectors-{digest.hexdigest()}.npy"
    if path.is_file():
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            vectors: Vectors = cached.astype(np.float32, copy=False)
            return vectors
    vectors = embedder.embed(list(texts))
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as handle:  # a file object: np.save would add ".npy" to a name
        np.save(handle, vectors)
    partial.replace(path)  # whole or absent, even when two runs race
    return vectors


def news_articles(count: int) -> tuple[list[Article], dict[tuple[str, str], str]]:
    """The news window as grouping receives it, and each article's event by `article_key`."""
    from policywire.curate.stories import article_key, merge_same_link

    window = news_window(count)
    items = [_matched(n, article) for n, article in enumerate(window, start=1)]
    label = {(a.item.feed, a.item.id): a.story for a in window}
    articles = merge_same_link(items)
    return articles, {article_key(a): label[article_key(a)] for a in articles}


def _matched(pk: int, article: NewsArticle) -> MatchedItem:
    item = article.item
    return MatchedItem(item, (TopicHit("news", ()),), (item.source,), first_seen=EPOCH, pk=pk)


def bcubed_f1(groups: Sequence[StoryGroup], label: dict[tuple[str, str], str]) -> float:
    """BCubed F1 of `groups` against the events that wrote them: the window is groupable."""
    from policywire.curate.stories import article_key

    cluster = {article_key(a): n for n, g in enumerate(groups) for a in g.articles}
    both: dict[tuple[int, str], int] = {}
    sizes: dict[int, int] = {}
    stories: dict[str, int] = {}
    for key, story in label.items():
        both[(cluster[key], story)] = both.get((cluster[key], story), 0) + 1
        sizes[cluster[key]] = sizes.get(cluster[key], 0) + 1
        stories[story] = stories.get(story, 0) + 1
    precision = recall = 0.0
    for key, story in label.items():
        overlap = both[(cluster[key], story)]
        precision += overlap / sizes[cluster[key]]
        recall += overlap / stories[story]
    precision, recall = precision / len(label), recall / len(label)
    return 2 * precision * recall / (precision + recall)


def run_group_semantic(params: dict[str, Any]) -> dict[str, Result]:
    from policywire.curate.embedders.universal import UniversalEncoder
    from policywire.curate.entities import extract_entities
    from policywire.curate.stories import article_key, group_articles
    from policywire.curate.stories_text import KEPT

    articles, label = news_articles(params["items"])
    encoder = UniversalEncoder()
    vectors_of = vector_cache(_texts([a.item for a in articles]), encoder)
    vectors = {article_key(article): vectors_of[n] for n, article in enumerate(articles)}
    extract_entities("Build the name tables", "", None)  # once per process, like the model
    KEPT.clear()
    results: dict[str, Result] = {}
    # A process's first digest (no article's names known yet); then as a digest for a chat
    # groups in a service that has run for a while (the window's names kept by the digest
    # before: `stories_text`), names only, and as `preview --explain` does.
    runs = (
        ("cold", vectors, False),
        ("group", vectors, False),
        ("names", None, False),
        ("explained", vectors, True),
    )
    for name, given, explain in runs:
        with Meter() as meter:
            groups = group_articles(articles, vectors=given, explain=explain)
        extra: dict[str, Any] = {
            "stories": len(groups),
            "events": len(set(label.values())),
            "bcubed_f1": round(bcubed_f1(groups, label), 3),
            "unit": "items",
        }
        if given is not None:
            extra["model"] = encoder.model_id
        results[name] = Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(articles), extra)
    return results


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
    extract_entities("Build the name tables", "", None)  # once per process, like the model
    with Meter() as meter:
        for matched in items:
            extract_entities(matched.item.title, matched.item.summary, matched.item.language)
    names = Result(meter.wall, meter.cpu, meter.peak_rss_mb, len(items), {"unit": "items"})
    return {"embed": embed, "names": names}


# --- is the window realistic? ---------------------------------------------------------------

_WINDOW = timedelta(hours=72).total_seconds()
_SAMPLE = 200_000  # different-story pairs drawn per set: the quantiles settle well before


def cosine_profile(
    vectors: Vectors, times: Sequence[float], stories: Sequence[str], seed: int = 7
) -> dict[str, dict[str, float]]:
    """Quantiles of the cosines of different-story pairs (at most 72 h apart) and of
    same-story pairs; different-story pairs are sampled when there are too many."""
    rng = np.random.default_rng(seed)
    at = np.asarray(times)
    label = np.unique(np.asarray(stories), return_inverse=True)[1]
    n = len(label)
    if n * (n - 1) // 2 <= _SAMPLE:
        a, b = np.triu_indices(n, 1)
    else:
        a, b = rng.integers(0, n, _SAMPLE), rng.integers(0, n, _SAMPLE)
        keep = a != b
        a, b = a[keep], b[keep]
    near = np.abs(at[a] - at[b]) <= _WINDOW
    different = (label[a] != label[b]) & near
    cosines = np.einsum("ij,ij->i", vectors[a[different]], vectors[b[different]])
    same_a, same_b = _same_story_pairs(label)
    same = np.einsum("ij,ij->i", vectors[same_a], vectors[same_b])
    return {"different": _quantiles(cosines), "same": _quantiles(same)}


def _same_story_pairs(label: np.ndarray[Any, Any]) -> tuple[list[int], list[int]]:
    members: dict[int, list[int]] = {}
    for index, story in enumerate(label.tolist()):
        members.setdefault(story, []).append(index)
    a: list[int] = []
    b: list[int] = []
    for group in members.values():
        for n, i in enumerate(group):
            for j in group[n + 1 :]:
                a.append(i)
                b.append(j)
    return a, b


def _quantiles(values: np.ndarray[Any, Any]) -> dict[str, float]:
    if not len(values):
        return {"pairs": 0}
    figures = {"pairs": float(len(values)), "mean": float(values.mean())}
    for q in (10, 50, 90, 99):
        figures[f"p{q}"] = float(np.percentile(values, q))
    for floor in (0.35, 0.5):
        figures[f">{floor}"] = float((values > floor).mean())
    return figures


def _profile_line(name: str, kind: str, figures: dict[str, float]) -> str:
    if not figures.get("pairs"):
        return f"{name:<14} {kind:<9} -"
    cells = " ".join(f"{figures[k]:>6.3f}" for k in ("mean", "p10", "p50", "p90", "p99"))
    shares = f"{figures['>0.35']:>7.3f} {figures['>0.5']:>6.3f}"
    return f"{name:<14} {kind:<9} {int(figures['pairs']):>8} {cells} {shares}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cosine distributions: bench window vs dev sets")
    parser.add_argument("--cosines", action="store_true", required=True)
    parser.add_argument("--items", type=int, default=25_000)
    args = parser.parse_args(argv)
    from bench.devsets import DEV_SETS, DevSetUnavailable, load_set
    from policywire.curate.embedders.universal import UniversalEncoder

    encoder = UniversalEncoder()
    print(
        f"{'set':<14} {'pairs':<9} {'count':>8} {'mean':>6} {'p10':>6} {'p50':>6} {'p90':>6} "
        f"{'p99':>6} {'>0.35':>7} {'>0.5':>6}"
    )
    sources: list[tuple[str, list[MatchedItem], list[str]]] = []
    articles, label = news_articles(args.items)
    sources.append(
        (f"window {len(articles)}", [a.item for a in articles], [label[k] for k in label])
    )
    for name in DEV_SETS:
        try:
            labelled = load_set(name)
        except DevSetUnavailable as reason:
            print(f"{name:<14} skipped: {reason}")
            continue
        keys = list(labelled.articles)
        sources.append(
            (name, [labelled.articles[k] for k in keys], [labelled.stories[k] for k in keys])
        )
    for name, items, stories in sources:
        vectors = vector_cache(_texts(items), encoder)
        times = [m.item.published.timestamp() for m in items]
        profile = cosine_profile(vectors, times, stories)
        print(_profile_line(name, "different", profile["different"]))
        print(_profile_line("", "same", profile["same"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
