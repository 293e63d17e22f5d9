"""Where a cold poll's time goes: each stage alone on the same feeds, one core, profiled.

1. fetch every body through `Fetcher` (the real session, concurrency and limits);
2. `parse_feed` every body in this process (what each pool worker does);
3. `Matcher.match_item` on every item;
4. `Store.record_success` (validators + items) for every feed into an empty SQLite file, the
   polls finishing together as in the service (so the group commit gathers them).

Stages are timed without a profiler; stages 2 and 4 then run again under cProfile on a third
of the feeds (cProfile slows them 2–3×) for the top functions by own time.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from bench.corpus import TARGET_RULES
from bench.measure import Result
from bench.scenarios.poll import feed_urls


def run_profile(params: dict[str, Any]) -> dict[str, Result]:
    return asyncio.run(_profile(params))


def _top(profile: cProfile.Profile, count: int = 18) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


async def _profile(params: dict[str, Any]) -> dict[str, Result]:
    from policywire.config.model import Settings
    from policywire.ingest.match import Hits, Matcher, match_items
    from policywire.ingest.parse import parse_feed
    from policywire.models import FetchStatus, ParsedFeed, Validators
    from policywire.pipeline import fetcher_for
    from policywire.storage.store import Store

    urls = feed_urls(params["port"], params["feeds"])
    now = datetime.now(UTC)
    results: dict[str, Result] = {}

    def stage(name: str, wall: float, cpu: float, items: int, **extra: Any) -> None:
        results[name] = Result(wall, cpu, 0.0, items, {"unit": "items", **extra})

    fetcher = fetcher_for(Settings())
    async with fetcher:
        wall, cpu = time.perf_counter(), time.process_time()
        fetched = await asyncio.gather(*(fetcher.fetch(url, Validators()) for url in urls))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bodies = [(f.url, f.body) for f in fetched if f.status is FetchStatus.OK]
    size = sum(len(body) for _, body in bodies)
    stage("1 fetch", wall, cpu, len(bodies), unit="feeds", bytes=size)

    wall, cpu = time.perf_counter(), time.process_time()
    parsed = [parse_feed(body, feed_url=url, now=now) for url, body in bodies]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    items = sum(len(p.items) for p in parsed)
    profile = cProfile.Profile()
    profile.enable()
    for url, body in bodies[: max(1, len(bodies) // 3)]:
        parse_feed(body, feed_url=url, now=now)
    profile.disable()
    stage("2 parse_feed", wall, cpu, items, top=_top(profile))

    matcher = Matcher.compile(TARGET_RULES)
    wall, cpu = time.perf_counter(), time.process_time()
    hits = [match_items(matcher, p.items) for p in parsed]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stage("3 match", wall, cpu, items)

    async def store_all(database: str, count: int) -> None:
        # As the service does it: every state in one read, then each poll's record_success
        # (validators + items) while other polls finish, so the group commit can gather them.
        store = await Store.open(database)
        rows = list(zip(bodies, parsed, hits, strict=True))[:count]
        await store.feed_states([url for (url, _), _, _ in rows])
        slots = asyncio.Semaphore(Settings().concurrency)

        async def record(url: str, feed: ParsedFeed, feed_hits: Hits) -> None:
            async with slots:
                await store.record_success(
                    url, Validators(), now, feed.title, items=feed.items, hits=feed_hits
                )

        await asyncio.gather(*(record(url, feed, h) for (url, _), feed, h in rows))
        await store.close()

    with tempfile.TemporaryDirectory(prefix="pw-profile-") as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        await store_all(f"sqlite+aiosqlite:///{tmp}/timed.db", len(bodies))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        profile = cProfile.Profile()
        profile.enable()
        await store_all(f"sqlite+aiosqlite:///{tmp}/profiled.db", max(1, len(bodies) // 3))
        profile.disable()
    stage("4 store (record_success, group commit)", wall, cpu, items, top=_top(profile))
    return results
