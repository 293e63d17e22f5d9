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
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import logging
import mimetypes
import random
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit
from urllib.request import url2pathname

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from policywire.ingest.netguard import AddressPolicy, BlockedAddressError, Origin, is_localhost
from policywire.models import FetchResult, FetchStatus, Validators

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "policywire/0.1 (+https://github.com/policywire/policywire; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
MB = 1024 * 1024
_READ_CHUNK = 64 * 1024
_NO_VALIDATORS = Validators()
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Query parameters whose values are secrets often enough that logs should not show them.
_SECRET_PARAMS = frozenset(
    {"token", "access_token", "key", "apikey", "api_key", "secret", "password", "sig", "auth"}
)


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
        headers = {"User-Agent": self.user_agent, "Accept": ACCEPT}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        return headers

    async def _read_response(
        self, url: str, validators: Validators, response: aiohttp.ClientResponse
    ) -> FetchResult:
        headers = _plain_headers(response.headers)
        final_url = redact_url(str(response.url))
        if response.status == HTTPStatus.NOT_MODIFIED:
            kept = Validators(
                etag=headers.get("etag") or validators.etag,
                last_modified=headers.get("last-modified") or validators.last_modified,
                body_hash=validators.body_hash,
            )
            return FetchResult(
                FetchStatus.NOT_MODIFIED,
                url,
                headers=headers,
                validators=kept,
                final_url=final_url,
                http_status=response.status,
            )
        if not 200 <= response.status < 300:
            return self._http_error(url, response, headers, final_url)
        body = await _read_capped(response, self.max_body_size)
        if body is None:
            return _error(url, _too_large(self.max_body_size), http_status=response.status)
        fresh = Validators(
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            body_hash=body_hash(body),
        )
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


