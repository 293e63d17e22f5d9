"""Group commit: writes that arrive while a transaction runs share the next one.

A thousand feeds answering 304 within a second would otherwise be a thousand transactions,
each a round trip to SQLite's single writer. Here each caller still waits until *its* write is
committed and gets its own result, but the writes queued meanwhile go to the database together.
No timer is involved: a write that finds the committer idle is committed at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

W = TypeVar("W")
R = TypeVar("R")

BatchWriter = Callable[[Sequence[W]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[W, R]):
    """Commits queued writes in batches with `write_batch`, one result per write.

    `weight` sizes a write (e.g. its item count); a batch stops growing past `max_weight`, so a
    cold start does not become one huge transaction holding the writer for seconds. When a batch
    fails, each of its writes is retried alone: one bad row costs its own write, not its
    neighbours'. Each caller gets its own error back; none is left waiting.
    """

    def __init__(
        self,
        write_batch: BatchWriter[W, R],
        *,
        weight: Callable[[W], int] = lambda _write: 1,
        max_weight: int = 1000,
    ) -> None:
        self._write_batch = write_batch
        self._weight = weight
        self._max_weight = max_weight
        self._queue: list[tuple[W, asyncio.Future[R]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, write: W) -> R:
        """Queue `write`; returns its result once it is committed (or raises its error)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((write, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued(), name="group-commit")
        return await done

    async def drain(self) -> None:
        """Wait until every write queued so far is committed (or has failed)."""
        while self._committer is not None and not self._committer.done():
            await asyncio.wait([self._committer])

    async def _commit_queued(self) -> None:
        batch: list[tuple[W, asyncio.Future[R]]] = []
        try:
            while self._queue:
                batch = self._take_batch()
                await self._commit(batch)
        except asyncio.CancelledError:
            for _, done in (*batch, *self._queue):
                done.cancel()  # shutting down: nobody waits forever (a no-op once settled)
            self._queue.clear()
            raise

    async def _commit(self, batch: list[tuple[W, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write_batch([write for write, _ in batch])
        except Exception as exc:  # a caller must never wait forever
            await self._one_by_one(batch, exc)
            return
        for (_, done), result in zip(batch, results, strict=True):
            _settle(done, result)

    def _take_batch(self) -> list[tuple[W, asyncio.Future[R]]]:
        """The oldest queued writes, up to `max_weight` (at least one)."""
        taken, size = 0, 0
        for write, _ in self._queue:
            weight = self._weight(write)
            if taken and size + weight > self._max_weight:
                break
            taken += 1
            size += weight
        batch = self._queue[:taken]
        del self._queue[:taken]
        return batch

    async def _one_by_one(self, batch: list[tuple[W, asyncio.Future[R]]], exc: Exception) -> None:
        if len(batch) == 1:
            _settle(batch[0][1], exc)
            return
        log.warning("a batch of %d writes failed (%s); writing them one by one", len(batch), exc)
        for write, done in batch:
            try:
                (result,) = await self._write_batch([write])
            except Exception as single:  # it is this write's result
                _settle(done, single)
            else:
                _settle(done, result)


def _settle(done: asyncio.Future[R], outcome: R | Exception) -> None:
    if done.done():  # its caller was cancelled; the write itself still happened
        return
    if isinstance(outcome, Exception):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
