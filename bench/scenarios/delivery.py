"""Scenario 5: M messages to M chats through the loopback fake Bot API with flood control.

The fake (tests/fakes/telegram_api.py, `enforce_rates=True`) answers 429 beyond 30 messages a
second overall and 1 a second per chat. policywire: the outbox rows are queued through the
Store, then the real `Sender` drains them through the real `TelegramBot` with its default
pacing (python-telegram-bot underneath), the way `Service.drain_outbox` does. Baseline: the
loop a user writes with python-telegram-bot alone — `send_message` one after another, sleeping
`retry_after` on a 429 and trying again.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
from datetime import UTC, datetime
from typing import Any

from bench.corpus import corpus_items
from bench.measure import Meter, Result

TOKEN = "123456:BENCH-token"
FIRST_CHAT = 10_000


def _messages(count: int) -> list[str]:
    items = corpus_items(min(count * 3, 3000) + 3)
    texts = []
    for n in range(count):
        lines = ["<b>policywire digest</b>"]
        for k in range(3):
            item = items[(n * 3 + k) % len(items)]
            lines.append(
                f'• <a href="{html.escape(item.link)}">{html.escape(item.title)}</a>\n'
                f"{html.escape(item.summary[:300])}"
            )
        texts.append("\n\n".join(lines))
    return texts


def _fake_telegram() -> Any:
    from tests.fakes.telegram_api import FakeTelegram

    return FakeTelegram(enforce_rates=True)


def _summary(tg: Any, count: int, meter: Meter, tool_extra: dict[str, Any]) -> Result:
    reached = sum(1 for n in range(count) if tg.sent_to(FIRST_CHAT + n))
    extra = {
        "unit": "messages",
        "accepted": tg.stats.accepted,
        "answered_429": tg.stats.rejected_429,
        "requests": tg.stats.requests,
        "lost": count - reached,
        "duplicates": tg.stats.accepted - reached,
        **tool_extra,
    }
    return Result(meter.wall, meter.cpu, meter.peak_rss_mb, reached, extra)


def run_policywire(params: dict[str, Any]) -> dict[str, Result]:
    return {"deliver": asyncio.run(_policywire(params["messages"]))}


async def _policywire(count: int) -> Result:
    from bots.telegram import TelegramBot
    from policywire.deliver.sender import Sender
    from policywire.storage.store import DestinationRow, Store

    texts = _messages(count)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="deliver-bench-") as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/policywire.db")
        for n, text in enumerate(texts):
            chat = str(FIRST_CHAT + n)
            row = DestinationRow(
                key=f"telegram:{chat}",
                origin="chat",
                platform="telegram",
                target=chat,
                topics=("ai-act",),
                schedule="instant",
                timezone="UTC",
                language="en",
                active=True,
                created_at=now,
                last_digest_at=None,
            )
            await store.upsert_destination(row)
            await store.enqueue_digest(row.key, [{"html": text}], [], now, f"bench-{n}")
        async with _fake_telegram() as tg:
            bot = TelegramBot(TOKEN, tg.base_url, None, _no_digest)  # type: ignore[arg-type]
            await bot.app.initialize()
            sender = Sender(store, {"telegram": bot}, lambda: datetime.now(UTC))
            try:
                with Meter() as meter:
                    rounds = await _drain(store, sender)
            finally:
                await bot.app.shutdown()
            result = _summary(
                tg,
                count,
                meter,
                {"rounds": rounds, "pacing_per_second": bot.pacing.per_second},
            )
        await store.close()
    return result


async def _no_digest(row: Any) -> int:
    return 0


async def _drain(store: Any, sender: Any, deadline: float = 900.0) -> int:
    """Service.drain_outbox: send until the outbox is empty, waiting out retries."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    rounds = 0
    while await store.outbox_depth():
        rounds += 1
        await sender.drain()
        due = await store.next_due_time()
        if due is None:
            break
        wait = max(0.05, (due - datetime.now(UTC)).total_seconds())
        if loop.time() + wait > give_up:
            break
        await asyncio.sleep(wait)
    return rounds


def run_naive(params: dict[str, Any]) -> dict[str, Result]:
    return {"deliver": asyncio.run(_naive(params["messages"]))}


async def _naive(count: int) -> Result:
    from telegram import Bot
    from telegram.error import RetryAfter

    texts = _messages(count)
    async with _fake_telegram() as tg:
        async with Bot(TOKEN, base_url=tg.base_url) as bot:
            with Meter() as meter:
                for n, text in enumerate(texts):
                    while True:
                        try:
                            await bot.send_message(FIRST_CHAT + n, text, parse_mode="HTML")
                            break
                        except RetryAfter as exc:
                            wait = exc.retry_after  # int, or timedelta with PTB_TIMEDELTA
                            seconds = wait if isinstance(wait, int) else wait.total_seconds()
                            await asyncio.sleep(float(seconds))
        return _summary(tg, count, meter, {})
