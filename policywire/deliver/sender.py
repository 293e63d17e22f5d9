"""The sender: drains the outbox in order per destination, paced, retrying what failed.

Platform adapters (bots/) implement `Transport` and translate their library's errors into the
`DeliveryError` family below, so the policy (wait, retry, deactivate, give up) lives here once.

A message is never given up for an error that may pass (429, 5xx, timeouts, a lost
connection): it is retried, with capped exponential backoff and full jitter, until it goes
through; an outage of any length only delays it. Only a permanent answer ends it: the
destination is gone (blocked, kicked, deleted: deactivated, its messages kept) or the platform
refuses this message for good (recorded as failed, with the reason `status` shows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from policywire.errors import (
    DatabaseGone,
    DeliveryError,
    Rejected,
    RetryLater,
    TargetFailing,
    TargetGone,
    TargetMoved,
)
from policywire.storage.store import OutboxRow, Store

log = logging.getLogger(__name__)

MAX_BACKOFF = 15 * 60.0  # the longest wait between two tries of a message (no retry_after)
MIN_BACKOFF = 1.0  # full jitter may draw ~0 s: never hammer a platform that just failed


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


class MessageGone(DeliveryError):
    """The message to edit is gone, or the platform no longer lets it be edited (Telegram:
    48 hours after sending): a story card then gets a short reply instead (docs/cards.md)."""


@runtime_checkable
class Edits(Protocol):
    """A transport that edits its messages in place: story cards grow (docs/cards.md)."""

    # How long after sending a message may still be edited (None: no limit).
    edit_window: timedelta | None

    async def edit(self, target: str, message_id: str, payload: Mapping[str, Any]) -> None:
        """Replace the message's content with `payload`; MessageGone when it cannot be."""
        ...


@runtime_checkable
class SharesPacing(Protocol):
    """A transport whose own requests (command replies) wait for the same limiter as its
    digests: a burst of commands then never earns a 429 that would delay a digest."""

    def share_pacing(self, limiter: RateLimiter) -> None: ...


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most `per_second` sends in any one-second window, and a minimum gap per target.

    We know when a request starts and when its answer came; the platform counts it when it
    arrives, somewhere in between. So a send holds its place in the one-second window from
    its start until one second after its answer: however late a request arrives, no
    `per_second + 1` of them ever arrive within one second, on a slow machine too. The
    answer's time already bounds the arrival from above, so the margin (1 %) only covers how
    finely the platform's clock counts; the round trip itself costs throughput instead.
    """

    MARGIN = 0.01

    def __init__(self, pacing: Pacing, monotonic: Callable[[], float], sleep: Sleep) -> None:
        self.pacing = pacing
        self.monotonic = monotonic
        self.sleep = sleep
        # The recent sends, oldest first: each holds its place while in flight and for one
        # window after its answer.
        self.recent: deque[_Slot] = deque()
        self.latest_by_target: dict[str, _Slot] = {}  # each target's last send
        self.lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def turn(self, target: str) -> AsyncIterator[None]:
        """Wait for `target`'s turn, then hold a place in the window while the body sends."""
        slot = await self._wait_turn(target)
        try:
            yield
        finally:
            slot.answered = self.monotonic()

    async def _wait_turn(self, target: str) -> _Slot:
        await self._after_previous(target, self.pacing.interval_for(target) * (1 + self.MARGIN))
        slot = _Slot()
        # Taken at once, before any wait: a digest and a command reply to one chat, waiting
        # together, go one gap apart instead of both at the same moment.
        self.latest_by_target[target] = slot
        try:
            async with self.lock:  # one global window shared by every target's task
                await self._wait_for_room()
                self.recent.append(slot)
        except BaseException:  # cancelled while waiting: the next send must not wait on it
            slot.answered = self.monotonic()
            raise
        return slot

    async def _after_previous(self, target: str, gap: float) -> None:
        """Until one gap after the answer to the previous send to `target`: the per-chat
        limit, too, is counted where requests arrive."""
        while (previous := self.latest_by_target.get(target)) is not None:
            if previous.answered is None:  # still in flight: its arrival is not known yet
                await self.sleep(0.01)
                continue
            wait = previous.answered + gap - self.monotonic()
            if wait <= 0:
                return
            await self.sleep(wait)

    async def _wait_for_room(self) -> None:
        window = 1.0 + self.MARGIN
        while True:
            now = self.monotonic()
            recent = self.recent
            while (
                recent and (answered := recent[0].answered) is not None and now - answered >= window
            ):
                recent.popleft()
            # Places freed out of order (a later send answered first) are counted too.
            busy = sum(
                1 for slot in recent if slot.answered is None or now - slot.answered < window
            )
            if busy < self.pacing.per_second:
                return
            await self.sleep(self._next_free(now, window))

    def _next_free(self, now: float, window: float) -> float:
        """Seconds until the first answered place leaves the window (a short look again while
        every place is held by a send still in flight)."""
        answered = [
            slot.answered
            for slot in self.recent
            if slot.answered is not None and now - slot.answered < window
        ]
        return max(0.001, min(answered) + window - now) if answered else 0.01


