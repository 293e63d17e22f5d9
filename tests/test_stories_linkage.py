"""The average-linkage guard's vectorized mean is the mean `pair_value` gives pair by pair."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import numpy as np
import pytest

from policywire.curate.stories_linkage import CrossScores
from policywire.curate.story_scoring import (
    ArticleFeatures,
    GroupingParams,
    article_features,
    pair_value,
)
from tests.helpers import NOW, item, matched

_NAMES = ["Mistral AI", "Microsoft", "Garante", "OpenAI", "Brussels", "Helsinki", "Northwind"]
_WORDS = ["fine", "probe", "deal", "chips", "court", "vote", "talks", "model"]
_NAMELESS_TITLES = [
    "regulators weigh new limits on chatbot data",
    "regulators weigh new limits on the chatbot data",
    "court hears the appeal over model training",
]


def _window(size: int, seed: int) -> list[ArticleFeatures]:
    """Articles that share names, title words, links, feeds and languages at random, with
    vectors close enough that many pairs score between 0 and 1."""
    rng = random.Random(seed)
    params = GroupingParams()
    base = np.random.default_rng(seed).normal(size=(3, 16))
    features = []
    for n in range(size):
        names = rng.sample(_NAMES, 2)
        title = f"{names[0]} {' '.join(rng.sample(_WORDS, 3))} {names[1]}"
        if rng.random() < 0.2:  # no names: near-identical titles are all they can share
            title = rng.choice(_NAMELESS_TITLES)
        article = item(
            n,
            title=title,
            summary=f"{names[1]} said so. Then {rng.choice(_NAMES)} answered.",
            feed=f"https://feed{rng.randrange(3)}.example/rss",
            published=NOW + timedelta(hours=rng.uniform(0, 60)),
            language=rng.choice(["en", "it", None]),
        )
        if n and rng.random() < 0.2:  # a link to an earlier article
            article = dataclasses.replace(
                article, links=(f"https://news.example/{rng.randrange(n)}",)
            )
        vector = base[rng.randrange(3)] + np.random.default_rng(n).normal(scale=0.6, size=16)
        vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        features.append(article_features(matched(article), (), params, vector))
    return features


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_mean_across_two_clusters_is_the_plain_mean_of_pair_values(seed: int) -> None:
    params = GroupingParams()
    window = params.window.total_seconds()
    features = _window(40, seed)

    def value(i: int, j: int) -> float:
        return pair_value(features[i], features[j], params, window)

    cross = CrossScores(features, params, value)
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

    cross = CrossScores(features, params, value)
    # Cluster 0 = {0..3} and cluster 4 = {4..7} are indexed, then joined into 0.
    first, second, third = [0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]
    cross.mean(0, first, 8, third, 2.0, exact_below=True)
    cross.mean(4, second, 8, third, 2.0, exact_below=True)
    cross.merged(0, 4)
    joined = sorted(first + second)
    got = cross.mean(0, joined, 8, third, 2.0, exact_below=True)
    plain = sum(value(i, j) for i in joined for j in third) / (len(joined) * len(third))
    assert got == pytest.approx(plain, abs=1e-6)


def test_without_vectors_for_every_article_the_plain_loop_is_used() -> None:
    params = GroupingParams()
    features = _window(4, 9)
    features[2] = dataclasses.replace(features[2], vector=None)
    assert not CrossScores(features, params, lambda i, j: 0.0).enabled
