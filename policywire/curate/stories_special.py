"""Which cross pairs of a batch of guard checks share a name, or may be decided by a link or
their titles: found for the whole batch at once, as joins of sorted integer keys.

The average-linkage guard (`policywire.curate.stories_linkage`) scores most cross pairs of two
clusters by their cosine alone; the pairs that share a name, and the few that a link or
near-identical titles may decide (`stories_partners`), score more. Looking them up member by
member through a per-cluster dictionary was 7 s of a 25,000-article window: Python steps per
(member, name). Here every (check, member, name) of a batch is one row of an array, and the
pairs are where a left row and a right row carry the same (check, name) key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["Incidence", "Side", "key_join", "sorted_unique", "special_pairs"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]


class Incidence:
    """For each article, a list of integers (its names, or its decisive partners), flat."""

    def __init__(self, starts: _Ints, values: _Ints) -> None:
        self.starts, self.values = starts, values  # article k's are values[starts[k]:starts[k+1]]
        self.width = int(values.max()) + 1 if len(values) else 1

    @classmethod
    def of(cls, lists: Sequence[Iterable[int]]) -> Incidence:
        flat = [list(v) for v in lists]
        sizes = np.array([len(v) for v in flat], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(starts, np.fromiter((v for values in flat for v in values), dtype=np.int64))

    def expand(self, members: _Ints) -> tuple[_Ints, _Ints]:
        """(row, value) for every value of every member: row k is members[k]'s."""
        begin, end = self.starts[members], self.starts[members + 1]
        lengths = end - begin
        row = np.repeat(np.arange(len(members), dtype=np.int64), lengths)
        shift = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        return row, self.values[shift + np.arange(int(lengths.sum()), dtype=np.int64)]


def key_join(left: _Ints, right: _Ints) -> tuple[_Ints, _Ints]:
    """Every (i, j) with left[i] == right[j]: indexes into the two key arrays."""
    order = np.argsort(left, kind="stable")
    ordered = left[order]
    begin = np.searchsorted(ordered, right, side="left")
    end = np.searchsorted(ordered, right, side="right")
    lengths = end - begin
    j = np.repeat(np.arange(len(right), dtype=np.int64), lengths)
    shift = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
    i = order[shift + np.arange(int(lengths.sum()), dtype=np.int64)]
    return i.astype(np.int64), j


def special_pairs(
    left: Side, right: Side, starts: _Ints, names: Incidence, partners: Incidence
) -> tuple[_Ints, _Ints]:
    """Positions of the named and of the decisive cross pairs of some checks (check n's
    pairs at starts[n] + row × (its right side's size) + column, row-major), sorted; a pair
    that is both counts as decisive only."""

    def positions(i: _Ints, j: _Ints) -> _Ints:
        check = left.check[i]
        return sorted_unique(starts[check] + left.at[i] * right.sizes[check] + right.at[j])

    row, name = names.expand(left.members)
    column, other = names.expand(right.members)
    i, j = key_join(left.check[row] * names.width + name, right.check[column] * names.width + other)
    named = positions(row[i], column[j])
    size = int(max(left.members.max(initial=0), right.members.max(initial=0))) + 1
    size = max(size, partners.width)
    row, partner = partners.expand(left.members)
    i, j = key_join(left.check[row] * size + partner, right.check * size + right.members)
    decisive = positions(row[i], j)
    return named[~np.isin(named, decisive, assume_unique=True)], decisive


class Side:
    """One side's members of some checks, flat: member k is at[k] of check[k] (numbered
    0… among those checks)."""

    def __init__(self, members: _Ints, sizes: _Ints, wanted: _Ints) -> None:
        """`members` of every check one after the other (check n has sizes[n]), of which
        the checks `wanted` are kept."""
        keep = np.zeros(len(sizes), dtype=bool)
        keep[wanted] = True
        self.members = members[np.repeat(keep, sizes)]
        self.sizes = sizes[wanted]
        self.check = np.repeat(np.arange(len(wanted), dtype=np.int64), self.sizes)
        self.at = np.arange(len(self.members), dtype=np.int64) - np.repeat(
            np.cumsum(self.sizes) - self.sizes, self.sizes
        )


def sorted_unique(codes: _Ints) -> _Ints:
    """`np.unique` of int64 codes by one sort: on a million codes numpy's hash-based unique
    (which sorts its result anyway) cost ten times as much."""
    ordered = np.sort(codes)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    unique: _Ints = ordered[keep]
    return unique
