"""Conditional GET and the change check: the validators a request sends (ETag,
Last-Modified), the NOT_MODIFIED result of a 304, and the body hash that makes a 200 with the
same bytes NOT_MODIFIED too.

Part of `policywire.ingest.fetch` (see its docstring), apart so that fetch.py holds the
exchange itself; `body_hash` is public (fetch.py re-exports it), the rest is private to the
fetch modules, hence the leading underscores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from http import HTTPStatus

from policywire.models import FetchResult, FetchStatus, Validators


def _validator_headers(validators: Validators) -> dict[str, str]:
    """The conditional-request headers for what we remember about a feed."""
    headers: dict[str, str] = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _not_modified(
    url: str,
    validators: Validators,
    headers: Mapping[str, str],
    final_url: str,
    http_status: int,
) -> FetchResult:
    """A 304: the validators we sent, updated by any the server sent back."""
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
        http_status=http_status,
    )


def _fresh_validators(headers: Mapping[str, str], body: bytes) -> Validators:
    """What to remember about a 200's body for the next poll."""
    return Validators(
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        body_hash=body_hash(body),
    )


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


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


def _why_unchanged(result: FetchResult) -> str:
    return "HTTP 304" if result.http_status == HTTPStatus.NOT_MODIFIED else "same body hash"
