"""Grouping's bulk pair scores are `pair_value`'s, pair for pair."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from policywire.curate.stories_batch import PairScorer
from policywire.curate.story_scoring import GroupingParams, pair_value, places_conflict
from tests.grouping_windows import random_window

_PARAMS = [
    GroupingParams(),
    GroupingParams(own_site_link=0.0, link_similarity_floor=0.0, same_feed_penalty=0.0),
    GroupingParams(title_bonus=0.0, cross_language_bonus=0.1, time_penalty=0.0),
    GroupingParams(place_conflict=0.0),
    GroupingParams(place_conflict=0.8),
]


@pytest.mark.parametrize(("seed", "vectors"), [(1, 1.0), (2, 0.0), (3, 0.6), (4, 0.9)])
@pytest.mark.parametrize("params", _PARAMS)
def test_every_pair_scores_what_pair_value_gives(
    seed: int, vectors: float, params: GroupingParams
) -> None:
    features = random_window(60, seed, vectors=vectors)
    window = params.window.total_seconds()
    pairs = np.array(list(itertools.combinations(range(len(features)), 2)), dtype=np.int64)
    got = PairScorer(features, params).values(pairs[:, 0], pairs[:, 1])
    expected = [pair_value(features[i], features[j], params, window) for i, j in pairs]
    assert got == pytest.approx(expected, abs=1e-6)
    # The window exercises every branch: decisive pairs, names, both modes, zeros.
    assert {0.0, 1.0} <= set(np.round(got, 6)) and ((got > 0) & (got < 1)).sum() > 50
    # ... and titles that name two countries, some of them named in the other's summary.
    conflicts = [places_conflict(features[i], features[j]) for i, j in pairs]
    assert sum(conflicts) > 20


def test_no_pairs_and_no_names_are_fine() -> None:
    features = random_window(3, 5)
    scorer = PairScorer(features, GroupingParams())
    assert scorer.values(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).size == 0
