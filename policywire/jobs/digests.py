"""The digest job: one per scheduled destination, and the instant digests after each poll.

Apart from policywire/service.py, which composes it: choosing a destination's stories
(grouping with vectors in a worker thread, the optional summarizer) and queueing the digest's
messages in the outbox, once even when several polls or workers finish together.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger

from policywire.config.durations import parse_schedule
from policywire.deliver.payloads import Renderer
from policywire.jobs.scheduling import remove_job
from policywire.models import Digest, MatchedItem
from policywire.ops.supervise import job
from policywire.storage.leases import DigestConflict
from policywire.storage.store import DestinationRow

if TYPE_CHECKING:
    from policywire.config.model import EmbeddingSettings
    from policywire.curate.embedders.vectors import ItemVectors
    from policywire.curate.summary_digest import DigestSummarizer
    from policywire.service import Service

log = logging.getLogger("policywire.service")  # the service's log lines keep their name

# Seconds between two sweeps of the instant destinations (at most: never slower than the
# default poll interval). See Digests.sweep_instant.
INSTANT_SWEEP = 60.0


class Digests:
    """Builds and queues the digests of `service`'s destinations."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.in_flight = service.in_flight
        self._vectors: ItemVectors | None = None
        self._vectors_settings: EmbeddingSettings | None = None
        self._summarizer: DigestSummarizer | None = None  # kept across digests: its cache
        self._digest_locks: dict[str, asyncio.Lock] = {}

    def schedule(self, row: DestinationRow) -> None:
        job_id = f"digest:{row.key}"
        trigger = parse_schedule(row.schedule).to_trigger(row.timezone)
        if not row.active or trigger is None:  # instant: sent after each poll instead
            remove_job(self.service.scheduler, job_id)
            return
        self.service.scheduler.add_job(
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

    @job("digest")
    async def digest_job(self, key: str) -> None:
        row = await self.service.store.destination(key)
        if row is not None and row.active and await self.service.coordination.claim_tick(row):
            await self.send_digest(row)

    async def deliver_instant(self) -> None:
        for row in await self.service.store.destinations():
            if row.schedule == "instant":
                await self.send_digest(row)

    def schedule_sweep(self) -> None:
        """Instant destinations are served right after a poll that stored something new; the
        sweep catches what such a delivery left behind: a worker killed between storing the
        items and queueing them, or a digest that lost its race with other workers three
        times. Stored items are never left waiting for the next news."""
        every = min(INSTANT_SWEEP, self.service.config.settings.poll_interval.total_seconds())
        self.service.scheduler.add_job(
            self.sweep_instant,
            IntervalTrigger(seconds=every),
            id="instant-sweep",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )

    @job("instant sweep")
    async def sweep_instant(self) -> None:
        await self.deliver_instant()

    async def on_subscription(self, row: DestinationRow, is_new: bool) -> None:
        self.schedule(row)
        if is_new and row.active and not self.service.first_poll.wait(row.key):
            await self.send_digest(row)  # the backfill window at once, not an empty wait

    async def send_digest(self, row: DestinationRow, *, even_if_empty: bool = False) -> int:
        """Queue this destination's digest; returns the number of stories in it."""
        renderer = self.service.renderers.get(row.platform)
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
        self.service.sender.wake.set()
        log.info("digest for %s: %d stories queued", row.key, stories)
        return stories

    async def _queue_digest(
        self, row: DestinationRow, renderer: Renderer, even_if_empty: bool
    ) -> int | None:
        """Build the digest and queue its messages; its story count, None if nothing queued."""
        service = self.service
        candidates = await service.store.undelivered(row, service.config.settings.backfill)
        if not candidates and not even_if_empty:
            return None  # the usual case between stories: nothing to group or render
        digest, settled = await self._digest_for(row, candidates)
        now = service.clock()
        if not digest.stories and not even_if_empty:
            if settled:  # copies of articles it already has: never offer them again
                await service.store.mark_delivered(row.key, settled, now, touch=False)
            return None
        pks = [pk for story in digest.stories for pk in story.item_pks] + settled
        if digest.stories and service.cards.enabled_for(row):
            return await service.cards.queue(row, digest, pks, now)
        await service.store.enqueue_digest(row.key, renderer(digest), pks, now, uuid.uuid4().hex)
        service.metrics.digests_built.inc()
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
        # A chat is sent the stories, never their reasons: grouping skips writing them.
        return build_digest(
            candidates, delivered=delivered, vectors=found, explain=False, **options
        )

    async def _digest_with_vectors(
        self, candidates: list[MatchedItem], *, delivered: list[MatchedItem], **options: Any
    ) -> Digest:
        """Stored vectors read back on the loop, the digest built in a thread, the vectors it
        computed stored on the loop (see curate/embedders/vectors.py)."""
        # One model for the whole digest; built in the thread, as the first one imports numpy.
        # Asked of the service: a subclass may bring its own model (tests/test_vectors_store.py).
        item_vectors = await asyncio.to_thread(self.service._item_vectors)
        if item_vectors is not None:
            from policywire.curate.embedders.vectors import load_stored

            await load_stored(item_vectors, self.service.store, [*delivered, *candidates])
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

            await save_computed(item_vectors, self.service.store)
        return digest

    def item_vectors(self) -> ItemVectors | None:
        """The vectors of `settings.embedding` (None: names only), rebuilt when it changes."""
        settings = self.service.config.settings.embedding
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
        service = self.service
        settings = service.config.settings
        delivered = await service.store.delivered_items(
            row, service.clock() - settings.story_window
        )
        config = service.config  # read again after the wait, as a reload may have replaced it
        topics = config.topics
        max_stories = next(
            (d.max_stories for d in config.destinations if d.key == row.key),
            settings.max_stories,
        )
        digest = await self._digest_with_vectors(
            candidates,
            destination=row.key,
            language=row.language,
            topics=[topics[t].display_name(row.language) for t in row.topics if t in topics],
            max_stories=max_stories,
            now=service.clock(),
            timezone=row.timezone,
            delivered=delivered,
            window=settings.story_window,
            primary_feeds=frozenset(feed.url for feed in config.feeds if feed.primary),
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
        settings = self.service.config.settings.summarizer
        if settings.backend == "none" or not digest.stories:
            return digest
        from policywire.curate.summary_digest import summarizer_for

        self._summarizer = summarizer_for(settings, os.environ, self._summarizer)
        return await self._summarizer.apply(digest)
