"""Clustering for story grouping: from scored candidate pairs to clusters, with their reasons.

Grouping (`policywire.curate.stories.group_articles`) hands the articles' features here; the
candidate pairs (`policywire.curate.stories_candidates`) are scored, the passing ones joined
strongest first with union-find under the window and average-linkage guards, and every join,
refused join and near miss recorded as a reason line (`policywire.curate.stories_explain`).
Kept apart from the entry points because it is the one stateful part of grouping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_candidates import candidate_pairs
from policywire.curate.stories_explain import reason_line, whole_hours
from policywire.curate.stories_linkage import CrossScores
from policywire.curate.story_scoring import (
    ArticleFeatures,
    GroupingParams,
    PairScore,
    pair_score,
)

__all__ = ["Clustering"]


_MAX_NEAR_MISSES = 6  # "kept apart" lines per story, strongest first


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {i: [i] for i in range(size)}

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> int:
        # The smaller root index stays the root: deterministic whatever the order of calls.
        root, child = (a, b) if a < b else (b, a)
        self.parent[child] = root
        self.members[root].extend(self.members.pop(child))
        self.members[root].sort()
        return root


_Scored = list[tuple[float, int, int]]  # (-score, i, j)


class Clustering:
    """The articles' clusters (union-find) and why each was joined or kept apart."""

    def __init__(self, features: Sequence[ArticleFeatures], params: GroupingParams) -> None:
        self.features = features
        self.params = params
        self.window = params.window.total_seconds()
        self.clusters = _UnionFind(len(features))
        self.reasons: dict[int, list[str]] = {}
        self._refused: dict[int, int] = {}  # refused joins recorded, by cluster root
        # Why two clusters were refused, by (root, size, root, size): a cluster only grows and
        # its root never changes back, so root and size name its members. Two large clusters
        # are offered each other by many pairs; the mean over all their pairs is taken once.
        self._guarded: dict[tuple[int, int, int, int], str] = {}
        self.scorer = PairScorer(features, params)
        self._cross = CrossScores(features, self.scorer)

    def cross_mean(
        self, ri: int, left: Sequence[int], rj: int, right: Sequence[int], floor: float
    ) -> float:
        """The mean pair score over i in `left` (cluster `ri`), j in `right` (`rj`), or a
        bound of it on the same side of `floor` where the exact figure would go unread."""
        if self._cross.enabled:
            refused = self._refused
            noted = any(refused.get(r, 0) < _MAX_NEAR_MISSES for r in (ri, rj))
            return self._cross.mean(ri, left, rj, right, floor, exact_below=noted)
        lefts = np.repeat(np.asarray(left, dtype=np.int64), len(right))
        rights = np.tile(np.asarray(right, dtype=np.int64), len(left))
        return float(self.scorer.values(lefts, rights).mean())

    def pair_line(self, i: int, j: int, signals: PairScore | None = None) -> str:
        a, b = self.features[i], self.features[j]
        if signals is None:
            signals = pair_score(a, b, self.params)
        return reason_line(a, b, signals, self.params)

    def scored_candidates(self) -> tuple[_Scored, _Scored]:
        """The candidate pairs that pass (strongest first) and the near misses."""
        features, params = self.features, self.params
        first, second = candidate_pairs(features, params)
        values = self.scorer.values(first, second)
        kept = np.flatnonzero(values >= params.near_miss)
        first, second, values = first[kept], second[kept], values[kept]
        # `GroupingParams.threshold_for`, for every pair at once.
        both = self.scorer.has_vector[first] & self.scorer.has_vector[second]
        passes = values >= np.where(both, params.semantic_threshold, params.threshold)
        # Strongest first, ties by position: the order never depends on the input's.
        order = np.lexsort((second, first, -values))
        passing: _Scored = []
        near: _Scored = []
        for at in order.tolist():
            i, j, result = int(first[at]), int(second[at]), float(values[at])
            (passing if passes[at] else near).append((-result, i, j))
        return passing, near

    def join(self, passing: _Scored) -> None:
        """Join the clusters of each passing pair, strongest first, unless a guard objects."""
        clusters, reasons = self.clusters, self.reasons
        for _, i, j in passing:
            ri, rj = clusters.find(i), clusters.find(j)
            if ri == rj:
                continue
            left, right = clusters.members[ri], clusters.members[rj]
            state = (ri, len(left), rj, len(right))
            why = self._guarded.get(state)
            if why is None:
                why = _join_guard(
                    left,
                    right,
                    self.features,
                    self.window,
                    self.params,
                    partial(self.cross_mean, ri, left, rj, right),
                )
                if why:
                    self._guarded[state] = why
            if why:
                self._note_kept_apart(ri, rj, i, j, why)
                continue
            root = clusters.union(ri, rj)
            self._cross.merged(root, rj if root == ri else ri)
            moved = reasons.pop(rj if root == ri else ri, [])
            line = f"grouped: {self.pair_line(i, j)}"
            reasons.setdefault(root, []).extend([line, *moved])

    def _note_kept_apart(self, ri: int, rj: int, i: int, j: int, why: str) -> None:
        """A refused join, recorded on both clusters while each has few: a large story can
        refuse thousands of pairs, and building every line would cost more than grouping."""
        refused = self._refused
        roots = [r for r in (ri, rj) if refused.get(r, 0) < _MAX_NEAR_MISSES]
        if not roots:
            return
        line = f"kept apart: {self.pair_line(i, j)}; {why}"
        for root in roots:
            refused[root] = refused.get(root, 0) + 1
            self.reasons.setdefault(root, []).append(line)

    def note_near_misses(self, near: _Scored) -> None:
        """Record the closest pairs left in different clusters, a few per cluster."""
        clusters, reasons = self.clusters, self.reasons
        for _, i, j in sorted(near):
            ri, rj = clusters.find(i), clusters.find(j)
            if ri == rj:
                continue
            roots = [r for r in (ri, rj) if len(reasons.setdefault(r, [])) < _MAX_NEAR_MISSES]
            if roots:
                line = f"kept apart: {self.pair_line(i, j)}"
                for root in roots:
                    reasons[root].append(line)


def _join_guard(
    left: Sequence[int],
    right: Sequence[int],
    features: Sequence[ArticleFeatures],
    window: float,
    params: GroupingParams,
    cross_mean: Callable[[float], float],
) -> str:
    """Why two clusters must not join ("" when they may). `cross_mean(floor)`: the mean pair
    score across them (or a bound on the same side of `floor`), asked for only when the
    cheaper guards pass."""
    if len(left) + len(right) > params.max_story_articles:
        return f"a story holds at most {params.max_story_articles} articles"
    times = [features[i].time for i in (*left, *right)]
    if max(times) - min(times) > window:
        return f"together they would span more than {whole_hours(window)} h"
    if len(left) == 1 and len(right) == 1:
        return ""
    semantic = all(features[i].vector is not None for i in (*left, *right))
    floor = params.semantic_cluster_floor if semantic else params.cluster_floor
    mean = cross_mean(floor)
    if mean < floor:
        return f"too unlike the rest of the story (mean score {mean:.2f} < {floor})"
    return ""
