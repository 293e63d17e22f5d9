"""The fetch stage against a real HTTP server on loopback (tests/fakes/feed_server.py)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest

from policywire.ingest.fetch import Fetcher, jittered, next_delay, parse_retry_after, redact_url
from policywire.models import FetchStatus, Validators
from tests.fakes.feed_server import FeedServer, unused_port

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"
ETAG = '"v1"'
LAST_MODIFIED = "Tue, 10 Mar 2026 12:00:00 GMT"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TIMEOUT = 0.3


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(timeout=TIMEOUT, connect_timeout=TIMEOUT, clock=lambda: NOW) as f:
        yield f


# --- conditional GET -----------------------------------------------------------------------


async def test_200_returns_body_headers_and_validators(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.add("/feed.xml", RSS, etag=ETAG, last_modified=LAST_MODIFIED)

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.status is FetchStatus.OK
    assert result.body == RSS
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert result.validators == Validators(ETAG, LAST_MODIFIED, sha256(RSS))
    assert (result.http_status, result.final_url) == (200, server.url("/feed.xml"))
    sent = server.requests[0].headers
    assert sent["User-Agent"].startswith("policywire/")
    assert "If-None-Match" not in sent


async def test_second_fetch_sends_validators_and_a_304_is_not_modified(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.add("/feed.xml", RSS, etag=ETAG, last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(server.url("/feed.xml"))

    second = await fetcher.fetch(server.url("/feed.xml"), first.validators)

    assert second.status is FetchStatus.NOT_MODIFIED
    assert (second.http_status, second.body) == (304, b"")
    assert second.validators == first.validators
    sent = server.requests[-1].headers
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == (ETAG, LAST_MODIFIED)


async def test_a_304_with_a_new_etag_updates_it_and_keeps_the_body_hash(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.add("/feed.xml", RSS, etag='"v2"', last_modified=LAST_MODIFIED)
    remembered = Validators(last_modified=LAST_MODIFIED, body_hash="abc")

    result = await fetcher.fetch(server.url("/feed.xml"), remembered)

    assert result.status is FetchStatus.NOT_MODIFIED
    assert result.validators == Validators('"v2"', LAST_MODIFIED, "abc")


async def test_a_200_with_the_same_body_hash_is_not_modified(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.add("/feed.xml", RSS)  # no ETag, no Last-Modified: only the hash can tell
    first = await fetcher.fetch(server.url("/feed.xml"))

    second = await fetcher.fetch(server.url("/feed.xml"), first.validators)

    assert first.status is FetchStatus.OK
    assert second.status is FetchStatus.NOT_MODIFIED
    assert (second.http_status, second.body) == (200, b"")
    assert second.validators.body_hash == sha256(RSS)


async def test_a_changed_body_is_ok_again(server: FeedServer, fetcher: Fetcher) -> None:
    server.add("/feed.xml", RSS)
    first = await fetcher.fetch(server.url("/feed.xml"))
    server.add("/feed.xml", RSS + b"<!-- new -->")

    second = await fetcher.fetch(server.url("/feed.xml"), first.validators)

    assert second.status is FetchStatus.OK
    assert second.validators.body_hash == sha256(RSS + b"<!-- new -->")


# --- HTTP errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (410, "HTTP 410 Gone")],
)
async def test_http_error_statuses_become_one_line_errors(
    server: FeedServer, fetcher: Fetcher, status: int, message: str
) -> None:
    server.add("/feed.xml", "<html>oops</html>", status=status, content_type="text/html")

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.status is FetchStatus.ERROR
    assert (result.error, result.http_status, result.retry_after) == (message, status, None)


async def test_an_unscripted_path_is_a_404(server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("/nothing-here"))

    assert result.error == "HTTP 404 Not Found"


async def test_429_with_retry_after_in_seconds(server: FeedServer, fetcher: Fetcher) -> None:
    server.add("/feed.xml", "slow down", status=429, headers={"Retry-After": "120"})

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.status is FetchStatus.ERROR
    assert result.retry_after == 120.0
    assert result.error == "HTTP 429 Too Many Requests (retry after 120s)"


async def test_503_with_retry_after_as_an_http_date(server: FeedServer, fetcher: Fetcher) -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    server.add("/feed.xml", "maintenance", status=503, headers={"Retry-After": later})

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.retry_after == 90.0
    assert result.error == "HTTP 503 Service Unavailable (retry after 90s)"


# --- time and size limits ------------------------------------------------------------------


async def test_a_slow_server_times_out(server: FeedServer, fetcher: Fetcher) -> None:
    server.add("/feed.xml", RSS, delay=TIMEOUT * 3)
    started = asyncio.get_running_loop().time()

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.status is FetchStatus.ERROR
    assert result.error == f"timed out after {TIMEOUT:g}s"
    assert asyncio.get_running_loop().time() - started < TIMEOUT * 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_refused(server: FeedServer, chunked: bool) -> None:
    server.add("/big.xml", b"x" * 5000, chunked=chunked)
    server.add("/fits.xml", b"x" * 1000, chunked=chunked)

    async with Fetcher(max_body_size=1000, timeout=TIMEOUT) as small:
        big = await small.fetch(server.url("/big.xml"))
        fits = await small.fetch(server.url("/fits.xml"))

    assert big.status is FetchStatus.ERROR
    assert big.error == "body larger than 1000 bytes"
    assert fits.status is FetchStatus.OK


async def test_the_default_cap_is_described_in_megabytes(server: FeedServer) -> None:
    server.add("/big.xml", b"x" * (5 * 1024 * 1024 + 1))

    async with Fetcher(timeout=2.0) as default:
        result = await default.fetch(server.url("/big.xml"))

    assert result.error == "body larger than 5.0 MB"


async def test_a_gzip_body_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    server.add("/feed.xml", RSS, gzip=True)

    result = await fetcher.fetch(server.url("/feed.xml"))

    assert result.status is FetchStatus.OK
    assert result.body == RSS
    assert result.validators.body_hash == sha256(RSS)
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]


async def test_a_gzip_bomb_is_stopped_by_the_decoded_size(server: FeedServer) -> None:
    decoded = b"\0" * (20 * 1024 * 1024)
    server.add("/bomb.xml", decoded, gzip=True)
    assert len(gzip.compress(decoded)) < 1024 * 1024  # small on the wire, huge decoded

    async with Fetcher(max_body_size=1024 * 1024, timeout=2.0) as capped:
        result = await capped.fetch(server.url("/bomb.xml"))

    assert result.status is FetchStatus.ERROR
    assert result.error == "body larger than 1.0 MB"


# --- redirects and connections -------------------------------------------------------------


async def test_a_redirect_is_followed_to_the_final_url(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.redirect("/old.xml", "/new.xml", status=301)
    server.add("/new.xml", RSS)

    result = await fetcher.fetch(server.url("/old.xml"))

    assert result.status is FetchStatus.OK
    assert result.body == RSS
    assert result.url == server.url("/old.xml")  # the feed's key does not move
    assert result.final_url == server.url("/new.xml")


async def test_exactly_max_redirects_hops_are_followed(server: FeedServer) -> None:
    for hop in range(3):
        server.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    server.add("/hop3", RSS)

    async with Fetcher(max_redirects=3, timeout=TIMEOUT) as fetcher:
        three = await fetcher.fetch(server.url("/hop0"))
        server.redirect("/hop3", "/hop4")
        server.add("/hop4", RSS)
        four = await fetcher.fetch(server.url("/hop0"))

    assert three.status is FetchStatus.OK
    assert four.error == "too many redirects (more than 3)"


async def test_a_redirect_loop_is_too_many_redirects(server: FeedServer, fetcher: Fetcher) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")

    result = await fetcher.fetch(server.url("/a"))

    assert result.status is FetchStatus.ERROR
    assert result.error == "too many redirects (more than 5)"
    assert server.hits("/a") + server.hits("/b") == 6


async def test_a_closed_port_is_connection_refused(fetcher: Fetcher) -> None:
    result = await fetcher.fetch(f"http://127.0.0.1:{unused_port()}/feed.xml")

    assert result.status is FetchStatus.ERROR
    assert result.error == "connection refused"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed.xml", "unsupported URL scheme 'ftp'"),
        ("feed.xml", "unsupported URL: expected http(s)://, file:// or an absolute path"),
        ("http://[::1/feed.xml", "invalid URL"),
    ],
)
async def test_urls_we_cannot_fetch(fetcher: Fetcher, url: str, message: str) -> None:
    result = await fetcher.fetch(url)

    assert (result.status, result.error) == (FetchStatus.ERROR, message)


async def test_credentials_never_reach_errors_or_logs(
    server: FeedServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="policywire.ingest.fetch")
    urls = [
        server.url("/private.xml").replace("http://", "http://alice:s3cret@"),
        f"http://alice:s3cret@127.0.0.1:{unused_port()}/feed.xml",
        "ftp://alice:s3cret@example.org/feed.xml",
        "http://alice:s3cret@[::1/feed.xml",
    ]

    errors = [(await fetcher.fetch(url)).error for url in urls]

    assert errors[:2] == ["HTTP 404 Not Found", "connection refused"]
    assert all(error and "s3cret" not in error for error in errors)
    assert "s3cret" not in caplog.text
    assert "fetch failed: http://127.0.0.1:" in caplog.text


def test_redact_url_strips_userinfo_and_masks_secret_query_values() -> None:
    url = "https://bob:pw@news.example/feed?token=abc&lang=en"

    assert redact_url(url) == "https://news.example/feed?token=***&lang=en"
    assert redact_url("https://news.example/feed?a=1") == "https://news.example/feed?a=1"


# --- local files ---------------------------------------------------------------------------


async def test_a_file_url_is_read_from_disk(tmp_path: Path, fetcher: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)

    by_url = await fetcher.fetch(path.as_uri())
    by_path = await fetcher.fetch(str(path), by_url.validators)

    assert by_url.status is FetchStatus.OK
    assert by_url.body == RSS
    assert by_url.validators == Validators(body_hash=sha256(RSS))
    assert by_url.headers["content-type"] in ("application/xml", "text/xml")
    assert by_path.status is FetchStatus.NOT_MODIFIED


async def test_a_missing_file_is_an_error(tmp_path: Path, fetcher: Fetcher) -> None:
    missing = tmp_path / "gone.xml"

    result = await fetcher.fetch(missing.as_uri())

    assert result.status is FetchStatus.ERROR
    assert result.error == f"file not found: {missing}"


async def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 101)

    async with Fetcher(max_body_size=100) as small:
        result = await small.fetch(str(path))

    assert result.error == "body larger than 100 bytes"


# --- many feeds at once --------------------------------------------------------------------


async def test_fetch_many_is_not_held_up_by_a_hanging_feed(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.hang("/hang.xml")
    fast = [f"/fast{n}.xml" for n in range(5)]
    for path in fast:
        server.add(path, RSS)
    wanted = [(server.url(p), Validators()) for p in ["/hang.xml", *fast]]
    loop = asyncio.get_running_loop()
    started = loop.time()

    arrivals = [(result, loop.time() - started) async for result in fetcher.fetch_many(wanted)]

    fast_arrivals = arrivals[:-1]
    assert {result.url for result, _ in fast_arrivals} == {server.url(p) for p in fast}
    assert all(result.status is FetchStatus.OK for result, _ in fast_arrivals)
    assert max(elapsed for _, elapsed in fast_arrivals) < TIMEOUT / 2
    hung, _ = arrivals[-1]
    assert (hung.url, hung.error) == (server.url("/hang.xml"), f"timed out after {TIMEOUT:g}s")


@pytest.mark.parametrize(
    ("concurrency", "per_host", "expected"), [(50, 2, 2), (3, 10, 3)], ids=["host", "overall"]
)
async def test_concurrency_limits_are_respected(
    server: FeedServer, concurrency: int, per_host: int, expected: int
) -> None:
    paths = [f"/feed{n}.xml" for n in range(8)]
    for path in paths:
        server.add(path, RSS, delay=0.03)

    wanted = [(server.url(path), Validators()) for path in paths]

    # A session with no connection limits of its own, so only the Fetcher's limits apply.
    async with (
        aiohttp.ClientSession() as session,
        Fetcher(session=session, concurrency=concurrency, per_host_concurrency=per_host) as limited,
    ):
        results = [result async for result in limited.fetch_many(wanted)]

    assert len(results) == 8
    assert all(result.status is FetchStatus.OK for result in results)
    assert server.max_concurrent == expected


async def test_cancelling_a_fetch_propagates(server: FeedServer, fetcher: Fetcher) -> None:
    server.hang("/hang.xml")
    task = asyncio.create_task(fetcher.fetch(server.url("/hang.xml")))
    async with asyncio.timeout(1):
        await server.wait_for_hits("/hang.xml")

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


# --- lifecycle -----------------------------------------------------------------------------


async def test_fetch_before_start_is_a_usage_error() -> None:
    with pytest.raises(RuntimeError, match="before start"):
        await Fetcher().fetch("http://127.0.0.1/feed.xml")


async def test_an_injected_session_is_used_and_left_open(server: FeedServer) -> None:
    server.add("/feed.xml", RSS)
    async with aiohttp.ClientSession() as session:
        async with Fetcher(session=session, user_agent="custom/1.0") as fetcher:
            result = await fetcher.fetch(server.url("/feed.xml"))
        assert not session.closed

    assert result.status is FetchStatus.OK
    assert server.requests[0].headers["User-Agent"] == "custom/1.0"


# --- pure policy ---------------------------------------------------------------------------

HOUR = 3600.0


@pytest.mark.parametrize(
    ("interval", "failures", "retry_after", "max_backoff", "expected"),
    [
        (600, 0, None, 6 * HOUR, 600),  # healthy: the plain interval
        (600, 1, None, 6 * HOUR, 1200),
        (600, 3, None, 6 * HOUR, 4800),
        (600, 6, None, 6 * HOUR, 6 * HOUR),  # 38400 capped at 21600
        (600, 10_000, None, 6 * HOUR, 6 * HOUR),  # no overflow on a feed dead for months
        (600, -2, None, 6 * HOUR, 600),  # nonsense counts as healthy
        (8 * HOUR, 2, None, 6 * HOUR, 8 * HOUR),  # cap never shortens the interval itself
        (600, 1, 7200, 6 * HOUR, 7200),  # Retry-After is a minimum…
        (600, 3, 60, 6 * HOUR, 4800),  # …not a maximum
        (600, 0, 30 * HOUR, 6 * HOUR, 30 * HOUR),  # and beats the cap
        (0, 5, None, 6 * HOUR, 0),
    ],
)
def test_next_delay(
    interval: float, failures: int, retry_after: float | None, max_backoff: float, expected: float
) -> None:
    assert next_delay(interval, failures, retry_after, max_backoff=max_backoff) == expected


def test_next_delay_with_jitter_is_spread_but_never_below_retry_after() -> None:
    delays = {next_delay(600, 1, jitter=0.1, rng=random.Random(seed)) for seed in range(50)}
    floored = {next_delay(600, 0, 650, jitter=0.5, rng=random.Random(s)) for s in range(50)}

    assert len(delays) > 1
    assert all(1080 <= d <= 1320 for d in delays)
    assert min(floored) == 650


@pytest.mark.parametrize(
    ("seconds", "fraction", "low", "high"),
    [(100, 0.0, 100, 100), (100, 0.2, 80, 120), (100, 5.0, 0, 200), (100, -1, 100, 100)],
)
def test_jittered_stays_within_its_fraction(
    seconds: float, fraction: float, low: float, high: float
) -> None:
    rng = random.Random(7)
    values = [jittered(seconds, fraction, rng) for _ in range(200)]

    assert all(low <= v <= high for v in values)
    assert jittered(seconds, fraction, random.Random(1)) == jittered(
        seconds, fraction, random.Random(1)
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),  # already past
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected
