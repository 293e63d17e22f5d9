"""Scenarios 1, 2 and 6: a cold poll, then a warm re-poll, of the served feeds.

Each tool runs in a fresh process (see bench/worker.py) with an empty database: the cold pass
is measured, then the warm pass (everything answers 304) in the same process, as a long-running
service would do it.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.baselines import NaiveLoop, ReaderPeer
from bench.corpus import TARGET_RULES, feed_spec
from bench.measure import Meter, Result
from bench.server import feed_url


def feed_urls(port: int, feeds: int, prefix: str = "/f/") -> list[str]:
    urls = []
    for index in range(feeds):
        path = feed_spec(index).path
        urls.append(feed_url(port, prefix + path[3:], index))
    return urls


def run_policywire(params: dict[str, Any]) -> dict[str, Result]:
    return asyncio.run(_policywire(params))


async def _policywire(params: dict[str, Any]) -> dict[str, Result]:
    from policywire.config.model import FeedConfig, Settings
    from policywire.ingest.parsepool import ParsePool
    from policywire.pipeline import Poller, PollStatus, fetcher_for, poll_into_store
    from policywire.service import freeze_startup_heap
    from policywire.storage.store import Store

    port, feeds = params["port"], params["feeds"]
    warm = params.get("warm", True)
    nv_feeds = min(feeds, params.get("nv_feeds", 0))
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        store = await Store.open(params.get("database") or f"sqlite+aiosqlite:///{tmp}/pw.db")
        parser = ParsePool(workers=params.get("workers"), rules=TARGET_RULES)
        fetcher = fetcher_for(Settings())
        await fetcher.start()
        try:
            poller = Poller(fetcher, parser, lambda: _now())
            configs = [
                FeedConfig(url, f"Outlet {i}", None, timedelta(minutes=15))
                for i, url in enumerate(feed_urls(port, feeds))
            ]

            slots = asyncio.Semaphore(Settings().concurrency)  # as the service bounds polls

            async def poll_all(selected: list[FeedConfig]) -> dict[str, int]:
                counts = {status.value: 0 for status in PollStatus} | {"items": 0}

                async def bounded(feed: FeedConfig) -> None:
                    # Count and let go, as the service does: holding every outcome would
                    # measure the bench's memory, not policywire's.
                    async with slots:
                        outcome = await poll_into_store(poller, store, feed)
                    counts[outcome.status.value] += 1
                    counts["items"] += len(outcome.items)

                await asyncio.gather(*(bounded(feed) for feed in selected))
                return counts

            model = _loaded_model() if params.get("model") else None
            freeze_startup_heap()  # as Service.start does before its first polls
            with Meter() as meter:
                # As the service starts: every feed's state in one query, then the polls.
                await store.feed_states([feed.url for feed in configs])
                counts = await poll_all(configs)
            stored = await store.count_items()
            del model  # held through the poll, as a running service holds it
            results["cold"] = Result(
                meter.wall,
                meter.cpu,
                meter.peak_rss_mb,
                counts["items"],
                {
                    "stored": stored,
                    **counts,
                    "unit": "items",
                    "cpu_main": meter.cpu_main,
                },
            )
            if warm:
                with Meter() as meter:
                    counts = await poll_all(configs)
                results["warm"] = Result(
                    meter.wall,
                    meter.cpu,
                    meter.peak_rss_mb,
                    feeds,
                    {**counts, "unit": "feeds"},
                )
            if nv_feeds:
                # A server that ignores conditional GET: every answer is a 200 with the same
                # body, so only the stored body hash can spare the parse.
                nv = [
                    FeedConfig(url, f"Outlet {i}", None, timedelta(minutes=15))
                    for i, url in enumerate(feed_urls(port, nv_feeds, "/nv/"))
                ]
                await poll_all(nv)
                with Meter() as meter:
                    counts = await poll_all(nv)
                results["warm_same_body"] = Result(
                    meter.wall,
                    meter.cpu,
                    meter.peak_rss_mb,
                    nv_feeds,
                    {**counts, "unit": "feeds"},
                )
        finally:
            await fetcher.close()
            await asyncio.to_thread(parser.close)
            await store.close()
    return results


def _loaded_model() -> Any:
    """The default embedding model, loaded and used once, as a service holds it after its
    first digest."""
    from policywire.curate.embedders.universal import UniversalEncoder

    encoder = UniversalEncoder()
    encoder.embed(["Regulators publish guidance on general-purpose AI models"])
    return encoder


def _now() -> datetime:
    return datetime.now(UTC)


def run_naive(params: dict[str, Any]) -> dict[str, Result]:
    urls = feed_urls(params["port"], params["feeds"])
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="naive-bench-") as tmp:
        loop = NaiveLoop(Path(tmp) / "naive.db", TARGET_RULES)
        with Meter() as meter:
            counts = loop.poll(urls)
        results["cold"] = Result(
            meter.wall, meter.cpu, meter.peak_rss_mb, counts["items"], {**counts, "unit": "items"}
        )
        if params.get("warm", True):
            with Meter() as meter:
                counts = loop.poll(urls)
            results["warm"] = Result(
                meter.wall, meter.cpu, meter.peak_rss_mb, len(urls), {**counts, "unit": "feeds"}
            )
        loop.close()
    return results


def run_reader(params: dict[str, Any]) -> dict[str, Result]:
    urls = feed_urls(params["port"], params["feeds"])
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="reader-bench-") as tmp:
        peer = ReaderPeer(Path(tmp) / "reader.sqlite", urls, workers=params.get("workers", 8))
        with Meter() as meter:
            counts = peer.update()
        results["cold"] = Result(
            meter.wall,
            meter.cpu,
            meter.peak_rss_mb,
            counts["entries_total"],
            {**counts, "unit": "items", "workers": peer.workers},
        )
        if params.get("warm", True):
            with Meter() as meter:
                peer.update()
            results["warm"] = Result(
                meter.wall, meter.cpu, meter.peak_rss_mb, len(urls), {"unit": "feeds"}
            )
        peer.close()
    return results
