"""Choose what one destination receives: candidates → stories → ranked, capped digest.

Pure: the caller brings the candidates (from the store, or from memory for `preview`) and `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from policywire.models import Digest, MatchedItem, Story
from policywire.stories import merge_same_link, single_article_stories


def build_digest(
    candidates: Sequence[MatchedItem],
    *,
    destination: str,
    language: str,
    topics: Sequence[str],
    max_stories: int,
    now: datetime,
    timezone: str = "UTC",
) -> Digest:
    """The digest for one destination; `topics` are the display names for the header."""
    stories = rank(single_article_stories(merge_same_link(candidates)))
    return Digest(
        destination=destination,
        language=language,
        topics=tuple(topics),
        stories=tuple(stories[:max_stories]),
        generated_at=now,
        timezone=timezone,
        more=max(0, len(stories) - max_stories),
    )


def rank(stories: Sequence[Story]) -> list[Story]:
    """Newest first; ties broken by link so the order never depends on arrival order."""
    return sorted(
        stories, key=lambda story: (-story.lead.item.published.timestamp(), story.lead.item.link)
    )
