"""Exit codes a supervisor can act on (issue 15), from real processes on a real database.

`run --once` exits 3 when every feed failed or a destination could not be delivered to;
`status --check` exits 3 when a feed has failed for longer than its threshold or a message
has waited in the outbox too long, printing one line per problem. Before, both exited 0
whatever happened (and `status` had no `--check`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policywire.config.load import load_config
from policywire.models import Validators
from policywire.storage.store import DestinationRow, Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss
from tests.test_run_service import ROOT, TOKEN

CHAT = 7101


async def policywire(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scheduler.py"), *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def console_config(tmp_path: Path, feeds: FeedServer, *paths: str) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "codes.db",
        settings={"embedding": {"backend": "none"}},
        feeds=[{"url": feeds.url(path), "name": f"Feed {path}"} for path in paths],
        topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        destinations=[{"console": "stdout", "topics": ["ai-act"]}],
    )


async def test_run_once_exits_0_when_the_round_went_well(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/ok.xml", rss(["The AI Act applies"]))
        feeds.add("/broken.xml", "oops", status=500)  # one feed of two failing is news, not down
        config = console_config(tmp_path, feeds, "/ok.xml", "/broken.xml")
        code, out, err = await policywire("run", "--once", "--config", str(config))
    assert code == 0, err
    assert "The AI Act applies" in out
    assert "one round done: 1 messages sent, 1/2 feeds ok" in err


async def test_run_once_exits_3_when_every_feed_failed(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/a.xml", "oops", status=500)
        feeds.add("/b.xml", "gone", status=404)
        config = console_config(tmp_path, feeds, "/a.xml", "/b.xml")
        code, _, err = await policywire("run", "--once", "--config", str(config))
    assert code == 3, err
    assert "every feed failed (2)" in err


async def test_run_once_exits_3_when_a_destination_refuses_the_message(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        # A 400 for the HTML message and for its plain text too: refused for good.
        tg.fail_next("sendMessage", status=400, description="Bad Request: CHAT_RESTRICTED", times=2)
        config = config_file(
            tmp_path,
            database=tmp_path / "codes.db",
            settings={"embedding": {"backend": "none"}},
            telegram={"api_base_url": tg.base_url},
            feeds=[{"url": feeds.url("/news.xml"), "name": "Policy News"}],
            topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
            destinations=[{"telegram": str(CHAT), "topics": ["ai-act"], "schedule": "instant"}],
        )
        code, _, err = await policywire("run", "--once", "--config", str(config))
        assert len(tg.calls_to("sendMessage")) == 2  # HTML, then plain text, then given up
    assert code == 3, err
    assert f"telegram:{CHAT} not delivered to: message 1 refused: Telegram refused" in err
    code, out, _ = await policywire("status", "--config", str(config))
    assert f"telegram:{CHAT}: 1 failed for good, the last because: Telegram refused" in out


# --- status --check ----------------------------------------------------------------------------

FEED = "http://127.0.0.1:9/feed.xml"


def check_config(tmp_path: Path, interval: str = "15m") -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "check.db",
        feeds=[{"url": FEED, "name": "Watched", "interval": interval}],
        topics={"ai-act": ["AI Act"]},
        destinations=[{"console": "stdout", "topics": ["ai-act"]}],
    )


async def seed(config_path: Path, *, failing_for: timedelta | None, waiting_for: timedelta) -> None:
    """Write what a service that ran for a while would have written, through the store."""
    config = load_config(config_path)
    now = datetime.now(UTC)
    store = await Store.open(config.settings.database)
    try:
        await store.record_success(FEED, Validators(), now - timedelta(days=3), "Watched")
        if failing_for is not None:
            await store.record_success(FEED, Validators(), now - failing_for, "Watched")
            await store.record_failure(FEED, "HTTP 503 Service Unavailable", now)
        key = "console:stdout"
        queued = now - waiting_for
        await store.upsert_destination(
            DestinationRow(key, "config", "console", "stdout", ("ai-act",), "instant", "UTC",
                           "en", True, queued, None)
        )  # fmt: skip
        await store.enqueue_digest(key, [{"text": "waiting"}], [], queued, "seeded")
    finally:
        await store.close()


async def test_status_check_is_0_when_all_is_well(tmp_path: Path) -> None:
    config = check_config(tmp_path)
    await seed(config, failing_for=timedelta(hours=1), waiting_for=timedelta(minutes=5))
    code, out, err = await policywire("status", "--check", "--config", str(config))
    assert code == 0, out + err
    assert out.startswith("OK: 1 feeds, 1 destinations, outbox 1 pending, 0 failed")


async def test_status_check_is_3_for_a_feed_failing_too_long_and_a_stuck_outbox(
    tmp_path: Path,
) -> None:
    config = check_config(tmp_path)
    await seed(config, failing_for=timedelta(hours=7), waiting_for=timedelta(hours=2))
    code, out, _ = await policywire("status", "--check", "--config", str(config))
    assert code == 3
    [feed, outbox] = out.splitlines()
    assert feed.startswith("feed Watched failing since ")
    assert feed.endswith("(1 failures, more than 6 h): HTTP 503 Service Unavailable")
    assert outbox.startswith("outbox stuck: console:stdout has 1 messages waiting since ")
    # The thresholds are the caller's: a looser watch sees no problem.
    code, out, _ = await policywire(
        "status", "--check", "--feed-grace", "12h", "--outbox-grace", "3h", "--config", str(config)
    )
    assert code == 0, out


async def test_a_slow_feed_gets_three_intervals_before_it_is_a_problem(tmp_path: Path) -> None:
    config = check_config(tmp_path, interval="4h")  # threshold max(6 h, 3 × 4 h) = 12 h
    await seed(config, failing_for=timedelta(hours=7), waiting_for=timedelta(minutes=1))
    code, out, _ = await policywire("status", "--check", "--config", str(config))
    assert code == 0, out
