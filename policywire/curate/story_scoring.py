"""How alike two articles are: the features `policywire.curate.stories` compares (names,
title words, links, time) and the pair score its grouping and explanations share.

The formula and the reasons for it are in the docstring of `policywire.curate.stories`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np

from policywire.curate.embedders.seam import Vector
from policywire.curate.entities import Entities
from policywire.curate.stories_text import TextFeatures, text_features
from policywire.models import MatchedItem

__all__ = [
    "DEFAULT_WINDOW",
    "ArticleFeatures",
    "GroupingParams",
    "PairScore",
    "Vector",
    "article_features",
    "decisive_signal",
    "pair_score",
    "pair_value",
    "places_conflict",
    "places_penalty",
    "reads_apart",
]

DEFAULT_WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """The knobs of `group_articles`; the defaults are the ones the evaluation measures."""

    window: timedelta = DEFAULT_WINDOW
    threshold: float = 0.5  # the shared-names score two articles need
    min_shared: float = 2.0  # weight of shared names below which the score is scaled down
    unshared_penalty: float = 0.5  # how much the smaller article's other names count against
    title_penalty: float = 1.0  # how much a title name missing from the other counts against
    title_penalty_floor: float = 0.6  # names this heavy count in `title_penalty`
    title_bonus: float = 1.0  # a name in both titles weighs (1 + title_bonus) times more
    title_similarity: float = 0.7  # Jaccard of folded title words: near-identical titles
    cluster_floor: float = 0.5  # mean score across two clusters before they join
    max_posting: int = 100  # a blocking key in more articles than this is too common
    rare_keys: int = 3  # each article looks for partners through its rarest keys only
    max_story_articles: int = 60
    near_miss: float = 0.25  # pairs scoring at least this much are reported as kept apart
    # Semantic similarity (cosine of the articles' embeddings), when vectors are given: it is
    # mapped linearly from [semantic_low, semantic_high] onto [0, 1], and the names' score
    # adds names_weight times its value on top. Chosen on four dev sets (docs/grouping.md);
    # semantic_high then rose 0.55 -> 0.57 on six: the same mean F1, a third fewer hard
    # negatives merged (two blind sets' pairs of one law's next step read alike).
    semantic_low: float = 0.35
    semantic_high: float = 0.57
    names_weight: float = 0.5
    semantic_threshold: float = 0.6  # `threshold` when both articles have vectors
    # Articles on one event come close together; a saga's next step a day later reads alike.
    # Subtracted from the score in proportion to the share of the window between the two.
    time_penalty: float = 0.45
    semantic_cluster_floor: float = 0.5  # `cluster_floor` when the articles have vectors
    # Each article's nearest articles that become candidates. The seven dev sets group alike
    # from 2 to 40 (the rest share a name, or score under the threshold); on a generated
    # 25,000-item window 5 chains less than 10 (BCubed F1 0.617 -> 0.631) and is ~8 % faster.
    semantic_neighbours: int = 5
    # Two articles of one feed are rarely one event told twice, and often its next step
    # (the same outlet's follow-up): subtracted when both come from the same feed.
    same_feed_penalty: float = 0.25
    # Added to the cosine of two articles in different languages: the model's cosines run
    # lower across languages. On the dev sets the 95th percentile of different-story
    # cosines is ~0.035 lower across languages than within one (multilingual 0.358 / 0.392,
    # general 0.322 / 0.355), so one threshold would be stricter across languages.
    cross_language_bonus: float = 0.04
    # A link from one article to another page of its own site is most often the outlet's
    # "read more" link to its earlier piece on the saga, not to the same event: on the
    # real-news set 46 of its 71 such pairs are two stories (links across sites, on the
    # fictional sets: 3 of 13). So it is not decisive: it adds this to the score, and the
    # time and same-feed penalties still apply (a link a day or more back groups nothing).
    own_site_link: float = 1.0
    # A link across sites is decisive only when the two articles also read alike: their
    # cosine, with the language bonus, reaches this. A fictional follow-up that links to the
    # earlier, different event it builds on reads further apart (dev sets: the three such
    # links 0.36-0.60, the eight between one story's articles 0.37-0.76, five of them above
    # 0.58). Below it the link counts as one within a site (`own_site_link`, penalties apply).
    # Without vectors every link across sites stays decisive.
    link_similarity_floor: float = 0.5
    # Both titles name a country and neither article names the other's (`places_conflict`):
    # the same kind of event in two countries ("Japan's landslide" / "Thailand's shock
    # victory" the same weekend, two central banks holding rates) reads alike. Subtracted
    # from the score, with or without vectors. Dev sets (docs/grouping.md): 0.3 splits those
    # pairs (general 1 -> 0 hard negatives, realnews 12 -> 10) and costs no same-story pair;
    # 0.4 splits one story told from Spain and from Portugal; 0.25 is too little on realnews.
    place_conflict: float = 0.3
    # One event told from many angles (`stories_bridge`): after the pairs are joined, two
    # stories from two outlets or more, together within bridge_window, are bridged when at
    # least bridge_names heavy names are each named by bridge_share of both stories'
    # articles and their mean vectors' cosine reaches bridge_similarity. Chosen on the seven
    # dev sets (docs/grouping.md, *Big stories*): the same figures from 30 to 42 h, cosine
    # 0.35 to 0.4 and share 1/3 to 1/2; 48 h costs the tuned set precision and 72 h merges
    # big-story hard negatives; one name, or bridges within one outlet, merge the real-news
    # sagas. A name salient in more than bridge_posting stories tells no event apart: on the
    # generated 25,000-item window, whose popular names recur in many events, 100 cost
    # BCubed F1 0.631 -> 0.617 and 20 nothing; the dev sets are alike from 8 to 50.
    # bridge_names 0 turns bridging off.
    bridge_names: int = 2
    bridge_share: float = 0.5
    bridge_similarity: float = 0.375
    bridge_window: timedelta = timedelta(hours=36)
    bridge_posting: int = 20

    def threshold_for(self, a: ArticleFeatures, b: ArticleFeatures) -> float:
        """The score a pair needs: stricter when similarity is in it."""
        both = a.vector is not None and b.vector is not None
        return self.semantic_threshold if both else self.threshold


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    time: float
    link: str
    links: frozenset[str]
    entities: Entities
    keys: frozenset[str]  # entities.all
    title_keys: frozenset[str]  # entities.title
    heavy_title: frozenset[str]  # title keys heavy enough to count against when missing
    total: float
    title_words: frozenset[str]
    title_numbers: frozenset[str]
    title: str
    vector: Vector | None = None  # the article's embedding (length 1), when there is one
    feed: str = ""
    language: str | None = None
    title_places: frozenset[str] = frozenset()  # `entities.country_names` of the title
    places: frozenset[str] = frozenset()  # of the title and the summary


def article_features(
    lead: MatchedItem,
    copies: Sequence[MatchedItem],
    params: GroupingParams,
    vector: Vector | None = None,
    text: TextFeatures | None = None,
) -> ArticleFeatures:
    """What an article (`lead`, and the `copies` other feeds carried) is compared by;
    `text`: its `stories_text.text_features`, when already known."""
    item = lead.item
    if text is None:
        text = text_features(item.title, item.summary, item.language)
    entities = text.entities
    links = {link for m in (lead, *copies) for link in m.item.links}
    weights = entities.weights
    return ArticleFeatures(
        time=item.published.timestamp(),
        link=item.link,
        links=frozenset(links),
        entities=entities,
        keys=entities.all,
        title_keys=entities.title,
        heavy_title=frozenset(
            k for k in entities.title if weights[k] >= params.title_penalty_floor
        ),
        total=sum(weights.values()),
        title_words=text.title_words,
        title_numbers=text.title_numbers,
        title=item.title,
        vector=vector,
        feed=item.feed,
        language=item.language,
        title_places=text.title_places,
        places=text.places,
    )


@dataclass(frozen=True, slots=True)
class PairScore:
    value: float
    decisive: str = ""  # the decisive signal, when one holds
    shared: tuple[str, ...] = ()  # shared keys, heaviest first
    shared_weight: float = 0.0
    title_similarity: float = 0.0
    hours: float = 0.0
    in_window: bool = True
    similarity: float | None = None  # cosine of the two embeddings
    names: float = 0.0  # the names' score alone
    penalties: tuple[tuple[str, float], ...] = ()  # what the pair lost, by signal (vectors)
    language_bonus: float = 0.0  # added to `similarity`: two languages (vectors)
    link_bonus: float = 0.0  # added to the score: one links to a page of its own site
    places_apart: float = 0.0  # subtracted: the titles name two different countries


def decisive_signal(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> str:
    if a.link == b.link:
        return "same link"
    if links_to(a, b) and site(a.link) != site(b.link) and not reads_apart(a, b, params):
        return "one links to the other"
    shorter, longer = sorted((len(a.title_words), len(b.title_words)))
    if (
        shorter > 2
        # Jaccard is at most shorter / longer: most pairs are ruled out without a set operation.
        and shorter / longer >= params.title_similarity
        and a.title_numbers == b.title_numbers  # not "Week 41" / "Week 42"
        and _jaccard(a.title_words, b.title_words) >= params.title_similarity
    ):
        return "near-identical titles"
    return ""


def pair_value(
    a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams, window: float
) -> float:
    """The pair's score in [0, 1]: the one formula both grouping and explanations use."""
    if abs(a.time - b.time) > window:
        return 0.0
    if decisive_signal(a, b, params):
        return 1.0
    names = names_value(a, b, params)
    bonus = link_bonus(a, b, params)
    similarity = cosine(a, b)
    if similarity is None:
        return _apart_places(min(1.0, names + bonus), a, b, params)
    similarity += language_bonus(a, b, params)
    penalty = sum(share for _, share in penalties(a, b, params, window))
    value = max(0.0, min(1.0, combined(similarity, names, params) + bonus) - penalty)
    return _apart_places(value, a, b, params)


