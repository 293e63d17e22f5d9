"""The average-linkage guard's arithmetic: the mean pair score across two clusters, many at once.

Grouping (`policywire.curate.stories_clustering`) lets two clusters join only when the mean
score over all their cross pairs reaches a floor. On a 25,000-article window that check runs
over a hundred thousand times, on 70 pairs each on average: what it cost was numpy's per-call
overhead on small arrays, not arithmetic. So checks come here in batches (`CrossScores.means`)
and every step but one matrix product per check runs once over the batch's pairs, flat.

With vectors, most cross pairs share nothing but their cosine, and their score is a closed
formula of the cosine, the time between them, their languages and feeds, less the penalty of
two titles naming two different countries (`story_scoring.places_conflict`) ("plain"). A pair that
shares a name scores that formula plus what the names add (`PairScorer.names_values`); only a pair
that a link or near-identical titles may decide (`stories_partners`, found once per window)
needs the whole of `pair_value`. Names only, a pair that shares nothing scores 0. The sum is
the plain loop's to float rounding.

Bounds settle most checks before the names are scored: names only ever add (the plain sum is a
lower bound), and a name adds at most `names_cap`. The exact mean is computed when the bounds
leave the side of the floor open, or when the refusal will be written out with its mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_partners import TITLE_PAIRS_BUDGET, decisive_partners
from policywire.curate.stories_special import Incidence, Side, sorted_unique, special_pairs
from policywire.curate.story_scoring import ArticleFeatures

__all__ = ["Check", "CrossScores"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Floats = np.ndarray[Any, np.dtype[np.float64]]
# A bound this close to a floor may be on the wrong side by the order of a sum: ask the exact sum.
_ROUNDING = 1e-9
_ONE_BY_ONE = 20  # up to this many decisive pairs are scored one by one, not in bulk


@dataclass(frozen=True, slots=True)
class Check:
    """One question of the guard: the mean pair score across two clusters, against a floor.

    `exact_below`: the refusal will be written out, so below the floor the true mean is
    wanted, not a bound."""

    left_root: int
    left: Sequence[int]
    right_root: int
    right: Sequence[int]
    floor: float
    exact_below: bool = True


@dataclass(frozen=True, slots=True)
class _Pairs:
    """The cross pairs of a batch of checks, flat and in each check's row-major order: pair
    k is (first[k], second[k]) of check owner[k]; check c's pairs start at starts[c]."""

    first: _Ints
    second: _Ints
    owner: _Ints
    starts: _Ints
    counts: _Ints
    lefts: _Ints  # every check's left members, one check after the other
    rows: _Ints  # how many each check has
    rights: _Ints
    columns: _Ints


@dataclass(frozen=True, slots=True)
class _Special:
    """Positions (in `_Pairs`) of the pairs of some checks that score more than plain."""

    named: _Ints  # share a name only
    decisive: _Ints  # a link or their titles may decide them


