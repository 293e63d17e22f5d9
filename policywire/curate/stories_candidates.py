"""Candidate pairs for story grouping: which articles are worth scoring against each other.

Scoring every pair of a window of thousands of articles would cost hours, so grouping
(`policywire.curate.stories`) scores only the pairs found here: articles that link to each
other, that share a rare key (a name or one of the two longest title words) within the window,
or whose vectors are near neighbours. Kept apart from the clustering because it is the
numpy-heavy, performance-minded part, with no notion of clusters or reasons.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from policywire.curate.stories_neighbours import nearest_pairs
from policywire.curate.stories_special import sorted_unique
from policywire.curate.story_scoring import ArticleFeatures, GroupingParams

__all__ = ["blocking_keys", "candidate_pairs"]


def blocking_keys(features: ArticleFeatures) -> list[str]:
    """The keys an article is indexed by: its names, then its two longest title words."""
    longest = sorted(features.title_words, key=lambda w: (-len(w), w))[:2]
    return sorted(features.entities.all) + ["t:" + w for w in longest]


def candidate_pairs(
    features: Sequence[ArticleFeatures], params: GroupingParams
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """Pairs of articles that share a rare key and were published within the window, as two
    arrays (first < second), in (first, second) order.

    Every name and the two longest title words are keys; each article looks for partners only
    through its `rare_keys` rarest keys, and a key carried by more than `max_posting`
    articles is never used. Links are looked up directly.

    Built as arrays, not as a set of tuples: a window of 25,000 articles yields millions of
    candidates, and adding each to a set cost more than scoring it.
    """
    size = len(features)
    window = params.window.total_seconds()
    postings: dict[str, list[int]] = {}
    by_link: dict[str, int] = {}
    keys_of: list[list[str]] = []
    for index, f in enumerate(features):
        by_link.setdefault(f.link, index)
        keys = blocking_keys(f)
        keys_of.append(keys)
        for key in keys:
            postings.setdefault(key, []).append(index)
    found: list[np.ndarray[Any, np.dtype[np.int64]]] = [
        _codes(_linked_pairs(features, by_link), size),
        _semantic_pairs(features, params),
        _shared_key_pairs(features, params, postings, keys_of, window, size),
    ]
    codes = sorted_unique(np.concatenate(found))
    first, second = np.divmod(codes, size)
    return first, second


def _linked_pairs(
    features: Sequence[ArticleFeatures], by_link: Mapping[str, int]
) -> list[tuple[int, int]]:
    pairs = []
    for index, f in enumerate(features):
        for link in f.links:
            other = by_link.get(link)
            if other is not None and other != index:
                pairs.append((index, other))
    return pairs


def _codes(pairs: Sequence[tuple[int, int]], size: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Pairs as one int64 each, smaller index first: sorting the codes sorts the pairs."""
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    both = np.asarray(pairs, dtype=np.int64)
    return np.minimum(both[:, 0], both[:, 1]) * size + np.maximum(both[:, 0], both[:, 1])


def _shared_key_pairs(
    features: Sequence[ArticleFeatures],
    params: GroupingParams,
    postings: Mapping[str, list[int]],
    keys_of: Sequence[list[str]],
    window: float,
    size: int,
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each article with the articles sharing one of its rarest keys within the window.

    Postings are in time order (the features are), so an article's partners through a key
    are one run of its posting: two bisections find it, numpy writes out the pairs."""
    limit = params.max_posting
    times = [f.time for f in features]
    flat: list[int] = []  # every posting used, one after the other
    offset: dict[str, int] = {}
    posting_times: dict[str, list[float]] = {}
    users: list[int] = []
    starts: list[int] = []  # where each (article, key) run starts and stops in `flat`
    stops: list[int] = []
    for index, keys in enumerate(keys_of):
        sizes = sorted((len(postings[key]), key) for key in keys if 1 < len(postings[key]) <= limit)
        earliest, latest = times[index] - window, times[index] + window
        for _, key in sizes[: params.rare_keys]:
            at = offset.get(key)
            if at is None:
                at = offset[key] = len(flat)
                flat.extend(postings[key])
                posting_times[key] = [times[i] for i in postings[key]]
            run = posting_times[key]
            users.append(index)
            starts.append(at + bisect_left(run, earliest))
            stops.append(at + bisect_right(run, latest))
    if not users:
        return np.zeros(0, dtype=np.int64)
    first = np.asarray(users, dtype=np.int64)
    begin, end = np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64)
    lengths = end - begin
    total = int(lengths.sum())
    # For run k, positions begin[k] … end[k]-1: a running count, shifted at each run's start.
    shift = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
    partners = np.asarray(flat, dtype=np.int64)[shift + np.arange(total, dtype=np.int64)]
    mine = np.repeat(first, lengths)
    other = partners != mine
    mine, partners = mine[other], partners[other]
    codes: np.ndarray[Any, np.dtype[np.int64]] = np.minimum(mine, partners) * size + np.maximum(
        mine, partners
    )
    return codes


def _semantic_pairs(
    features: Sequence[ArticleFeatures], params: GroupingParams
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each article with a vector and its nearest articles within the window, as codes (a
    pair may come twice).

    Matrix products over the time-sorted articles (`stories_neighbours`), so cross-language
    partners that share no name are candidates too; only pairs above `semantic_low` can
    score at all.
    """
    with_vectors = np.array([i for i, f in enumerate(features) if f.vector is not None])
    if len(with_vectors) < 2:
        return np.zeros(0, dtype=np.int64)
    matrix = np.stack([features[i].vector for i in with_vectors.tolist()])
    times = np.array([features[i].time for i in with_vectors], dtype=np.float64)
    rows, columns = nearest_pairs(
        matrix.astype(np.float32, copy=False),
        times,
        params.window.total_seconds(),
        params.semantic_low,
        params.semantic_neighbours,
    )
    a, b = with_vectors[rows].astype(np.int64), with_vectors[columns].astype(np.int64)
    codes: np.ndarray[Any, np.dtype[np.int64]] = np.minimum(a, b) * len(features) + np.maximum(a, b)
    return codes