class GuardedResolver(AbstractResolver):
    """Resolves with `base`, then keeps only the addresses the policy allows.

    The connector connects to what this returns and caches it, so the addresses checked are
    the addresses used: a DNS answer that changes between a check and the connection (DNS
    rebinding) cannot happen. A name with no allowed address raises BlockedAddressError.
    `localhost` passes as resolved: the hop check refused it unless the operator wrote it.
    """

    def __init__(self, policy: AddressPolicy, base: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._base = base or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._base.resolve(host, port, family)
        if is_localhost(host):
            return found
        kept: list[ResolveResult] = []
        refused: BlockedAddressError | None = None
        for entry in found:
            address = ipaddress.ip_address(entry["host"])
            reason = self.policy.refusal(address)
            if reason is None:
                kept.append(entry)
            elif refused is None:
                refused = BlockedAddressError(host, address, reason)
        if kept or refused is None:
            return kept
        raise refused

    async def close(self) -> None:
        await self._base.close()


def _hop_problem(
    target: URL, origin: Origin, policy: AddressPolicy, *, redirected: bool
) -> str | None:
    if redirected and target.scheme not in ("http", "https"):
        # file: above all: a server must never make us read the local disk.
        return f"refused a redirect to a {target.scheme}: URL (only http and https are followed)"
    return origin.hop_problem(target.raw_host or "", policy, redirected=redirected)


def _redirect_target(response: aiohttp.ClientResponse) -> URL | None:
    """Where a 3xx sends us, made absolute; None when this response is the answer."""
    if response.status not in _REDIRECTS:
        return None
    location = response.headers.get("Location")
    if location is None:
        return None  # a 3xx without a Location is reported as an HTTP error
    try:
        target = URL(location)
    except ValueError:
        raise aiohttp.InvalidUrlRedirectClientError(location, "not a URL") from None
    return target if target.scheme else response.url.join(target)


def _blocked(error: BlockedAddressError, *, redirected: bool) -> str:
    if redirected:
        where = f"redirected to {error.host}, which resolves to {error.address}"
        return f"{where}, {error.reason}: refused"
    return (
        f"{error.host} resolves to {error.address}, {error.reason}: refused "
        "(settings.allow_private_networks: true allows it)"
    )


# --- backoff -------------------------------------------------------------------------------

_MAX_DOUBLINGS = 64  # 2**64 times any sane interval is far beyond every cap; avoids overflow
_default_rng = random.Random()


def next_delay(
    interval: float,
    failures: int,
    retry_after: float | None = None,
    *,
    max_backoff: float = 6 * 3600,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before polling a feed again.

    A healthy feed (no failures) waits `interval`. Each consecutive failure doubles the wait,
    up to `max_backoff` (never below `interval` itself). A server's Retry-After is a minimum
    that jitter cannot undercut. `jitter` spreads the result by ±that fraction using `rng`;
    with a seeded `rng`, or no jitter, the function is pure.
    """
    interval = max(0.0, interval)
    doublings = min(max(0, failures), _MAX_DOUBLINGS)
    delay = min(interval * 2.0**doublings, max(interval, max_backoff))
    if jitter > 0:
        delay = jittered(delay, jitter, rng or _default_rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def jittered(seconds: float, fraction: float, rng: random.Random) -> float:
    """`seconds` moved at random by up to ±`fraction` of itself (fraction clamped to 0..1)."""
    spread = min(max(fraction, 0.0), 1.0)
    return max(0.0, seconds * (1.0 + rng.uniform(-spread, spread)))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- helpers -------------------------------------------------------------------------------


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@functools.lru_cache(maxsize=16384)  # the same feeds' URLs, every poll
def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


@functools.lru_cache(maxsize=16384)
def redact_url(url: str) -> str:
    """`url` without user:password and with secret-looking query values masked, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in _SECRET_PARAMS for name, _ in pairs):
            masked = [(n, "***" if n.lower() in _SECRET_PARAMS else v) for n, v in pairs]
            query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _body_result(
    url: str,
    body: bytes,
    old: Validators,
    fresh: Validators,
    headers: Mapping[str, str],
    final_url: str | None,
    http_status: int | None,
) -> FetchResult:
    """OK with the body, or NOT_MODIFIED when the bytes are the ones we already parsed."""
    unchanged = old.body_hash is not None and old.body_hash == fresh.body_hash
    return FetchResult(
        FetchStatus.NOT_MODIFIED if unchanged else FetchStatus.OK,
        url,
        body=b"" if unchanged else body,
        headers=headers,
        validators=fresh,
        final_url=final_url,
        http_status=http_status,
    )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The decoded body, or None as soon as it grows past `limit` bytes.

    Counting decoded chunks is what stops a gzip bomb: aiohttp decompresses incrementally,
    so we stop reading long before the whole expansion is in memory.
    """
    declared = response.content_length
    encoded = bool(response.headers.get("Content-Encoding"))
    if declared is not None and declared > limit and not encoded:
        return None  # refuse up front; a compressed length says nothing about the decoded size
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_file(url: str, path: Path, validators: Validators, limit: int) -> FetchResult:
    try:
        body = await asyncio.to_thread(_read_file_capped, path, limit)
    except FileNotFoundError:
        return _error(url, f"file not found: {path}")
    except IsADirectoryError:
        return _error(url, f"not a file: {path}")
    except PermissionError:
        return _error(url, f"permission denied: {path}")
    except OSError as exc:
        return _error(url, f"could not read {path}: {exc.strerror or type(exc).__name__}")
    if body is None:
        return _error(url, _too_large(limit))
    content_type = mimetypes.guess_type(path.name)[0]
    headers = {"content-type": content_type} if content_type else {}
    fresh = Validators(body_hash=body_hash(body))
    return _body_result(url, body, validators, fresh, headers, url, None)


def _read_file_capped(path: Path, limit: int) -> bytes | None:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)  # one byte more tells "exactly the cap" from "too big"
    return None if len(data) > limit else data


def _local_path(url: str, parts: SplitResult) -> Path | None:
    """The file a `file://` URL or an absolute path names; None for anything else."""
    if url.startswith("/"):
        return Path(url)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        return Path(url2pathname(unquote(parts.path)))
    return None  # file://otherhost/… is not ours to read: reported as unsupported


def _unsupported(scheme: str) -> str:
    if scheme == "file":
        return "unsupported file URL: only local files (file:///path) can be read"
    if not scheme:
        return "unsupported URL: expected http(s)://, file:// or an absolute path"
    return f"unsupported URL scheme '{scheme}'"


def _error(url: str, message: str, *, http_status: int | None = None) -> FetchResult:
    return FetchResult(FetchStatus.ERROR, url, error=message, http_status=http_status)


def _describe_network_error(exc: BaseException, url: str) -> str:
    """One readable line for the failures aiohttp and the OS raise."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"could not resolve host {exc.host}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "TLS error: " + _describe(exc, url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _describe_os_error(exc.os_error, url)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection"
    if isinstance(exc, aiohttp.RedirectClientError):
        return "redirected to an unusable URL"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "body was cut short or badly encoded"
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "invalid URL"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "bad response: " + _one_line(exc.message, url)
    if isinstance(exc, OSError):
        return _describe_os_error(exc, url)
    return _describe(exc, url)


def _describe_os_error(exc: OSError, url: str) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if exc.strerror:
        return "network error: " + _one_line(exc.strerror, url)
    return _describe(exc, url)


def _describe(exc: BaseException, url: str) -> str:
    text = str(exc)
    return type(exc).__name__ + (": " + _one_line(text, url) if text else "")


def _one_line(text: str, url: str, limit: int = 200) -> str:
    """`text` on one line, cut short, with any credentials from `url` taken out."""
    flat = " ".join(_without_secrets(text, url).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _without_secrets(text: str, url: str) -> str:
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    userinfo = parts.netloc.rpartition("@")[0]
    for secret in (userinfo, parts.password, unquote(parts.password or "")):
        if secret:
            text = text.replace(secret, "***")
    return text


def _plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with commas, as HTTP allows."""
    plain: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        plain[key] = f"{plain[key]}, {value}" if key in plain else value
    return plain


def _reason(response: aiohttp.ClientResponse) -> str:
    try:
        return HTTPStatus(response.status).phrase
    except ValueError:
        return " ".join((response.reason or "").split())


def _too_large(limit: int) -> str:
    return f"body larger than {_size(limit)}"


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def _seconds(value: float) -> str:
    return f"{value:g}s"


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


def _why_unchanged(result: FetchResult) -> str:
    return "HTTP 304" if result.http_status == HTTPStatus.NOT_MODIFIED else "same body hash"