class CrossScores:
    """Means of pair scores across two clusters, for batches of checks.

    The closed formulas hold when every article of the window has a vector or none has; a
    window of both kinds scores every cross pair by `PairScorer.values`."""

    def __init__(
        self,
        features: Sequence[ArticleFeatures],
        scorer: PairScorer,
        title_pairs_budget: int = TITLE_PAIRS_BUDGET,
    ) -> None:
        self.params = scorer.params
        self.scorer = scorer
        self.window = scorer.window
        self.size = len(features)
        self.vectors = bool(scorer.has_vector.all())
        self.closed = bool(len(features)) and (self.vectors or not scorer.has_vector.any())
        # What a shared name adds to a pair at most: names count in full without vectors.
        self.names_cap = self.params.names_weight if self.vectors else 1.0
        self._named = _ScoreCache()  # exact scores of pairs sharing a name, by code
        self._decisive: dict[int, float] = {}  # exact scores of the partners' pairs, by code
        self.titles_paired = True  # near-identical titles are among the partners
        if self.closed:
            self.names = Incidence(scorer.names.starts, scorer.names.words)
            partners, self.titles_paired = decisive_partners(features, scorer, title_pairs_budget)
            self.partners = Incidence.of(partners)

    def means(self, checks: Sequence[Check], *, in_order: bool = False) -> list[float | None]:
        """For each check, the mean of `pair_value(i, j)` over i in `left`, j in `right`, or a
        bound of it on the same side of `floor` where the exact figure would go unread.

        `in_order`: the checks come in the order a walk meets them, and a join changes the
        two clusters it joins: a check is answered (not None) only when no earlier check of
        the batch that may join (nor one left unanswered) shares a cluster with it, as its
        answer would describe clusters that are gone by the time it is asked."""
        if not checks:
            return []
        pairs = _expand(checks)
        if not self.closed:
            values = self.scorer.values(pairs.first, pairs.second)
            sums = _slice_sums(values, pairs, range(len(checks)))
            return [total / int(count) for total, count in zip(sums, pairs.counts, strict=True)]
        plain = self._plain(checks, pairs)
        lower = _slice_sums(plain, pairs, range(len(checks)))
        floors = [c.floor * int(n) for c, n in zip(checks, pairs.counts.tolist(), strict=True)]
        special = self._special(pairs, [n for n, f in enumerate(floors) if lower[n] < f])
        upper = (np.asarray(lower) + self._headroom(plain, pairs, special)).tolist()
        answers: list[float | None] = [None] * len(checks)
        exact: list[int] = []  # the checks whose exact mean is wanted
        blocked: set[int] = set()
        for number, check in enumerate(checks):
            roots = (check.left_root, check.right_root)
            if in_order and (roots[0] in blocked or roots[1] in blocked):
                blocked.update(roots)
                continue
            count, floor = int(pairs.counts[number]), floors[number]
            if lower[number] >= floor:  # names, titles and links only ever add
                answers[number] = lower[number] / count
                blocked.update(roots)
                continue
            # A bound within a rounding of the floor is not trusted: the exact sum decides.
            if upper[number] + _ROUNDING < floor and not check.exact_below:
                answers[number] = upper[number] / count
                continue
            if upper[number] + _ROUNDING >= floor:
                blocked.update(roots)
            exact.append(number)
        values = self._exact_values(pairs, plain, self._of_checks(special, pairs, exact))
        for number, total in zip(exact, _slice_sums(values, pairs, exact), strict=True):
            answers[number] = total / int(pairs.counts[number])
        return answers

    # --- the plain scores ---------------------------------------------------------------

    def _plain(self, checks: Sequence[Check], pairs: _Pairs) -> _Floats:
        """`pair_value` of every pair as if it shared no name, title word or link: one
        matrix product per check (the vectors of a check's members are gathered once, not
        once per pair), the rest over the batch."""
        if not self.vectors:
            return np.zeros(len(pairs.first))
        matrix = self.scorer.matrix
        products = [(matrix[c.left] @ matrix[c.right].T).ravel() for c in checks]
        cosine = np.concatenate(products).astype(np.float64)
        return self._plain_of(cosine, pairs.first, pairs.second)

    def _plain_of(self, cosine: _Floats, first: _Ints, second: _Ints) -> _Floats:
        scorer = self.scorer
        share = scorer.semantic_share(scorer.similarity(cosine, first, second))
        penalty, apart = scorer.penalty(first, second)
        # Two titles naming two countries that neither article names otherwise lose the same
        # here as in `pair_value`: a conflict of places is a test, not a shared token.
        scores = scorer.apart_places(np.maximum(0.0, share - penalty), first, second)
        scores[apart > self.window] = 0.0
        return scores

    # --- the pairs that score more ----------------------------------------------------------

    def _special(self, pairs: _Pairs, wanted: list[int]) -> _Special:
        """The named and decisive pairs of the checks `wanted` (positions in `pairs`)."""
        at = np.asarray(wanted, dtype=np.int64)
        named, decisive = special_pairs(
            Side(pairs.lefts, pairs.rows, at),
            Side(pairs.rights, pairs.columns, at),
            pairs.starts[at],
            self.names,
            self.partners,
        )
        if not self.titles_paired:
            decisive = sorted_unique(np.concatenate([decisive, self._near_titles(pairs, at)]))
            named = named[~np.isin(named, decisive, assume_unique=True)]
        return _Special(named, decisive)

    def _near_titles(self, pairs: _Pairs, wanted: _Ints) -> _Ints:
        """Positions of the pairs of the checks `wanted` whose titles are near-identical, for
        a window whose titles were too alike to be paired up ahead (`decisive_partners`)."""
        at = np.flatnonzero(np.isin(pairs.owner, wanted))
        near = self.scorer.near_identical_titles(pairs.first[at], pairs.second[at])
        found: _Ints = at[near]
        return found

    def _headroom(self, plain: _Floats, pairs: _Pairs, special: _Special) -> _Floats:
        """What each check's special pairs could add at most: a link or a title can make a
        pair 1; a name adds at most `names_cap`."""
        count = len(pairs.starts)
        room = np.bincount(
            pairs.owner[special.decisive], weights=1.0 - plain[special.decisive], minlength=count
        )
        named = np.minimum(self.names_cap, 1.0 - plain[special.named])
        room = room + np.bincount(pairs.owner[special.named], weights=named, minlength=count)
        return room.astype(np.float64)

    @staticmethod
    def _of_checks(special: _Special, pairs: _Pairs, checks: list[int]) -> _Special:
        """The special pairs of some checks only."""
        wanted = np.zeros(len(pairs.starts), dtype=bool)
        wanted[checks] = True
        return _Special(
            special.named[wanted[pairs.owner[special.named]]],
            special.decisive[wanted[pairs.owner[special.decisive]]],
        )

    def _exact_values(self, pairs: _Pairs, plain: _Floats, special: _Special) -> _Floats:
        """Every pair's exact score: the plain one, but for the special pairs."""
        values = plain.copy()
        values[special.named] = self._named_values(pairs, special.named)
        values[special.decisive] = self._decisive_values(pairs, special.decisive)
        return values

    def _named_values(self, pairs: _Pairs, positions: _Ints) -> _Floats:
        """The exact scores of pairs that share names but no link and no near-identical
        titles: the plain formula with the names' share added (or the names alone), each pair
        scored once, as a cluster is offered the same partners again as it grows."""
        first, second = pairs.first[positions], pairs.second[positions]
        codes = first * self.size + second
        values, found = self._named.lookup(codes)
        missing = np.flatnonzero(~found)
        if len(missing):
            a, b = first[missing], second[missing]
            scorer = self.scorer
            names = scorer.names_values(a, b)
            if self.vectors:
                scored = self._with_names(a, b, names)
            else:
                scored = scorer.apart_places(np.minimum(1.0, names), a, b)
                scored[np.abs(self.scorer.times[a] - self.scorer.times[b]) > self.window] = 0.0
            values[missing] = scored
            self._named.add(codes[missing], scored)
        return values

    def _with_names(self, a: _Ints, b: _Ints, names: _Floats) -> _Floats:
        """`pair_value` with vectors for pairs that no link or title decides and no link
        adds to: the cosine's share and the names' together, less the penalties."""
        scorer, params = self.scorer, self.params
        cosine = np.einsum("ij,ij->i", scorer.matrix[a], scorer.matrix[b]).astype(np.float64)
        share = scorer.semantic_share(scorer.similarity(cosine, a, b))
        combined = np.minimum(1.0, share + params.names_weight * names)
        penalty, apart = scorer.penalty(a, b)
        values = scorer.apart_places(np.maximum(0.0, combined - penalty), a, b)
        values[apart > self.window] = 0.0
        return values

    def _decisive_values(self, pairs: _Pairs, positions: _Ints) -> _Floats:
        """The exact scores of the pairs a link or titles may decide (few: one by one up to a
        handful, as a bulk call costs as much as ~20 single ones)."""
        first, second = pairs.first[positions], pairs.second[positions]
        codes = (first * self.size + second).tolist()
        cache = self._decisive
        missing = [n for n, code in enumerate(codes) if code not in cache]
        if len(missing) > _ONE_BY_ONE:
            at = np.array(missing, dtype=np.int64)
            scores = self.scorer.values(first[at], second[at]).tolist()
            cache.update(zip([codes[n] for n in missing], scores, strict=True))
        else:
            for n in missing:
                cache[codes[n]] = self.scorer.value(int(first[n]), int(second[n]))
        return np.array([cache[code] for code in codes], dtype=np.float64)


