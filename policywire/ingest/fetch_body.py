"""Bodies within the size cap: a response's, read chunk by chunk after aiohttp decoded it (so a
gzip bomb stops early), and a local file's for `file://` URLs and absolute paths; plus the
response headers as plain lower-cased names and the size texts of the messages.

Part of `policywire.ingest.fetch` (see its docstring), apart so that fetch.py holds the
exchange itself; nothing here but `MB` is public, hence the leading underscores.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, unquote
from urllib.request import url2pathname

import aiohttp

from policywire.ingest.fetch_conditional import _body_result, body_hash
from policywire.ingest.fetch_errors import _error
from policywire.models import FetchResult, Validators

MB = 1024 * 1024
_READ_CHUNK = 64 * 1024


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


def _plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with commas, as HTTP allows."""
    plain: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        plain[key] = f"{plain[key]}, {value}" if key in plain else value
    return plain


def _too_large(limit: int) -> str:
    return f"body larger than {_size(limit)}"


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"
