"""Each article's nearest neighbours by embedding within the window, chosen a block at a time.

Grouping's candidate pairs (`policywire.curate.stories_candidates`) include each article with
its `keep` most similar articles (cosine above a floor, within the window). The plain search
(`_plain_row`) takes a row's entries above the floor and `np.argpartition`s them: one Python
step per article, 2.8 s of a 25,000-article window. Here the choice is made for a block of
rows at once, on the very same similarities (the same matrix products):

- a lower bound of each row's (keep + 1)-th value: the (keep + 1)-th largest maximum of the
  column chunks that lie wholly inside the row's window and hold no self-pair (each such
  maximum is an eligible entry), so only the entries at or above it need sorting;
- a row whose keep-th and (keep + 1)-th values are equal (a tie, as between two copies of one
  text) is handed to the plain search, whose choice among ties `argpartition` makes. Every
  other row has one top `keep`, the one the plain search finds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["nearest_pairs"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Floats = np.ndarray[Any, np.dtype[np.float32]]
_Times = np.ndarray[Any, np.dtype[np.float64]]

_BLOCK = 256  # rows per matrix product: bounded memory whatever the window holds
_CHUNK = 32  # columns per maximum of the bound


def nearest_pairs(
    matrix: _Floats, times: _Times, window: float, low: float, keep: int
) -> tuple[_Ints, _Ints]:
    """Pairs (row, neighbour) of row indexes of `matrix`: each row with its `keep` most
    similar rows among those above `low` and at most `window` apart in `times` (sorted), as
    the plain search chooses them. A pair may come twice, once from each side."""
    found: list[tuple[_Ints, _Ints]] = []
    if len(matrix) < 2 or keep < 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    for start in range(0, len(matrix), _BLOCK):
        stop = min(start + _BLOCK, len(matrix))
        lo = int(np.searchsorted(times, times[start] - window, side="left"))
        hi = int(np.searchsorted(times, times[stop - 1] + window, side="right"))
        block = _Block(matrix[start:stop] @ matrix[lo:hi].T, times, start, lo, window, low)
        found.append(block.choose(keep))
    return np.concatenate([f for f, _ in found]), np.concatenate([s for _, s in found])


class _Block:
    """The similarities of rows start… with columns lo…, and what each row may choose."""

    def __init__(
        self, scores: _Floats, times: _Times, start: int, lo: int, window: float, low: float
    ) -> None:
        self.scores, self.times, self.window, self.low = scores, times, window, low
        self.start, self.lo = start, lo
        rows, width = scores.shape
        self.mine = times[start : start + rows]
        self.columns = times[lo : lo + width]
        self.own = np.arange(start, start + rows) - lo  # each row's own column

    def _near(self, rows: _Ints, columns: _Ints) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Whether each (row, column) is at most the window apart: the plain search's test,
        monotone in the column as the times are sorted."""
        near: np.ndarray[Any, np.dtype[np.bool_]] = (
            np.abs(self.columns[columns] - self.mine[rows]) <= self.window
        )
        return near

    def choose(self, keep: int) -> tuple[_Ints, _Ints]:
        """Every row's chosen neighbours, as (row, column) indexes of the whole matrix."""
        rows, columns, values = self._candidates(*self._bound(keep + 1))
        order = np.lexsort((-values, rows))
        rows, columns, values = rows[order], columns[order], values[order]
        starts = np.searchsorted(rows, np.arange(len(self.scores)))
        rank = np.arange(len(rows)) - starts[rows]
        counts = np.bincount(rows, minlength=len(self.scores))
        tied = self._tied(rows, values, rank, keep, counts)
        chosen = (rank < keep) & ~tied[rows]
        first = [rows[chosen] + self.start]
        second = [columns[chosen] + self.lo]
        for row in np.flatnonzero(tied).tolist():
            near = self._plain_row(row, keep)
            first.append(np.full(len(near), row + self.start, dtype=np.int64))
            second.append(near + self.lo)
        return np.concatenate(first), np.concatenate(second)

    def _bound(self, count: int) -> tuple[_Floats, _Floats]:
        """Per row, a value at most its count-th largest eligible entry (-inf when unknown),
        and every chunk's maximum."""
        rows, width = self.scores.shape
        edges = np.arange(0, width, _CHUNK)
        maxima = np.maximum.reduceat(self.scores, edges, axis=1)
        ends = np.minimum(edges + _CHUNK, width)
        every = np.arange(rows)[:, None]
        # A chunk whose first and last columns are near enough is near enough throughout.
        whole = self._near(every, edges[None, :]) & self._near(every, ends[None, :] - 1)
        whole &= (self.own[:, None] < edges[None, :]) | (self.own[:, None] >= ends[None, :])
        eligible = np.where(whole & (maxima > self.low), maxima, -np.inf).astype(np.float32)
        if eligible.shape[1] < count:
            return np.full(rows, -np.inf, dtype=np.float32), maxima
        bound: _Floats = np.partition(eligible, -count, axis=1)[:, -count]
        return bound, maxima

    def _candidates(self, bound: _Floats, maxima: _Floats) -> tuple[_Ints, _Ints, _Floats]:
        """The eligible entries at or above each row's bound (all its top ones), looked for
        only in the chunks whose maximum reaches the bound."""
        width = self.scores.shape[1]
        rows, chunks = np.nonzero(maxima >= bound[:, None])
        columns = (chunks[:, None] * _CHUNK + np.arange(_CHUNK)[None, :]).ravel()
        rows = np.repeat(rows, _CHUNK)
        inside = columns < width
        rows, columns = rows[inside], columns[inside]
        values = self.scores[rows, columns]
        eligible = (values >= bound[rows]) & (values > self.low) & (columns != self.own[rows])
        eligible &= self._near(rows, columns)
        return rows[eligible], columns[eligible], values[eligible]

    def _tied(
        self, rows: _Ints, values: _Floats, rank: _Ints, keep: int, counts: _Ints
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Rows with more than `keep` eligible entries whose keep-th and next are equal."""
        size = len(self.scores)
        kth = np.full(size, np.nan, dtype=np.float32)
        after = np.full(size, np.inf, dtype=np.float32)
        kth[rows[rank == keep - 1]] = values[rank == keep - 1]
        after[rows[rank == keep]] = values[rank == keep]
        tied: np.ndarray[Any, np.dtype[np.bool_]] = (counts > keep) & (kth == after)
        return tied

    def _plain_row(self, row: int, keep: int) -> _Ints:
        """The plain search of one row: its eligible entries, `argpartition`ed when more than
        `keep`, on the same similarities."""
        scores = self.scores[row].copy()
        me = self.start + row
        scores[me - self.lo] = -1.0  # not one's own neighbour
        times = self.times[self.lo : self.lo + len(scores)]
        near = np.flatnonzero(
            (scores > self.low) & (np.abs(times - times[me - self.lo]) <= self.window)
        )
        if len(near) > keep:
            near = near[np.argpartition(-scores[near], keep)[:keep]]
        return near.astype(np.int64)
