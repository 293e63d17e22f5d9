"""The poll job: one per feed, on its interval, with back-pressure and a failing feed's backoff.

Apart from policywire/service.py, which composes it: a poll's claim among workers, its
retry after an error and what it sets off afterwards (first-poll digests, instant digests).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

from policywire.config.model import FeedConfig
from policywire.ingest.fetch import next_delay
from policywire.jobs.scheduling import reschedule
from policywire.ops.supervise import job
from policywire.pipeline import PollOutcome, PollStatus, poll_into_store
from policywire.storage.store import FeedState

if TYPE_CHECKING:
    from policywire.service import Service


class Polling:
    """Schedules and runs the polls of `service`'s feeds (at most `concurrency` at once)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.in_flight = service.in_flight
        self._poll_locks: dict[str, asyncio.Lock] = {}
        self._poll_slots = asyncio.Semaphore(service.config.settings.concurrency)

    def running(self) -> bool:
        """Whether polls run now (a paused or stopped scheduler starts none)."""
        return bool(self.service.scheduler.state == STATE_RUNNING)

    def schedule(self, feed: FeedConfig) -> None:
        seconds = feed.interval.total_seconds()
        service = self.service
        service.scheduler.add_job(
            self.poll_job,
            IntervalTrigger(seconds=seconds, jitter=min(60.0, seconds * 0.1)),
            args=[feed.url],
            id=f"poll:{feed.url}",
            name=f"poll {feed.name}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=service.clock() + timedelta(seconds=service.rng.uniform(0, 2)),
        )

    @job("poll")
    async def poll_job(self, url: str) -> None:
        service = self.service
        feed = next((f for f in service.config.feeds if f.url == url), None)
        if feed is None:
            return
        # One poll of a feed at a time, however it was started (scheduler, --once, a test).
        async with self._poll_locks.setdefault(url, asyncio.Lock()):
            try:
                claim = await service.coordination.claim_poll(feed)
                # Not won: another worker polled it within its interval, its items are stored.
                outcome = await self.bounded_poll(feed, claim.state) if claim.won else None
            finally:
                waiting = service.first_poll.polled(url)
        if outcome is not None and outcome.status is PollStatus.ERROR:
            state = await service.store.feed_state(url)
            delay = next_delay(feed.interval.total_seconds(), state.failures, outcome.retry_after)
            retry = service.clock() + timedelta(seconds=delay)
            reschedule(service.scheduler, f"poll:{url}", retry)
            await service.coordination.hold_feed(url, retry)  # the other workers back off too
        if outcome is not None:
            await self._record_next_poll(url)
        if waiting:
            await self._send_after_first_poll(waiting)
        if outcome is not None and outcome.status is PollStatus.NEW and outcome.hits:
            await service.digests.deliver_instant()

    async def _send_after_first_poll(self, keys: list[str]) -> None:
        """The chats told "your stories follow in a moment" get their digest, even an empty
        one: it answers them either way."""
        for key in keys:
            row = await self.service.store.destination(key)
            if row is not None and row.active and row.topics:
                await self.service.digests.send_digest(row, even_if_empty=True)

    async def bounded_poll(self, feed: FeedConfig, state: FeedState | None = None) -> PollOutcome:
        """Back-pressure: at most `concurrency` polls hold a body or parsed items at once, so
        10,000 feeds due together queue as tasks, not as megabytes waiting for the parser."""
        service = self.service
        async with self._poll_slots:
            outcome = await poll_into_store(service.poller, service.store, feed, state)
        service.metrics.poll(outcome.status.value, outcome.error)
        service.metrics.items_matched.inc(outcome.new_matching)
        return outcome

    async def poll_quietly(self, feed: FeedConfig, state: FeedState) -> PollStatus:
        return (await self.bounded_poll(feed, state)).status  # its items are not kept

    async def _record_next_poll(self, url: str) -> None:
        job = self.service.scheduler.get_job(f"poll:{url}")
        if job is not None and job.next_run_time is not None:
            await self.service.store.set_next_poll(url, job.next_run_time)
