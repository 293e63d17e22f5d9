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

* **same link** or **a link from one to the other** across sites (an aggregator's "via"
  link, a follow-up that cites the original); a link to another page of the same site (an
  outlet's "read more" to its own earlier piece) only adds to the score;
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

Bridges (`stories_bridge`, with vectors): one event told from many angles comes out of the
clustering in pieces, so two stories from two outlets or more, close in time and in meaning,
that both keep naming two of the same heavy names (the buyer and the bought) become one.

The pair score is computed in `story_scoring`. The weights and thresholds were chosen on the
labelled pairs in `tests/data/grouping/` (`python bench/grouping_eval.py` prints precision and
recall).

Where the parts live: `stories_articles` folds the copies (`Article`, `merge_same_link`),
`stories_candidates` finds the candidate pairs, `stories_clustering` joins them into clusters
and records the reasons, `stories_bridge` finds the bridges between clusters,
`stories_explain` words the reasons (`explain_pair`, `format_explanations`). This module
holds the entry points and re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from policywire.curate.stories_articles import Article, merge_same_link
from policywire.curate.stories_candidates import blocking_keys, candidate_pairs
from policywire.curate.stories_clustering import Clustering
from policywire.curate.stories_explain import Explanation, explain_pair, format_explanations
from policywire.curate.stories_text import KEPT
from policywire.curate.story_scoring import (
    DEFAULT_WINDOW,
    GroupingParams,
    Vector,
    article_features,
)
from policywire.models import MatchedItem, Story

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


# The candidate generation under the names tests/test_stories.py checks it by.
_blocking_keys = blocking_keys
_candidate_pairs = candidate_pairs


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


ArticleKey = tuple[str, str]  # (feed, item id) of an article's lead item


def article_key(article: Article) -> ArticleKey:
    return (article.item.item.feed, article.item.item.id)


def group_articles(
    articles: Sequence[Article],
    params: GroupingParams | None = None,
    vectors: Mapping[ArticleKey, Vector] | None = None,
    *,
    explain: bool = True,
) -> list[StoryGroup]:
    """Group articles about the same event; groups come oldest-first, articles oldest-first.

    `vectors`: the articles' embeddings by `article_key`; without them (or for an article
    missing from them) grouping uses names, links, titles and time alone. `explain=False`:
    the same groups, without their reasons (a digest sent to a chat shows none).
    """
    params = params or GroupingParams()
    vectors = vectors or {}
    ordered = sorted(articles, key=lambda a: (a.item.item.published, a.item.item.link))
    # Most of a window was grouped by the digest before: its names are kept (`stories_text`).
    texts = KEPT.features_of([a.item.item for a in ordered])
    features = [
        article_features(a.item, a.copies, params, vectors.get(article_key(a)), text)
        for a, text in zip(ordered, texts, strict=True)
    ]
    clustering = Clustering(features, params, explain=explain)
    passing, near = clustering.scored_candidates()
    clustering.join(passing)
    clustering.bridge()  # one event's angles (`stories_bridge`)
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
