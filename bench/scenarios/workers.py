"""Several workers on one PostgreSQL database: 10,000 feeds polled by 1, 2 and 4 of them.

    python -m bench.scenarios.workers [--feeds 10000] [--workers 1,2,4] [--interval 30]
                                      [--window 60] [--json PATH]

needs a PostgreSQL server (POLICYWIRE_TEST_POSTGRES_URL, as the tests). For each worker count:
a fresh database, a loopback feed server with one small feed per URL (answering 304 to a
matching ETag), the fake Bot API, and that many real `scheduler.py run` processes with every
feed at `interval` and 20 instant Telegram chats. Once every feed was polled once (the cold
pass), one feed gets a new matching story each second, and for `window` seconds this measures:

- polls served per second (the feed server's requests) against what the interval asks for;
- CPU per poll: the workers' process trees (parse workers included), per poll;
- the database's share: CPU of the PostgreSQL backends serving this database, of the total;
- outbox latency: a message's `sent_at - created_at` (median, 95th percentile);
- duplicates: messages the fake received more often than the outbox sent them (must be 0).

The feed server and the fake Bot API run in this process, so their CPU is not the workers'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Result, _cpu_of, tree_pids

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "987654:BENCH-token"
CHATS = tuple(range(9001, 9021))
ENV = "POLICYWIRE_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class Sizes:
    feeds: int = 10_000
    workers: tuple[int, ...] = (1, 2, 4)
    interval: float = 30.0  # seconds between two polls of a feed
    window: float = 60.0  # the measured steady state, seconds
    warmup_timeout: float = 600.0


def run(params: dict[str, Any]) -> dict[str, Result]:
    """bench/worker.py's entry: `{"feeds": …, "workers": [1, 2, 4], …}`."""
    sizes = Sizes(
        feeds=int(params.get("feeds", 10_000)),
        workers=tuple(params.get("workers", (1, 2, 4))),
        interval=float(params.get("interval", 30.0)),
        window=float(params.get("window", 60.0)),
    )
    return asyncio.run(measure_all(sizes, params.get("postgres") or os.environ.get(ENV, "")))


async def measure_all(sizes: Sizes, server: str) -> dict[str, Result]:
    if not server:
        raise SystemExit(f"set {ENV} to a PostgreSQL server (an asyncpg URL)")
    return {f"workers_{k}": await measure(sizes, server, k) for k in sizes.workers}


def body(index: int, stories: Sequence[str]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>https://bench.example/{index}/{n}</link>"
        f"<guid>https://bench.example/{index}/{n}</guid>"
        f"<pubDate>{datetime.now(UTC):%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
        f"<description>{title}. More of it.</description></item>"
        for n, title in zip(range(len(stories), 0, -1), stories, strict=True)  # newest first
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet {index}</title>'
        f"<link>https://bench.example/{index}</link>{entries}</channel></rss>"
    ).encode()


def config_text(database: str, port: int, sizes: Sizes, telegram: str) -> str:
    feeds = "".join(f"  - url: http://127.0.0.1:{port}/f/{n}.xml\n" for n in range(sizes.feeds))
    chats = "".join(
        f'  - telegram: "{chat}"\n    topics: [ai-act]\n    schedule: instant\n' for chat in CHATS
    )
    return (
        f"settings:\n  database: {database}\n  poll_interval: {sizes.interval:g}s\n"
        "  allow_private_networks: true\n  max_stories: 20\n  per_host_concurrency: 50\n"
        "  embedding:\n    backend: none\n"
        f"  telegram:\n    api_base_url: {telegram}\n"
        f'feeds:\n{feeds}topics:\n  ai-act:\n    any: ["AI Act"]\ndestinations:\n{chats}'
    )


@asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[tuple[str, str]]:
    """A new database on `server`: (its URL, its name); dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_url(server)
    name = f"pw_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False), name
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def backend_pids(store: Any, name: str) -> list[int]:
    """The PostgreSQL server processes serving database `name` (the workers' connections)."""
    from sqlalchemy import text

    async with store._tx() as conn:
        rows = await conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
        return [int(row.pid) for row in rows]


def cpu(pids: Sequence[int]) -> float:
    return sum(_cpu_of(pid) for pid in pids)


async def measure(sizes: Sizes, server: str, workers: int) -> Result:
    from policywire.storage.store import Store
    from tests.fakes.feed_server import FeedServer
    from tests.fakes.telegram_api import FakeTelegram

    rng = random.Random(workers)
    with tempfile.TemporaryDirectory(prefix="pw-workers-") as scratch:
        tmp = os.environ.get("POLICYWIRE_BENCH_KEEP") or scratch  # keep the workers' logs
        os.makedirs(tmp, exist_ok=True)
        async with (
            fresh_database(server) as (database, name),
            FakeTelegram() as tg,
            FeedServer() as feeds,
        ):
            stories: dict[int, list[str]] = {n: [f"Outlet {n} weather"] for n in range(sizes.feeds)}
            for n in range(sizes.feeds):
                feeds.add(f"/f/{n}.xml", body(n, stories[n]), etag=f'"{n}-0"')
            config = Path(tmp) / "feeds.yaml"
            port = int(feeds.url("/").rsplit(":", 1)[1].split("/")[0])
            config.write_text(config_text(database, port, sizes, tg.base_url), encoding="utf-8")
            store = await Store.open(database)  # migrated before the workers start
            logs = [Path(tmp) / f"workers{workers}-{k}.log" for k in range(workers)]
            processes = [await spawn(config, log) for log in logs]
            try:
                cold = await warm_up(feeds, sizes)
                changes = asyncio.ensure_future(change_feeds(feeds, stories, rng))
                started = datetime.now(UTC)
                trees = [pid for p in processes for pid in tree_pids(p.pid)]
                backends = await backend_pids(store, name)
                before = (cpu(trees), cpu(backends), len(feeds.requests))
                await asyncio.sleep(sizes.window)
                trees = [pid for p in processes for pid in tree_pids(p.pid)]
                after = (cpu(trees), cpu(backends), len(feeds.requests))
                changes.cancel()
                latency = await outbox_latency(store, started)
            finally:
                await stop(processes)
            try:
                duplicates = await duplicate_count(store, tg)  # none in flight any more
            finally:
                await store.close()
    polls = after[2] - before[2]
    worker_cpu, db_cpu = after[0] - before[0], after[1] - before[1]
    return Result(
        sizes.window,
        worker_cpu,
        0.0,
        polls,
        {
            "unit": "polls",
            "workers": workers,
            "feeds": sizes.feeds,
            "demanded_per_s": sizes.feeds / sizes.interval,
            "polls_per_s": polls / sizes.window,
            "cpu_per_poll_ms": 1000 * worker_cpu / polls if polls else 0.0,
            "db_cpu": db_cpu,
            "db_share": db_cpu / (db_cpu + worker_cpu) if worker_cpu + db_cpu else 0.0,
            "cold_pass_s": cold,
            **latency,
            "duplicates": duplicates,
        },
    )


async def spawn(config: Path, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWIRE_")}
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scheduler.py"),
            "run",
            "--config",
            str(config),
            env=env,
            stdout=out,
            stderr=out,
        )


async def warm_up(feeds: Any, sizes: Sizes) -> float:
    """Until every feed was polled once; returns how long that took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(sizes.warmup_timeout):
        while len({request.path for request in feeds.requests}) < sizes.feeds:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    return loop.time() - start


async def change_feeds(feeds: Any, stories: dict[int, list[str]], rng: random.Random) -> None:
    """A feed a second gets a new matching story (a new ETag): digests and messages flow (20
    chats, so at most 20 messages a second: below Telegram's 30 a second overall)."""
    count = 0
    while True:
        n = rng.randrange(len(stories))
        count += 1
        stories[n].insert(0, f"AI Act story {count} from outlet {n}")
        feeds.add(f"/f/{n}.xml", body(n, stories[n]), etag=f'"{n}-{count}"')
        await asyncio.sleep(1.0)


async def outbox_latency(store: Any, since: datetime) -> dict[str, float]:
    from sqlalchemy import select

    from policywire.storage.schema import outbox_table

    out = outbox_table.c
    query = select(out.created_at, out.sent_at).where(out.state == "sent", out.created_at >= since)
    async with store._tx() as conn:
        delays = [
            (row.sent_at - row.created_at).total_seconds() for row in await conn.execute(query)
        ]
    if len(delays) < 2:
        return {"messages": len(delays), "latency_p50_s": 0.0, "latency_p95_s": 0.0}
    return {
        "messages": len(delays),
        "latency_p50_s": statistics.median(delays),
        "latency_p95_s": statistics.quantiles(delays, n=20)[-1],
    }


async def duplicate_count(store: Any, tg: Any) -> int:
    sent = {chat: 0 for chat in CHATS}
    for row in await store.messages("sent"):
        sent[int(row.destination.split(":", 1)[1])] += 1
    return sum(max(0, len(tg.sent_to(chat)) - sent[chat]) for chat in CHATS)


async def stop(processes: Sequence[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(60):
            for process in processes:
                await process.wait()
    except TimeoutError:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


def table(results: dict[str, Result]) -> str:
    """The docs/benchmarks.md table, with ratios against one worker."""
    base = results[min(results, key=lambda key: results[key].extra["workers"])]
    lines = [
        "| workers | polls/s (asked) | CPU ms/poll | × 1 worker | DB share | outbox p50 / p95 s "
        "| messages | duplicates | cold pass s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        x = result.extra
        ratio = x["cpu_per_poll_ms"] / base.extra["cpu_per_poll_ms"]
        lines.append(
            f"| {x['workers']} | {x['polls_per_s']:,.0f} ({x['demanded_per_s']:,.0f}) "
            f"| {x['cpu_per_poll_ms']:.2f} | {ratio:.2f} | {100 * x['db_share']:.0f} % "
            f"| {x['latency_p50_s']:.2f} / {x['latency_p95_s']:.2f} | {x['messages']} "
            f"| {x['duplicates']} | {x['cold_pass_s']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = Sizes(args.feeds, tuple(int(k) for k in args.workers.split(",")), args.interval)
    sizes = Sizes(sizes.feeds, sizes.workers, sizes.interval, args.window)
    results = asyncio.run(measure_all(sizes, os.environ.get(ENV, "")))
    if args.json:
        data = {key: result.to_json() for key, result in results.items()}
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
