"""Explanations: why an item matched a topic, or why it did not.

`Matcher.explain_item` (in `match`) finds where each pattern occurs in the item, field by
field; this module turns those places into a verdict per topic (`TopicExplanation`) with one
readable line each, for the preview and the review tools. Apart from the matcher because
matching never needs it: it only reads compiled topics (`match_rules._Topic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from policywire.ingest.match_rules import BODY_MENTIONS, _Topic

# Where explanations count body mentions up to: enough to tell "once" from "several times".
_EXPLAIN_COUNT_LIMIT: Final = 9
_SHOWN_KEYWORD_CHARS: Final = 40


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    """Why one item matched one topic or not."""

    topic: str
    matched: bool
    found: tuple[tuple[str, str], ...]  # (keyword as written, where: "title, body ×2")
    any_found: bool  # an `any` keyword counts (see BODY_MENTIONS)
    missing: tuple[str, ...]  # `all` keywords that do not count
    excluded: tuple[str, ...]  # `none` keywords that count

    def line(self) -> str:
        """One readable line: "big-tech-ai: no — 'OpenAI' in body ×1; missing 're:…'"."""
        parts = [f"{_shown(kw)} in {where}" for kw, where in self.found]
        if not self.any_found:
            parts.append(
                f"no `any` keyword in the title, summary or tags, nor {BODY_MENTIONS}× in the body"
            )
        if self.missing:
            parts.append("missing " + ", ".join(map(_shown, self.missing)))
        if self.excluded:
            parts.append("excluded by " + ", ".join(map(_shown, self.excluded)))
        verdict = "matched" if self.matched else "not matched"
        return f"{self.topic}: {verdict} — {'; '.join(parts)}"


@dataclass(frozen=True, slots=True)
class ItemExplanation:
    """Per topic that any of the item's text touched, why it matched or did not."""

    feed: str
    id: str
    title: str
    topics: tuple[TopicExplanation, ...]


def _shown(keyword: str) -> str:
    if len(keyword) > _SHOWN_KEYWORD_CHARS:
        keyword = keyword[: _SHOWN_KEYWORD_CHARS - 1] + "…"
    return repr(keyword)


def _counts_as_found(where: Sequence[str]) -> bool:
    """Do these places make a keyword found (see BODY_MENTIONS)?"""
    return any(
        not place.startswith("body") or int(place.rpartition("×")[2]) >= BODY_MENTIONS
        for place in where
    )


def _explain_topic(topic: _Topic, places: dict[int, list[str]], matched: bool) -> TopicExplanation:
    found: list[tuple[str, str]] = []
    missing: list[str] = []
    excluded: list[str] = []
    parts = dict(topic.written)
    for part in ("any", "all", "none"):
        for pattern, keyword in parts[part]:
            where = places.get(pattern)
            counted = where is not None and _counts_as_found(where)
            if where is not None and part != "none":
                found.append((keyword, ", ".join(where)))
            if part == "all" and not counted:
                missing.append(keyword)
            if part == "none" and counted:
                excluded.append(keyword)
    any_found = any(_counts_as_found(places.get(pattern, ())) for pattern, _ in parts["any"])
    return TopicExplanation(
        topic.id, matched, tuple(found), any_found, tuple(missing), tuple(excluded)
    )
