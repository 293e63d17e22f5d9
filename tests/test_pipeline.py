"""fetch → parse → match → store over real loopback HTTP and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from policywire.config.model import FeedConfig
from policywire.errors import StoreError
from policywire.ingest.fetch import Fetcher
from policywire.ingest.parsepool import ParsePool
from policywire.models import MatchedItem, TopicRule
from policywire.pipeline import Poller, PollStatus, poll_into_store
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.helpers import NOW

RULES = [TopicRule("ai-act", "EU AI Act", any=("AI Act",))]


def rss(*titles: str) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>https://news.example/{n}</link>"
        f"<guid>https://news.example/{n}</guid>"
        f"<pubDate>Tue, 10 Mar 2026 10:0{n}:00 GMT</pubDate>"
        f"<description>About {t}.</description></item>"
        for n, t in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>News</title><link>https://news.example/</link>{entries}</channel></rss>"
    )


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def feed(server: FeedServer, path: str) -> FeedConfig:
    return FeedConfig(server.url(path), "News", "en", timedelta(minutes=15))


async def poll_twice(server: FeedServer, db: str, target: FeedConfig) -> list[int]:
    """Poll in two separate 'runs' of the service; returns new matches per run."""
    counts = []
    for _ in range(2):
        store = await Store.open(db)
        async with Fetcher() as fetcher:
            with ParsePool(workers=0, rules=RULES) as parser:
                poller = Poller(fetcher, parser, lambda: NOW)
                await poll_into_store(poller, store, target)
        counts.append(await store.count_items())
        await store.close()
    return counts


async def test_restart_does_not_report_items_again(server: FeedServer, tmp_path: Path) -> None:
    server.add("/feed.xml", rss("The AI Act applies", "Football results"), etag='"v1"')
    db = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    assert await poll_twice(server, db, feed(server, "/feed.xml")) == [2, 2]
    # The second run sent the stored ETag and got a 304.
    assert server.requests[-1].headers.get("If-None-Match") == '"v1"'
    store = await Store.open(db)
    state = await store.feed_state(server.url("/feed.xml"))
    assert state.failures == 0
    assert state.items_total == 2
    await store.close()


async def test_new_items_only_are_new(server: FeedServer, tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    target = feed(server, "/feed.xml")
    async with Fetcher() as fetcher:
        with ParsePool(workers=0, rules=RULES) as parser:
            poller = Poller(fetcher, parser, lambda: NOW)
            server.add("/feed.xml", rss("The AI Act applies"))
            first = await poll_into_store(poller, store, target)
            server.add("/feed.xml", rss("The AI Act applies", "AI Act: new guidance"))
            second = await poll_into_store(poller, store, target)
    assert first.status is PollStatus.NEW
    assert second.status is PollStatus.NEW
    assert await store.count_items() == 2
    await store.close()


async def test_a_broken_feed_is_recorded_and_others_go_on(
    server: FeedServer, tmp_path: Path
) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    server.add("/good.xml", rss("The AI Act applies"))
    server.add("/page.html", "<html><body>Not a feed</body></html>", content_type="text/html")
    server.add("/gone.xml", "", status=404)
    async with Fetcher() as fetcher:
        with ParsePool(workers=0, rules=RULES) as parser:
            poller = Poller(fetcher, parser, lambda: NOW)
            outcomes = [
                await poll_into_store(poller, store, feed(server, path))
                for path in ("/page.html", "/gone.xml", "/good.xml")
            ]
    assert [o.status for o in outcomes] == [PollStatus.ERROR, PollStatus.ERROR, PollStatus.NEW]
    assert outcomes[0].error is not None and "not a feed" in outcomes[0].error
    assert outcomes[1].error == "HTTP 404 Not Found"
    broken = await store.feed_state(server.url("/page.html"))
    assert broken.failures == 1
    assert broken.last_error is not None and "\n" not in broken.last_error
    assert await store.count_items() == 1
    await store.close()


async def test_matching_in_the_pool_and_a_304_starts_no_worker(
    server: FeedServer, tmp_path: Path
) -> None:
    server.add("/feed.xml", rss("The AI Act applies", "Football results"), etag='"v1"')
    target = feed(server, "/feed.xml")
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    async with Fetcher() as fetcher:
        for run in range(2):
            async with ParsePool(workers=1, rules=RULES) as parser:
                poller = Poller(fetcher, parser, lambda: NOW)
                outcome = await poll_into_store(poller, store, target)
                if run == 0:  # parsed and matched in the worker
                    assert outcome.status is PollStatus.NEW
                    assert [m.item.title for m in outcome.matched()] == ["The AI Act applies"]
                    assert outcome.matched()[0].topics == ("ai-act",)
                    assert parser.worker_pids() != []
                else:  # a 304: no parse, so no process was started
                    assert outcome.status is PollStatus.UNCHANGED
                    assert parser.worker_pids() == []
    assert await store.count_items() == 2
    await store.close()


class FailingDisk(Store):
    """A real store whose writes fail as a full or broken disk makes them fail."""

    async def record_success(self, *args: object, **kwargs: object) -> list[MatchedItem]:
        raise StoreError("database error: disk I/O error")


async def test_a_store_failure_is_that_polls_error_not_a_crash(
    server: FeedServer, tmp_path: Path
) -> None:
    server.add("/feed.xml", rss("The AI Act applies"))
    store = await FailingDisk.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    async with Fetcher() as fetcher:
        with ParsePool(workers=0, rules=RULES) as parser:
            poller = Poller(fetcher, parser, lambda: NOW)
            outcome = await poll_into_store(poller, store, feed(server, "/feed.xml"))
    assert outcome.status is PollStatus.ERROR
    assert outcome.error == "database error: disk I/O error"
    await store.close()