@dataclass(slots=True)
class _Slot:
    answered: float | None = None  # monotonic time of the answer; None while in flight


class Outcome(Enum):
    SENT = "sent"
    WAITING = "waiting"  # will be retried (or the destination was deactivated)
    DROPPED = "dropped"  # rejected for good, recorded as failed


@dataclass(frozen=True, slots=True)
class DestinationInfo:
    key: str
    platform: str
    target: str
    thread_id: int | None = None  # a forum topic: sent as the payload's message_thread_id


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
        self.wake = asyncio.Event()
        for transport in transports.values():
            self.add_transport(transport)
        self.stopping = False
        self.failing: set[str] = set()  # destinations whose last send was refused
        # Destinations that lost a message or were deactivated, and why (`run --once` exits
        # non-zero when any did).
        self.undeliverable: dict[str, str] = {}
        # Told (platform, "sent" | "retry" | "rate_limited") after each attempt: the metrics.
        self.observe: Callable[[str, str], None] = lambda platform, outcome: None

    def add_transport(self, transport: Transport) -> None:
        """A platform client that is up: its destinations' messages go out from now on."""
        self.transports[transport.platform] = transport
        limiter = RateLimiter(transport.pacing, self.monotonic, self.sleep)
        self.limiters[transport.platform] = limiter
        if isinstance(transport, SharesPacing):
            transport.share_pacing(limiter)
        self.wake.set()

    def remove_transport(self, platform: str) -> None:
        """A platform client that went down: its destinations' messages wait (not retried)."""
        self.transports.pop(platform, None)
        self.limiters.pop(platform, None)

    async def drain(self) -> int:
        """Send every message due now; returns how many were sent."""
        rows = await self.store.due_messages(self.clock(), platforms=list(self.transports))
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
            except DatabaseGone:
                raise  # the one error not to survive: the service stops on it
            except Exception:  # the loop must survive anything one round throws
                log.exception("sender round failed; trying again shortly")
            if not self.stopping:
                await self._nap(poll_seconds, idle=sent == 0)

    async def _nap(self, poll_seconds: float, idle: bool) -> None:
        delay = poll_seconds
        next_due = await self.store.next_due_time(platforms=list(self.transports))
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
            if row is None or not row.active or row.platform not in self.transports:
                continue  # a platform's bot stopped since the query: its supervisor says so
            found[key] = DestinationInfo(key, row.platform, row.target, row.thread_id)
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
        try:
            async with self.limiters[dest.platform].turn(dest.target):
                message_id = await self._deliver(transport, dest, row)
        except TargetFailing as exc:
            await self._record_failing(dest, str(exc))
            await self._retry(row, dest, str(exc), exc.after)
            return Outcome.WAITING
        except RetryLater as exc:
            await self._retry(row, dest, str(exc), exc.after)
            return Outcome.WAITING
        except TargetGone as exc:
            await self.store.set_destination_active(dest.key, False, str(exc))
            self.undeliverable[dest.key] = f"deactivated: {exc}"
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
            self.undeliverable[dest.key] = f"message {row.id} refused: {exc}"
            log.error("%s: message %s rejected for good: %s", dest.key, row.id, exc)
            return Outcome.DROPPED
        await self.store.mark_sent(row.id, message_id, self.clock())
        self.observe(dest.platform, "sent")
        if dest.key in self.failing:
            self.failing.discard(dest.key)
            await self.store.set_destination_active(dest.key, True, None)
            log.info("%s: sending works again", dest.key)
        return Outcome.SENT

    async def _deliver(
        self, transport: Transport, dest: DestinationInfo, row: OutboxRow
    ) -> str | None:
        """One platform call: a send, or a story card's edit (or its reply past the window)."""
        payload = _with_thread(row.payload, dest)
        edit = payload.get("edit")
        if isinstance(edit, Mapping):
            parts = {**edit, "reply": edit.get("reply") and _with_thread(edit["reply"], dest)}
            return await _edit_or_reply(transport, dest.target, parts, self.clock())
        return await transport.send(dest.target, payload)

    async def _record_failing(self, dest: DestinationInfo, reason: str) -> None:
        """Shown by `status`; logged once per failing spell, not at every retry."""
        if dest.key not in self.failing:
            log.error("%s is failing: %s", dest.key, reason)
            self.failing.add(dest.key)
        await self.store.set_destination_active(dest.key, True, reason)

    async def _retry(
        self, row: OutboxRow, dest: DestinationInfo, reason: str, after: float | None
    ) -> None:
        """Try this message again later, however many times it failed: a retryable error is
        never the message's fault, and an outage must only delay it (issue 15)."""
        attempts = row.attempts + 1
        # A platform that says when to come back is rate limiting us (429 retry_after).
        self.observe(dest.platform, "rate_limited" if after is not None else "retry")
        delay = after if after is not None else backoff(attempts, self.rng)
        await self.store.mark_retry(row.id, reason, self.clock() + timedelta(seconds=delay))
        log.warning("%s: %s; try %d failed, next in %.1fs", dest.key, reason, attempts, delay)


