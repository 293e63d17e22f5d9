"""One feed's trip through the stages: fetch → parse → match, then (optionally) the store.

Parsing and matching both happen in the ParsePool's workers (matching happens where parsing
happens), and only the results come back to the event loop.

`Poller.poll` touches no database, so `preview` can use it as is; `poll_into_store` adds the
bookkeeping the running service needs (validators, failures, new items).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from policywire.config.model import FeedConfig, Settings
from policywire.errors import ParseError, StoreError
from policywire.ingest.fetch import DEFAULT_USER_AGENT, Fetcher
from policywire.ingest.match import Hits
from policywire.ingest.netguard import AddressPolicy
from policywire.ingest.parsepool import ParseLimits, ParsePool, ParseRequest
from policywire.models import FetchStatus, Item, MatchedItem, TopicRule, Validators
from policywire.storage.store import FeedState, Store

__all__ = [
    "PollOutcome",
    "PollStatus",
    "Poller",
    "fetcher_for",
    "parse_pool_for",
    "poll_into_store",
]

log = logging.getLogger(__name__)


def fetcher_for(settings: Settings) -> Fetcher:
    """A Fetcher with the configuration's limits (not yet started)."""
    return Fetcher(
        concurrency=settings.concurrency,
        per_host_concurrency=settings.per_host_concurrency,
        timeout=settings.timeout.total_seconds(),
        max_body_size=settings.max_body_size,
        user_agent=settings.user_agent or DEFAULT_USER_AGENT,
        address_policy=AddressPolicy(allow_private=settings.allow_private_networks),
    )


def parse_pool_for(
    settings: Settings, workers: int | None = None, rules: Iterable[TopicRule] = ()
) -> ParsePool:
    """A ParsePool with the configuration's parse limits (no process started yet)."""
    limits = ParseLimits(
        seconds=settings.parse_timeout.total_seconds(), memory=settings.parse_memory
    )
    return ParsePool(workers=workers, rules=rules, limits=limits)


class PollStatus(Enum):
    NEW = "new"  # a body was parsed (it may hold no new item)
    UNCHANGED = "unchanged"  # 304, or the same body as last time
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PollOutcome:
    feed: FeedConfig
    status: PollStatus
    items: tuple[Item, ...] = ()
    hits: Hits = field(default_factory=dict)
    validators: Validators = field(default_factory=Validators)
    title: str = ""
    error: str | None = None
    warning: str | None = None
    retry_after: float | None = None
    new_matching: int = 0  # items stored by this poll that matched a topic

    def matched(self) -> list[MatchedItem]:
        return [
            MatchedItem(item, self.hits[(item.feed, item.id)], (item.source,))
            for item in self.items
            if (item.feed, item.id) in self.hits
        ]


class Poller:
    """Fetches, parses and matches one feed; never raises for a feed's own problems.

    The topic rules live in the ParsePool (`ParsePool.set_rules` on hot reload).
    """

    def __init__(self, fetcher: Fetcher, parser: ParsePool, clock: Callable[[], datetime]) -> None:
        self.fetcher = fetcher
        self.parser = parser
        self.clock = clock

    async def poll(self, feed: FeedConfig, validators: Validators | None = None) -> PollOutcome:
        fetched = await self.fetcher.fetch(feed.url, validators or Validators())
        if fetched.status is FetchStatus.ERROR:
            return PollOutcome(
                feed, PollStatus.ERROR, error=fetched.error, retry_after=fetched.retry_after
            )
        if fetched.status is FetchStatus.NOT_MODIFIED:
            return PollOutcome(feed, PollStatus.UNCHANGED, validators=fetched.validators)
        request = ParseRequest(
            fetched.body,
            feed_url=feed.url,
            now=self.clock(),
            source=feed.name,
            language=feed.language,
            headers=dict(fetched.headers),
        )
        try:
            result = await self.parser.parse(request)
        except ParseError as exc:
            return PollOutcome(feed, PollStatus.ERROR, error=str(exc))
        return PollOutcome(
            feed,
            PollStatus.NEW,
            items=result.feed.items,
            hits=result.hits,
            validators=fetched.validators,
            title=result.feed.title,
            warning=result.feed.warning,
        )


async def poll_into_store(
    poller: Poller, store: Store, feed: FeedConfig, state: FeedState | None = None
) -> PollOutcome:
    """Poll with the stored validators and record the result; returns the outcome.

    `state`: the feed's stored state when the caller already read it (a batch read).
    """
    state = state or await store.feed_state(feed.url)
    outcome = await poller.poll(feed, state.validators)
    now = poller.clock()
    if outcome.status is PollStatus.ERROR:
        failures = await store.record_failure(feed.url, outcome.error or "unknown error", now)
        log.warning("feed %s failed (%d in a row): %s", feed.name, failures, outcome.error)
        return outcome
    if outcome.warning:
        log.info("feed %s: %s", feed.name, outcome.warning)
    try:
        new = await store.record_success(
            feed.url,
            outcome.validators,
            now,
            outcome.title or None,
            items=outcome.items,
            hits=outcome.hits,
        )
    except StoreError as exc:
        # This poll's result is lost (the next poll fetches it again); other feeds go on.
        log.error("feed %s: could not store this poll: %s", feed.name, exc)
        return PollOutcome(feed, PollStatus.ERROR, error=str(exc))
    if outcome.status is PollStatus.NEW:
        log.info("feed %s: %d entries, %d new matching", feed.name, len(outcome.items), len(new))
    return replace(outcome, new_matching=len(new))
