"""Pair scores in bulk: `story_scoring.pair_value` for arrays of pairs, as numpy arithmetic.

Grouping scores every candidate pair (over a million on a window of 25,000 articles) and the
average-linkage guard the cross pairs of two clusters that share a name; one Python call per
pair was most of grouping's time. `PairScorer` computes the same formula over arrays of pairs.
The per-pair functions in `story_scoring` stay the definition, and explanations use them;
`tests/test_stories_batch.py` checks that both agree on every pair of random windows, so a
change to the formula that is made in one place only fails there.

Sets of names, title words and links become sorted integer codes (article × vocabulary +
word), so "does b carry a's name" is one `searchsorted` for all pairs at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from policywire.curate.story_scoring import ArticleFeatures, GroupingParams, pair_value, site

__all__ = ["PairScorer"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Floats = np.ndarray[Any, np.dtype[np.float64]]
_Bools = np.ndarray[Any, np.dtype[np.bool_]]

# Pairs per pass: bounded memory however many pairs are asked. Small enough that the two
# gathered blocks of vectors (8192 × 512 floats each) stay in cache: 200,000 per pass took
# twice as long on a window's 1.4 million candidates, for the same figures.
_CHUNK = 8192


class _Sets:
    """One set of words per article as sorted codes, with a value per (article, word)."""

    def __init__(self, sets: Sequence[Sequence[tuple[int, float]]], vocabulary: int) -> None:
        self.vocabulary = max(vocabulary, 1)
        sizes = np.array([len(s) for s in sets], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        owner = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
        words = np.fromiter((w for s in sets for w, _ in s), dtype=np.int64, count=len(owner))
        values = np.fromiter((v for s in sets for _, v in s), dtype=np.float64, count=len(owner))
        # Each article's entries by word (then value), as `sorted` of its tuples would put
        # them: one numpy sort for the window, not one Python sort per article.
        order = np.lexsort((values, words, owner))
        self.words, self.values = words[order], values[order]
        self.codes = owner * self.vocabulary + self.words  # sorted: owner, then word

    def expand(self, articles: _Ints) -> tuple[_Ints, _Ints]:
        """(pair number, entry) for every word of every article in `articles`."""
        begin, end = self.starts[articles], self.starts[articles + 1]
        lengths = end - begin
        pair = np.repeat(np.arange(len(articles), dtype=np.int64), lengths)
        shift = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        return pair, shift + np.arange(int(lengths.sum()), dtype=np.int64)

    def find(self, articles: _Ints, words: _Ints) -> tuple[_Bools, _Ints]:
        """Whether each article carries the word, and the entry where it does."""
        query = articles * self.vocabulary + words
        at = np.searchsorted(self.codes, query)
        safe = np.minimum(at, max(len(self.codes) - 1, 0))
        found = (at < len(self.codes)) & (self.codes[safe] == query) if len(self.codes) else at < 0
        return found, safe


class PairScorer:
    """`pair_value` of arrays of pairs of one window's articles."""

    def __init__(self, features: Sequence[ArticleFeatures], params: GroupingParams) -> None:
        self.params = params
        self.features = features
        self.window = params.window.total_seconds()
        self.times = np.array([f.time for f in features], dtype=np.float64)
        self.has_vector = np.array([f.vector is not None for f in features], dtype=bool)
        dimension = next((len(f.vector) for f in features if f.vector is not None), 1)
        self.matrix = np.zeros((len(features), dimension), dtype=np.float32)
        for n, f in enumerate(features):
            if f.vector is not None:
                self.matrix[n] = f.vector
        self.languages = _codes([f.language or None for f in features])  # "" is unknown too
        self.feeds = _codes([f.feed for f in features])
        self.sites = _codes([site(f.link) for f in features])
        self.totals = np.array([f.total for f in features], dtype=np.float64)
        self._index_names(features)
        self._index_titles_and_links(features)
        self._index_places(features)

    def _index_places(self, features: Sequence[ArticleFeatures]) -> None:
        ids: dict[str, int] = {}
        titles = [[(ids.setdefault(k, len(ids)), 1.0) for k in f.title_places] for f in features]
        named = [[(ids.setdefault(k, len(ids)), 1.0) for k in f.places] for f in features]
        self.title_places = _Sets(titles, len(ids))
        self.places = _Sets(named, len(ids))
        # Only pairs whose titles both name a country can conflict: most pairs are ruled out
        # without a set operation.
        self.has_title_places = np.array([bool(f.title_places) for f in features], dtype=bool)

    def _index_names(self, features: Sequence[ArticleFeatures]) -> None:
        ids: dict[str, int] = {}
        weights = [
            [(ids.setdefault(k, len(ids)), f.entities.weights[k]) for k in f.keys] for f in features
        ]
        in_title = [[(ids[k], 1.0) for k in f.title_keys] for f in features]
        heavy = [[(ids[k], f.entities.weights[k]) for k in f.heavy_title] for f in features]
        self.names = _Sets(weights, len(ids))
        self.title_names = _Sets(in_title, len(ids))
        self.heavy = _Sets(heavy, len(ids))

    def _index_titles_and_links(self, features: Sequence[ArticleFeatures]) -> None:
        words: dict[str, int] = {}
        titles = [[(words.setdefault(w, len(words)), 1.0) for w in f.title_words] for f in features]
        self.titles = _Sets(titles, len(words))
        self.title_sizes = np.array([len(f.title_words) for f in features], dtype=np.int64)
        self.title_numbers = _codes([" ".join(sorted(f.title_numbers)) for f in features])
        links: dict[str, int] = {}
        self.link_ids = np.array([links.setdefault(f.link, len(links)) for f in features])
        outgoing = [[(links.setdefault(k, len(links)), 1.0) for k in f.links] for f in features]
        self.links = _Sets(outgoing, len(links))

    def values(self, first: _Ints, second: _Ints) -> _Floats:
        """`pair_value(features[first[k]], features[second[k]])` for every k."""
        found = [
            self._values(first[at : at + _CHUNK], second[at : at + _CHUNK])
            for at in range(0, len(first), _CHUNK)
        ]
        return np.concatenate(found) if found else np.zeros(0)

    def similarity(self, cosine: _Floats, a: _Ints, b: _Ints) -> _Floats:
        """The cosine with the cross-language bonus, for index arrays `a` and `b` of any
        shapes that broadcast (pairs, or a column against a row for a cluster's cross pairs)."""
        first, second = self.languages[a], self.languages[b]
        two_languages = (first >= 0) & (second >= 0) & (first != second)
        bonus: _Floats = cosine + np.where(two_languages, self.params.cross_language_bonus, 0.0)
        return bonus

    def semantic_share(self, similarity: _Floats) -> _Floats:
        """`story_scoring.semantic_share` of every similarity."""
        params = self.params
        span = params.semantic_high - params.semantic_low
        share: _Floats = np.clip((similarity - params.semantic_low) / span, 0.0, 1.0)
        return share

    def penalty(self, a: _Ints, b: _Ints) -> tuple[_Floats, _Floats]:
        """`story_scoring.penalties` summed, and the seconds apart, broadcast like
        `similarity`."""
        params = self.params
        apart = np.abs(self.times[a] - self.times[b])
        penalty = apart / self.window * params.time_penalty if self.window else 0.0 * apart
        same_feed = self.feeds[a] == self.feeds[b]
        return penalty + np.where(same_feed, params.same_feed_penalty, 0.0), apart

    def _values(self, a: _Ints, b: _Ints) -> _Floats:
        params = self.params
        vectors = self.has_vector[a] & self.has_vector[b]
        cosine = np.einsum("ij,ij->i", self.matrix[a], self.matrix[b]).astype(np.float64)
        similarity = self.similarity(cosine, a, b)
        reads_apart = vectors & (similarity < params.link_similarity_floor)
        linked = self._links_to(a, b)
        own_site = self.sites[a] == self.sites[b]
        decisive = (self.link_ids[a] == self.link_ids[b]) | (linked & ~own_site & ~reads_apart)
        decisive |= self.near_identical_titles(a, b)
        bonus = np.where(linked & (own_site | reads_apart), params.own_site_link, 0.0)
        names = self.names_values(a, b)
        combined = np.minimum(1.0, self.semantic_share(similarity) + params.names_weight * names)
        penalty, apart = self.penalty(a, b)
        with_vectors = np.maximum(0.0, np.minimum(1.0, combined + bonus) - penalty)
        value = np.where(vectors, with_vectors, np.minimum(1.0, names + bonus))
        value = self.apart_places(value, a, b)
        value = np.where(decisive, 1.0, value)
        value[apart > self.window] = 0.0
        return value

    def value(self, i: int, j: int) -> float:
        """One pair's score, by the per-pair definition (cheaper than a bulk call of one)."""
        return pair_value(self.features[i], self.features[j], self.params, self.window)

    def _links_to(self, a: _Ints, b: _Ints) -> _Bools:
        forward, _ = self.links.find(a, self.link_ids[b])
        backward, _ = self.links.find(b, self.link_ids[a])
        return forward | backward

    def near_identical_titles(self, a: _Ints, b: _Ints) -> _Bools:
        """`decisive_signal`'s title test: Jaccard of the title words ≥ `title_similarity`,
        the same numbers, three words or more; the cheap tests first, the sets last."""
        threshold = self.params.title_similarity
        shorter = np.minimum(self.title_sizes[a], self.title_sizes[b])
        longer = np.maximum(self.title_sizes[a], self.title_sizes[b])
        maybe = (shorter > 2) & (shorter / np.maximum(longer, 1) >= threshold)
        maybe &= self.title_numbers[a] == self.title_numbers[b]
        result = np.zeros(len(a), dtype=bool)
        which = np.flatnonzero(maybe)
        if len(which):
            pair, entry = self.titles.expand(a[which])
            shared, _ = self.titles.find(b[which][pair], self.titles.words[entry])
            common = np.bincount(pair[shared], minlength=len(which)).astype(np.float64)
            union = self.title_sizes[a[which]] + self.title_sizes[b[which]] - common
            result[which] = common / union >= threshold
        return result

    def names_values(self, a: _Ints, b: _Ints) -> _Floats:
        """`names_value` for every pair."""
        params, names = self.params, self.names
        pair, entry = names.expand(a)
        shared, other = names.find(b[pair], names.words[entry])
        pair, entry, other = pair[shared], entry[shared], other[shared]
        weight = np.maximum(names.values[entry], names.values[other])
        key = names.words[entry]
        in_titles, _ = self.title_names.find(a[pair], key)
        in_both, _ = self.title_names.find(b[pair], key)
        in_titles &= in_both
        count = len(a)
        both_titles = np.bincount(pair[in_titles], minlength=count)
        bonus = np.where(both_titles > 1, 1.0 + params.title_bonus, 1.0)
        weighted = weight * np.where(in_titles, bonus[pair], 1.0)
        total = np.bincount(pair, weights=weighted, minlength=count)
        plain = np.bincount(pair, weights=weight, minlength=count)
        title_only = self._missing_heavy(a, b) + self._missing_heavy(b, a)
        unshared = np.minimum(self.totals[a], self.totals[b]) - plain
        against = params.unshared_penalty * np.maximum(0.0, unshared)
        against = against + params.title_penalty * title_only
        strength = total / params.min_shared
        scale = np.where(strength < 1, strength * strength, 1.0)
        any_shared = np.bincount(pair, minlength=count) > 0
        value = np.zeros(count)
        ratio = np.divide(total, total + against, out=np.zeros(count), where=any_shared)
        value[any_shared] = (ratio * scale)[any_shared]
        return value

    def apart_places(self, value: _Floats, a: _Ints, b: _Ints) -> _Floats:
        """`value` less `story_scoring.places_penalty` of each pair, for index arrays that
        broadcast to `value`'s shape (pairs, or a cluster's column against another's row)."""
        penalty = self.params.place_conflict
        both = self.has_title_places[a] & self.has_title_places[b]
        if not penalty or not both.any():
            return value
        first = np.broadcast_to(a, both.shape)[both]
        second = np.broadcast_to(b, both.shape)[both]
        named = self._title_places_in(first, second) + self._title_places_in(second, first)
        conflict = np.zeros(both.shape, dtype=bool)
        conflict[both] = named == 0
        lowered: _Floats = np.where(conflict, np.maximum(0.0, value - penalty), value)
        return lowered

    def _title_places_in(self, a: _Ints, b: _Ints) -> _Ints:
        """How many of a's title places b names anywhere."""
        pair, entry = self.title_places.expand(a)
        found, _ = self.places.find(b[pair], self.title_places.words[entry])
        return np.bincount(pair[found], minlength=len(a))

    def _missing_heavy(self, a: _Ints, b: _Ints) -> _Floats:
        """The weight of a's heavy title names that b never mentions."""
        pair, entry = self.heavy.expand(a)
        found, _ = self.names.find(b[pair], self.heavy.words[entry])
        missing = ~found
        weight = self.heavy.values[entry][missing]
        return np.bincount(pair[missing], weights=weight, minlength=len(a)).astype(np.float64)


def _codes(values: Sequence[str | None]) -> _Ints:
    """Equal values get equal codes; None gets -1."""
    seen: dict[str, int] = {}
    return np.array(
        [-1 if v is None else seen.setdefault(v, len(seen)) for v in values], dtype=np.int64
    )
