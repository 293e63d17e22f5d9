"""From matched items to stories: one event told by several outlets is one entry.

Two steps, both pure functions over frozen dataclasses, with no I/O and no clock of their own:

1. `merge_same_link` folds the copies of one article (one canonical link reached through
   several feeds) into one `Article`.
2. `group_articles` groups the articles about one event, across feeds and languages.

How `group_articles` decides
----------------------------
Each article is reduced to its *names* (`policywire.curate.entities`: organisations, people, laws,
places and figures, with cross-language aliases, each with a weight), the folded content words
of its title, its link and the links it carries. Two articles published at most `window` apart
(72 h by default) belong to the same story when one of these holds:

* **same link** or **a link from one to the other** (an aggregator's "via" link, a follow-up
  that cites the original);
* **near-identical titles**: Jaccard similarity of the folded title words ≥ `title_similarity`;
* **shared names**: with S the weight of the shared names (a name in both titles counts 1.5
  times; a shared name weighs what it weighs in the article where it weighs more) and
  W_a, W_b the weights of each article's names, the score
  ``min(1, S / min(W_a, W_b)) × min(1, S / min_shared)`` reaches `threshold`. The first
  factor asks that most of the smaller article's names be shared, the second that the shared
  names add up to something: the names every AI-policy article carries (the AI Act, the
  Commission, the EU) weigh 0.35, a company or a person 1.0.

Candidates, not all pairs: articles are sorted by time and indexed by their *rare* keys (names
of weight ≥ 0.8, the two longest title words, links). Only articles sharing a key and published
within the window are scored, and a key carried by more than `max_posting` articles is too
common to block on. Thousands of articles per poll cost a few seconds, not hours.

Clustering: the candidate pairs that pass are taken strongest first (ties by position, so the
result never depends on input order or hash seeds) and their clusters joined with union-find,
under two guards against chaining unrelated events through one ambiguous article: the joined
cluster must span at most `window`, and the mean score over all pairs across the two clusters
must reach `cluster_floor` (average linkage), so a newcomer must resemble the cluster as a
whole, not one member only. Every join and every near miss is recorded as a reason, which
`format_explanations` prints and `explain_pair` recomputes for any two articles.

The pair score is computed in `story_scoring`. The weights and thresholds were chosen on the
labelled pairs in `tests/data/grouping/` (`python bench/grouping_eval.py` prints precision and
recall).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import numpy as np

from policywire.curate.entities import label
from policywire.curate.story_scoring import (
    DEFAULT_WINDOW,
    ArticleFeatures,
    GroupingParams,
    PairScore,
    Vector,
    article_features,
    pair_score,
    pair_value,
    semantic_share,
)
from policywire.ingest.links import canonical_link
from policywire.models import Item, MatchedItem, Story, TopicHit

__all__ = [
    "DEFAULT_WINDOW",
    "Article",
    "ArticleKey",
    "Explanation",
    "GroupingParams",
    "StoryGroup",
    "article_key",
    "explain_pair",
    "format_explanations",
    "group_articles",
    "group_stories",
    "lead_order",
    "merge_same_link",
    "single_article_stories",
    "story_from_group",
]


@dataclass(frozen=True, slots=True)
class Article:
    """One article (one canonical link), with the copies other feeds carried of it."""

    item: MatchedItem  # sources list every outlet that carried it; hits are merged
    copies: tuple[MatchedItem, ...] = ()


def merge_same_link(candidates: Iterable[MatchedItem]) -> list[Article]:
    """Fold items sharing a canonical link into one article, keeping first-seen order."""
    by_link: dict[str, list[MatchedItem]] = {}
    for matched in candidates:
        # Canonical again: an item stored before a tracking parameter joined the list still
        # carries it, and must fold with the same article parsed since.
        link = canonical_link(matched.item.link) if matched.item.link else ""
        key = link or f"{matched.item.feed}#{matched.item.id}"
        by_link.setdefault(key, []).append(matched)
    return [_merge(group) for group in by_link.values()]


def _merge(group: Sequence[MatchedItem]) -> Article:
    primary = min(group, key=_fullness_then_age)
    copies = tuple(m for m in group if m is not primary)
    if not copies:
        return Article(primary)
    sources = _ordered(src for m in (primary, *copies) for src in (m.sources or (m.item.source,)))
    return Article(replace(primary, hits=_merge_hits(group), sources=sources), copies)


def _merge_hits(group: Sequence[MatchedItem]) -> tuple[TopicHit, ...]:
    keywords: dict[str, dict[str, None]] = {}
    for matched in group:
        for hit in matched.hits:
            keywords.setdefault(hit.topic, {}).update(dict.fromkeys(hit.keywords))
    return tuple(TopicHit(topic, tuple(words)) for topic, words in keywords.items())


def _fullness_then_age(matched: MatchedItem) -> tuple[int, float, str]:
    item = matched.item
    return (-len(item.summary), item.published.timestamp(), item.feed)


def _ordered(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def single_article_stories(articles: Iterable[Article]) -> list[Story]:
    """Each article its own story (no grouping of different articles)."""
    return [Story(lead=a.item, copies=a.copies) for a in articles]


# ---------------------------------------------------------------------------------------------
# grouping
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryGroup:
    """Articles about one event, oldest first, and why they were grouped."""

    articles: tuple[Article, ...]
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why two articles are, or are not, one story."""

    a: str  # link of the first article
    b: str  # link of the second
    same_story: bool
    score: float  # 1.0 when a decisive signal (link, title) holds
    signals: tuple[tuple[str, str], ...]  # (signal, value) in a fixed order
    summary: str  # one line: the decision and its main reason

    def __str__(self) -> str:
        return self.summary


