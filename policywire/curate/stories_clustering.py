"""Clustering for story grouping: from scored candidate pairs to clusters, with their reasons.

Grouping (`policywire.curate.stories.group_articles`) hands the articles' features here; the
candidate pairs (`policywire.curate.stories_candidates`) are scored, the passing ones joined
strongest first with union-find under the window and average-linkage guards, and every join,
refused join and near miss recorded as a reason line (`policywire.curate.stories_explain`).
Kept apart from the entry points because it is the one stateful part of grouping.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_bridge import bridges
from policywire.curate.stories_candidates import candidate_pairs
from policywire.curate.stories_explain import bridge_line, reason_line, whole_hours
from policywire.curate.stories_linkage import Check, CrossScores
from policywire.curate.story_scoring import (
    ArticleFeatures,
    GroupingParams,
    PairScore,
    pair_score,
)

__all__ = ["Clustering"]


_MAX_NEAR_MISSES = 6  # "kept apart" lines per story, strongest first
_State = tuple[int, int, int, int]  # (root, size, root, size) of two clusters
_AHEAD = 256  # guard checks computed in one batch
_SCAN = 2048  # how far past the walk a batch looks for them


class _UnionFind:
    """Clusters of article indexes, with what the guards ask of a cluster kept up to date on
    each union (its time span, how many members lack a vector), so a guard need not walk the
    members."""

    def __init__(self, features: Sequence[ArticleFeatures]) -> None:
        size = len(features)
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {i: [i] for i in range(size)}
        self.earliest = [f.time for f in features]
        self.latest = list(self.earliest)
        self.without_vector = [int(f.vector is None) for f in features]

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
        self.earliest[root] = min(self.earliest[root], self.earliest[child])
        self.latest[root] = max(self.latest[root], self.latest[child])
        self.without_vector[root] += self.without_vector[child]
        return root

    def state(self, ri: int, rj: int) -> _State:
        """Two clusters by root and size: a cluster only grows and a root never comes back,
        so this names their members for the whole run."""
        return (ri, len(self.members[ri]), rj, len(self.members[rj]))


_Scored = list[tuple[float, int, int]]  # (-score, i, j)


class _LookAhead:
    """Which positions of the passing pairs the next batch of guard checks looks at: those
    never looked at (from `frontier` on) and those whose clusters have changed since."""

    def __init__(self) -> None:
        self.frontier = 0
        self._changed: list[int] = []  # a heap of positions to look at again
        self._watched: dict[int, list[int]] = {}  # positions looked at, by cluster root
        self._later: list[int] = []  # positions deferred to the next batch

    def positions(self, at: int, end: int) -> Iterator[int]:
        """`at` first, then the changed and deferred positions after it, then new ones up to
        `_SCAN` past `at`, each in order."""
        heap = self._changed
        for position in self._later:
            heapq.heappush(heap, position)
        self._later = []
        yield at
        while heap:
            position = heapq.heappop(heap)
            if position > at:
                yield position
        start = max(at + 1, self.frontier)
        for position in range(start, min(end, at + 1 + _SCAN)):
            self.frontier = position + 1
            yield position

    def defer(self, position: int) -> None:
        """A position to look at again in the next batch."""
        self._later.append(position)

    def watch(self, position: int, ri: int, rj: int) -> None:
        """A position whose check depends on the clusters rooted at `ri` and `rj`."""
        self._watched.setdefault(ri, []).append(position)
        self._watched.setdefault(rj, []).append(position)

    def changed(self, ri: int, rj: int) -> None:
        """The clusters rooted at `ri` and `rj` are joining."""
        for root in (ri, rj):
            for position in self._watched.pop(root, ()):
                heapq.heappush(self._changed, position)


class Clustering:
    """The articles' clusters (union-find) and why each was joined or kept apart."""

    def __init__(
        self, features: Sequence[ArticleFeatures], params: GroupingParams, *, explain: bool = True
    ) -> None:
        self.features = features
        self.params = params
        # Whether reason lines are written: only `preview --explain` reads them, and on a
        # large window building them costs a tenth of the grouping.
        self.explain = explain
        self.window = params.window.total_seconds()
        self.clusters = _UnionFind(features)
        self.reasons: dict[int, list[str]] = {}
        self._refused: dict[int, int] = {}  # refused joins recorded, by cluster root
        # Why two clusters were refused, by `_UnionFind.state`. Two large clusters are offered
        # each other by many pairs; the mean over all their pairs is taken once.
        self._guarded: dict[_State, str] = {}
        # Cross means computed ahead of the walk through the passing pairs, by state: a
        # refusal changes no cluster, so the next checks can be computed together (`join`).
        self._means: dict[_State, float] = {}
        self._ahead = _LookAhead()
        self.scorer = PairScorer(features, params)
        self._cross = CrossScores(features, self.scorer)
        self._sites: list[int] = self.scorer.sites.tolist()  # for the reason lines

    def pair_line(self, i: int, j: int, signals: PairScore | None = None) -> str:
        a, b = self.features[i], self.features[j]
        if signals is None:
            signals = pair_score(a, b, self.params)
        sites = self._sites
        return reason_line(a, b, signals, self.params, own_site=sites[i] == sites[j])

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
        first, second, values, passes = first[order], second[order], values[order], passes[order]

        def scored(which: np.ndarray[Any, np.dtype[np.bool_]]) -> _Scored:
            columns = ((-values[which]).tolist(), first[which].tolist(), second[which].tolist())
            return list(zip(*columns, strict=True))

        return scored(passes), scored(~passes)

    def join(self, passing: _Scored) -> None:
        """Join the clusters of each passing pair, strongest first, unless a guard objects."""
        clusters = self.clusters
        for at, (_, i, j) in enumerate(passing):
            ri, rj = clusters.find(i), clusters.find(j)
            if ri == rj:
                continue
            state = clusters.state(ri, rj)
            why = self._guarded.get(state)
            if why is None:
                why = self._guard(state, passing, at)
                if why:
                    self._guarded[state] = why
            if why:
                self._note_kept_apart(ri, rj, i, j, why)
                continue
            self._ahead.changed(ri, rj)
            self._union(ri, rj, f"grouped: {self.pair_line(i, j)}" if self.explain else "")

    def bridge(self) -> None:
        """Join the stories that keep naming one event's actors (`stories_bridge`),
        strongest first, while the joined story keeps within the story window (as a join
        does) and the size cap; each bridge's two stories lie within `bridge_window`."""
        clusters = self.clusters
        for bridge in bridges(self.features, clusters.members, self.params):
            ri, rj = clusters.find(bridge.left), clusters.find(bridge.right)
            if ri == rj or _cheap_guard(clusters, ri, rj, self.window, self.params):
                continue  # already one, or too large or too long together
            left, right = self.features[bridge.left], self.features[bridge.right]
            line = (
                f"grouped as one event: {bridge_line(left, right, bridge)}" if self.explain else ""
            )
            self._union(ri, rj, line)

    def _union(self, ri: int, rj: int, line: str) -> None:
        """Join two clusters; their reasons follow the root, after `line` (why they joined),
        when reasons are written."""
        root = self.clusters.union(ri, rj)
        if self.explain:
            moved = self.reasons.pop(rj if root == ri else ri, [])
            self.reasons.setdefault(root, []).extend([line, *moved])

    def _guard(self, state: _State, passing: _Scored, at: int) -> str:
        """Why the two clusters of `state` must not join ("" when they may); the cross mean
        is asked for only when the cheaper guards pass."""
        ri, _, rj, _ = state
        why = _cheap_guard(self.clusters, ri, rj, self.window, self.params)
        if why is not None:
            return why
        floor = self._floor(ri, rj)
        mean = self._means.pop(state, None)
        if mean is None:
            self._compute_ahead(passing, at)
            mean = self._means.pop(state)
        if mean < floor:
            return f"too unlike the rest of the story (mean score {mean:.2f} < {floor})"
        return ""

    def _floor(self, ri: int, rj: int) -> float:
        semantic = not (self.clusters.without_vector[ri] or self.clusters.without_vector[rj])
        return self.params.semantic_cluster_floor if semantic else self.params.cluster_floor

    def _compute_ahead(self, passing: _Scored, at: int) -> None:
        """The cross means of the checks the walk will meet from `at` on: one batch
        (`CrossScores.means`) instead of one call per check.

        A refusal changes no cluster, a join changes two. So a check is put in the batch only
        when no join the walk may make before it touches its clusters; the others wait for a
        later batch (`_LookAhead.defer`), as do the positions whose clusters a join changed
        (`_LookAhead.changed`). Each pair is looked at about once however often this runs."""
        clusters, ahead = self.clusters, self._ahead
        checks: list[Check] = []
        positions: list[int] = []
        seen: set[_State] = set()
        blocked: set[int] = set()  # roots a join ahead of the batch's next check may change
        for position in ahead.positions(at, len(passing)):
            _, i, j = passing[position]
            ri, rj = clusters.find(i), clusters.find(j)
            if ri == rj:
                continue  # for good
            state = clusters.state(ri, rj)
            if state in self._guarded or state in seen:
                continue
            seen.add(state)
            known = self._means.get(state)
            why = _cheap_guard(clusters, ri, rj, self.window, self.params)
            if why:  # a larger or longer cluster is refused too: never looked at again
                self._guarded[state] = why
            elif why == "" or (known is not None and known >= self._floor(ri, rj)):
                blocked.update((ri, rj))  # they join when the walk gets there
                ahead.watch(position, ri, rj)
            elif known is not None:
                continue
            elif ri in blocked or rj in blocked:
                blocked.update((ri, rj))
                ahead.defer(position)
            else:
                positions.append(position)
                checks.append(
                    Check(
                        ri,
                        clusters.members[ri],
                        rj,
                        clusters.members[rj],
                        self._floor(ri, rj),
                        self._noted(ri, rj),
                    )
                )
                if len(checks) == _AHEAD:
                    break
        self._store(checks, positions)

    def _store(self, checks: list[Check], positions: list[int]) -> None:
        """Compute a batch; what a join in it may make wrong comes back later."""
        for check, position, mean in zip(
            checks, positions, self._cross.means(checks, in_order=True), strict=True
        ):
            ri, rj = check.left_root, check.right_root
            if mean is None:
                self._ahead.defer(position)
                continue
            self._means[self.clusters.state(ri, rj)] = mean
            self._ahead.watch(position, ri, rj)

    def _noted(self, ri: int, rj: int) -> bool:
        """Whether a refusal between these clusters would be written out (with its mean)."""
        return self.explain and any(self._refused.get(r, 0) < _MAX_NEAR_MISSES for r in (ri, rj))

    def _note_kept_apart(self, ri: int, rj: int, i: int, j: int, why: str) -> None:
        """A refused join, recorded on both clusters while each has few: a large story can
        refuse thousands of pairs, and building every line would cost more than grouping."""
        if not self.explain:
            return
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
        if not self.explain:
            return
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


def _cheap_guard(
    clusters: _UnionFind, ri: int, rj: int, window: float, params: GroupingParams
) -> str | None:
    """Why two clusters must not join by size or time span, "" when both are single articles
    (the pair passed, nothing else to ask), None when the cross mean must decide."""
    left, right = clusters.members[ri], clusters.members[rj]
    if len(left) + len(right) > params.max_story_articles:
        return f"a story holds at most {params.max_story_articles} articles"
    earliest = min(clusters.earliest[ri], clusters.earliest[rj])
    if max(clusters.latest[ri], clusters.latest[rj]) - earliest > window:
        return f"together they would span more than {whole_hours(window)} h"
    if len(left) == 1 and len(right) == 1:
        return ""
    return None
