"""Clustering with guard checks computed ahead in batches joins what a walk that computes each
check when it meets it, pair by pair with `pair_value`, joins, with the same reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from policywire.curate import stories_clustering
from policywire.curate.stories_clustering import Clustering, _Scored, _State
from policywire.curate.stories_explain import whole_hours
from policywire.curate.story_scoring import ArticleFeatures, GroupingParams, pair_value
from tests.grouping_windows import random_window

_PARAMS = [
    GroupingParams(),
    # Easier joins and a tighter floor: more clusters grow, and more of them are refused.
    GroupingParams(semantic_threshold=0.45, threshold=0.35, semantic_cluster_floor=0.6),
    GroupingParams(max_story_articles=5, cluster_floor=0.3, semantic_cluster_floor=0.3),
    GroupingParams(window=timedelta(hours=30), semantic_cluster_floor=0.3, cluster_floor=0.3),
]


class _OneByOne(Clustering):
    """The walk as it was: each guard check computed when met, the plain loop of pairs."""

    def _guard(self, state: _State, passing: _Scored, at: int) -> str:
        ri, _, rj, _ = state
        left, right = self.clusters.members[ri], self.clusters.members[rj]
        params, features = self.params, self.features
        window = params.window.total_seconds()
        if len(left) + len(right) > params.max_story_articles:
            return f"a story holds at most {params.max_story_articles} articles"
        times = [features[i].time for i in (*left, *right)]
        if max(times) - min(times) > window:
            return f"together they would span more than {whole_hours(window)} h"
        if len(left) == 1 and len(right) == 1:
            return ""
        semantic = all(features[i].vector is not None for i in (*left, *right))
        floor = params.semantic_cluster_floor if semantic else params.cluster_floor
        total = sum(
            pair_value(features[i], features[j], params, window) for i in left for j in right
        )
        mean = total / (len(left) * len(right))
        if mean < floor:
            return f"too unlike the rest of the story (mean score {mean:.2f} < {floor})"
        return ""


def _grouped(clustering: Clustering) -> Iterator[tuple[tuple[int, ...], tuple[str, ...]]]:
    passing, near = clustering.scored_candidates()
    clustering.join(passing)
    clustering.note_near_misses(near)
    clusters = clustering.clusters
    for root in sorted({clusters.find(i) for i in range(len(clustering.features))}):
        yield tuple(clusters.members[root]), tuple(clustering.reasons.get(root, ()))


def _window(seed: int, vectors: float) -> list[ArticleFeatures]:
    # Sorted by time, as grouping sorts them: the window guard and the batches see real order.
    return sorted(random_window(90, seed, vectors=vectors), key=lambda f: (f.time, f.link))


@pytest.mark.parametrize("batch", [1, 3, 256])
@pytest.mark.parametrize(("seed", "vectors"), [(1, 1.0), (2, 1.0), (3, 0.0), (4, 0.7)])
@pytest.mark.parametrize("params", _PARAMS)
def test_batches_join_what_one_check_at_a_time_joins(
    monkeypatch: pytest.MonkeyPatch, batch: int, seed: int, vectors: float, params: GroupingParams
) -> None:
    monkeypatch.setattr(stories_clustering, "_AHEAD", batch)
    monkeypatch.setattr(stories_clustering, "_SCAN", 4 * batch)
    features = _window(seed, vectors)
    got = list(_grouped(Clustering(features, params)))
    expected = list(_grouped(_OneByOne(features, params)))
    assert got == expected
    # The windows exercise the guard: joins of clusters, and refusals written out.
    assert any(len(members) > 2 for members, _ in got)
    refusals = {line.rsplit("; ", 1)[-1][:20] for _, reasons in got for line in reasons}
    assert "too unlike the rest " in refusals or params.max_story_articles < 10
