"""The block-wise neighbour search chooses what the plain per-row search chooses, ties and
window edges included; the batched special-pair joins find what a per-member lookup finds."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import pytest

from policywire.curate import stories_neighbours
from policywire.curate.stories_neighbours import nearest_pairs
from policywire.curate.stories_special import (
    Incidence,
    Side,
    key_join,
    sorted_unique,
    special_pairs,
)

_Matrix = np.ndarray[Any, np.dtype[np.float32]]


def _plain(
    matrix: _Matrix, times: np.ndarray[Any, Any], window: float, low: float, keep: int, block: int
) -> set[tuple[int, int]]:
    """The search as grouping made it before: one row at a time, `argpartition` of the
    entries above `low`."""
    found: set[tuple[int, int]] = set()
    for start in range(0, len(matrix), block):
        stop = min(start + block, len(matrix))
        lo = int(np.searchsorted(times, times[start] - window, side="left"))
        hi = int(np.searchsorted(times, times[stop - 1] + window, side="right"))
        similarity = matrix[start:stop] @ matrix[lo:hi].T
        for row in range(stop - start):
            scores = similarity[row]
            me = start + row
            scores[me - lo] = -1.0
            near = np.flatnonzero((scores > low) & (np.abs(times[lo:hi] - times[me]) <= window))
            if len(near) > keep:
                near = near[np.argpartition(-scores[near], keep)[:keep]]
            found.update((me, lo + int(c)) for c in near)
    return found


def _window(
    seed: int, size: int, dimension: int, copies: float
) -> tuple[_Matrix, np.ndarray[Any, Any]]:
    """Unit vectors, some rows exact copies of others (exact ties), and sorted times, some
    equal (pairs exactly at the window's edge)."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(size, dimension)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for row in range(1, size):
        if rng.random() < copies:
            matrix[row] = matrix[rng.integers(0, row)]
    times = np.sort(rng.integers(0, 40, size=size)).astype(np.float64) * 3600
    return matrix, times


@pytest.mark.parametrize(
    ("seed", "block", "keep", "low", "copies"),
    [
        (1, 256, 10, 0.1, 0.0),
        (2, 16, 3, 0.0, 0.3),
        (3, 8, 5, -0.2, 0.5),
        (4, 32, 1, 0.05, 0.2),
        (5, 7, 10, 0.3, 0.6),
    ],
)
def test_nearest_pairs_match_the_plain_search(
    monkeypatch: pytest.MonkeyPatch, seed: int, block: int, keep: int, low: float, copies: float
) -> None:
    monkeypatch.setattr(stories_neighbours, "_BLOCK", block)
    monkeypatch.setattr(stories_neighbours, "_CHUNK", 4)
    matrix, times = _window(seed, 300, 8, copies)
    window = 12 * 3600.0
    first, second = nearest_pairs(matrix, times, window, low, keep)
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == _plain(
        matrix, times, window, low, keep, block
    )
    assert len(first) == len(set(zip(first.tolist(), second.tolist(), strict=True)))


def test_nearest_pairs_of_tiny_windows() -> None:
    matrix, times = _window(7, 3, 4, 0.0)
    assert len(nearest_pairs(matrix[:1], times[:1], 3600.0, 0.0, 10)[0]) == 0
    first, second = nearest_pairs(matrix, times, 1e9, -2.0, 10)
    pairs = set(zip(first.tolist(), second.tolist(), strict=True))
    assert pairs == {(a, b) for a in range(3) for b in range(3) if a != b}


def test_sorted_unique_is_numpys_unique() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 2, 1000):
        codes = rng.integers(0, 50, size=size).astype(np.int64)
        assert np.array_equal(sorted_unique(codes), np.unique(codes))


def test_key_join_finds_every_equal_pair() -> None:
    rng = np.random.default_rng(4)
    left, right = rng.integers(0, 9, 40), rng.integers(0, 9, 30)
    i, j = key_join(left, right)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(
        (a, b) for a in range(40) for b in range(30) if left[a] == right[b]
    )


def test_special_pairs_match_a_lookup_member_by_member() -> None:
    rng = random.Random(5)
    size = 60
    names = [rng.sample(range(12), rng.randrange(0, 4)) for _ in range(size)]
    partners: list[set[int]] = [set() for _ in range(size)]
    for a, b in (rng.sample(range(size), 2) for _ in range(25)):
        partners[a].add(b)
        partners[b].add(a)
    checks = []
    for _ in range(30):
        members = rng.sample(range(size), rng.randrange(2, 15))
        cut = rng.randrange(1, len(members))
        checks.append((members[:cut], members[cut:]))
    counts = np.array([len(a) * len(b) for a, b in checks], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    wanted = np.array([n for n in range(len(checks)) if n % 3], dtype=np.int64)

    def side(which: int) -> Side:
        flat = np.array([m for c in checks for m in c[which]], dtype=np.int64)
        sizes = np.array([len(c[which]) for c in checks], dtype=np.int64)
        return Side(flat, sizes, wanted)

    named, decisive = special_pairs(
        side(0), side(1), starts[wanted], Incidence.of(names), Incidence.of(partners)
    )
    want_named, want_decisive = set(), set()
    for n in wanted.tolist():
        left, right = checks[n]
        for (a, i), (b, j) in itertools.product(enumerate(left), enumerate(right)):
            position = int(starts[n]) + a * len(right) + b
            if j in partners[i]:
                want_decisive.add(position)
            elif set(names[i]) & set(names[j]):
                want_named.add(position)
    assert named.tolist() == sorted(want_named)
    assert decisive.tolist() == sorted(want_decisive)
