"""The average-linkage guard's batched means are the means `pair_value` gives pair by pair."""

from __future__ import annotations

import dataclasses
import random

import pytest

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_linkage import Check, CrossScores
from policywire.curate.stories_partners import decisive_partners
from policywire.curate.story_scoring import (
    ArticleFeatures,
    GroupingParams,
    decisive_signal,
    links_to,
    pair_value,
)
from tests.grouping_windows import random_window as _window

_FLOORS = (0.0, 0.3, 0.5, 0.8, 1.1)


def _plain_mean(
    features: list[ArticleFeatures], params: GroupingParams, left: list[int], right: list[int]
) -> float:
    window = params.window.total_seconds()
    total = sum(pair_value(features[i], features[j], params, window) for i in left for j in right)
    return total / (len(left) * len(right))


def _random_checks(size: int, rng: random.Random, rounds: int) -> list[tuple[list[int], list[int]]]:
    """Disjoint pairs of random clusters of 1 to 19 articles."""
    found = []
    for _ in range(rounds):
        members = rng.sample(range(size), rng.randrange(2, 20))
        cut = rng.randrange(1, len(members))
        found.append((sorted(members[:cut]), sorted(members[cut:])))
    return found


@pytest.mark.parametrize(
    ("seed", "vectors"), [(1, 1.0), (2, 1.0), (3, 1.0), (4, 0.0), (5, 0.0), (6, 0.5)]
)
def test_every_mean_of_a_batch_is_the_plain_mean_or_a_bound_on_its_side(
    seed: int, vectors: float
) -> None:
    params = GroupingParams()
    features = _window(40, seed, vectors=vectors)
    rng = random.Random(seed)
    pairs = _random_checks(len(features), rng, 30)
    plain = [_plain_mean(features, params, left, right) for left, right in pairs]
    for floor in _FLOORS:
        for exact_below in (True, False):
            # Fresh scores per batch: no index or cached pair is reused from another batch,
            # and fresh roots, as each check's clusters are made up.
            cross = CrossScores(features, PairScorer(features, params))
            checks = [
                Check(1000 + 2 * n, left, 1001 + 2 * n, right, floor, exact_below)
                for n, (left, right) in enumerate(pairs)
            ]
            for got, expected in zip(cross.means(checks), plain, strict=True):
                assert got is not None
                assert (got >= floor) == (expected >= floor - 1e-9)
                if got < floor and (exact_below or not cross.closed):
                    assert got == pytest.approx(expected, abs=1e-6)


def test_a_batch_reuses_what_it_scored_and_is_right_after_clusters_join() -> None:
    params = GroupingParams()
    features = _window(24, 7)
    cross = CrossScores(features, PairScorer(features, params))
    # Clusters 0 = {0..3} and 4 = {4..7} are scored, then joined into 0: nothing kept from
    # the first batch may describe the clusters that are gone.
    first, second, third = [0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]
    cross.means([Check(0, first, 8, third, 2.0), Check(4, second, 8, third, 2.0)])
    joined = sorted(first + second)
    (got,) = cross.means([Check(0, joined, 8, third, 2.0)])
    assert got == pytest.approx(_plain_mean(features, params, joined, third), abs=1e-6)


def test_in_order_a_check_after_a_join_of_its_clusters_is_left_unanswered() -> None:
    params = GroupingParams()
    features = _window(24, 8)
    cross = CrossScores(features, PairScorer(features, params))
    a, b, c, d = [0, 1], [2, 3], [4, 5], [6, 7]
    # Floor 0: every check joins, so a later check on cluster 0 or 2 cannot be answered,
    # nor one sharing a cluster with a check left unanswered; cluster 6 is untouched.
    checks = [
        Check(0, a, 2, b, 0.0),
        Check(0, a, 4, c, 0.0),
        Check(4, c, 6, d, 0.0),
        Check(6, d, 8, [8, 9], 0.0),
    ]
    answers = cross.means(checks, in_order=True)
    assert answers[0] is not None and answers[1] is None and answers[2] is None
    assert answers[3] is None  # cluster 6 was in check 2, left unanswered
    alone = cross.means([Check(6, d, 8, [8, 9], 0.0)], in_order=True)
    assert alone[0] is not None


@pytest.mark.parametrize("seed", [1, 2, 3, 9])
def test_every_pair_a_link_or_titles_may_decide_is_a_partner(seed: int) -> None:
    params = GroupingParams()
    features = _window(80, seed)
    partners, titles = decisive_partners(features, PairScorer(features, params))
    assert titles
    found = 0
    for i, a in enumerate(features):
        for j, b in enumerate(features):
            if i == j:
                continue
            # Out of the window a pair scores 0 whatever it shares: it may be left out.
            close = abs(a.time - b.time) <= params.window.total_seconds()
            if close and (decisive_signal(a, b, params) or links_to(a, b)):
                assert j in partners[i]
                found += 1
    assert found > 10  # the window has such pairs


def test_a_window_with_and_without_vectors_scores_every_pair() -> None:
    params = GroupingParams()
    features = _window(6, 9)
    features[2] = dataclasses.replace(features[2], vector=None)
    cross = CrossScores(features, PairScorer(features, params))
    assert not cross.closed
    (got,) = cross.means([Check(0, [0, 1, 2], 3, [3, 4, 5], 0.5, exact_below=False)])
    assert got == pytest.approx(_plain_mean(features, params, [0, 1, 2], [3, 4, 5]), abs=1e-6)


@pytest.mark.parametrize(("seed", "vectors"), [(11, 1.0), (12, 0.0)])
def test_titles_too_alike_to_pair_ahead_are_tested_in_each_batch(seed: int, vectors: float) -> None:
    # A window whose titles would pair up beyond the budget leaves them to the guard's
    # batches: the means must be the same as when they are paired ahead.
    params = GroupingParams()
    features = _window(60, seed, vectors=vectors)
    scorer = PairScorer(features, params)
    partners, titles = decisive_partners(features, scorer, title_pairs_budget=0)
    assert not titles and all(
        partners[i]
        <= {
            j
            for j in range(60)
            if links_to(features[i], features[j])
            or links_to(features[j], features[i])
            or features[i].link == features[j].link
        }
        for i in range(60)
    )
    rng = random.Random(seed)
    pairs = _random_checks(len(features), rng, 40)
    for floor in _FLOORS:
        checks = [
            Check(1000 + 2 * n, left, 1001 + 2 * n, right, floor, exact_below=True)
            for n, (left, right) in enumerate(pairs)
        ]
        ahead = CrossScores(features, PairScorer(features, params))
        batched = CrossScores(features, PairScorer(features, params), title_pairs_budget=0)
        assert ahead.titles_paired and not batched.titles_paired
        for left, right, (a, b) in zip(
            ahead.means(checks), batched.means(checks), pairs, strict=True
        ):
            assert left is not None and right is not None
            assert (left >= floor) == (right >= floor)
            if left < floor:
                expected = _plain_mean(features, params, a, b)
                assert left == pytest.approx(expected, abs=1e-6)
                assert right == pytest.approx(expected, abs=1e-6)
