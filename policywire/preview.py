"""`policywire preview`: fetch every feed now and build the digests that would be sent.

Touches no database. The JSON shape is a contract for scripts: later versions add fields,
never rename them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from policywire.config.model import Config, DestinationConfig, FeedConfig
from policywire.curate.digest import build_digest
from policywire.curate.embedders.seam import Vector
from policywire.curate.stories import ArticleKey
from policywire.ingest.parsepool import ParsePool
from policywire.models import Digest, MatchedItem, Story
from policywire.pipeline import Poller, PollOutcome, PollStatus, fetcher_for


@dataclass(frozen=True, slots=True)
class PreviewResult:
    digests: tuple[Digest, ...]
    errors: tuple[tuple[str, str], ...]  # (feed name, one-line error)


class Progress:
    """One self-overwriting line on a terminal; a single summary line otherwise."""

    def __init__(self, total: int, stream: TextIO, label: str = "feeds") -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream, self.label = stream, label
        self.started = time.monotonic()
        self.live = stream.isatty()

    def step(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.live:
            self.stream.write(f"\rloading {self.label}: {self.done}/{self.total}")
            self.stream.flush()

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        prefix = "\r" if self.live else ""
        self.stream.write(
            f"{prefix}loaded {self.done} {self.label} in {elapsed:.1f}s"
            f" ({self.failed} with errors)\n"
        )


async def run_preview(
    config: Config,
    *,
    topic: str | None = None,
    language: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress_stream: TextIO | None = None,
) -> PreviewResult:
    outcomes = await poll_everything(config, clock, progress_stream or sys.stderr)
    matched = [m for outcome in outcomes for m in outcome.matched()]
    now = clock()
    eligible = [m for m in matched if m.item.published >= now - config.settings.backfill]
    vectors = await asyncio.to_thread(_vectors, config, eligible)
    digests = tuple(
        _digest_for(config, target, eligible, now, vectors)
        for target in _targets(config, topic, language)
    )
    errors = tuple((o.feed.name, o.error or "") for o in outcomes if o.status is PollStatus.ERROR)
    return PreviewResult(digests, errors)


async def poll_everything(
    config: Config, clock: Callable[[], datetime], stream: TextIO
) -> list[PollOutcome]:
    settings = config.settings
    progress = Progress(len(config.feeds), stream)
    outcomes: list[PollOutcome] = []
    async with fetcher_for(settings) as fetcher:
        workers = 0 if len(config.feeds) < 8 else None
        with ParsePool(workers=workers, rules=config.topic_rules().values()) as parser:
            poller = Poller(fetcher, parser, clock)
            slots = asyncio.Semaphore(settings.concurrency)  # back-pressure on bodies in memory

            async def poll(feed: FeedConfig) -> PollOutcome:
                async with slots:
                    return _keep_matched(await poller.poll(feed))

            for next_done in asyncio.as_completed([poll(f) for f in config.feeds]):
                outcome = await next_done
                outcomes.append(outcome)
                progress.step(outcome.status is PollStatus.ERROR)
    progress.finish()
    order = {feed.url: index for index, feed in enumerate(config.feeds)}
    return sorted(outcomes, key=lambda o: order[o.feed.url])


def _keep_matched(outcome: PollOutcome) -> PollOutcome:
    """Only matched items are needed for the digests: drop the rest early."""
    kept = tuple(item for item in outcome.items if (item.feed, item.id) in outcome.hits)
    return replace(outcome, items=kept)


@dataclass(frozen=True, slots=True)
class _Target:
    key: str
    topics: tuple[str, ...]
    language: str
    timezone: str
    max_stories: int


def _targets(config: Config, topic: str | None, language: str | None) -> list[_Target]:
    settings = config.settings
    if topic is not None:
        return [
            _Target(
                f"topic:{topic}",
                (topic,),
                language or settings.language,
                settings.timezone,
                settings.max_stories,
            )
        ]
    destinations: Sequence[DestinationConfig] = config.destinations
    if not destinations:
        return [
            _Target(
                "console:stdout",
                tuple(config.topics),
                language or settings.language,
                settings.timezone,
                settings.max_stories,
            )
        ]
    return [
        _Target(d.key, d.topics, language or d.language, d.timezone, d.max_stories)
        for d in destinations
    ]


def _vectors(config: Config, matched: Sequence[MatchedItem]) -> Mapping[ArticleKey, Vector]:
    """Every matched item's vector, computed once for all the digests (none: names only)."""
    from policywire.curate.embedders.factory import make_embedder
    from policywire.curate.embedders.vectors import ItemVectors

    embedder = make_embedder(config.settings.embedding, os.environ)
    return ItemVectors(embedder).for_items(matched) if embedder else {}


def _digest_for(
    config: Config,
    target: _Target,
    matched: Sequence[MatchedItem],
    now: datetime,
    vectors: Mapping[ArticleKey, Vector],
) -> Digest:
    wanted = set(target.topics)
    candidates = [_only_topics(m, wanted) for m in matched if wanted.intersection(m.topics)]
    return build_digest(
        candidates,
        destination=target.key,
        language=target.language,
        topics=[config.topics[t].name for t in target.topics if t in config.topics],
        max_stories=target.max_stories,
        now=now,
        timezone=target.timezone,
        window=config.settings.story_window,
        vectors=vectors,
    )


def _only_topics(matched: MatchedItem, wanted: set[str]) -> MatchedItem:
    hits = tuple(hit for hit in matched.hits if hit.topic in wanted)
    return MatchedItem(matched.item, hits, matched.sources, matched.first_seen, matched.pk)


# --- JSON ------------------------------------------------------------------------------------


def preview_json(result: PreviewResult, *, explain: bool = False) -> dict[str, Any]:
    return {
        "digests": [_digest_json(d, explain) for d in result.digests],
        "errors": [{"feed": feed, "error": error} for feed, error in result.errors],
    }


def _digest_json(digest: Digest, explain: bool) -> dict[str, Any]:
    return {
        "destination": digest.destination,
        "language": digest.language,
        "stories": [_story_json(s, explain) for s in digest.stories],
        "more": digest.more,
    }


def _story_json(story: Story, explain: bool) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "topics": list(story.topics),
        "keywords": list(story.keywords),
        "items": [_item_json(m) for m in story.members],
    }
    if explain:
        shaped["reasons"] = list(story.reasons)
    return shaped


def _item_json(matched: MatchedItem) -> dict[str, Any]:
    item = matched.item
    return {
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "sources": list(matched.sources or (item.source,)),
        "published": item.published.isoformat(),
        "language": item.language,
    }