def places_conflict(a: ArticleFeatures, b: ArticleFeatures) -> bool:
    """Both titles name a country and neither title's countries appear anywhere in the
    other article: the same kind of event in two countries ("Japan votes" / "Thailand
    votes"). One story seen from two countries most often names the other's somewhere
    ("Denmark replies" says whose Greenland it is), hence "anywhere", not "in the title"."""
    return bool(
        a.title_places
        and b.title_places
        and a.title_places.isdisjoint(b.places)
        and b.title_places.isdisjoint(a.places)
    )


def places_penalty(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> float:
    """What a pair loses when its titles name two different countries (`places_conflict`)."""
    return params.place_conflict if params.place_conflict and places_conflict(a, b) else 0.0


def _apart_places(
    value: float, a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams
) -> float:
    return max(0.0, value - places_penalty(a, b, params))


def links_to(a: ArticleFeatures, b: ArticleFeatures) -> bool:
    return b.link in a.links or a.link in b.links


def site(link: str) -> str:
    """The host a link points to, without "www.": what tells one outlet's pages."""
    host = urlsplit(link).netloc.lower()
    return host.removeprefix("www.")


def link_bonus(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> float:
    """What a link from one article to the other adds when it is not decisive: both are
    pages of one site, or the two read too far apart (see `decisive_signal`)."""
    if not params.own_site_link or not links_to(a, b):
        return 0.0
    if site(a.link) == site(b.link) or reads_apart(a, b, params):
        return params.own_site_link
    return 0.0


def reads_apart(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> bool:
    """Whether two articles with vectors are less alike than a decisive link asks."""
    similarity = cosine(a, b)
    if similarity is None:
        return False
    return similarity + language_bonus(a, b, params) < params.link_similarity_floor


def penalties(
    a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams, window: float
) -> list[tuple[str, float]]:
    """What a pair with vectors loses, by signal: the time between them, one feed."""
    found = []
    if window and (apart := abs(a.time - b.time) / window * params.time_penalty):
        found.append(("time apart", apart))
    if a.feed == b.feed and params.same_feed_penalty:
        found.append(("same feed", params.same_feed_penalty))
    return found


def language_bonus(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> float:
    """What two articles in two known, different languages add to their cosine."""
    if a.language and b.language and a.language != b.language:
        return params.cross_language_bonus
    return 0.0


def cosine(a: ArticleFeatures, b: ArticleFeatures) -> float | None:
    if a.vector is None or b.vector is None:
        return None
    return float(np.dot(a.vector, b.vector))


def semantic_share(similarity: float, params: GroupingParams) -> float:
    """Similarity mapped onto [0, 1] between the two semantic bounds."""
    span = params.semantic_high - params.semantic_low
    return min(1.0, max(0.0, (similarity - params.semantic_low) / span))


def combined(similarity: float, names: float, params: GroupingParams) -> float:
    return min(1.0, semantic_share(similarity, params) + params.names_weight * names)


def names_value(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> float:
    """The shared names' score in [0, 1] (what grouping used alone before embeddings)."""
    shared = a.keys & b.keys
    if not shared:
        return 0.0
    both_titles = a.title_keys & b.title_keys
    # Names in both titles weigh more, but only when the titles share two of them at least:
    # one shared name ("DeepSeek") does not make two headlines about the same event.
    bonus = 1 + params.title_bonus if len(both_titles) > 1 else 1.0
    weights_a, weights_b = a.entities.weights, b.entities.weights
    total = plain = 0.0
    for key in shared:
        w = weights_a[key]
        other = weights_b[key]
        if other > w:
            w = other
        plain += w
        total += w * bonus if key in both_titles else w
    # Against: the names of the article with fewer names that the other does not carry, and
    # above all a name in one title that the other article never mentions ("Meta refuses…"
    # and "Google will sign…" the same code of practice).
    unshared = min(a.total, b.total) - plain
    title_only = 0.0
    for key in a.heavy_title:
        if key not in b.keys:
            title_only += weights_a[key]
    for key in b.heavy_title:
        if key not in a.keys:
            title_only += weights_b[key]
    against = params.unshared_penalty * max(0.0, unshared) + params.title_penalty * title_only
    strength = total / params.min_shared
    return total / (total + against) * (strength * strength if strength < 1 else 1.0)


def pair_score(a: ArticleFeatures, b: ArticleFeatures, params: GroupingParams) -> PairScore:
    """`pair_value` with the signals behind it, for reasons and explanations."""
    window = params.window.total_seconds()
    hours = abs(a.time - b.time) / 3600
    if hours * 3600 > window:
        return PairScore(0.0, hours=hours, in_window=False)
    both_titles = a.title_keys & b.title_keys
    bonus = 1 + params.title_bonus if len(both_titles) > 1 else 1.0
    weights_a, weights_b = a.entities.weights, b.entities.weights
    weighted = []
    for key in a.keys & b.keys:
        w = max(weights_a[key], weights_b[key]) * (bonus if key in both_titles else 1.0)
        weighted.append((-w, key))
    weighted.sort()
    return PairScore(
        pair_value(a, b, params, window),
        decisive_signal(a, b, params),
        tuple(key for _, key in weighted),
        -sum(w for w, _ in weighted),
        _jaccard(a.title_words, b.title_words),
        hours,
        similarity=cosine(a, b),
        names=names_value(a, b, params),
        penalties=tuple(penalties(a, b, params, window)) if cosine(a, b) is not None else (),
        language_bonus=language_bonus(a, b, params) if cosine(a, b) is not None else 0.0,
        link_bonus=link_bonus(a, b, params),
        places_apart=places_penalty(a, b, params),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter) if inter else 0.0
