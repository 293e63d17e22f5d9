"""APScheduler helpers the service's jobs share: changing a job that may be gone already.

Apart because polls, digests and the config reload all remove or move jobs by id.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler


def remove_job(scheduler: BaseScheduler, job_id: str) -> None:
    with contextlib.suppress(JobLookupError):
        scheduler.remove_job(job_id)


def reschedule(scheduler: BaseScheduler, job_id: str, when: datetime) -> None:
    with contextlib.suppress(JobLookupError):  # the feed was removed meanwhile
        scheduler.modify_job(job_id, next_run_time=when)