_MAX_NEAR_MISSES = 6  # "kept apart" lines per story, strongest first


def _blocking_keys(features: ArticleFeatures) -> list[str]:
    longest = sorted(features.title_words, key=lambda w: (-len(w), w))[:2]
    return sorted(features.entities.all) + ["t:" + w for w in longest]


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


ArticleKey = tuple[str, str]  # (feed, item id) of an article's lead item


def article_key(article: Article) -> ArticleKey:
    return (article.item.item.feed, article.item.item.id)


def group_articles(
    articles: Sequence[Article],
    params: GroupingParams | None = None,
    vectors: Mapping[ArticleKey, Vector] | None = None,
) -> list[StoryGroup]:
    """Group articles about the same event; groups come oldest-first, articles oldest-first.

    `vectors`: the articles' embeddings by `article_key`; without them (or for an article
    missing from them) grouping uses names, links, titles and time alone.
    """
    params = params or GroupingParams()
    vectors = vectors or {}
    ordered = sorted(articles, key=lambda a: (a.item.item.published, a.item.item.link))
    features = [
        article_features(a.item, a.copies, params, vectors.get(article_key(a))) for a in ordered
    ]
    clustering = _Clustering(features, params)
    passing, near = clustering.scored_candidates()
    clustering.join(passing)
    clustering.note_near_misses(near)
    clusters, reasons = clustering.clusters, clustering.reasons
    roots = sorted({clusters.find(i) for i in range(len(ordered))})
    return [
        StoryGroup(
            tuple(ordered[m] for m in clusters.members[root]),
            tuple(dict.fromkeys(reasons.get(root, ()))),
        )
        for root in roots
    ]


_Scored = list[tuple[float, int, int]]  # (-score, i, j)


class _Clustering:
    """The articles' clusters (union-find) and why each was joined or kept apart."""

    def __init__(self, features: Sequence[ArticleFeatures], params: GroupingParams) -> None:
        self.features = features
        self.params = params
        self.window = params.window.total_seconds()
        self.clusters = _UnionFind(len(features))
        self.reasons: dict[int, list[str]] = {}
        self._values: dict[tuple[int, int], float] = {}
        self._refused: dict[int, int] = {}  # refused joins recorded, by cluster root
        # Why two clusters were refused, by (root, size, root, size): a cluster only grows and
        # its root never changes back, so root and size name its members. Two large clusters
        # are offered each other by many pairs; the mean over all their pairs is taken once.
        self._guarded: dict[tuple[int, int, int, int], str] = {}

    def value(self, i: int, j: int) -> float:
        pair = (i, j) if i < j else (j, i)
        found = self._values.get(pair)
        if found is None:
            features = self.features
            found = pair_value(features[pair[0]], features[pair[1]], self.params, self.window)
            self._values[pair] = found
        return found

    def cross_values(self, left: Sequence[int], right: Sequence[int]) -> list[float]:
        """`value(i, j)` for every i in `left` and j in `right`, in that order."""
        return [self.value(i, j) for i in left for j in right]

    def pair_line(self, i: int, j: int, signals: PairScore | None = None) -> str:
        a, b = self.features[i], self.features[j]
        if signals is None:
            signals = pair_score(a, b, self.params)
        return _pair_line(a, b, signals, self.params)

    def scored_candidates(self) -> tuple[_Scored, _Scored]:
        """The candidate pairs that pass (strongest first) and the near misses."""
        features, params, window = self.features, self.params, self.window
        passing: _Scored = []
        near: _Scored = []
        near_miss = params.near_miss
        for i, j in zip(*_candidate_pairs(features, params), strict=True):
            result = pair_value(features[i], features[j], params, window)
            if result < near_miss:
                continue
            self._values[(i, j)] = result
            if result >= params.threshold_for(features[i], features[j]):
                passing.append((-result, i, j))
            else:
                near.append((-result, i, j))
        passing.sort()
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
                    left, right, self.features, self.window, self.params, self.cross_values
                )
                if why:
                    self._guarded[state] = why
            if why:
                self._note_kept_apart(ri, rj, i, j, why)
                continue
            root = clusters.union(ri, rj)
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


