"""Failures said in one readable line: the classification of what aiohttp and the OS raise, the
ERROR result that carries it, and the redaction that keeps credentials out of it and of logs.

Part of `policywire.ingest.fetch` (see its docstring), apart so that fetch.py holds the
exchange itself; `redact_url` is public (fetch.py re-exports it), the rest is private to the
fetch modules, hence the leading underscores.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import aiohttp

from policywire.models import FetchResult, FetchStatus

# Query parameters whose values are secrets often enough that logs should not show them.
_SECRET_PARAMS = frozenset(
    {"token", "access_token", "key", "apikey", "api_key", "secret", "password", "sig", "auth"}
)


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


def _unsupported(scheme: str) -> str:
    if scheme == "file":
        return "unsupported file URL: only local files (file:///path) can be read"
    if not scheme:
        return "unsupported URL: expected http(s)://, file:// or an absolute path"
    return f"unsupported URL scheme '{scheme}'"


def _reason(response: aiohttp.ClientResponse) -> str:
    try:
        return HTTPStatus(response.status).phrase
    except ValueError:
        return " ".join((response.reason or "").split())


def _seconds(value: float) -> str:
    return f"{value:g}s"
