"""Articles: the copies of one article (one canonical link, several feeds) folded into one.

The first step of story grouping (`policywire.curate.stories`), kept apart because it is plain
bookkeeping over links, sources and topic hits, with no scoring: grouping, the explanations
and the digest all start from the `Article` built here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from policywire.ingest.links import canonical_link
from policywire.models import MatchedItem, TopicHit

__all__ = ["Article", "merge_same_link"]


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
