"""Keeping the service's parts alive, and stopping them quietly.

`Supervisor` runs one chat platform client (the Telegram bot, the Discord bot, the Discord
webhook transport): it starts it, and when the start fails (the platform unreachable, a
token refused) or the client later stops by itself, it tries again with capped exponential
backoff and full jitter, for as long as the service runs. Each change of state (starting, up,
retrying since …, stopped) is one log line and a row `status` reads; the client's transport is
given to the sender only while it is up, so its messages wait in the outbox meanwhile instead
of failing.

`InFlight` tracks the scheduler's jobs while they run, so that a stop cancels them quietly and
says in one line what it cancelled, instead of APScheduler logging each cancellation as a
failed job with a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

from policywire.deliver.sender import Transport
from policywire.errors import StoreError
from policywire.storage.outbox import PlatformState

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Record = Callable[[PlatformState], Awaitable[None]]

FIRST_RETRY = 1.0  # seconds before the second start; doubles per failure (full jitter)
MAX_RETRY = 300.0  # a platform that stays down is tried again every few minutes at most


class Client(Transport, Protocol):
    """A platform client: a Transport that has to be started (and can fail to start)."""

    async def start(self) -> None:
        """Return once the client is up; raise when it cannot start."""
        ...

    async def stop(self) -> None:
        """Release everything; safe after a failed or partial start."""
        ...


@runtime_checkable
class Watchable(Protocol):
    """A client that can stop by itself after starting (Discord's gateway task)."""

    async def wait_closed(self) -> None:
        """Return when the client stopped running without being asked to."""
        ...


def retry_delay(failures: int, rng: random.Random, first: float, cap: float) -> float:
    """Full jitter under first·2^(n-1), capped; never less than half of `first`."""
    ceiling = min(cap, first * 2.0 ** min(failures - 1, 32))
    return max(first / 2, rng.uniform(0, ceiling))


class Supervisor:
    """Keeps one platform client running for the service's lifetime (see the module doc)."""

    def __init__(
        self,
        name: str,
        client: Client,
        *,
        on_up: Callable[[Client], None],
        on_down: Callable[[str], None],
        record: Record,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        first_retry: float = FIRST_RETRY,
        max_retry: float = MAX_RETRY,
    ) -> None:
        self.name = name  # "telegram bot", for log lines
        self.client = client
        self.on_up = on_up
        self.on_down = on_down
        self.record = record
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.state = PlatformState(client.platform, "stopped", clock())
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def platform(self) -> str:
        return self.client.platform

    # --- the two ways to run -----------------------------------------------------------------

    async def start_once(self) -> bool:
        """One attempt, for `run --once`: up, or one line saying why not (no retries)."""
        await self._enter("starting")
        try:
            await self.client.start()
        except Exception as exc:  # any library error: one line; the messages wait
            await self._release()
            await self._enter("stopped", error=_one_line(exc))
            log.error("%s could not start: %s; its messages wait in the outbox", self.name, exc)
            return False
        await self._enter("up")
        self.on_up(self.client)
        return True

    def run(self) -> asyncio.Task[None]:
        """Supervise in a task of this loop until `stop`."""
        self._task = asyncio.create_task(self._supervise(), name=f"supervise {self.name}")
        return self._task

    async def stop(self) -> None:
        """Stop supervising and stop the client (a start in progress is abandoned)."""
        self._stopping.set()
        if self._task is not None:
            if not self._task.done() and self.state.state != "up":
                self._task.cancel()  # a start hanging on an unreachable platform
            await asyncio.gather(self._task, return_exceptions=True)
        if self.state.state == "up":
            self.on_down(self.platform)
        await self._release()
        await self._enter("stopped")

    # --- supervision -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            if failures == 0:
                await self._enter("starting")
            try:
                await self.client.start()
            except Exception as exc:  # unreachable, refused, a library bug: all retried
                failures += 1
                await self._release()
                await self._retry_later(failures, _one_line(exc))
                continue
            failures = 0
            await self._enter("up")
            self.on_up(self.client)
            if not await self._until_closed_or_stopped():
                return  # asked to stop: `stop` releases the client
            self.on_down(self.platform)
            await self._release()
            failures = 1
            await self._retry_later(failures, "stopped by itself")

    async def _retry_later(self, failures: int, reason: str) -> None:
        delay = retry_delay(failures, self.rng, self.first_retry, self.max_retry)
        first = self.state.state != "retrying"
        await self._enter("retrying", error=reason, attempts=failures, keep_since=not first)
        if first:  # one line when the trouble starts, then quieter lines per attempt
            log.error(
                "%s could not start: %s; retrying in %.0fs (its messages wait in the outbox)",
                self.name,
                reason,
                delay,
            )
        else:
            log.warning("%s: try %d failed: %s; next in %.0fs", self.name, failures, reason, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _until_closed_or_stopped(self) -> bool:
        """True when the client stopped by itself, False when we were asked to stop."""
        if not isinstance(self.client, Watchable):
            await self._stopping.wait()
            return False
        closed = asyncio.ensure_future(self.client.wait_closed())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (closed, stopping):
            waiter.cancel()
        await asyncio.gather(closed, stopping, return_exceptions=True)
        return not self._stopping.is_set()

    async def _release(self) -> None:
        try:
            await self.client.stop()
        except Exception as exc:  # a half-started client may fail to stop: nothing to keep
            log.debug("%s: stop after a failure: %s", self.name, exc)

    async def _enter(
        self, state: str, *, error: str | None = None, attempts: int = 0, keep_since: bool = False
    ) -> None:
        since = self.state.since if keep_since else self.clock()
        self.state = PlatformState(self.platform, state, since, error, attempts)
        if state == "up":
            log.info("%s up", self.name)
        try:
            await self.record(self.state)
        except StoreError as exc:  # status shows an older state; the bot itself is fine
            log.debug("%s: state not recorded: %s", self.name, exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# --- jobs in flight ------------------------------------------------------------------------------


class InFlight:
    """The jobs running now: a stop cancels them quietly and can say which they were.

    `checks` run before each job (the database file is still there); an error of a `fatal`
    type ends the job quietly and goes to `on_fatal`, which stops the service.
    """

    def __init__(
        self,
        *,
        checks: tuple[Callable[[], None], ...] = (),
        fatal: tuple[type[Exception], ...] = (),
        on_fatal: Callable[[Exception], None] | None = None,
    ) -> None:
        self.checks = checks
        self.fatal = fatal
        self.on_fatal = on_fatal
        self.stopping = False
        self._tasks: dict[asyncio.Task[Any], str] = {}

    async def run(self, name: str, work: Callable[[], Awaitable[T]]) -> T | None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks[task] = name
        try:
            for check in self.checks:
                check()
            return await work()
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            task.uncancel()  # our own stop: the job ends quietly, `cancel_all` reports it
            return None
        except self.fatal as exc:
            if self.on_fatal is None:
                raise
            self.on_fatal(exc)
            return None
        finally:
            self._tasks.pop(task, None)

    def names(self) -> list[str]:
        return sorted(self._tasks.values())

    async def cancel_all(self, grace: float = 2.0) -> list[str]:
        """Cancel every job in flight, wait (at most `grace` s) for them to end; their names."""
        self.stopping = True
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        names = sorted(self._tasks[task] for task in tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        return names


class HasInFlight(Protocol):
    in_flight: InFlight


S = TypeVar("S", bound=HasInFlight)


def job(
    kind: str,
) -> Callable[
    [Callable[Concatenate[S, P], Coroutine[Any, Any, T]]],
    Callable[Concatenate[S, P], Coroutine[Any, Any, T | None]],
]:
    """A scheduler job method that runs under its object's `in_flight` (named "kind arg")."""

    def wrap(
        method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T | None]]:
        @functools.wraps(method)
        async def run(owner: S, /, *args: P.args, **kwargs: P.kwargs) -> T | None:
            name = " ".join([kind, *(str(arg) for arg in args)])
            return await owner.in_flight.run(name, lambda: method(owner, *args, **kwargs))

        return run

    return wrap
