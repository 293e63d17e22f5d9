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
from policywire.curate.summarizer import SummarizedStory
from policywire.ingest.match import ItemExplanation, Matcher
from policywire.models import Digest, Item, MatchedItem, Story
from policywire.pipeline import Poller, PollOutcome, PollStatus, fetcher_for, parse_pool_for


@dataclass(frozen=True, slots=True)
class PreviewResult:
    digests: tuple[Digest, ...]
    errors: tuple[tuple[str, str], ...]  # (feed name, one-line error)
    # With `explain`: per item that matched a topic or had one of its `any` keywords, why.
    matching: tuple[ItemExplanation, ...] = ()


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
    explain: bool = False,
) -> PreviewResult:
    polled: list[Item] | None = [] if explain else None
    outcomes = await poll_everything(config, clock, progress_stream or sys.stderr, polled)
    matched = [m for outcome in outcomes for m in outcome.matched()]
    now = clock()
    # As on a first `run`: an item without a date we trust may be years old, so it is not new.
    eligible = [
        m for m in matched if m.item.dated and m.item.published >= now - config.settings.backfill
    ]
    vectors = await asyncio.to_thread(_vectors, config, eligible)
    # Grouping is CPU work (seconds on a large window): off the loop, as the service does it.
    digests = await asyncio.to_thread(
        lambda: tuple(
            _digest_for(config, target, eligible, now, vectors)
            for target in _targets(config, topic, language)
        )
    )
    if config.settings.summarizer.backend != "none":
        from policywire.curate.summary_digest import summarize_digests

        digests = await summarize_digests(config.settings.summarizer, os.environ, digests)
    errors = tuple((o.feed.name, o.error or "") for o in outcomes if o.status is PollStatus.ERROR)
    matching = await asyncio.to_thread(_explain_matching, config, polled) if polled else ()
    return PreviewResult(digests, errors, matching)


def _explain_matching(config: Config, items: Sequence[Item]) -> tuple[ItemExplanation, ...]:
    """Why each item matched, or came close to matching, the configuration's topics."""
    matcher = Matcher.compile(config.topic_rules().values())
    explained = (matcher.explain_item(item) for item in items)
    return tuple(explanation for explanation in explained if explanation.topics)


async def poll_everything(
    config: Config,
    clock: Callable[[], datetime],
    stream: TextIO,
    polled: list[Item] | None = None,
) -> list[PollOutcome]:
    """Poll every feed once; `polled`, when given, receives every item, matched or not."""
    settings = config.settings
    progress = Progress(len(config.feeds), stream)
    outcomes: list[PollOutcome] = []
    async with fetcher_for(settings) as fetcher:
        workers = 0 if len(config.feeds) < 8 else None
        # The configured parse limits, as `run` has them (a handful of feeds parse in threads).
        with parse_pool_for(settings, workers, config.topic_rules().values()) as parser:
            poller = Poller(fetcher, parser, clock)
            slots = asyncio.Semaphore(settings.concurrency)  # back-pressure on bodies in memory

            async def poll(feed: FeedConfig) -> PollOutcome:
                async with slots:
                    outcome = await poller.poll(feed)
                    if polled is not None:
                        polled.extend(outcome.items)
                    return _keep_matched(outcome)

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
        topics=[
            config.topics[t].display_name(target.language)
            for t in target.topics
            if t in config.topics
        ],
        max_stories=target.max_stories,
        now=now,
        timezone=target.timezone,
        window=config.settings.story_window,
        primary_feeds=frozenset(feed.url for feed in config.feeds if feed.primary),
        vectors=vectors,
    )


def _only_topics(matched: MatchedItem, wanted: set[str]) -> MatchedItem:
    hits = tuple(hit for hit in matched.hits if hit.topic in wanted)
    return MatchedItem(matched.item, hits, matched.sources, matched.first_seen, matched.pk)


# --- JSON ------------------------------------------------------------------------------------


def preview_json(result: PreviewResult, *, explain: bool = False) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "digests": [_digest_json(d, explain) for d in result.digests],
        "errors": [{"feed": feed, "error": error} for feed, error in result.errors],
    }
    if explain:
        shaped["matching"] = [_matching_json(e) for e in result.matching]
    return shaped


def _matching_json(explanation: ItemExplanation) -> dict[str, Any]:
    return {
        "feed": explanation.feed,
        "id": explanation.id,
        "title": explanation.title,
        "topics": [
            {
                "topic": topic.topic,
                "matched": topic.matched,
                "found": [{"keyword": kw, "where": where} for kw, where in topic.found],
                "any_found": topic.any_found,
                "missing": list(topic.missing),
                "excluded": list(topic.excluded),
                "why": topic.line(),
            }
            for topic in explanation.topics
        ],
    }


def format_match_explanations(result: PreviewResult) -> str:
    """Plain text for `preview --explain`: per item, why it matched each topic or did not."""
    blocks = []
    for explanation in result.matching:
        lines = [f"{explanation.title[:100]}  <{explanation.id}>"]
        lines += [f"   · {topic.line()}" for topic in explanation.topics]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


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
    written = story.written if isinstance(story, SummarizedStory) else None
    if written is not None:
        shaped["machine_summary"] = {
            "headline": written.headline,
            "summary": written.summary,
            "model": written.model,
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
