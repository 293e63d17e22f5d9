"""The running service's jobs: poll feeds, build digests into the outbox, keep house.

One APScheduler `AsyncIOScheduler` on the caller's event loop drives everything. Chat
platforms come in as `Transport`s (for sending) and call `Subscriptions` (for commands);
this module imports no chat library.

`Service` owns the shared parts (scheduler, poller, sender, coordination) and the lifecycle
(start, stop, one `--once` round); the jobs themselves live in policywire/jobs/, one module
per job, each holding a reference back to the service.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from policywire.chat.feedback import Feedback
from policywire.chat.subscriptions import Defaults, FirstPoll, Subscriptions
from policywire.config.model import Config
from policywire.coordination.workers import Coordination, coordination_for
from policywire.deliver.payloads import RENDERERS, Renderer
from policywire.deliver.sender import Sender, Transport
from policywire.errors import DatabaseGone, PolicywireError
from policywire.jobs.cards import CARD_EDIT_CHECK as CARD_EDIT_CHECK
from policywire.jobs.cards import CARD_PLATFORMS as CARD_PLATFORMS
from policywire.jobs.cards import Cards
from policywire.jobs.config_reload import ConfigReload
from policywire.jobs.config_reload import destination_row as destination_row
from policywire.jobs.digests import Digests
from policywire.jobs.housekeeping import Housekeeping
from policywire.jobs.polling import Polling
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.ops.metrics import Metrics, OutboxSnapshot
from policywire.ops.supervise import InFlight
from policywire.pipeline import Poller, PollStatus, fetcher_for, parse_pool_for
from policywire.status import RoundReport
from policywire.storage.store import DestinationRow, Store

if TYPE_CHECKING:
    from policywire.curate.embedders.vectors import ItemVectors

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


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
        # Set when the service cannot go on (the database file vanished): `run` then stops
        # and exits non-zero with `failure` as its one line.
        self.failed = asyncio.Event()
        self.failure: PolicywireError | None = None
        self.in_flight = InFlight(
            checks=(store.check_database_file,), fatal=(DatabaseGone,), on_fatal=self.fail
        )
        self.polling = Polling(self)
        self.digests = Digests(self)
        self.cards = Cards(self)
        self.config_reload = ConfigReload(self)
        self.housekeeping = Housekeeping(self)
        # Chats that subscribe or ask for a digest before every feed was polled once since
        # the start get their digest when that first round ends (issue 14).
        self.first_poll = FirstPoll(
            (feed.url for feed in config.feeds), active=self.polling.running
        )
        self.subscriptions = Subscriptions(
            store, self._defaults, clock, self.digests.on_subscription, first_poll=self.first_poll
        )
        # What a story card's buttons do (chat/feedback.py); a split edits the card at once.
        self.feedback = Feedback(store, clock, self.flush_card_edits)
        self.fetcher = fetcher_for(config.settings)
        self.parser = parse_pool_for(config.settings, parse_workers, config.topic_rules().values())
        self.poller = Poller(self.fetcher, self.parser, clock)
        self._sender_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None

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

    def _defaults(self) -> Defaults:
        settings = self.config.settings
        topics = {topic_id: topic.name for topic_id, topic in self.config.topics.items()}
        localized = {
            language: {t: topic.display_name(language) for t, topic in self.config.topics.items()}
            for language in SUPPORTED_LANGUAGES
        }
        return Defaults(topics, settings.language, settings.timezone, localized)

    # --- the jobs (policywire/jobs/), by the names the bots, the CLI and the tests use -------

    async def poll_job(self, url: str) -> None:
        """Poll one feed now, as its scheduled job does (jobs/polling.py)."""
        await self.polling.poll_job(url)

    async def digest_job(self, key: str) -> None:
        """One destination's scheduled digest, as its job runs it (jobs/digests.py)."""
        await self.digests.digest_job(key)

    async def send_digest(self, row: DestinationRow, *, even_if_empty: bool = False) -> int:
        """Queue this destination's digest; returns the number of stories in it."""
        return await self.digests.send_digest(row, even_if_empty=even_if_empty)

    async def flush_card_edits(self, destination: str | None = None) -> int:
        """Queue every story card edit that is due, of one destination or all (jobs/cards.py)."""
        return await self.cards.flush_edits(destination)

    async def reload_if_changed(self) -> bool | None:
        """Apply an edited config file; a broken edit is refused and the running one stays."""
        return await self.config_reload.reload_if_changed()

    async def apply_config(self, new: Config) -> None:
        """Run on `new` from now on (jobs/config_reload.py)."""
        await self.config_reload.apply_config(new)

    def _item_vectors(self) -> ItemVectors | None:
        """The vectors of `settings.embedding` (None: names only), rebuilt when it changes;
        what a digest groups with (jobs/digests.py), overridable here."""
        return self.digests.item_vectors()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Register every job, then run the scheduler and the sender in this event loop."""
        await self.prepare()
        await self.coordination.start(lambda: self.config)
        freeze_startup_heap()
        self.scheduler.start()
        self._sender_task = asyncio.create_task(self.sender.run(), name="policywire-sender")
        self._sender_task.add_done_callback(self._sender_ended)
        self._watch_task = asyncio.create_task(
            self.housekeeping.watch_database(), name="database-watch"
        )
        log.info(
            "running: %d feeds, %d destinations",
            len(self.config.feeds),
            len(await self.store.destinations()),
        )

    async def prepare(self) -> None:
        """Open the fetcher and register the jobs without running them (tests drive time)."""
        await self.fetcher.__aenter__()
        await self.config_reload.sync_destinations()
        await self.config_reload.follow_topic_changes(None)
        # One query for every feed's state now, instead of one per feed at its first poll.
        await self.store.feed_states([feed.url for feed in self.config.feeds])
        for feed in self.config.feeds:
            self.polling.schedule(feed)
        for row in await self.store.destinations():
            self.digests.schedule(row)
        self.digests.schedule_sweep()
        self.scheduler.add_job(
            self.housekeeping.prune, IntervalTrigger(hours=6), id="housekeeping", coalesce=True
        )
        # Story cards whose paced edit fell due (docs/cards.md).
        self.scheduler.add_job(
            self.cards.edits_job,
            IntervalTrigger(seconds=CARD_EDIT_CHECK),
            id="card-edits",
            coalesce=True,
            max_instances=1,
        )
        if self.config_loader is not None:
            self.scheduler.add_job(
                self.config_reload.reload_if_changed,
                IntervalTrigger(seconds=self.reload_every),
                id="config-watch",
                coalesce=True,
                max_instances=1,
            )

    def _sender_ended(self, task: asyncio.Task[None]) -> None:
        """The sender only ends by itself on an error it cannot go on after: stop with it."""
        if not task.cancelled() and (error := task.exception()) is not None:
            self.fail(error if isinstance(error, Exception) else PolicywireError(str(error)))

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
        await self.config_reload.sync_destinations()
        await self.coordination.start(lambda: self.config)  # every feed is polled, though
        freeze_startup_heap()
        feeds = self.config.feeds
        states = await self.store.feed_states([feed.url for feed in feeds])  # one query
        polls = await asyncio.gather(
            *(self.polling.poll_quietly(feed, states[feed.url]) for feed in feeds)
        )
        for row in await self.store.destinations():
            await self.digests.send_digest(row)
        await self.cards.flush_edits()  # edits that fell due since the last round, too
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
