"""Readers correct the grouping: what a story card's buttons do, for every platform.

A card (docs/cards.md) carries two buttons. **Not relevant** mutes the story in that chat (no
more edits or replies about it there) and records the verdict; **wrong grouping** asks which
article does not belong, then keeps that article off the chat's card (the card is edited
without it at once) and records the pair. The bots parse the press, check that the reader may
decide for the chat (admins only in groups and channels), call these methods and show the
answer, which is already in the chat's language.

Verdicts become evaluation data: `export_labels` writes them in the formats
`bench/devsets.py` (story grouping: `articles.json`, `pairs.csv`) and `bench/relevance_eval.py`
(topic matching: `labels.csv`) read.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from policywire.deliver import i18n
from policywire.models import MatchedItem
from policywire.storage.rows import DestinationRow
from policywire.storage.store import Store
from policywire.storage.stories import NOT_RELEVANT, WRONG_GROUPING, VerdictRow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OnChange = Callable[[str], Awaitable[Any]]  # a destination whose card must be edited now

NOT_RELEVANT_PREFIX, WRONG_GROUPING_PREFIX, SPLIT_PREFIX = "pw:nr:", "pw:wg:", "pw:ws:"


@dataclass(frozen=True, slots=True)
class Press:
    """A card button as its data says: which action, on which story, about which article."""

    action: str  # "nr" (not relevant), "wg" (wrong grouping: pick an article), "ws" (split it)
    story_id: int
    item_pk: int | None = None


def parse_press(data: str) -> Press | None:
    """`pw:nr:12`, `pw:wg:12`, `pw:ws:12:345` → a Press; None for anything else."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != "pw" or parts[1] not in ("nr", "wg", "ws"):
        return None
    try:
        numbers = [int(part) for part in parts[2:]]
    except ValueError:
        return None
    if parts[1] == "ws" and len(numbers) == 2:
        return Press("ws", numbers[0], numbers[1])
    if parts[1] != "ws" and len(numbers) == 1:
        return Press(parts[1], numbers[0])
    return None


@dataclass(frozen=True, slots=True)
class Choice:
    """An article a reader may split off: its item pk and a short label."""

    item_pk: int
    label: str
    data: str  # what its button sends back


class Feedback:
    """The card buttons' effects, on the store; `on_change` gets the card's edit queued."""

    def __init__(self, store: Store, clock: Clock, on_change: OnChange | None = None) -> None:
        self.store = store
        self.clock = clock
        self.on_change = on_change

    async def destination(self, platform: str, targets: Sequence[str]) -> DestinationRow | None:
        """The destination a press came from: its chat's id, or its @username."""
        for target in targets:
            row = await self.store.destination(f"{platform}:{target}")
            if row is not None:
                return row
        return None

    # `language`: the answer's, when only the presser sees it (Discord's ephemeral answers are
    # in the presser's own language); None answers in the chat's.

    async def not_relevant(
        self, row: DestinationRow, story_id: int, reader: str, language: str | None = None
    ) -> str:
        members = await self.store.card_members(row.key, story_id)
        articles = [_article(m) for m in members]
        await self.store.record_verdict(
            row.key, story_id, NOT_RELEVANT, reader, articles, self.clock()
        )
        log.info("%s: story %d marked not relevant; muted there", row.key, story_id)
        return i18n.wording(language or row.language).muted

    async def choices(
        self, row: DestinationRow, story_id: int, language: str | None = None
    ) -> list[Choice] | str:
        """The articles of the chat's card to pick from, or why there is nothing to pick."""
        members = await self.store.card_members(row.key, story_id)
        if len(members) < 2:
            return i18n.wording(language or row.language).single_article
        return [
            Choice(m.pk, _label(m), f"{SPLIT_PREFIX}{story_id}:{m.pk}")
            for m in members
            if m.pk is not None
        ]

    def question(self, row: DestinationRow, language: str | None = None) -> str:
        return i18n.wording(language or row.language).pick_article

    async def wrong_grouping(
        self,
        row: DestinationRow,
        story_id: int,
        item_pk: int,
        reader: str,
        language: str | None = None,
    ) -> str:
        members = await self.store.card_members(row.key, story_id)
        named = next((m for m in members if m.pk == item_pk), None)
        if named is None or len(members) < 2:
            return i18n.wording(language or row.language).single_article
        others = [m for m in members if m is not named]
        articles = [_article(named), *(_article(m) for m in others)]
        await self.store.record_verdict(
            row.key, story_id, WRONG_GROUPING, reader, articles, self.clock(), item_pk
        )
        log.info("%s: article %d split from story %d", row.key, item_pk, story_id)
        if self.on_change is not None:
            await self.on_change(row.key)
        return i18n.wording(language or row.language).split


