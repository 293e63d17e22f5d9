"""The sender: drains the outbox in order per destination, paced, retrying what failed.

Platform adapters (bots/) implement `Transport` and translate their library's errors into the
`DeliveryError` family below, so the policy (wait, retry, deactivate, give up) lives here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from policywire.errors import (
    Rejected,
    RetryLater,
    TargetFailing,
    TargetGone,
    TargetMoved,
)
from policywire.storage.store import OutboxRow, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 15 * 60.0


@dataclass(frozen=True, slots=True)
class Pacing:
    """A platform's limits: minimum seconds between two messages to one target, and overall."""

    per_target_interval: float = 1.0
    group_interval: float = 3.0  # Telegram: 20 messages a minute in a group
    per_second: int = 30

    def interval_for(self, target: str) -> float:
        is_group = target.startswith("-") or target.startswith("@")
        return self.group_interval if is_group else self.per_target_interval


class Transport(Protocol):
    platform: str
    pacing: Pacing

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        """Deliver one message; returns the platform's message id."""
        ...


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most `per_second` sends in any one-second window, and a minimum gap per target.

    We count when a send starts, the platform counts when it arrives; requests overtake each
    other by a few milliseconds, so both windows get a small margin (3 % of the rate) that
    keeps us from being answered 429 for sending exactly at the limit.
    """

    MARGIN = 0.03

    def __init__(self, pacing: Pacing, monotonic: Callable[[], float], sleep: Sleep) -> None:
        self.pacing = pacing
        self.monotonic = monotonic
        self.sleep = sleep
        self.recent: deque[float] = deque()
        self.last_by_target: dict[str, float] = {}
        self.lock = asyncio.Lock()

    async def wait_turn(self, target: str) -> None:
        gap = self.pacing.interval_for(target) * (1 + self.MARGIN)
        last = self.last_by_target.get(target)
        if last is not None and (wait := last + gap - self.monotonic()) > 0:
            await self.sleep(wait)
        window = 1.0 + self.MARGIN
        async with self.lock:  # one global window shared by every target's task
            while True:
                now = self.monotonic()
                while self.recent and now - self.recent[0] >= window:
                    self.recent.popleft()
                if len(self.recent) < self.pacing.per_second:
                    break
                await self.sleep(window - (now - self.recent[0]))
            self.recent.append(self.monotonic())
        self.last_by_target[target] = self.monotonic()


class Outcome(Enum):
    SENT = "sent"
    WAITING = "waiting"  # will be retried (or the destination was deactivated)
    DROPPED = "dropped"  # rejected for good, recorded as failed


@dataclass(frozen=True, slots=True)
class DestinationInfo:
    key: str
    platform: str
    target: str


class Sender:
    """Sends due outbox rows: destinations in parallel, each destination strictly in order."""

    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        clock: Clock,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.monotonic = monotonic or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.transports: dict[str, Transport] = {}
        self.limiters: dict[str, RateLimiter] = {}
        for transport in transports.values():
            self.add_transport(transport)
        self.wake = asyncio.Event()
        self.stopping = False
        self.failing: set[str] = set()  # destinations whose last send was refused

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.platform] = transport
        self.limiters[transport.platform] = RateLimiter(
            transport.pacing, self.monotonic, self.sleep
        )

    async def drain(self) -> int:
        """Send every message due now; returns how many were sent."""
        rows = await self.store.due_messages(self.clock())
        by_destination: dict[str, list[OutboxRow]] = {}
        for row in rows:
            by_destination.setdefault(row.destination, []).append(row)
        destinations = await self._destinations(by_destination)
        results = await asyncio.gather(
            *(
                self._send_in_order(destinations[k], queue)
                for k, queue in by_destination.items()
                if k in destinations
            )
        )
        return sum(results)

    def request_stop(self) -> None:
        """Finish the send in flight, start no other: `run` then returns."""
        self.stopping = True
        self.wake.set()

    async def run(self, poll_seconds: float = 5.0) -> None:
        """Drain until stopped: on a wake-up (new digest queued) or when a retry falls due."""
        while not self.stopping:
            self.wake.clear()
            sent = 0
            try:
                sent = await self.drain()
            except Exception:  # the loop must survive anything one round throws
                log.exception("sender round failed; trying again shortly")
            if not self.stopping:
                await self._nap(poll_seconds, idle=sent == 0)

    async def _nap(self, poll_seconds: float, idle: bool) -> None:
        delay = poll_seconds
        next_due = await self.store.next_due_time()
        if next_due is not None:
            delay = min(delay, max(0.0, (next_due - self.clock()).total_seconds()))
        if idle:
            # Due rows that no transport can take (a bot that is down) must not spin the loop.
            delay = max(delay, min(1.0, poll_seconds))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=delay)

    async def _destinations(self, keys: Mapping[str, Any]) -> dict[str, DestinationInfo]:
        found: dict[str, DestinationInfo] = {}
        for key in keys:
            row = await self.store.destination(key)
            if row is None or not row.active:
                continue
            if row.platform not in self.transports:
                log.warning("no %s bot running: messages for %s wait", row.platform, key)
                continue
            found[key] = DestinationInfo(key, row.platform, row.target)
        return found

    async def _send_in_order(self, dest: DestinationInfo, queue: list[OutboxRow]) -> int:
        sent = 0
        for row in queue:
            if self.stopping:
                break
            outcome = await self._send_one(dest, row)
            if isinstance(outcome, DestinationInfo):  # the chat moved: same message, new id
                dest = outcome
                outcome = await self._send_one(dest, row)
            if outcome is not Outcome.SENT and outcome is not Outcome.DROPPED:
                break  # keep the order: later messages wait for this one
            sent += outcome is Outcome.SENT
        return sent

    async def _send_one(self, dest: DestinationInfo, row: OutboxRow) -> Outcome | DestinationInfo:
        transport = self.transports[dest.platform]
        await self.limiters[dest.platform].wait_turn(dest.target)
        try:
            message_id = await transport.send(dest.target, row.payload)
        except TargetFailing as exc:
            await self._record_failing(dest, str(exc))
            await self._retry(row, dest, str(exc), exc.after)
            return Outcome.WAITING
        except RetryLater as exc:
            await self._retry(row, dest, str(exc), exc.after)
            return Outcome.WAITING
        except TargetGone as exc:
            await self.store.set_destination_active(dest.key, False, str(exc))
            log.warning("%s deactivated: %s", dest.key, exc)
            return Outcome.WAITING
        except TargetMoved as exc:
            moved = DestinationInfo(
                f"{dest.platform}:{exc.new_target}", dest.platform, exc.new_target
            )
            await self.store.rename_destination(dest.key, moved.key, moved.target)
            log.info("%s moved to %s; resending there", dest.key, moved.key)
            return moved
        except Rejected as exc:
            await self.store.mark_failed(row.id, str(exc))
            log.error("%s: message %s rejected for good: %s", dest.key, row.id, exc)
            return Outcome.DROPPED
        await self.store.mark_sent(row.id, message_id, self.clock())
        if dest.key in self.failing:
            self.failing.discard(dest.key)
            await self.store.set_destination_active(dest.key, True, None)
            log.info("%s: sending works again", dest.key)
        return Outcome.SENT

    async def _record_failing(self, dest: DestinationInfo, reason: str) -> None:
        """Shown by `status`; logged once per failing spell, not at every retry."""
        if dest.key not in self.failing:
            log.error("%s is failing: %s", dest.key, reason)
            self.failing.add(dest.key)
        await self.store.set_destination_active(dest.key, True, reason)

    async def _retry(
        self, row: OutboxRow, dest: DestinationInfo, reason: str, after: float | None
    ) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS and after is None:
            await self.store.mark_failed(row.id, f"gave up after {attempts} attempts: {reason}")
            log.error("%s: message %s failed %d times: %s", dest.key, row.id, attempts, reason)
            return
        delay = after if after is not None else backoff(attempts, self.rng)
        await self.store.mark_retry(row.id, reason, self.clock() + timedelta(seconds=delay))
        log.warning("%s: %s; retrying in %.1fs", dest.key, reason, delay)


def backoff(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: 2, 4, 8… seconds, capped at 15 minutes."""
    ceiling = min(MAX_BACKOFF, 2.0**attempts)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
