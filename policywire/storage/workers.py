"""Workers: the processes sharing one database, their heartbeats and config versions.

A worker's row is written when it starts, touched by each heartbeat (with the version of the
feeds.yaml it runs) and deleted when it stops cleanly; a killed worker's row stays until its
heartbeat is old enough to forget (`forget_workers`), and `status` shows it as gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from policywire.storage.base import StoreBase
from policywire.storage.schema import workers_table


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    config_version: str


class WorkersMixin(StoreBase):
    """The `workers` table (see the module doc)."""

    async def register_worker(self, worker: WorkerRow) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(delete(workers_table).where(workers_table.c.id == worker.id))
            await conn.execute(
                insert(workers_table).values(
                    id=worker.id,
                    host=worker.host,
                    pid=worker.pid,
                    started_at=worker.started_at,
                    heartbeat_at=worker.heartbeat_at,
                    config_version=worker.config_version,
                )
            )

    async def heartbeat(self, worker: str, now: datetime, config_version: str) -> bool:
        """Touch this worker's row; False when it is gone (forgotten after a long pause)."""
        async with self._tx(write=True) as conn:
            result = await conn.execute(
                update(workers_table)
                .where(workers_table.c.id == worker)
                .values(heartbeat_at=now, config_version=config_version)
            )
        return bool(result.rowcount)

    async def unregister_worker(self, worker: str) -> None:
        async with self._tx(write=True) as conn:
            await conn.execute(delete(workers_table).where(workers_table.c.id == worker))

    async def workers(self) -> list[WorkerRow]:
        """Every registered worker, oldest first."""
        query = select(workers_table).order_by(workers_table.c.started_at, workers_table.c.id)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [
            WorkerRow(r.id, r.host, int(r.pid), r.started_at, r.heartbeat_at, r.config_version)
            for r in rows
        ]

    async def forget_workers(self, silent_since: datetime) -> int:
        """Delete the rows of workers whose last heartbeat is older than `silent_since`."""
        async with self._tx(write=True) as conn:
            result = await conn.execute(
                delete(workers_table).where(workers_table.c.heartbeat_at < silent_since)
            )
        return int(result.rowcount or 0)
