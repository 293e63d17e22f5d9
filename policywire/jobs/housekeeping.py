"""The housekeeping job, and the watch on the database file: keeping the store healthy.

Apart from policywire/service.py, which composes it: old items are forgotten every few hours,
and a deleted database file stops the service within seconds even when nothing writes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from policywire.errors import DatabaseGone
from policywire.ops.supervise import job

if TYPE_CHECKING:
    from policywire.service import Service

log = logging.getLogger("policywire.service")  # the service's log lines keep their name


class Housekeeping:
    """Prunes `service`'s store and watches its database file."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.in_flight = service.in_flight

    @job("housekeeping")
    async def prune(self) -> None:
        cutoff = self.service.clock() - self.service.config.settings.retention
        removed = await self.service.store.prune(cutoff)
        if removed:
            log.info("housekeeping: forgot %d items older than %s", removed, cutoff.date())

    async def watch_database(self, every: float = 2.0) -> None:
        """Notice a deleted database file within seconds even when nothing writes."""
        service = self.service
        while not service.failed.is_set():
            try:
                service.store.check_database_file()
            except DatabaseGone as exc:
                service.fail(exc)
                return
            await asyncio.sleep(every)
