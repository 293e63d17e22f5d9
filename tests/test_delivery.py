"""The sender's policy with a controlled clock: pacing, retries, deactivation, moves."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from policywire.config.load import load_config
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
from policywire.status import collect_status, format_status
from policywire.storage.store import DestinationRow, Store
from tests.databases import BACKENDS, database_url
from tests.helpers import NOW, config_file


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
        async with limiter.turn(str(n)):  # 90 different private chats
            pass
        stamps.append(clock.now)
    for start in range(len(stamps) - 30):
        assert stamps[start + 30] - stamps[start] >= 1.0  # never 31 in one second
    assert stamps[-1] < 3.1  # and not slower than needed

    clock2 = FakeClock()
    limiter2 = RateLimiter(Pacing(1.0, 3.0, 30), clock2.monotonic, clock2.sleep)
    times = []
    for _ in range(3):
        async with limiter2.turn("-100123"):  # one group: 20 a minute
            pass
        times.append(clock2.now)
    assert times[1] - times[0] >= 3.0
    assert times[2] - times[1] >= 3.0


async def test_no_second_ever_sees_more_than_the_limit_arrive_however_late_requests_land() -> None:
    """The platform counts a request when it arrives, anywhere between our start and its
    answer: 120 sends to different chats, asked for at twice the limit, each landing at a
    random moment of a random 0–150 ms round trip, never put 31 arrivals in one second."""
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(Pacing(1.0, 3.0, 30), loop.time, asyncio.sleep)
    rng = random.Random(3)
    arrivals: list[float] = []

    async def send(n: int) -> None:
        await asyncio.sleep(n / 60)  # a steady stream, twice what the limit lets through
        async with limiter.turn(str(n)):
            trip = rng.uniform(0.0, 0.15)
            landing = rng.uniform(0.0, trip)
            await asyncio.sleep(landing)
            arrivals.append(loop.time())
            await asyncio.sleep(trip - landing)

    await asyncio.gather(*(send(n) for n in range(120)))
    arrivals.sort()
    for first, later in zip(arrivals, arrivals[30:], strict=False):
        assert later - first >= 1.0  # never 31 in one second
    assert arrivals[-1] - arrivals[0] < 6.0  # and not far slower than the limit


async def test_one_chat_never_sees_two_arrivals_within_its_gap() -> None:
    """A digest's messages and command replies to one private chat, all asked for at once,
    with random round trips: each arrives at least a second after the one before."""
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(Pacing(1.0, 3.0, 30), loop.time, asyncio.sleep)
    rng = random.Random(5)
    arrivals: list[float] = []

    async def send() -> None:
        async with limiter.turn("42"):
            trip = rng.uniform(0.0, 0.2)
            landing = rng.uniform(0.0, trip)
            await asyncio.sleep(landing)
            arrivals.append(loop.time())
            await asyncio.sleep(trip - landing)

    await asyncio.gather(*(send() for _ in range(5)))
    arrivals.sort()
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(arrivals)), arrivals


async def test_a_send_cancelled_while_it_waits_for_the_window_holds_up_no_one() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(Pacing(0.0, 0.0, 1), loop.time, asyncio.sleep)
    async with limiter.turn("a"):  # the one place of this second
        pass
    waiting = asyncio.create_task(limiter.turn("b").__aenter__())
    await asyncio.sleep(0.05)
    waiting.cancel()  # e.g. the service stopping
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with asyncio.timeout(3):  # "b" goes next, in the next second, not never
        async with limiter.turn("b"):
            pass


def test_backoff_grows_is_capped_at_15_minutes_and_fully_jittered() -> None:
    rng = random.Random(1)
    first = [backoff(1, rng) for _ in range(200)]
    assert all(1.0 <= delay <= 2.0 for delay in first)
    sixth = [backoff(6, rng) for _ in range(200)]
    assert max(sixth) <= 64 and sum(sixth) / len(sixth) > 2 * sum(first) / len(first)
    late = [backoff(n, rng) for n in range(10, 200)]  # an outage of hours: still capped
    assert max(late) <= 15 * 60
    # Full jitter: the draws spread over the whole range, so retries after an outage
    # do not come back in step.
    assert min(late) < 100 and max(late) > 800


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


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The outbox on SQLite and on a real PostgreSQL (tests/databases.py)."""
    async with database_url(request.param, tmp_path) as url:
        opened = await Store.open(url)
        yield opened
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


async def test_retryable_errors_are_never_given_up(store: Store) -> None:
    """Issue 15: after 8 tries without retry_after the message used to be marked failed."""
    clock = FakeClock()
    outage: list[Exception] = [RetryLater(f"Telegram unreachable: try {n}") for n in range(40)]
    transport = ScriptedTransport(clock, {"42": outage})
    await queue(store, row(), "one", "two")
    sender = make_sender(store, transport, clock)
    waits = []
    await sender.drain()
    while await store.outbox_depth():
        due = await store.next_due_time()
        assert due is not None, "a message left the queue without being sent"
        wait = (due - (NOW + timedelta(seconds=clock.now))).total_seconds()
        waits.append(wait)
        clock.now += max(wait, 0.0)
        await sender.drain()
    assert [text for _, _, text in transport.delivered] == ["one", "two"]
    assert (await store.outbox_counts())["failed"] == 0
    [first, _] = await store.messages("sent")
    assert first.attempts == 41  # forty refusals, then delivered
    assert max(waits) <= 15 * 60
    assert sum(waits) > 3600  # the outage lasted hours of backoff, and nothing was lost


async def test_status_says_why_a_message_waits_and_why_one_was_given_up(
    store: Store, tmp_path: Path
) -> None:
    clock = FakeClock()
    transport = ScriptedTransport(
        clock,
        {
            "42": [Rejected("Telegram refused the message: message is too long")],
            "7": [RetryLater("Telegram unreachable: Bad Gateway")],
        },
    )
    await queue(store, row(), "too long", "fine")
    await queue(store, row("telegram:7", "7"), "later")
    sender = make_sender(store, transport, clock)
    await sender.drain()
    config = load_config(
        config_file(
            tmp_path,
            database=tmp_path / "d.db",
            feeds=["https://news.example/feed.xml"],
            topics={"ai-act": ["AI Act"]},
        )
    )
    text = format_status(await collect_status(config, store, NOW), "UTC")
    assert (
        "telegram:42: 1 failed for good, the last because: Telegram refused the message: " in text
    )
    assert "telegram:7: 1 pending since 2026-03-10 12:00" in text
    assert "(tried 1 times): Telegram unreachable: Bad Gateway" in text
    assert sender.undeliverable == {
        "telegram:42": "message 1 refused: Telegram refused the message: message is too long"
    }
