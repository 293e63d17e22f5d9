"""The fetch stage: turn a feed URL and what we remember about it into a FetchResult.

One pooled aiohttp session serves every feed. Conditional GET is the normal path: a 304, or a
200 whose body hashes the same as last time, is NOT_MODIFIED and needs no parsing. Network
trouble never raises; it comes back as an ERROR result with one readable line, free of
credentials, so one broken feed cannot stop a poll. Only cancellation propagates.

Redirects are followed here, hop by hop, so that each hop passes the address rules of
`policywire.ingest.netguard` (no loopback, private, link-local… address unless the operator
wrote it or `allow_private_networks` is on), and the connector's resolver applies the same
rules to every DNS answer before connecting to it.

`file://` URLs and absolute paths are read from disk, which keeps offline demos and tests on
the same code path; they are only ever taken from the configuration, never from a redirect.

Here is the exchange itself (`Fetcher`); around it, in modules of their own: conditional GET
and the body hash (fetch_conditional.py), bodies within the size cap and local files
(fetch_body.py), the address checks of the resolver and of redirects (fetch_guard.py), the
one-line error messages and URL redaction (fetch_errors.py), and the backoff arithmetic
(fetch_backoff.py). Names others import from here stay importable from here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Self
from urllib.parse import SplitResult, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from policywire.ingest.fetch_backoff import jittered as jittered  # re-exported
from policywire.ingest.fetch_backoff import next_delay as next_delay  # re-exported
from policywire.ingest.fetch_backoff import parse_retry_after
from policywire.ingest.fetch_body import (
    MB,
    _local_path,
    _plain_headers,
    _read_capped,
    _read_file,
    _size,
    _too_large,
)
from policywire.ingest.fetch_conditional import (
    _body_result,
    _fresh_validators,
    _not_modified,
    _validator_headers,
    _why_unchanged,
)
from policywire.ingest.fetch_conditional import body_hash as body_hash  # re-exported
from policywire.ingest.fetch_errors import (
    _describe,
    _describe_network_error,
    _error,
    _reason,
    _seconds,
    _unsupported,
    redact_url,
)
from policywire.ingest.fetch_guard import GuardedResolver, _blocked, _hop_problem, _redirect_target
from policywire.ingest.netguard import AddressPolicy, BlockedAddressError, Origin
from policywire.models import FetchResult, FetchStatus, Validators

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "policywire/0.1 (+https://github.com/policywire/policywire; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_NO_VALIDATORS = Validators()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Fetcher:
    """Fetches feeds over one pooled HTTP session, bounded overall and per host.

    Use as `async with Fetcher() as fetcher:`. A session passed in is used as is and left open
    on exit; otherwise the Fetcher makes its own and closes it. Only its own session checks
    the addresses a host name resolves to (through `GuardedResolver`, over `resolver` or
    aiohttp's default); the hop checks (redirect targets, IP addresses in URLs) apply to both.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        concurrency: int = 50,
        per_host_concurrency: int = 4,
        timeout: float = 20.0,
        connect_timeout: float = 10.0,
        max_body_size: int = 5 * MB,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        trust_env: bool = False,
        clock: Callable[[], datetime] = _utc_now,
        address_policy: AddressPolicy | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.per_host_concurrency = max(1, per_host_concurrency)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_body_size = max_body_size
        self.max_redirects = max(0, max_redirects)
        self.user_agent = user_agent
        self.trust_env = trust_env  # honour HTTP(S)_PROXY and NO_PROXY from the environment
        self._clock = clock
        self.address_policy = address_policy or AddressPolicy()
        self._resolver = resolver
        self._session = session
        self._owns_session = session is None
        self._slots = asyncio.Semaphore(self.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        # The overall deadline is enforced with asyncio.timeout around the whole exchange
        # (redirects and body included); aiohttp only watches the connect phase.
        self._client_timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            limit=self.concurrency,
            limit_per_host=self.per_host_concurrency,
            ttl_dns_cache=300,  # what is cached was checked: the resolver only returns allowed
            resolver=GuardedResolver(self.address_policy, self._resolver),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._client_timeout, trust_env=self.trust_env
        )
        self._owns_session = True

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, validators: Validators = _NO_VALIDATORS) -> FetchResult:
        """Fetch one feed; never raises for network or disk trouble."""
        self._require_session()  # a usage bug, so it raises rather than becoming a result
        started = asyncio.get_running_loop().time()
        try:
            result = await self._fetch_any(url, validators)
        except Exception as exc:  # a bug or an exotic failure: still one feed's problem only
            logger.exception("fetch crashed: %s", redact_url(url))
            result = _error(url, "unexpected error: " + _describe(exc, url))
        _log_result(result, asyncio.get_running_loop().time() - started)
        return result

    async def fetch_many(
        self, urls_and_validators: Iterable[tuple[str, Validators]]
    ) -> AsyncIterator[FetchResult]:
        """Yield each feed's result as soon as it is ready, whatever order they finish in.

        Leaving the loop early cancels the fetches still running once the generator is closed
        (wrap it in `contextlib.aclosing` to close it promptly).
        """
        tasks = [asyncio.create_task(self.fetch(url, v)) for url, v in urls_and_validators]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch_any(self, url: str, validators: Validators) -> FetchResult:
        parts = _split(url)
        if parts is None:
            return _error(url, "invalid URL")
        path = _local_path(url, parts)
        if path is not None:
            async with self._slots:
                return await _read_file(url, path, validators, self.max_body_size)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            return _error(url, _unsupported(scheme))
        return await self._fetch_http(url, (parts.hostname or "").lower(), validators)

    async def _fetch_http(self, url: str, host: str, validators: Validators) -> FetchResult:
        # Host slot first: a task queued behind a busy host must not hold an overall slot
        # that a feed on an idle host could use.
        async with self._host_slot(host), self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._request(url, validators)
            except aiohttp.ConnectionTimeoutError:
                return _error(url, f"connection timed out after {_seconds(self.connect_timeout)}")
            except TimeoutError:
                return _error(url, f"timed out after {_seconds(self.timeout)}")
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                return _error(url, _describe_network_error(exc, url))

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("Fetcher used before start(); use 'async with Fetcher()'")
        return self._session

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.per_host_concurrency)
        return slot

    async def _request(self, url: str, validators: Validators) -> FetchResult:
        """GET `url`, following redirects ourselves so that every hop is checked first."""
        origin = Origin.of(urlsplit(url).hostname or "")
        target = URL(url)
        for hop in range(self.max_redirects + 1):
            problem = _hop_problem(target, origin, self.address_policy, redirected=hop > 0)
            if problem is not None:
                return _error(url, problem)
            try:
                async with self._require_session().get(
                    target,
                    headers=self._request_headers(validators),
                    timeout=self._client_timeout,
                    allow_redirects=False,
                ) as response:
                    location = _redirect_target(response)
                    if location is None:
                        return await self._read_response(url, validators, response)
            except aiohttp.ClientConnectorDNSError as exc:
                if isinstance(exc.os_error, BlockedAddressError):
                    return _error(url, _blocked(exc.os_error, redirected=hop > 0))
                raise
            target = location
        return _error(url, f"too many redirects (more than {self.max_redirects})")

    def _request_headers(self, validators: Validators) -> dict[str, str]:
        return {"User-Agent": self.user_agent, "Accept": ACCEPT, **_validator_headers(validators)}

    async def _read_response(
        self, url: str, validators: Validators, response: aiohttp.ClientResponse
    ) -> FetchResult:
        headers = _plain_headers(response.headers)
        final_url = redact_url(str(response.url))
        if response.status == HTTPStatus.NOT_MODIFIED:
            return _not_modified(url, validators, headers, final_url, response.status)
        if not 200 <= response.status < 300:
            return self._http_error(url, response, headers, final_url)
        body = await _read_capped(response, self.max_body_size)
        if body is None:
            return _error(url, _too_large(self.max_body_size), http_status=response.status)
        fresh = _fresh_validators(headers, body)
        return _body_result(url, body, validators, fresh, headers, final_url, response.status)

    def _http_error(
        self,
        url: str,
        response: aiohttp.ClientResponse,
        headers: Mapping[str, str],
        final_url: str,
    ) -> FetchResult:
        retry_after = None
        if response.status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
            retry_after = parse_retry_after(headers.get("retry-after"), self._clock())
        message = f"HTTP {response.status} {_reason(response)}".rstrip()
        if retry_after is not None:
            message += f" (retry after {_seconds(retry_after)})"
        return FetchResult(
            FetchStatus.ERROR,
            url,
            headers=headers,
            error=message,
            retry_after=retry_after,
            final_url=final_url,
            http_status=response.status,
        )


@functools.lru_cache(maxsize=16384)  # the same feeds' URLs, every poll
def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _log_result(result: FetchResult, elapsed: float) -> None:
    if result.status is not FetchStatus.ERROR and not logger.isEnabledFor(logging.DEBUG):
        return  # the usual case: nothing to say, so nothing to format
    where = redact_url(result.url)
    if result.status is FetchStatus.ERROR:
        logger.warning("fetch failed: %s: %s", where, result.error)
    elif result.status is FetchStatus.NOT_MODIFIED:
        logger.debug("not modified: %s (%s, %.0f ms)", where, _why_unchanged(result), elapsed * 1e3)
    else:
        logger.debug("fetched %s: %s in %.0f ms", where, _size(len(result.body)), elapsed * 1e3)
