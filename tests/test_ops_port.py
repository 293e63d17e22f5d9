"""The operations port for real: `policywire run` with `settings.ops_listen`, scraped over
loopback while it runs (/metrics in Prometheus' text format, /healthz), JSON log lines, and the
error-kind labels."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from policywire.config.load import load_config
from policywire.errors import ConfigError
from policywire.ops.metrics import Metrics, OutboxSnapshot, error_kind
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text, by name and labels (parsed by prometheus-client)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@asynccontextmanager
async def running(config: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "scheduler.py"),
        *args,
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.wait()


async def scrape_until(url: str, ready: str, within: float = 30.0) -> str:
    """GET `url` until its body holds `ready` (the service polls in the meantime)."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(within):
        while True:
            try:
                async with session.get(url) as response:
                    body = await response.text()
                    if response.status == 200 and ready in body:
                        return body
            except aiohttp.ClientConnectionError:
                pass  # not listening yet
            await asyncio.sleep(0.2)


async def test_metrics_and_health_are_scraped_while_the_service_runs(tmp_path: Path) -> None:
    port = free_port()
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies", "Weather"]))
        config = config_file(
            tmp_path,
            database=tmp_path / "ops.db",
            feeds=[feeds.url("/news.xml"), feeds.url("/missing.xml")],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout"}],
            settings={"ops_listen": f"127.0.0.1:{port}", "embedding": {"backend": "none"}},
        )
        async with running(config) as process:
            base = f"http://127.0.0.1:{port}"
            text = await scrape_until(f"{base}/metrics", 'policywire_polls_total{outcome="error"}')
            text = await scrape_until(f"{base}/metrics", "policywire_digests_built_total 1.0")
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{base}/healthz") as response,
            ):
                health = (response.status, await response.json())
            assert process.returncode is None
    found = samples(text)
    assert found[("policywire_polls_total", (("outcome", "new"),))] >= 1
    assert found[("policywire_fetch_errors_total", (("kind", "http_4xx"),))] >= 1
    assert found[("policywire_items_matched_total", ())] == 1
    assert found[("policywire_digests_built_total", ())] == 1
    assert ("policywire_outbox_depth", ()) in found
    assert ("policywire_outbox_oldest_age_seconds", ()) in found
    assert health == (200, {"status": "ok", "bots": {}, "failure": None})


async def test_json_log_lines_are_one_object_each(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss(["The AI Act applies"]))
        config = config_file(
            tmp_path,
            database=tmp_path / "json.db",
            feeds=[feeds.url("/news.xml")],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout"}],
            settings={"embedding": {"backend": "none"}},
        )
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scheduler.py"),
            "--log-format",
            "json",
            "run",
            "--once",
            "--config",
            str(config),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            _, stderr = await process.communicate()
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # each line is a whole JSON object
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("1 new matching" in r["message"] for r in records)


async def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = config_file(
            tmp_path,
            database=tmp_path / "busy.db",
            feeds=[],
            topics={"ai-act": ["AI Act"]},
            settings={"ops_listen": f"127.0.0.1:{port}"},
        )
        async with running(config) as process:
            async with asyncio.timeout(30):
                code = await process.wait()
            assert process.stderr is not None
            stderr = (await process.stderr.read()).decode()
    assert code == 1
    assert f"operations port 127.0.0.1:{port}:" in stderr
    assert "Traceback" not in stderr


def test_a_bad_listen_address_is_a_config_error(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        database=tmp_path / "x.db",
        feeds=[],
        topics={"ai-act": ["AI Act"]},
        settings={"ops_listen": "everywhere"},
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config, env={})
    assert any(
        "settings.ops_listen" in line and "host:port" in line for line in raised.value.errors
    )


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("HTTP 503 Service Unavailable", "http_5xx"),
        ("HTTP 404 Not Found", "http_4xx"),
        ("timed out after 20s", "timeout"),
        ("cannot connect: connection refused by peer", "network"),
        ("redirect to 10.0.0.1, a private address: refused", "refused"),
        ("body larger than 5 MB", "too_large"),
        ("not a feed (an HTML page)", "parse"),
        ("something odd", "other"),
        (None, "other"),
    ],
)
def test_feed_errors_get_a_kind_of_few_values(message: str | None, kind: str) -> None:
    assert error_kind(message) == kind


def test_delivery_outcomes_are_counted_per_platform() -> None:
    metrics = Metrics()
    metrics.delivery("telegram", "sent")
    metrics.delivery("telegram", "rate_limited")
    metrics.delivery("discord", "retry")
    text = metrics.render(OutboxSnapshot(3, 42.0), {"telegram": True, "discord": False})
    found = samples(text.decode())
    assert found[("policywire_messages_sent_total", (("platform", "telegram"),))] == 1
    assert found[("policywire_messages_retried_total", (("platform", "telegram"),))] == 1
    assert found[("policywire_rate_limited_total", (("platform", "telegram"),))] == 1
    assert found[("policywire_messages_retried_total", (("platform", "discord"),))] == 1
    assert found[("policywire_outbox_depth", ())] == 3
    assert found[("policywire_outbox_oldest_age_seconds", ())] == 42
    assert found[("policywire_bot_up", (("platform", "discord"),))] == 0