def _candidate_pairs(
    features: Sequence[ArticleFeatures], params: GroupingParams
) -> tuple[list[int], list[int]]:
    """Pairs of articles that share a rare key and were published within the window, as two
    lists (first < second), in (first, second) order.

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
        keys = _blocking_keys(f)
        keys_of.append(keys)
        for key in keys:
            postings.setdefault(key, []).append(index)
    found: list[np.ndarray[Any, np.dtype[np.int64]]] = [
        _codes(_linked_pairs(features, by_link), size),
        _semantic_pairs(features, params),
        _shared_key_pairs(features, params, postings, keys_of, window, size),
    ]
    codes = np.unique(np.concatenate(found))
    first, second = np.divmod(codes, size)
    return first.tolist(), second.tolist()


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


_SEMANTIC_BLOCK = 256  # rows per matrix product: bounded memory whatever the window holds


def _semantic_pairs(
    features: Sequence[ArticleFeatures], params: GroupingParams
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each article with a vector and its nearest articles within the window.

    Blocked matrix products over the time-sorted articles, so cross-language partners that
    share no name are candidates too; only pairs above `semantic_low` can score at all.
    """
    with_vectors = [i for i, f in enumerate(features) if f.vector is not None]
    if len(with_vectors) < 2:
        return np.zeros(0, dtype=np.int64)
    matrix = np.stack([features[i].vector for i in with_vectors])  # type: ignore[misc]
    times = np.array([features[i].time for i in with_vectors])
    window = params.window.total_seconds()
    keep = params.semantic_neighbours
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(with_vectors), _SEMANTIC_BLOCK):
        stop = min(start + _SEMANTIC_BLOCK, len(with_vectors))
        lo = int(np.searchsorted(times, times[start] - window, side="left"))
        hi = int(np.searchsorted(times, times[stop - 1] + window, side="right"))
        similarity = matrix[start:stop] @ matrix[lo:hi].T
        for row in range(stop - start):
            scores = similarity[row]
            me = start + row
            scores[me - lo] = -1.0  # not one's own neighbour
            near = np.flatnonzero(
                (scores > params.semantic_low) & (np.abs(times[lo:hi] - times[me]) <= window)
            )
            if len(near) > keep:
                near = near[np.argpartition(-scores[near], keep)[:keep]]
            for column in near:
                a, b = with_vectors[me], with_vectors[lo + int(column)]
                pairs.add((a, b) if a < b else (b, a))
    return _codes(sorted(pairs), len(features))


def _join_guard(
    left: Sequence[int],
    right: Sequence[int],
    features: Sequence[ArticleFeatures],
    window: float,
    params: GroupingParams,
    values: Callable[[Sequence[int], Sequence[int]], list[float]],
) -> str:
    """Why two clusters must not join ("" when they may). `values(left, right)`: the pair
    scores, `i` in `left` then `j` in `right`."""
    if len(left) + len(right) > params.max_story_articles:
        return f"a story holds at most {params.max_story_articles} articles"
    times = [features[i].time for i in (*left, *right)]
    if max(times) - min(times) > window:
        return f"together they would span more than {_hours(window)} h"
    if len(left) == 1 and len(right) == 1:
        return ""
    mean = sum(values(left, right)) / (len(left) * len(right))
    semantic = all(features[i].vector is not None for i in (*left, *right))
    floor = params.semantic_cluster_floor if semantic else params.cluster_floor
    if mean < floor:
        return f"too unlike the rest of the story (mean score {mean:.2f} < {floor})"
    return ""


def _pair_line(
    a: ArticleFeatures, b: ArticleFeatures, result: PairScore, params: GroupingParams
) -> str:
    pair = f"«{_short(a.title)}» / «{_short(b.title)}»"
    return f"{pair} — {_because(result, params)}"


def _because(result: PairScore, params: GroupingParams) -> str:
    if not result.in_window:
        return f"published {result.hours:.0f} h apart (window {_hours(params.window)} h)"
    names = ", ".join(label(k) for k in result.shared[:6]) or "no names"
    if result.decisive:
        return f"{result.decisive}; shared: {names}"
    similar = result.similarity is not None  # both had vectors
    threshold = params.semantic_threshold if similar else params.threshold
    mark = "≥" if result.value >= threshold else "<"
    score = f"score {result.value:.2f} {mark} {threshold}"
    if result.similarity is None:
        return f"shared: {names} (weight {result.shared_weight:.1f}); {score}"
    semantic = semantic_share(result.similarity, params)
    from_names = min(result.value, params.names_weight * result.names)
    return (
        f"similarity {result.similarity:.2f} (adds {semantic:.2f}); shared: {names} "
        f"(adds {from_names:.2f}); {score}"
    )


