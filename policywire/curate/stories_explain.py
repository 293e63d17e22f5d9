"""Why articles are, or are not, one story: the reason lines and the explanations.

Grouping (`policywire.curate.stories`) records a line for every join and every near miss;
`explain_pair` recomputes the signals between any two articles, and `format_explanations`
prints the stories with their reasons for `preview --explain`. Kept apart because it is
wording for people, not grouping: nothing here changes which articles end up together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from policywire.curate.entities import label
from policywire.curate.stories_articles import Article
from policywire.curate.stories_bridge import Bridge
from policywire.curate.story_scoring import (
    ArticleFeatures,
    GroupingParams,
    PairScore,
    Vector,
    article_features,
    pair_score,
    semantic_share,
    site,
)
from policywire.models import Item, MatchedItem, Story

__all__ = [
    "Explanation",
    "bridge_line",
    "explain_pair",
    "format_explanations",
    "reason_line",
    "whole_hours",
]


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


def reason_line(
    a: ArticleFeatures,
    b: ArticleFeatures,
    result: PairScore,
    params: GroupingParams,
    own_site: bool | None = None,
) -> str:
    """One reason line: the two titles, shortened, and what decided their pair score.

    `own_site`: whether both are pages of one site, when the caller knows (grouping has the
    sites of its articles as codes; parsing two links for each of 40,000 lines cost 1.5 s)."""
    pair = f"«{_short(a.title)}» / «{_short(b.title)}»"
    if own_site is None:
        own_site = site(a.link) == site(b.link)
    return f"{pair} — {_because(result, params, own_site)}"


def _because(result: PairScore, params: GroupingParams, own_site: bool = True) -> str:
    if not result.in_window:
        return f"published {result.hours:.0f} h apart (window {whole_hours(params.window)} h)"
    names = ", ".join(label(k) for k in result.shared[:6]) or "no names"
    if result.decisive:
        return f"{result.decisive}; shared: {names}"
    similar = result.similarity is not None  # both had vectors
    threshold = params.semantic_threshold if similar else params.threshold
    mark = "≥" if result.value >= threshold else "<"
    score = f"score {result.value:.2f} {mark} {threshold}"
    where = (
        "on its own site"
        if own_site
        else f"but reads apart (similarity < {params.link_similarity_floor})"
    )
    linked = f"; links to it {where} +{result.link_bonus:.2f}" if result.link_bonus else ""
    if result.places_apart:
        linked += f"; the titles name two countries −{result.places_apart:.2f}"
    if result.similarity is None:
        return f"shared: {names} (weight {result.shared_weight:.1f}){linked}; {score}"
    semantic = semantic_share(result.similarity + result.language_bonus, params)
    from_names = min(result.value, params.names_weight * result.names)
    lost = "".join(f"; {signal} −{share:.2f}" for signal, share in result.penalties if share)
    across = f" +{result.language_bonus:.2f} across languages" if result.language_bonus else ""
    return (
        f"similarity {result.similarity:.2f}{across} (adds {semantic:.2f}); shared: {names} "
        f"(adds {from_names:.2f}){linked}{lost}; {score}"
    )


def bridge_line(a: ArticleFeatures, b: ArticleFeatures, bridge: Bridge) -> str:
    """The reason line of a bridge between the stories of `a` and `b` (`stories_bridge`)."""
    names = ", ".join(label(name) for name in bridge.names[:6])
    return (
        f"«{_short(a.title)}» / «{_short(b.title)}» — both stories keep naming {names}; "
        f"similarity of the two stories {bridge.similarity:.2f}"
    )


def whole_hours(window: timedelta | float) -> int:
    """A window (a timedelta, or seconds) in whole hours, rounded down, as the lines print it."""
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
        summary=f"{verdict}: {reason_line(fa, fb, result, params)}",
    )


def _as_article(value: Item | MatchedItem | Article) -> Article:
    if isinstance(value, Article):
        return value
    if isinstance(value, MatchedItem):
        return Article(value)
    return Article(MatchedItem(value, ()))


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
