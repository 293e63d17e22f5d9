"""Grouping quality on the labelled set (tests/data/grouping): a floor, not a timing.

`python bench/grouping_eval.py --quality --errors` prints the same numbers and lists the
misjudged pairs.
"""

from __future__ import annotations

from collections import Counter

from bench.grouping_eval import evaluate, evaluate_pairwise, load

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.85


def test_labelled_set_is_big_and_consistent() -> None:
    labelled = load()
    assert len(labelled.pairs) >= 150
    kinds = Counter(kind for *_, kind in labelled.pairs)
    assert kinds["same story"] >= 60 and kinds["different, within 72 h"] >= 60
    languages = {m.item.language for m in labelled.articles.values()}
    assert languages == {"en", "it", "fr", "de"}
    for a, b, same, _ in labelled.pairs:
        assert same == (labelled.stories[a] == labelled.stories[b]), (a, b)


def test_grouping_meets_the_quality_floor() -> None:
    scores = evaluate(load())
    assert scores.precision >= PRECISION_FLOOR, "\n".join(scores.errors)
    assert scores.recall >= RECALL_FLOOR, "\n".join(scores.errors)


def test_pairwise_decisions_are_close_to_the_clusters() -> None:
    scores = evaluate_pairwise(load())
    assert scores.precision >= 0.9 and scores.recall >= 0.85, "\n".join(scores.errors)
