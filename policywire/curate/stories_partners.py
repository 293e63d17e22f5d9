"""The pairs of a window that a link or their titles may decide: found once for the window.

The average-linkage guard (`policywire.curate.stories_linkage`) scores most cross pairs of two
clusters by their cosine alone and adds what shared names bring. Only two other signals change
a pair's score: a link (the same link, or one article linking to the other) and near-identical
titles. Both are properties of the pair, not of the clusters, so they are found here once for
the whole window instead of being looked for in every guard check (on a 25,000-article
window the title-word lookups of every check cost more than the rest of the guard).

Titles: two title-word sets with Jaccard ≥ t share at least ⌈t·|x|⌉ of x's words, so under one
global order of the words they share one of the first |x| − ⌈t·|x|⌉ + 1 words of each (prefix
filtering). Only pairs sharing such a prefix word are tested, with the exact test of
`stories_batch.PairScorer.near_identical_titles`. Prefix filtering prunes on rare words; a
window whose titles are made of a few hundred common words (generated or hostile feeds) would
pair up nearly everything (29 million pairs and 12 GB on 25,000 such titles), so past
`TITLE_PAIRS_BUDGET` the titles are left to the guard, which then tests the cross pairs of
each batch of checks instead (`stories_linkage`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from policywire.curate.stories_batch import PairScorer
from policywire.curate.stories_special import sorted_unique
from policywire.curate.story_scoring import ArticleFeatures

__all__ = ["TITLE_PAIRS_BUDGET", "decisive_partners"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]

_MARGIN = 1e-9  # 0.7 × 10 is 7.000000000000001 in floats: never ask one word too many
# Candidate title pairs tested for the whole window at most (~100 bytes each while tested).
TITLE_PAIRS_BUDGET = 2_000_000


def decisive_partners(
    features: Sequence[ArticleFeatures],
    scorer: PairScorer,
    title_pairs_budget: int = TITLE_PAIRS_BUDGET,
) -> tuple[list[set[int]], bool]:
    """For each article, the articles that share its link, link to it or are linked from it,
    or whose titles are near-identical to its own: the pairs whose score can be anything but
    the cosine's and the shared names'. And whether the titles' pairs are among them: not
    when finding them would test more than `title_pairs_budget` pairs."""
    partners: list[set[int]] = [set() for _ in features]
    titles = _near_titles(features, scorer, title_pairs_budget)
    for first, second in (*_linked(features), *(titles or ())):
        partners[first].add(second)
        partners[second].add(first)
    return partners, titles is not None


def _linked(features: Sequence[ArticleFeatures]) -> list[tuple[int, int]]:
    """Pairs with the same link, or where one article carries the other's link."""
    by_link: dict[str, list[int]] = {}
    for index, f in enumerate(features):
        by_link.setdefault(f.link, []).append(index)
    pairs = [(a, b) for group in by_link.values() for a in group for b in group if a < b]
    for index, f in enumerate(features):
        for link in f.links:
            pairs.extend((index, other) for other in by_link.get(link, ()) if other != index)
    return pairs


def _near_titles(
    features: Sequence[ArticleFeatures], scorer: PairScorer, budget: int
) -> list[tuple[int, int]] | None:
    """The pairs whose titles are near-identical (`decisive_signal`'s title test), or None
    when the prefixes would ask more than `budget` pairs to be tested."""
    threshold = scorer.params.title_similarity
    frequency = Counter(w for f in features for w in f.title_words)
    postings: dict[str, list[int]] = {}
    for index, f in enumerate(features):
        size = len(f.title_words)
        if size < 3:  # the test asks for three words or more
            continue
        shared = math.ceil(threshold * size - _MARGIN)  # what a near-identical partner shares
        words = sorted(f.title_words, key=lambda w: (frequency[w], w))
        for word in words[: max(0, size - shared + 1)]:
            postings.setdefault(word, []).append(index)
    if sum(len(p) * (len(p) - 1) // 2 for p in postings.values()) > budget:
        return None  # an upper bound (the window is not yet applied): cheap, and safe
    found = [_within_window(p, scorer) for p in postings.values() if len(p) > 1]
    if not found:
        return []
    codes = sorted_unique(np.concatenate(found))
    first, second = np.divmod(codes, len(features))
    near = scorer.near_identical_titles(first, second)
    return list(zip(first[near].tolist(), second[near].tolist(), strict=True))


def _within_window(posting: list[int], scorer: PairScorer) -> _Ints:
    """Every pair of a posting at most the window apart, as codes (smaller index first)."""
    members = np.asarray(posting, dtype=np.int64)
    members = members[np.argsort(scorer.times[members], kind="stable")]
    times = scorer.times[members]
    stops = np.searchsorted(times, times + scorer.window, side="right")
    lengths = stops - np.arange(len(members)) - 1  # the later members within the window
    total = int(lengths.sum())
    mine = np.repeat(np.arange(len(members)), lengths)
    # For member k, partners k+1 … stops[k]-1: a running count restarted at each member.
    shift = np.repeat(np.arange(len(members)) + 1 - np.cumsum(lengths) + lengths, lengths)
    other = shift + np.arange(total)
    low = np.minimum(members[mine], members[other])
    codes: _Ints = low * len(scorer.times) + np.maximum(members[mine], members[other])
    return codes
