"""The shipped topics on the labelled relevance sample: floors a little below what they reach.

The figures and how they were reached: tests/data/relevance/README.md and
`python bench/relevance_eval.py`. Skipped where ../shared/realfeeds/ is not checked out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.devsets import REALFEEDS
from bench.relevance_eval import Evaluation, evaluate, load_sample
from policywire.config.load import load_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "relevance"

pytestmark = pytest.mark.skipif(not REALFEEDS.is_dir(), reason="../shared/realfeeds is not there")


@pytest.fixture(scope="module")
def shipped() -> Evaluation:
    rules = load_config(ROOT / "feeds.yaml", env={}).topic_rules()
    return evaluate(rules.values(), load_sample())


def test_shipped_topics_precision_and_recall(shipped: Evaluation) -> None:
    # Reached: precision 0.800, recall 0.727 (TP 8, FP 2, FN 3); before this round 0.400/0.182.
    figures = shipped.figures()
    assert figures.precision >= 0.75
    assert figures.recall >= 0.70


def test_check_half_has_no_false_hits(shipped: Evaluation) -> None:
    # The topics were tuned on the other half; here they hit nothing that is not relevant.
    assert shipped.figures("check").false_positive == 0


def test_every_hit_on_the_sample_feeds_has_a_verdict(shipped: Evaluation) -> None:
    # The sample lists every eligible item the shipped topics hit; a new hit needs a label.
    assert shipped.unlabelled_hits == ()
    assert shipped.unjoined == ()


def test_sample_holds_links_and_verdicts_only() -> None:
    with (SAMPLE / "labels.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"feed_file", "link", "verdict", "topics", "note"}
    assert {row["verdict"] for row in rows} == {"relevant", "not_relevant"}
    assert all(len(row["note"]) <= 80 for row in rows)  # a few words, never article text
    with (SAMPLE / "splits.csv").open(encoding="utf-8", newline="") as handle:
        halves = {row["feed_file"]: row["half"] for row in csv.DictReader(handle)}
    assert {row["feed_file"] for row in rows} <= set(halves)
    assert set(halves.values()) == {"tune", "check"}
