"""The running service's jobs: poll feeds, build digests into the outbox, keep house.

One APScheduler `AsyncIOScheduler` on the caller's event loop drives everything. Chat
platforms come in as `Transport`s (for sending) and call `Subscriptions` (for commands);
this module imports no chat library.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

from policywire.chat.feedback import Feedback
from policywire.chat.subscriptions import Defaults, FirstPoll, Subscriptions
from policywire.config.durations import parse_schedule
from policywire.config.model import (
    Config,
    DestinationConfig,
    EmbeddingSettings,
    FeedConfig,
    TopicConfig,
)
from policywire.coordination.workers import Coordination, coordination_for
from policywire.deliver.payloads import RENDERERS, Renderer
from policywire.deliver.sender import Sender, Transport
from policywire.errors import ConfigError, DatabaseGone, PolicywireError
from policywire.ingest.fetch import next_delay
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.models import Digest, MatchedItem, Story
from policywire.ops.metrics import Metrics, OutboxSnapshot
from policywire.ops.supervise import InFlight, job
from policywire.pipeline import (
    Poller,
    PollOutcome,
    PollStatus,
    fetcher_for,
    parse_pool_for,
    poll_into_store,
)
from policywire.status import RoundReport
from policywire.storage.leases import DigestConflict
from policywire.storage.store import DestinationRow, FeedState, Store

if TYPE_CHECKING:
    from policywire.curate.embedders.vectors import ItemVectors
    from policywire.curate.summary_digest import DigestSummarizer
    from policywire.storage.stories import DueEdit

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# The fetcher and the parser pool are built once, at start-up, from these.
_SETTINGS_READ_AT_START = ("database", "allow_private_networks", "parse_timeout", "parse_memory")


def _file_signature(path: Path) -> tuple[int, int] | None:
    """Modification time and size: enough to notice an edit without reading the file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def destination_row(dest: DestinationConfig, now: datetime) -> DestinationRow:
    return DestinationRow(
        key=dest.key,
        origin="config",
        platform=dest.kind,
        target=dest.target,
        topics=dest.topics,
        schedule=dest.schedule,
        timezone=dest.timezone,
        language=dest.language,
        active=True,
        created_at=now,
        last_digest_at=None,
    )


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, compiled statements, the configuration) out of the
    cyclic collector's reach: it lives as long as the process, and full collections during
    polls then walk only what the polls created (steadier poll passes; cheap to call)."""
    gc.freeze()


class Service:
    """Owns the scheduler, the poller and the sender for one configuration."""

    def __init__(
        self,
        config: Config,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        clock: Clock = lambda: datetime.now(UTC),
        renderers: Mapping[str, Renderer] | None = None,
        rng: random.Random | None = None,
        parse_workers: int | None = None,
        config_loader: Callable[[], Config] | None = None,
        reload_every: float = 5.0,
        coordination: Coordination | None = None,
    ) -> None:
        self.config = config
        self.config_loader = config_loader  # None: no hot reload
        self.reload_every = reload_every
        self._config_signature = _file_signature(config.path)
        self.store = store
        self.clock = clock
        # Several workers on one PostgreSQL database share the work (coordination/workers.py).
        self.coordination = coordination or coordination_for(store, clock)
        self.rng = rng or random.Random()
        self.renderers = dict(renderers or RENDERERS)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.sender = Sender(store, transports, clock)
        self.metrics = Metrics()  # served on settings.ops_listen (policywire/ops/http.py)
        self.sender.observe = self.metrics.delivery
        # Chats that subscribe or ask for a digest before every feed was polled once since
        # the start get their digest when that first round ends (issue 14).
        self.first_poll = FirstPoll((feed.url for feed in config.feeds), active=self._polling)
        self.subscriptions = Subscriptions(
            store, self._defaults, clock, self._on_subscription, first_poll=self.first_poll
        )
        # What a story card's buttons do (chat/feedback.py); a split edits the card at once.
        self.feedback = Feedback(store, clock, self.flush_card_edits)
        self.fetcher = fetcher_for(config.settings)
        self.parser = parse_pool_for(config.settings, parse_workers, config.topic_rules().values())
        self.poller = Poller(self.fetcher, self.parser, clock)
        self._vectors: ItemVectors | None = None
        self._vectors_settings: EmbeddingSettings | None = None
        self._summarizer: DigestSummarizer | None = None  # kept across digests: its cache
        self._digest_locks: dict[str, asyncio.Lock] = {}
        self._poll_locks: dict[str, asyncio.Lock] = {}
        self._poll_slots = asyncio.Semaphore(config.settings.concurrency)
        self._sender_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        # Set when the service cannot go on (the database file vanished): `run` then stops
        # and exits non-zero with `failure` as its one line.
        self.failed = asyncio.Event()
        self.failure: PolicywireError | None = None
        self.in_flight = InFlight(
            checks=(store.check_database_file,), fatal=(DatabaseGone,), on_fatal=self.fail
        )

    async def outbox_snapshot(self) -> OutboxSnapshot:
        """What /metrics shows of the outbox: pending messages and the oldest one's age."""
        backlogs = await self.store.backlogs()
        oldest = [b.oldest_pending for b in backlogs if b.oldest_pending is not None]
        age = (self.clock() - min(oldest)).total_seconds() if oldest else 0.0
        return OutboxSnapshot(sum(b.pending for b in backlogs), max(0.0, age))

    def add_transport(self, transport: Transport) -> None:
        """A chat platform that came up after the service was built (it needs our hooks)."""
        self.sender.add_transport(transport)

    def remove_transport(self, platform: str) -> None:
        """A chat platform whose client went down: its messages wait until it is back."""
        self.sender.remove_transport(platform)

    def fail(self, error: Exception) -> None:
        """Stop the service because of `error` (said once, by whoever waits on `failed`)."""
        if self.failure is None:
            self.failure = (
                error if isinstance(error, PolicywireError) else PolicywireError(str(error))
            )
        self.failed.set()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Register every job, then run the scheduler and the sender in this event loop."""
        await self.prepare()
        await self.coordination.start(lambda: self.config)
        freeze_startup_heap()
        self.scheduler.start()
        self._sender_task = asyncio.create_task(self.sender.run(), name="policywire-sender")
        self._sender_task.add_done_callback(self._sender_ended)
        self._watch_task = asyncio.create_task(self._watch_database(), name="database-watch")
        log.info(
            "running: %d feeds, %d destinations",
            len(self.config.feeds),
            len(await self.store.destinations()),
        )

    async def prepare(self) -> None:
        """Open the fetcher and register the jobs without running them (tests drive time)."""
        await self.fetcher.__aenter__()
        await self._sync_config_destinations()
        await self._follow_topic_changes(None)
        # One query for every feed's state now, instead of one per feed at its first poll.
        await self.store.feed_states([feed.url for feed in self.config.feeds])
        for feed in self.config.feeds:
            self._schedule_poll(feed)
        for row in await self.store.destinations():
            self.schedule_digest(row)
        self.scheduler.add_job(
            self.housekeeping, IntervalTrigger(hours=6), id="housekeeping", coalesce=True
        )
        # Story cards whose paced edit fell due (docs/cards.md).
        self.scheduler.add_job(
            self.card_edits_job,
            IntervalTrigger(seconds=CARD_EDIT_CHECK),
            id="card-edits",
            coalesce=True,
            max_instances=1,
        )
        if self.config_loader is not None:
            self.scheduler.add_job(
                self.reload_if_changed,
                IntervalTrigger(seconds=self.reload_every),
                id="config-watch",
                coalesce=True,
                max_instances=1,
            )

    def _sender_ended(self, task: asyncio.Task[None]) -> None:
        """The sender only ends by itself on an error it cannot go on after: stop with it."""
        if not task.cancelled() and (error := task.exception()) is not None:
            self.fail(error if isinstance(error, Exception) else PolicywireError(str(error)))

    async def _watch_database(self, every: float = 2.0) -> None:
        """Notice a deleted database file within seconds even when nothing writes."""
        while not self.failed.is_set():
            try:
                self.store.check_database_file()
            except DatabaseGone as exc:
                self.fail(exc)
                return
            await asyncio.sleep(every)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling, let the send in flight finish (at most `grace` s), close everything.

        Polls and digests in flight are cancelled (said in one line); messages not sent yet
        stay in the outbox for the next start.
        """
        if self.scheduler.running:
            self.scheduler.pause()  # no job starts while the running ones are cancelled
        cancelled = await self.in_flight.cancel_all(grace=min(grace, 2.0))
        if cancelled:
            log.info("stopping: cancelled %s", ", ".join(cancelled))
        if self._watch_task is not None:
            self._watch_task.cancel()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._sender_task is not None:
            self.sender.request_stop()
            try:
                await asyncio.wait_for(asyncio.shield(self._sender_task), timeout=grace)
            except TimeoutError:
                log.warning("a send did not finish within %.0fs; it will be retried", grace)
                self._sender_task.cancel()
                await asyncio.gather(self._sender_task, return_exceptions=True)
        await self.coordination.stop()  # after the last send: its lease goes with it
        pending = 0
        if self.failure is None:  # a vanished database has nothing to count
            pending = await self.store.outbox_depth()
        if pending:
            log.info("%d messages wait in the outbox for the next start", pending)
        await self.fetcher.__aexit__(None, None, None)
        self.parser.close()

    async def run_once(self, deadline: float = 120.0) -> int:
        """Poll every feed once, queue every destination's digest, drain the outbox.

        For cron users: returns the number of messages sent.
        """
        return (await self.run_round(deadline)).sent

    async def run_round(self, deadline: float = 120.0) -> RoundReport:
        """`run_once`, saying also which feeds failed and which destinations were not
        delivered to (the exit code of `run --once`)."""
        self.store.check_database_file()
        await self.fetcher.__aenter__()
        await self._sync_config_destinations()
        await self.coordination.start(lambda: self.config)  # every feed is polled, though
        freeze_startup_heap()
        feeds = self.config.feeds
        states = await self.store.feed_states([feed.url for feed in feeds])  # one query
        polls = await asyncio.gather(
            *(self._poll_quietly(feed, states[feed.url]) for feed in feeds)
        )
        for row in await self.store.destinations():
            await self.send_digest(row)
        await self.flush_card_edits()  # edits that fell due since the last round, too
        sent = await self.drain_outbox(deadline)
        failed = sum(status is PollStatus.ERROR for status in polls)
        return RoundReport(sent, len(feeds), failed, await self._undelivered())

    async def _undelivered(self) -> dict[str, str]:
        """Active destinations with messages still waiting, and those that lost one."""
        platforms = {row.key: row.platform for row in await self.store.destinations()}
        waiting = {}
        for backlog in await self.store.backlogs():
            platform = platforms.get(backlog.destination)
            if not backlog.pending or platform is None:
                continue  # inactive destinations keep their messages on purpose
            if platform not in self.sender.transports:
                why = f"no {platform} client running"
            else:
                why = backlog.head_error or "not sent in time"
            waiting[backlog.destination] = f"{backlog.pending} messages wait ({why})"
        return {**self.sender.undeliverable, **waiting}

    async def drain_outbox(self, deadline: float) -> int:
        """Send until the outbox is empty, waiting out retries for at most `deadline` s."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + deadline
        sent = 0
        while await self.store.outbox_depth():
            sent += await self.sender.drain()
            due = await self.store.next_due_time(platforms=list(self.sender.transports))
            if due is None:
                break  # only destinations without a running bot are left
            wait = max(0.05, (due - self.clock()).total_seconds())
            if loop.time() + wait > give_up:
                log.warning("outbox not empty after %.0fs; the rest is sent next time", deadline)
                break
            await asyncio.sleep(wait)
        return sent

    async def _sync_config_destinations(self) -> None:
        """Config destinations into the store; ones removed from the file are deactivated."""
        now = self.clock()
        wanted = {dest.key for dest in self.config.destinations}
        for dest in self.config.destinations:
            await self.store.upsert_destination(destination_row(dest, now))
        for row in await self.store.destinations():
            if row.origin == "config" and row.key not in wanted:
                await self.store.set_destination_active(row.key, False, "removed from the config")
                self._remove_job(f"digest:{row.key}")
                log.info("%s removed from the config: no longer sent to", row.key)

    # --- hot reload ------------------------------------------------------------------------

    @job("config-watch")
    async def reload_if_changed(self) -> bool:
        """Apply an edited config file; a broken edit is refused and the running one stays."""
        signature = _file_signature(self.config.path)
        if signature == self._config_signature or self.config_loader is None:
            return False
        self._config_signature = signature
        try:
            new = await asyncio.to_thread(self.config_loader)
        except ConfigError as exc:
            log.error("config change refused, still running the previous one:")
            for line in exc.errors:
                log.error("%s", line)
            return False
        await self.apply_config(new)
        return True

    async def apply_config(self, new: Config) -> None:
        old = self.config
        for key in _SETTINGS_READ_AT_START:
            if getattr(new.settings, key) != getattr(old.settings, key):
                log.warning("settings.%s changed: takes effect at the next start", key)
        self.config = new
        self.parser.set_rules(new.topic_rules().values())
        old_feeds = {feed.url: feed for feed in old.feeds}
        new_feeds = {feed.url: feed for feed in new.feeds}
        for url in old_feeds.keys() - new_feeds.keys():
            self._remove_job(f"poll:{url}")
            self.first_poll.polled(url)  # a removed feed is not waited for
        for url, feed in new_feeds.items():
            if old_feeds.get(url) != feed:
                self._schedule_poll(feed)
        await self._sync_config_destinations()
        await self._follow_topic_changes(old.topics)
        for row in await self.store.destinations():
            self.schedule_digest(row)
        log.info(
            "config reloaded: %d feeds (%d added, %d removed), %d topics, %d destinations",
            len(new.feeds),
            len(new_feeds.keys() - old_feeds.keys()),
            len(old_feeds.keys() - new_feeds.keys()),
            len(new.topics),
            len(new.destinations),
        )

    async def _follow_topic_changes(self, before: Mapping[str, TopicConfig] | None) -> None:
        """Subscriptions follow a topic's `renamed_from:`; a topic gone from the file is named
        with the chats still following it (they see it as no longer offered, and can
        /unsubscribe it). `before`: the topics until this reload (None: at start, where every
        topic gone while the service was down is named)."""
        topics = self.config.topics
        for topic in topics.values():
            for old_id in topic.renamed_from:
                moved = await self.store.rename_topic(old_id, topic.id)
                if moved:
                    log.info(
                        "topic %s renamed to %s: subscriptions carried over for %s",
                        old_id,
                        topic.id,
                        ", ".join(moved),
                    )
        followers: dict[str, list[str]] = {}
        for row in await self.store.destinations():
            for topic_id in row.topics:
                if topic_id not in topics and (before is None or topic_id in before):
                    who = f"{row.key} ({row.title})" if row.title else row.key
                    followers.setdefault(topic_id, []).append(who)
        for topic_id, chats in followers.items():
            log.warning(
                "topic %s is no longer in %s; still followed by %s",
                topic_id,
                self.config.path.name,
                ", ".join(chats),
            )

    def _polling(self) -> bool:
        """Whether polls run now (a paused or stopped scheduler starts none)."""
        return bool(self.scheduler.state == STATE_RUNNING)

    def _defaults(self) -> Defaults:
        settings = self.config.settings
        topics = {topic_id: topic.name for topic_id, topic in self.config.topics.items()}
        localized = {
            language: {t: topic.display_name(language) for t, topic in self.config.topics.items()}
            for language in SUPPORTED_LANGUAGES
        }
        return Defaults(topics, settings.language, settings.timezone, localized)

    # --- polling ---------------------------------------------------------------------------

    def _schedule_poll(self, feed: FeedConfig) -> None:
        seconds = feed.interval.total_seconds()
        self.scheduler.add_job(
            self.poll_job,
            IntervalTrigger(seconds=seconds, jitter=min(60.0, seconds * 0.1)),
            args=[feed.url],
            id=f"poll:{feed.url}",
            name=f"poll {feed.name}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=self.clock() + timedelta(seconds=self.rng.uniform(0, 2)),
        )

    @job("poll")
    async def poll_job(self, url: str) -> None:
        feed = next((f for f in self.config.feeds if f.url == url), None)
        if feed is None:
            return
        # One poll of a feed at a time, however it was started (scheduler, --once, a test).
        async with self._poll_locks.setdefault(url, asyncio.Lock()):
            try:
                claim = await self.coordination.claim_poll(feed)
                # Not won: another worker polled it within its interval, its items are stored.
                outcome = await self._bounded_poll(feed, claim.state) if claim.won else None
            finally:
                waiting = self.first_poll.polled(url)
        if outcome is not None and outcome.status is PollStatus.ERROR:
            state = await self.store.feed_state(url)
            delay = next_delay(feed.interval.total_seconds(), state.failures, outcome.retry_after)
            retry = self.clock() + timedelta(seconds=delay)
            self._reschedule(f"poll:{url}", retry)
            await self.coordination.hold_feed(url, retry)  # the other workers back off too
        if outcome is not None:
            await self._record_next_poll(url)
        if waiting:
            await self._send_after_first_poll(waiting)
        if outcome is not None and outcome.status is PollStatus.NEW and outcome.hits:
            await self.deliver_instant()

    async def _send_after_first_poll(self, keys: list[str]) -> None:
        """The chats told "your stories follow in a moment" get their digest, even an empty
        one: it answers them either way."""
        for key in keys:
            row = await self.store.destination(key)
            if row is not None and row.active and row.topics:
                await self.send_digest(row, even_if_empty=True)

    async def _bounded_poll(self, feed: FeedConfig, state: FeedState | None = None) -> PollOutcome:
        """Back-pressure: at most `concurrency` polls hold a body or parsed items at once, so
        10,000 feeds due together queue as tasks, not as megabytes waiting for the parser."""
        async with self._poll_slots:
            outcome = await poll_into_store(self.poller, self.store, feed, state)
        self.metrics.poll(outcome.status.value, outcome.error)
        self.metrics.items_matched.inc(outcome.new_matching)
        return outcome

    async def _poll_quietly(self, feed: FeedConfig, state: FeedState) -> PollStatus:
        return (await self._bounded_poll(feed, state)).status  # its items are not kept

    def _reschedule(self, job_id: str, when: datetime) -> None:
        with contextlib.suppress(JobLookupError):  # the feed was removed meanwhile
            self.scheduler.modify_job(job_id, next_run_time=when)

    async def _record_next_poll(self, url: str) -> None:
        job = self.scheduler.get_job(f"poll:{url}")
        if job is not None and job.next_run_time is not None:
            await self.store.set_next_poll(url, job.next_run_time)

    # --- digests ---------------------------------------------------------------------------

    def schedule_digest(self, row: DestinationRow) -> None:
        job_id = f"digest:{row.key}"
        trigger = parse_schedule(row.schedule).to_trigger(row.timezone)
        if not row.active or trigger is None:  # instant: sent after each poll instead
            self._remove_job(job_id)
            return
        self.scheduler.add_job(
            self.digest_job,
            trigger,
            args=[row.key],
            id=job_id,
            name=f"digest {row.key}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )

    def _remove_job(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    @job("digest")
    async def digest_job(self, key: str) -> None:
        row = await self.store.destination(key)
        if row is not None and row.active and await self.coordination.claim_tick(row):
            await self.send_digest(row)

    async def deliver_instant(self) -> None:
        for row in await self.store.destinations():
            if row.schedule == "instant":
                await self.send_digest(row)

    async def send_digest(self, row: DestinationRow, *, even_if_empty: bool = False) -> int:
        """Queue this destination's digest; returns the number of stories in it."""
        renderer = self.renderers.get(row.platform)
        if renderer is None:
            log.warning("no renderer for %s; %s skipped", row.platform, row.key)
            return 0
        lock = self._digest_locks.setdefault(row.key, asyncio.Lock())
        async with lock:  # two polls finishing together must not queue the same items twice
            stories: int | None = None
            for _attempt in range(3):
                try:
                    stories = await self._queue_digest(row, renderer, even_if_empty)
                    break
                except DigestConflict as exc:  # several workers: another queued some first
                    log.info("digest for %s: %s; building it again", row.key, exc)
        if stories is None:
            return 0
        self.sender.wake.set()
        log.info("digest for %s: %d stories queued", row.key, stories)
        return stories

    async def _queue_digest(
        self, row: DestinationRow, renderer: Renderer, even_if_empty: bool
    ) -> int | None:
        """Build the digest and queue its messages; its story count, None if nothing queued."""
        candidates = await self.store.undelivered(row, self.config.settings.backfill)
        if not candidates and not even_if_empty:
            return None  # the usual case between stories: nothing to group or render
        digest, settled = await self._digest_for(row, candidates)
        now = self.clock()
        if not digest.stories and not even_if_empty:
            if settled:  # copies of articles it already has: never offer them again
                await self.store.mark_delivered(row.key, settled, now, touch=False)
            return None
        pks = [pk for story in digest.stories for pk in story.item_pks] + settled
        if digest.stories and self.cards_on(row):
            return await self._queue_cards(row, digest, pks, now)
        await self.store.enqueue_digest(row.key, renderer(digest), pks, now, uuid.uuid4().hex)
        self.metrics.digests_built.inc()
        return len(digest.stories)

    def _build_digest(
        self,
        candidates: list[MatchedItem],
        *,
        delivered: list[MatchedItem],
        item_vectors: ItemVectors | None,
        **options: Any,
    ) -> Digest:
        """In a worker thread: the vectors of every item involved (only those neither memory
        nor the database had are computed), then the digest."""
        from policywire.curate.digest import build_digest

        found = item_vectors.for_items([*delivered, *candidates]) if item_vectors else None
        return build_digest(candidates, delivered=delivered, vectors=found, **options)

    async def _digest_with_vectors(
        self, candidates: list[MatchedItem], *, delivered: list[MatchedItem], **options: Any
    ) -> Digest:
        """Stored vectors read back on the loop, the digest built in a thread, the vectors it
        computed stored on the loop (see curate/embedders/vectors.py)."""
        # One model for the whole digest; built in the thread, as the first one imports numpy.
        item_vectors = await asyncio.to_thread(self._item_vectors)
        if item_vectors is not None:
            from policywire.curate.embedders.vectors import load_stored

            await load_stored(item_vectors, self.store, [*delivered, *candidates])
        # Embedding and grouping thousands of candidates is CPU work: off the event loop.
        digest = await asyncio.to_thread(
            self._build_digest,
            candidates,
            delivered=delivered,
            item_vectors=item_vectors,
            **options,
        )
        if item_vectors is not None:
            from policywire.curate.embedders.vectors import save_computed

            await save_computed(item_vectors, self.store)
        return digest

    def _item_vectors(self) -> ItemVectors | None:
        """The vectors of `settings.embedding` (None: names only), rebuilt when it changes."""
        settings = self.config.settings.embedding
        if settings != self._vectors_settings:
            from policywire.curate.embedders.factory import make_embedder
            from policywire.curate.embedders.vectors import ItemVectors

            embedder = make_embedder(settings, os.environ)
            self._vectors = ItemVectors(embedder) if embedder else None
            self._vectors_settings = settings
        return self._vectors

    async def _digest_for(
        self, row: DestinationRow, candidates: list[MatchedItem]
    ) -> tuple[Digest, list[int]]:
        """The digest, and the candidates it settles without showing (copies already sent)."""
        settings = self.config.settings
        delivered = await self.store.delivered_items(row, self.clock() - settings.story_window)
        topics = self.config.topics
        max_stories = next(
            (d.max_stories for d in self.config.destinations if d.key == row.key),
            settings.max_stories,
        )
        digest = await self._digest_with_vectors(
            candidates,
            destination=row.key,
            language=row.language,
            topics=[topics[t].display_name(row.language) for t in row.topics if t in topics],
            max_stories=max_stories,
            now=self.clock(),
            timezone=row.timezone,
            delivered=delivered,
            window=settings.story_window,
            primary_feeds=frozenset(feed.url for feed in self.config.feeds if feed.primary),
        )
        digest = await self._summarized(digest)
        old_links = {m.item.link for m in delivered}
        shown = {pk for story in digest.stories for pk in story.item_pks}
        settled = [
            m.pk
            for m in candidates
            if m.pk is not None and m.pk not in shown and m.item.link in old_links
        ]
        return digest, settled

    async def _summarized(self, digest: Digest) -> Digest:
        """The model's headlines and summaries when `settings.summarizer` names one; bounded by
        its budget, and the digest as it was on any failure (curate/summary_digest.py)."""
        settings = self.config.settings.summarizer
        if settings.backend == "none" or not digest.stories:
            return digest
        from policywire.curate.summary_digest import summarizer_for

        self._summarizer = summarizer_for(settings, os.environ, self._summarizer)
        return await self._summarizer.apply(digest)

    async def _on_subscription(self, row: DestinationRow, is_new: bool) -> None:
        self.schedule_digest(row)
        if is_new and row.active and not self.first_poll.wait(row.key):
            await self.send_digest(row)  # the backfill window at once, not an empty wait

    # --- housekeeping ----------------------------------------------------------------------

    # --- story cards (docs/cards.md) -------------------------------------------------------

    def cards_on(self, row: DestinationRow) -> bool:
        """Instant destinations on a platform that edits messages get story cards, unless
        feeds.yaml says `cards: false`."""
        if row.schedule != "instant" or row.platform not in CARD_PLATFORMS:
            return False
        configured = next((d for d in self.config.destinations if d.key == row.key), None)
        return configured.cards if configured is not None else True

    async def _queue_cards(
        self, row: DestinationRow, digest: Digest, pks: list[int], now: datetime
    ) -> int:
        """Each story a card: a new one is posted, one already posted grows by a paced edit,
        one muted there ("not relevant") takes its articles silently."""
        from policywire.storage.stories import NewCard

        groups = [
            {m.pk for m in (*s.members, *s.copies, *s.context) if m.pk is not None}
            for s in digest.stories
        ]
        ids = await self.store.assign_stories(groups, now)
        cards = await self.store.cards_of(row.key)
        new: dict[int, NewCard] = {}
        grown: set[int] = set()
        for story, story_id in zip(digest.stories, ids, strict=True):
            if story_id in cards or story_id in new:
                grown.add(story_id)  # (a muted card takes no edit: the store knows)
                continue
            shown = tuple(m.pk for m in story.members if m.pk is not None)
            new[story_id] = NewCard(story_id, self._card_payload(row, story, story_id), shown)
        interval = self.config.settings.card_edit_interval
        digest_id = uuid.uuid4().hex
        await self.store.enqueue_cards(
            row.key, list(new.values()), grown, pks, now, digest_id, interval
        )
        self.metrics.digests_built.inc()
        await self.flush_card_edits(row.key)
        return len(new) + len(grown)

    def _card_payload(self, row: DestinationRow, story: Story, story_id: int) -> dict[str, Any]:
        from policywire.deliver.render import card_view, view_card

        card, _reply, buttons = _card_renderers(row.platform)
        updated = None if len(story.members) < 2 else _newest(story.members)
        view = view_card(story, row.language, row.timezone, updated)
        return card(view, card_view(row.language), story_id, buttons)

    @job("card-edits")
    async def card_edits_job(self) -> None:
        if await self.flush_card_edits():
            self.sender.wake.set()

    async def flush_card_edits(self, destination: str | None = None) -> int:
        """Queue every story card edit that is due (of one destination, or all): the card
        rendered again from everything its story holds there now."""
        queued = 0
        now = self.clock()
        for edit in await self.store.due_card_edits(now, destination):
            row = await self.store.destination(edit.destination)
            if row is None or not row.active or row.platform not in CARD_PLATFORMS:
                continue
            members = await self.store.card_members(edit.destination, edit.story_id)
            payload, shown = self._edit_payload(row, edit, members)
            key = f"card/{edit.story_id}/{uuid.uuid4().hex}"
            if await self.store.queue_card_edit(edit, payload, shown, now, key):
                queued += payload is not None
        if queued:
            log.info("story cards: %d edits queued", queued)
            self.sender.wake.set()
        return queued

    def _edit_payload(
        self, row: DestinationRow, edit: DueEdit, members: list[MatchedItem]
    ) -> tuple[dict[str, Any] | None, list[int]]:
        from policywire.curate.ranking import primary_first
        from policywire.curate.stories import StoryGroup, merge_same_link, story_from_group
        from policywire.deliver.render import card_view, reading_link, view_card

        shown = sorted(m.pk for m in members if m.pk is not None)
        if not members or shown == sorted(edit.shown):
            return None, shown  # nothing joined or left since the card was last rendered
        group = StoryGroup(tuple(merge_same_link(members)))
        story = story_from_group(group, row.language)
        primary = frozenset(feed.url for feed in self.config.feeds if feed.primary)
        story = primary_first(story, primary, row.language)
        card, reply, buttons = _card_renderers(row.platform)
        updated = _newest(members) if len(story.members) > 1 else None
        view = card_view(row.language)
        fresh = [reading_link(m) for m in members if m.pk not in edit.shown]
        payload = {
            "edit": {
                "message": edit.message_id,
                "sent_at": edit.sent_at.isoformat(),
                "card": card(
                    view_card(story, row.language, row.timezone, updated),
                    view,
                    edit.story_id,
                    buttons,
                ),
                "reply": reply(fresh, view, edit.message_id) if fresh else None,
            }
        }
        return payload, shown

    @job("housekeeping")
    async def housekeeping(self) -> None:
        cutoff = self.clock() - self.config.settings.retention
        removed = await self.store.prune(cutoff)
        if removed:
            log.info("housekeeping: forgot %d items older than %s", removed, cutoff.date())


# Platforms whose messages are edited in place: their instant destinations get story cards.
CARD_PLATFORMS = ("telegram", "discord", "discord_webhook")
CARD_EDIT_CHECK = 30.0  # seconds between two looks for story card edits that fell due

CardRenderer = Callable[[Any, Any, int, bool], dict[str, Any]]
ReplyRenderer = Callable[[Any, Any, str], dict[str, Any]]


def _card_renderers(platform: str) -> tuple[CardRenderer, ReplyRenderer, bool]:
    """A platform's card and reply renderers, and whether its cards carry buttons (a webhook
    no application owns cannot: nobody would receive the press)."""
    if platform == "telegram":
        from policywire.deliver import telegram_html

        return telegram_html.card_payload, telegram_html.reply_payload, True
    from policywire.deliver import discord_embeds

    return discord_embeds.card_payload, discord_embeds.reply_payload, platform == "discord"


def _newest(members: Iterable[MatchedItem]) -> datetime:
    """When a card's newest article joined: first seen by us, or published."""
    return max(m.first_seen or m.item.published for m in members)
