"""The average-linkage guard's arithmetic: the sum of the pair scores across two clusters.

Grouping (`policywire.curate.stories_clustering`) lets two clusters join only when the mean
score over all their cross pairs reaches a floor. On a large window that check runs about a
hundred thousand times over up to 900 pairs each, and scoring each pair in Python was 90 % of
grouping's time. With vectors, most cross pairs share nothing but their cosine, and their
score is a closed formula of the cosine, the time between them, their languages and feeds: one
matrix product gives them all. Only pairs that share a name, a title word or a link can score
otherwise (names add, a link or near-identical titles decide), so those are scored apart, in
bulk (`stories_batch.PairScorer`); the sum is the plain loop's, to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from policywire.curate.stories_batch import PairScorer
from policywire.curate.story_scoring import ArticleFeatures

__all__ = ["CrossScores"]

_Index = dict[str, list[int]]  # token → the cluster's members that carry it
_TITLE_WORD = "\0w"  # a token that is a title word
_LINK = "\0l"  # a token that is a link
_ONE_BY_ONE = 20  # up to this many new pairs are scored one by one, not in bulk


class CrossScores:
    """Sums of pair scores across two clusters, when every article of the window has a vector
    or none has: then a pair that shares no token scores by the closed formula (with vectors)
    or 0 (names only). A window of both kinds is `enabled = False`."""

    def __init__(self, features: Sequence[ArticleFeatures], scorer: PairScorer) -> None:
        self.params = scorer.params
        self.scorer = scorer  # its arrays, and the exact scores of the pairs that share a token
        self.window = scorer.window
        self._indexes: dict[int, _Index] = {}  # by cluster root, kept up to date on joins
        self._scores: dict[tuple[int, int], float] = {}  # exact scores of pairs sharing a token
        self.vectors = bool(scorer.has_vector.all())
        self.enabled = bool(len(features)) and (self.vectors or not scorer.has_vector.any())
        # What a shared name adds to a pair at most: names count in full without vectors.
        self.names_cap = self.params.names_weight if self.vectors else 1.0
        if not self.enabled:
            return
        self.tokens = [_tokens(f) for f in features]
        self.title_sizes = [len(f.title_words) for f in features]

    def mean(
        self,
        left_root: int,
        left: Sequence[int],
        right_root: int,
        right: Sequence[int],
        floor: float,
        exact_below: bool,
    ) -> float:
        """The mean of `pair_value(i, j)` for i in `left` and j in `right` (the members of the
        clusters rooted at `left_root` and `right_root`), or a bound of it on the same side of
        `floor`: what a name, a title or a link adds is scored pair by pair only when the
        bounds leave the side open, or when the mean is below the floor and `exact_below`
        (the refusal will be written out with its mean)."""
        plain = self._plain_scores(left, right)
        count = plain.size
        lower = float(plain.sum())
        if lower >= floor * count:  # names, titles and links only ever add
            return lower / count
        named, decisive = self._special_pairs(left_root, left, right_root, right)
        # A shared name adds at most `names_cap`; a link or a title can make the pair 1.
        upper = lower + sum(1.0 - float(plain[i, j]) for i, j in decisive)
        upper += sum(min(self.names_cap, 1.0 - float(plain[i, j])) for i, j in named)
        if upper < floor * count and not exact_below:
            return upper / count
        special = named + decisive
        for (i, j), value in zip(special, self._values(left, right, special), strict=True):
            plain[i, j] = value
        return float(plain.sum()) / count

    def _values(
        self, left: Sequence[int], right: Sequence[int], positions: list[tuple[int, int]]
    ) -> list[float]:
        """The exact scores of the pairs at `positions`: a cluster is offered the same
        partners again as it grows, so each pair is scored once, and a handful one by one
        (a bulk call costs as much as ~20 single ones)."""
        cache = self._scores
        pairs = [(left[i], right[j]) for i, j in positions]
        missing = [pair for pair in pairs if pair not in cache]
        if len(missing) > _ONE_BY_ONE:
            ends = np.array(missing, dtype=np.int64)
            scores = self.scorer.values(ends[:, 0], ends[:, 1]).tolist()
            cache.update(zip(missing, scores, strict=True))
        else:
            for pair in missing:
                cache[pair] = self.scorer.value(*pair)
        return [cache[pair] for pair in pairs]

    def merged(self, root: int, child: int) -> None:
        """Keep the token index of a cluster that absorbed `child`."""
        if not self.enabled:
            return
        kept, gone = self._indexes.get(root), self._indexes.pop(child, None)
        if kept is None or gone is None:
            self._indexes.pop(root, None)  # rebuilt from the members when next needed
            return
        for token, members in gone.items():
            kept.setdefault(token, []).extend(members)

    def _plain_scores(
        self, left: Sequence[int], right: Sequence[int]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """`pair_value` of every cross pair as if it shared no name, title word or link."""
        if not self.vectors:
            return np.zeros((len(left), len(right)))
        arrays = self.scorer
        lefts, rights = np.asarray(left)[:, None], np.asarray(right)[None, :]
        cosine = (arrays.matrix[lefts[:, 0]] @ arrays.matrix[rights[0]].T).astype(np.float64)
        share = arrays.semantic_share(arrays.similarity(cosine, lefts, rights))
        penalty, apart = arrays.penalty(lefts, rights)
        scores: np.ndarray[Any, np.dtype[np.float64]] = np.maximum(0.0, share - penalty)
        scores[apart > self.window] = 0.0
        return scores

    def _special_pairs(
        self, left_root: int, left: Sequence[int], right_root: int, right: Sequence[int]
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Positions (in `left`, in `right`) of the cross pairs that may score otherwise than
        by their cosine: those sharing names only, and those that share a link or enough
        title words for the titles to be near-identical (the pair may be decisive). The
        smaller cluster's tokens are looked up in the larger one's index."""
        swap = len(left) > len(right)
        small, large_root, large = (right, left_root, left) if swap else (left, right_root, right)
        index = self._index(large_root, large)
        where_small = {m: n for n, m in enumerate(small)}
        where_large = {m: n for n, m in enumerate(large)}
        named: set[tuple[int, int]] = set()
        decisive: set[tuple[int, int]] = set()
        title_words: dict[tuple[int, int], int] = {}
        for member in small:
            for token in self.tokens[member]:
                others = index.get(token)
                if not others:
                    continue
                if token.startswith(_TITLE_WORD):
                    for other in others:
                        pair = (member, other)
                        title_words[pair] = title_words.get(pair, 0) + 1
                else:
                    kind = decisive if token.startswith(_LINK) else named
                    kind.update((member, other) for other in others)
        similarity = self.params.title_similarity
        for (member, other), shared in title_words.items():
            shorter = min(self.title_sizes[member], self.title_sizes[other])
            if shared >= similarity * shorter:  # Jaccard ≤ shared / shorter
                decisive.add((member, other))
        named -= decisive

        def positions(pairs: set[tuple[int, int]]) -> list[tuple[int, int]]:
            found = [(where_small[m], where_large[o]) for m, o in pairs]
            return [(b, a) for a, b in found] if swap else found

        return positions(named), positions(decisive)

    def _index(self, root: int, members: Sequence[int]) -> _Index:
        index = self._indexes.get(root)
        if index is None:
            index = {}
            for member in members:
                for token in self.tokens[member]:
                    index.setdefault(token, []).append(member)
            self._indexes[root] = index
        return index


def _tokens(features: ArticleFeatures) -> tuple[str, ...]:
    """What two articles must share for anything but their cosine to count: a name, a title
    word (near-identical titles), or a link (one's link among the other's, or the same)."""
    return (
        *features.keys,
        *(_TITLE_WORD + w for w in features.title_words),
        _LINK + features.link,
        *(_LINK + link for link in features.links),
    )
