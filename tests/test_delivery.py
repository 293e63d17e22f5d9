"""The sender's policy with a controlled clock: pacing, retries, deactivation, moves."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from policywire.deliver.sender import (
    Pacing,
    RateLimiter,
    Rejected,
    RetryLater,
    Sender,
    TargetGone,
    TargetMoved,
    backoff,
)
from policywire.storage.store import DestinationRow, Store
from tests.helpers import NOW


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedTransport:
    """A platform whose answers the test scripts: a stand-in for our own Transport protocol."""

    platform = "telegram"
    pacing = Pacing(per_target_interval=1.0, group_interval=3.0, per_second=30)

    def __init__(self, clock: FakeClock, answers: Mapping[str, list[Exception]] | None = None):
        self.clock = clock
        self.answers = {k: list(v) for k, v in (answers or {}).items()}
        self.delivered: list[tuple[float, str, str]] = []

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        queue = self.answers.get(target)
        if queue:
            raise queue.pop(0)
        self.delivered.append((self.clock.now, target, payload["html"]))
        return str(len(self.delivered))


async def test_rate_limiter_keeps_per_target_and_global_pace() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Pacing(1.0, 3.0, 30), clock.monotonic, clock.sleep)
    stamps = []
    for n in range(90):
        await limiter.wait_turn(str(n))  # 90 different private chats
        stamps.append(clock.now)
    for start in range(len(stamps) - 30):
        assert stamps[start + 30] - stamps[start] >= 1.0  # never 31 in one second
    assert stamps[-1] < 3.1  # and not slower than needed

    clock2 = FakeClock()
    limiter2 = RateLimiter(Pacing(1.0, 3.0, 30), clock2.monotonic, clock2.sleep)
    times = []
    for _ in range(3):
        await limiter2.wait_turn("-100123")  # one group: 20 a minute
        times.append(clock2.now)
    assert times[1] - times[0] >= 3.0
    assert times[2] - times[1] >= 3.0


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [backoff(n, rng) for n in range(1, 15)]
    assert 1.0 <= delays[0] <= 2.0
    assert delays[5] > delays[0]
    assert max(delays) <= 15 * 60


def row(key: str = "telegram:42", target: str = "42") -> DestinationRow:
    return DestinationRow(
        key=key,
        origin="chat",
        platform="telegram",
        target=target,
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=NOW,
        last_digest_at=None,
    )


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    yield opened  # type: ignore[misc]
    await opened.close()


async def queue(store: Store, dest: DestinationRow, *texts: str) -> None:
    await store.upsert_destination(dest)
    await store.enqueue_digest(dest.key, [{"html": t} for t in texts], [], NOW, f"d-{texts[0]}")


def make_sender(store: Store, transport: ScriptedTransport, clock: FakeClock) -> Sender:
    now = [NOW]

    def wall() -> Any:
        return now[0] + timedelta(seconds=clock.now)

    return Sender(
        store, {"telegram": transport}, wall, monotonic=clock.monotonic, sleep=clock.sleep
    )


async def test_messages_go_in_order_and_are_marked_sent(store: Store) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock)
    await queue(store, row(), "one", "two", "three")
    sender = make_sender(store, transport, clock)
    assert await sender.drain() == 3
    assert [text for _, _, text in transport.delivered] == ["one", "two", "three"]
    assert await store.outbox_depth() == 0
    assert await sender.drain() == 0  # nothing is sent twice


async def test_429_waits_retry_after_then_resends_the_same_message(store: Store) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, {"42": [RetryLater("flood", after=7)]})
    await queue(store, row(), "one", "two")
    sender = make_sender(store, transport, clock)
    assert await sender.drain() == 0  # the first send hit the 429: order is kept
    assert await store.outbox_depth() == 2
    due = await store.next_due_time()
    assert due is not None and due >= NOW + timedelta(seconds=7)
    clock.now += 8
    assert await sender.drain() == 2
    assert [text for _, _, text in transport.delivered] == ["one", "two"]


async def test_blocked_chat_is_deactivated_and_others_go_on(store: Store) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, {"42": [TargetGone("bot was blocked by the user")]})
    await queue(store, row(), "to blocked")
    await queue(store, row("telegram:7", "7"), "to friend")
    sender = make_sender(store, transport, clock)
    assert await sender.drain() == 1
    blocked = await store.destination("telegram:42")
    assert blocked is not None and not blocked.active
    assert blocked.last_error == "bot was blocked by the user"
    assert [target for _, target, _ in transport.delivered] == ["7"]


async def test_migrated_group_gets_the_message_at_its_new_id(store: Store) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, {"-5": [TargetMoved("migrated", "-1005")]})
    await queue(store, row("telegram:-5", "-5"), "hello group")
    sender = make_sender(store, transport, clock)
    assert await sender.drain() == 1
    assert transport.delivered[0][1:] == ("-1005", "hello group")
    assert await store.destination("telegram:-5") is None
    moved = await store.destination("telegram:-1005")
    assert moved is not None and moved.target == "-1005"


async def test_rejected_message_is_recorded_and_the_next_one_goes(store: Store) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, {"42": [Rejected("message is too long")]})
    await queue(store, row(), "bad", "good")
    sender = make_sender(store, transport, clock)
    assert await sender.drain() == 1
    assert [text for _, _, text in transport.delivered] == ["good"]
    assert await store.outbox_depth() == 0