def _hours(window: timedelta | float) -> int:
    seconds = window.total_seconds() if isinstance(window, timedelta) else window
    return math.floor(seconds / 3600)


def _short(title: str, limit: int = 60) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def explain_pair(
    a: Item | MatchedItem | Article,
    b: Item | MatchedItem | Article,
    params: GroupingParams | None = None,
    vectors: tuple[Vector, Vector] | None = None,
) -> Explanation:
    """The signals between two articles and the pairwise decision (before clustering).

    With `vectors` (each article's embedding) the decision weighs semantic similarity as
    `group_articles` does; without, names only."""
    params = params or GroupingParams()
    article_a, article_b = _as_article(a), _as_article(b)
    vector_a, vector_b = vectors if vectors is not None else (None, None)
    fa = article_features(article_a.item, article_a.copies, params, vector_a)
    fb = article_features(article_b.item, article_b.copies, params, vector_b)
    result = pair_score(fa, fb, params)
    same = result.in_window and (
        bool(result.decisive) or result.value >= params.threshold_for(fa, fb)
    )
    signals = (
        ("hours apart", f"{result.hours:.1f}"),
        ("within window", "yes" if result.in_window else "no"),
        ("same link", "yes" if fa.link == fb.link else "no"),
        ("links to the other", "yes" if (fb.link in fa.links or fa.link in fb.links) else "no"),
        ("title similarity", f"{result.title_similarity:.2f}"),
        ("semantic similarity", "-" if result.similarity is None else f"{result.similarity:.2f}"),
        ("shared names", ", ".join(label(k) for k in result.shared) or "-"),
        ("shared weight", f"{result.shared_weight:.2f}"),
        ("score", f"{result.value:.2f}"),
    )
    verdict = "same story" if same else "different stories"
    return Explanation(
        a=fa.link,
        b=fb.link,
        same_story=same,
        score=result.value,
        signals=signals,
        summary=f"{verdict}: {_pair_line(fa, fb, result, params)}",
    )


def _as_article(value: Item | MatchedItem | Article) -> Article:
    if isinstance(value, Article):
        return value
    if isinstance(value, MatchedItem):
        return Article(value)
    return Article(MatchedItem(value, ()))


# ---------------------------------------------------------------------------------------------
# from groups to stories
# ---------------------------------------------------------------------------------------------


def lead_order(language: str | None) -> _LeadKey:
    """The sort key that puts the best lead first: the destination's language, then the
    fullest summary, then the earliest, then the link."""
    return _LeadKey(language)


@dataclass(frozen=True, slots=True)
class _LeadKey:
    language: str | None

    def __call__(self, article: Article) -> tuple[bool, int, float, str]:
        item = article.item.item
        return (
            item.language != self.language,
            -len(item.summary),
            item.published.timestamp(),
            item.link,
        )


def story_from_group(group: StoryGroup, language: str | None, *, is_update: bool = False) -> Story:
    """A story for a destination in `language`: the best lead, the others as further reading.

    `copies` holds every copy of every member (the other feeds that carried the same links),
    so that `Story.item_pks` covers everything the story delivers.
    """
    ranked = sorted(group.articles, key=lead_order(language))
    lead, related = ranked[0], ranked[1:]
    copies = tuple(copy for article in ranked for copy in article.copies)
    return Story(
        lead=lead.item,
        related=tuple(a.item for a in related),
        is_update=is_update,
        reasons=group.reasons,
        copies=copies,
    )


def group_stories(
    candidates: Iterable[MatchedItem],
    *,
    language: str | None,
    params: GroupingParams | None = None,
) -> list[Story]:
    """Matched items → stories for one destination: merge copies, group, choose leads."""
    groups = group_articles(merge_same_link(candidates), params)
    return [story_from_group(group, language) for group in groups]


def format_explanations(stories: Iterable[Story]) -> str:
    """Plain text for `preview --explain`: each story's articles and why they are together
    (or why a close article was kept apart)."""
    blocks: list[str] = []
    for number, story in enumerate(stories, 1):
        head = f"{number}. {_short(story.lead.item.title, 90)}"
        if story.is_update:
            head += " [update]"
        lines = [head]
        for member in story.members:
            item = member.item
            outlets = ", ".join(member.sources or (item.source,)) or item.feed
            lines.append(f"   - [{item.language or '?'}] {outlets}: {item.link}")
        lines += [f"   · {reason}" for reason in story.reasons] or ["   · a story of its own"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
