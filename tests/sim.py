"""Virtual time for the service's jobs: run a day of scheduling in a second.

The service registers its jobs with APScheduler as in production (`Service.prepare`); instead
of the scheduler's own wall-clock loop, `VirtualDay` fires them in order of their next fire
time, moving a virtual clock that the service reads for everything (polls, digests, sends).
Only public APScheduler calls are used: `get_jobs`, `modify_job`, `trigger.get_next_fire_time`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from policywire.service import Service


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass(order=True)
class Event:
    when: datetime
    name: str
    action: Callable[[], None] = field(compare=False)


class VirtualDay:
    def __init__(self, service: Service, clock: VirtualClock) -> None:
        self.service = service
        self.clock = clock
        self.fired: list[tuple[datetime, str]] = []

    async def run_until(
        self,
        until: datetime,
        events: list[Event] | None = None,
        after_step: Callable[[datetime], Any] | None = None,
    ) -> None:
        pending = sorted(events or [])
        while True:
            job_id, when = self._next_job()
            if pending and (when is None or pending[0].when <= when) and pending[0].when <= until:
                event = pending.pop(0)
                self.clock.now = event.when
                event.action()
                continue
            if when is None or when > until:
                break
            self.clock.now = when
            job = self.service.scheduler.get_job(job_id)
            assert job is not None
            await job.func(*job.args, **job.kwargs)
            self.fired.append((when, job_id))
            self._advance(job_id, when)
            await self.service.drain_outbox(deadline=5)
            if after_step is not None:
                await after_step(when)
        self.clock.now = until

    def _next_job(self) -> tuple[str, datetime | None]:
        best: tuple[str, datetime | None] = ("", None)
        for job in self.service.scheduler.get_jobs():
            when = getattr(job, "next_run_time", None)
            if when is None:
                when = job.trigger.get_next_fire_time(None, self.clock.now)
                if when is None:
                    continue
                self.service.scheduler.modify_job(job.id, next_run_time=when)
            if best[1] is None or when < best[1]:
                best = (job.id, when)
        return best

    def _advance(self, job_id: str, fired_at: datetime) -> None:
        job = self.service.scheduler.get_job(job_id)
        if job is None or job.next_run_time != fired_at:
            return  # removed, or the job rescheduled itself (a failing feed's backoff)
        following = job.trigger.get_next_fire_time(fired_at, self.clock.now)
        if following is None:
            self.service.scheduler.remove_job(job_id)
        else:
            self.service.scheduler.modify_job(job_id, next_run_time=following)