def _label(matched: MatchedItem) -> str:
    outlet = matched.item.source or matched.item.feed
    text = f"{outlet}: {matched.item.title}"
    return text if len(text) <= 60 else text[:59].rstrip() + "…"


def _article(matched: MatchedItem) -> dict[str, Any]:
    """What an export needs of one article, kept with the verdict (items are pruned)."""
    item = matched.item
    return {
        "pk": matched.pk,
        "feed": item.feed,
        "id": item.id,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "published": item.published.isoformat(),
        "language": item.language,
        "outlet": item.source or item.feed,
        "links": list(item.links),
        "topics": list(matched.topics),
    }


# --- policywire labels export ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exported:
    articles: int
    pairs: int
    relevance: int


async def export_labels(store: Store, directory: Path) -> Exported:
    """Readers' verdicts as evaluation data under `directory`:

    * `grouping/articles.json` + `grouping/pairs.csv`: a dev set `bench/devsets.load` reads
      (`python bench/grouping_eval.py` style); each "wrong grouping" gives the split article
      a story label of its own and one different-story pair with every article it was
      grouped with (kind `reader: wrong grouping`).
    * `relevance/labels.csv`: the columns of `tests/data/relevance/labels.csv`; each article
      of a story marked "not relevant" is a `not_relevant` row (its feed URL in `feed_file`).
    """
    verdicts = await store.verdicts()
    articles, pairs = _grouping(verdicts)
    relevance = _relevance(verdicts)
    grouping = directory / "grouping"
    grouping.mkdir(parents=True, exist_ok=True)
    (grouping / "articles.json").write_text(
        json.dumps(articles, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    _write_csv(grouping / "pairs.csv", ["a", "b", "same_story", "kind"], pairs)
    labels = directory / "relevance"
    labels.mkdir(parents=True, exist_ok=True)
    _write_csv(labels / "labels.csv", ["feed_file", "link", "verdict", "topics", "note"], relevance)
    return Exported(len(articles), len(pairs), len(relevance))


def _grouping(verdicts: Sequence[VerdictRow]) -> tuple[list[dict[str, Any]], list[list[str]]]:
    articles: dict[str, dict[str, Any]] = {}
    pairs: list[list[str]] = []
    for verdict in verdicts:
        if verdict.verdict != WRONG_GROUPING or not verdict.articles:
            continue
        named, *others = verdict.articles
        story = f"story-{verdict.story_id}"
        apart = _entry(named, f"{story}-apart-{verdict.id}")
        articles.setdefault(apart["id"], apart)
        for other in others:
            entry = _entry(other, story)
            articles.setdefault(entry["id"], entry)
            pairs.append([apart["id"], entry["id"], "0", "reader: wrong grouping"])
    return list(articles.values()), pairs


def _entry(article: dict[str, Any], story: str) -> dict[str, Any]:
    return {
        "id": f"item-{article['pk']}",
        "story": story,
        "outlet": article["outlet"],
        "language": article["language"] or "und",
        "published": article["published"],
        "link": article["link"],
        "title": article["title"],
        "summary": article["summary"],
        "links": article["links"],
    }


def _relevance(verdicts: Sequence[VerdictRow]) -> list[list[str]]:
    rows: dict[tuple[str, str], list[str]] = {}
    for verdict in verdicts:
        if verdict.verdict != NOT_RELEVANT:
            continue
        note = f"reader in {verdict.destination}, story {verdict.story_id}"
        for article in verdict.articles:
            key = (article["feed"], article["link"])
            rows.setdefault(key, [article["feed"], article["link"], NOT_RELEVANT, "", note])
    return list(rows.values())


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