def backoff(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: a uniform draw below 2, 4, 8… seconds (at least
    MIN_BACKOFF), the ceiling capped at 15 minutes. Full jitter spreads the retries of many
    destinations after an outage instead of sending them back in step."""
    ceiling = min(MAX_BACKOFF, 2.0 ** min(attempts, 32))
    return max(MIN_BACKOFF, rng.uniform(0, ceiling))


async def _edit_or_reply(
    transport: Transport, target: str, edit: Mapping[str, Any], now: datetime
) -> str | None:
    """A card's edit (an outbox row with an "edit" part, storage/stories.py): in place while
    the platform allows it, else the short reply to the card, else nothing left to say."""
    message = str(edit["message"])
    sent_at = datetime.fromisoformat(str(edit["sent_at"]))
    if isinstance(transport, Edits):
        window = transport.edit_window
        if window is None or now - sent_at < window:
            try:
                await transport.edit(target, message, edit["card"])
                return message
            except MessageGone as exc:
                log.info(
                    "card %s in %s cannot be edited (%s): replying instead", message, target, exc
                )
    reply = edit.get("reply")
    if not reply:
        return None  # a correction only (an article split off): nothing new to tell
    return await transport.send(target, reply)


def _with_thread(payload: Mapping[str, Any], dest: DestinationInfo) -> Mapping[str, Any]:
    """The destination's forum topic goes with each send, so a move of the subscription to
    another topic applies to the messages already queued too."""
    if dest.thread_id is None:
        return payload
    return {**payload, "message_thread_id": dest.thread_id}