class _ScoreCache:
    """Pair scores by pair code, as sorted arrays: a window's checks look up millions of
    codes, which a dict answers one Python step each. New scores go to a small sorted part,
    merged into the large one when it grows past a quarter of it (each score is moved a
    few times in all, not once per batch)."""

    _SMALL = 65_536  # the small part is merged only past this size, whatever the large one

    def __init__(self) -> None:
        self._parts = [(_no_ints(), _no_floats()), (_no_ints(), _no_floats())]  # large, small

    def lookup(self, codes: _Ints) -> tuple[_Floats, np.ndarray[Any, np.dtype[np.bool_]]]:
        """The kept score of each code (0 where there is none) and whether there is one."""
        values = np.zeros(len(codes))
        found = np.zeros(len(codes), dtype=bool)
        for kept, scores in self._parts:
            if not len(kept):
                continue
            at = np.minimum(np.searchsorted(kept, codes), len(kept) - 1)
            hit = kept[at] == codes
            values[hit] = scores[at[hit]]
            found |= hit
        return values, found

    def add(self, codes: _Ints, scores: _Floats) -> None:
        """Keep these scores (codes not kept yet; one may come twice, with one score)."""
        codes, first = np.unique(codes, return_index=True)
        (large, large_scores), small = self._parts
        small = _merged(small, (codes, scores[first]))
        if len(small[0]) > max(self._SMALL, len(large) // 4):
            self._parts = [_merged((large, large_scores), small), (_no_ints(), _no_floats())]
        else:
            self._parts[1] = small


def _merged(a: tuple[_Ints, _Floats], b: tuple[_Ints, _Floats]) -> tuple[_Ints, _Floats]:
    """Two sorted (codes, scores) with no code in both, as one."""
    codes = np.concatenate([a[0], b[0]])
    order = np.argsort(codes, kind="stable")
    return codes[order], np.concatenate([a[1], b[1]])[order]


def _no_ints() -> _Ints:
    return np.zeros(0, dtype=np.int64)


def _no_floats() -> _Floats:
    return np.zeros(0, dtype=np.float64)


def _expand(checks: Sequence[Check]) -> _Pairs:
    """Every cross pair of every check, flat, row-major within each check."""
    rows = np.array([len(c.left) for c in checks], dtype=np.int64)
    columns = np.array([len(c.right) for c in checks], dtype=np.int64)
    lefts = np.fromiter(chain.from_iterable(c.left for c in checks), dtype=np.int64)
    rights = np.fromiter(chain.from_iterable(c.right for c in checks), dtype=np.int64)
    counts = rows * columns
    starts = np.cumsum(counts) - counts
    owner = np.repeat(np.arange(len(checks), dtype=np.int64), counts)
    local = np.arange(int(counts.sum()), dtype=np.int64) - starts[owner]
    width = columns[owner]
    row, column = local // width, local % width
    first = lefts[(np.cumsum(rows) - rows)[owner] + row]
    second = rights[(np.cumsum(columns) - columns)[owner] + column]
    return _Pairs(first, second, owner, starts, counts, lefts, rows, rights, columns)


def _slice_sums(values: _Floats, pairs: _Pairs, checks: Sequence[int]) -> list[float]:
    """The sum over each check's pairs, one slice at a time: numpy sums a slice pairwise, as
    it summed a check's matrix of scores, so a mean that falls on a rounding tie prints as
    it did (summed per check in one pass, 0.275 came out 0.27 or 0.28 by the order)."""
    starts, counts = pairs.starts.tolist(), pairs.counts.tolist()
    return [float(values[starts[n] : starts[n] + counts[n]].sum()) for n in checks]
