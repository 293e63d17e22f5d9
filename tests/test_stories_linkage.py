"""The average-linkage guard's vectorized mean is the mean `pair_value` gives pair by pair."""

from __future__ import annotations

import dataclasses
import random

import pytest

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_linkage import CrossScores
from policywire.curate.story_scoring import GroupingParams, pair_value
from tests.grouping_windows import random_window as _window


@pytest.mark.parametrize(("seed", "vectors"), [(1, 1.0), (2, 1.0), (3, 1.0), (4, 0.0), (5, 0.0)])
def test_the_mean_across_two_clusters_is_the_plain_mean_of_pair_values(
    seed: int, vectors: float
) -> None:
    params = GroupingParams()
    window = params.window.total_seconds()
    features = _window(40, seed, vectors=vectors)

    def value(i: int, j: int) -> float:
        return pair_value(features[i], features[j], params, window)

    cross = CrossScores(features, PairScorer(features, params))
    assert cross.enabled
    rng = random.Random(seed)
    for round_ in range(30):
        members = rng.sample(range(len(features)), rng.randrange(2, 20))
        cut = rng.randrange(1, len(members))
        left, right = sorted(members[:cut]), sorted(members[cut:])
        plain = sum(value(i, j) for i in left for j in right) / (len(left) * len(right))
        # Fresh roots: no token index is reused from another pair of clusters.
        roots = (1000 + 2 * round_, 1001 + 2 * round_)
        for floor in (0.0, 0.3, 0.5, 0.8, 1.1):
            exact = cross.mean(roots[0], left, roots[1], right, floor, exact_below=True)
            if exact < floor:
                assert exact == pytest.approx(plain, abs=1e-6)
            else:  # names, titles and links only add: a lower bound above the floor suffices
                assert plain >= floor - 1e-6
            bound = cross.mean(roots[0], left, roots[1], right, floor, exact_below=False)
            assert (bound >= floor) == (plain >= floor - 1e-9)


def test_indexes_follow_the_clusters_they_were_built_for() -> None:
    params = GroupingParams()
    window = params.window.total_seconds()
    features = _window(12, 7)

    def value(i: int, j: int) -> float:
        return pair_value(features[i], features[j], params, window)

    cross = CrossScores(features, PairScorer(features, params))
    # Cluster 0 = {0..3} and cluster 4 = {4..7} are indexed, then joined into 0.
    first, second, third = [0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]
    cross.mean(0, first, 8, third, 2.0, exact_below=True)
    cross.mean(4, second, 8, third, 2.0, exact_below=True)
    cross.merged(0, 4)
    joined = sorted(first + second)
    got = cross.mean(0, joined, 8, third, 2.0, exact_below=True)
    plain = sum(value(i, j) for i in joined for j in third) / (len(joined) * len(third))
    assert got == pytest.approx(plain, abs=1e-6)


def test_a_window_with_and_without_vectors_uses_the_plain_loop() -> None:
    params = GroupingParams()
    features = _window(4, 9)
    features[2] = dataclasses.replace(features[2], vector=None)
    assert not CrossScores(features, PairScorer(features, params)).enabled
