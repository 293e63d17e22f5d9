"""A scriptable feed server on loopback, for tests and benchmarks.

    async with FeedServer() as server:
        server.add("/feed.xml", RSS, etag='"v1"')
        result = await fetcher.fetch(server.url("/feed.xml"))
        assert server.hits("/feed.xml") == 1

Every route is scripted with `add`, `redirect`, `hold` or `hang`; anything else answers 404. The
server records each request and the most requests it ever served at once, so tests can check
conditional headers and concurrency limits from the outside.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_codec
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import NamedTuple, Self

from aiohttp import web
from multidict import CIMultiDict

RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RecordedRequest(NamedTuple):
    path: str
    headers: Mapping[str, str]  # case-insensitive


@dataclass(frozen=True, slots=True)
class _Route:
    body: bytes
    content_type: str
    status: int
    etag: str | None
    last_modified: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gzip: bool = False
    chunked: bool = False


class FeedServer:
    """An aiohttp.web server on 127.0.0.1 with an ephemeral port."""

    def __init__(self, *, chunk_size: int = 16 * 1024) -> None:
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_concurrent = 0
        self._chunk_size = chunk_size
        self._routes: dict[str, Handler] = {}
        self._closing = asyncio.Event()
        self._request_seen = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # A short shutdown grace: a test that leaves a request hanging must not wait a minute.
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = _bound_port(self._runner)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()  # releases every hanging handler
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    async def wait_for_hits(self, path: str, count: int = 1) -> None:
        """Return once `path` has received `count` requests (wrap in a timeout in tests)."""
        async with self._request_seen:
            await self._request_seen.wait_for(lambda: self.hits(path) >= count)

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = RSS_CONTENT_TYPE,
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0,
        gzip: bool = False,
        chunked: bool = False,
    ) -> None:
        """Script `path`; a later call for the same path replaces the earlier one.

        `chunked` streams the body without a Content-Length, so a client cannot reject an
        oversized body up front and has to count while reading.
        """
        route = _Route(
            body=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
            status=status,
            etag=etag,
            last_modified=last_modified,
            headers=dict(headers or {}),
            delay=delay,
            gzip=gzip,
            chunked=chunked,
        )

        async def serve(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, route)

        self._routes[path] = serve

    def redirect(self, path: str, to_path: str, *, status: int = 302) -> None:
        async def send_elsewhere(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to_path})

        self._routes[path] = send_elsewhere

    def hold(self, path: str, body: bytes | str) -> asyncio.Event:
        """Script `path` to answer `body` only once the returned event is set: a test decides
        when a poll in flight ends, with no sleep."""
        release = asyncio.Event()
        self.add(path, body)
        serve = self._routes[path]

        async def held(request: web.Request) -> web.StreamResponse:
            await release.wait()
            return await serve(request)

        self._routes[path] = held
        return release

    def hang(self, path: str) -> None:
        """Accept requests on `path` and never answer them while the server is open."""

        async def never_answer(request: web.Request) -> web.StreamResponse:
            await self._closing.wait()
            return web.Response(status=503)

        self._routes[path] = never_answer

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.path, CIMultiDict(request.headers)))
        self.in_flight += 1
        self.max_concurrent = max(self.max_concurrent, self.in_flight)
        async with self._request_seen:
            self._request_seen.notify_all()
        try:
            handler = self._routes.get(request.path)
            if handler is None:
                return web.Response(status=404, text="no such feed")
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _serve(self, request: web.Request, route: _Route) -> web.StreamResponse:
        if route.delay:
            await asyncio.sleep(route.delay)
        validators = _validator_headers(route)
        if route.status == 200 and _still_fresh(request, route):
            return web.Response(status=304, headers=validators)
        body = gzip_codec.compress(route.body) if route.gzip else route.body
        headers = {**validators, **route.headers, "Content-Type": route.content_type}
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
        if not route.chunked:
            return web.Response(status=route.status, body=body, headers=headers)
        return await self._stream(request, route.status, body, headers)

    async def _stream(
        self, request: web.Request, status: int, body: bytes, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(body), self._chunk_size):
                await response.write(body[start : start + self._chunk_size])
            await response.write_eof()
        except ConnectionError:
            pass  # the client gave up part way, which is what size-cap tests expect
        return response


def unused_port() -> int:
    """A loopback port nobody listens on, for "connection refused" tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the feed server did not bind a TCP port")


def _validator_headers(route: _Route) -> dict[str, str]:
    headers: dict[str, str] = {}
    if route.etag is not None:
        headers["ETag"] = route.etag
    if route.last_modified is not None:
        headers["Last-Modified"] = route.last_modified
    return headers


def _still_fresh(request: web.Request, route: _Route) -> bool:
    """Whether the client's conditional headers say it already has this version."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and route.etag is not None:
        return route.etag in (tag.strip() for tag in if_none_match.split(","))
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or route.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(
            route.last_modified
        )
    except (TypeError, ValueError):
        return if_modified_since == route.last_modified
