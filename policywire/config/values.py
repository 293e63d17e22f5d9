"""Checks and conversions of single values in feeds.yaml: sizes, time zones, languages, URLs."""

from __future__ import annotations

import difflib
import os
import re
import urllib.request
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from yaml.nodes import MappingNode, Node, SequenceNode

from policywire.config.durations import parse_duration, parse_schedule
from policywire.config.model import (
    EMBEDDING_BACKENDS,
    SUMMARIZER_BACKENDS,
    SUPPORTED_LANGUAGES,
    EmbeddingBackend,
    SummarizerBackend,
    SyncScope,
    TopicConfig,
)
from policywire.config.yamlpos import Fields, parse_int
from policywire.ingest.match import validate_keyword
from policywire.ingest.netguard import config_problem
from policywire.logsafe import shown

TOPIC_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


_BYTE_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?", re.IGNORECASE)


_BYTE_UNITS = {
    "b": 1,
    "kb": 1024,
    "kib": 1024,
    "mb": 1024**2,
    "mib": 1024**2,
    "gb": 1024**3,
    "gib": 1024**3,
}


def parse_duration_or_zero(text: str) -> timedelta:
    return parse_duration(text, allow_zero=True)


def parse_schedule_text(text: str) -> str:
    return parse_schedule(text).text


def parse_byte_size(text: str | int) -> int:
    """Bytes from an int or a size like ``500KB`` / ``5MB`` (binary units: 1KB = 1024)."""
    if isinstance(text, bool):
        raise ValueError(f"expected a size such as 5MB, got {text}")
    if isinstance(text, int):
        size = text
    else:
        match = _BYTE_SIZE.fullmatch(text.strip().replace("_", ""))
        if match is None:
            raise ValueError(f"invalid size {shown(text)}: use bytes or a size like 500KB or 5MB")
        amount, unit = match.groups()
        size = int(float(amount) * _BYTE_UNITS[(unit or "b").lower()])
    if size <= 0:
        raise ValueError(f"must be larger than zero, got {text!r}")
    return size


def parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        suggestion = _closest_timezone(text)
        hint = f"did you mean {suggestion}?" if suggestion else "use a name like Europe/Rome"
        raise ValueError(f"unknown time zone {shown(text)} ({hint})") from None
    return text


def _closest_timezone(text: str) -> str | None:
    by_folded = {name.casefold(): name for name in _timezone_names()}
    if text.casefold() in by_folded:
        return by_folded[text.casefold()]
    close = difflib.get_close_matches(text.casefold(), list(by_folded), n=1)
    return by_folded[close[0]] if close else None


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_language(text: str) -> str:
    language = text.lower()
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported language {shown(text)} (choose one of: {', '.join(SUPPORTED_LANGUAGES)})"
        )
    return language


def parse_feed_language(text: str) -> str:
    """A feed may be in any language; keep the primary subtag ("en-US" -> "en")."""
    match = _LANGUAGE_TAG.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid language code {shown(text)} (use a code like en, it or pt-BR)")
    return match.group(1).lower()


def parse_env_name(text: str) -> str:
    if not _ENV_NAME.fullmatch(text):
        # Not echoed: a value here that is not a variable name is often the secret itself.
        raise ValueError(
            "must be the name of an environment variable (e.g. MY_BOT_TOKEN), not the secret itself"
        )
    return text


def parse_embedding_backend(text: str) -> EmbeddingBackend:
    for backend in EMBEDDING_BACKENDS:
        if text == backend:
            return backend
    choices = ", ".join(repr(b) for b in EMBEDDING_BACKENDS)
    raise ValueError(f"must be one of {choices}, got {shown(text)}")


def parse_summarizer_backend(text: str) -> SummarizerBackend:
    for backend in SUMMARIZER_BACKENDS:
        if text == backend:
            return backend
    choices = ", ".join(repr(b) for b in SUMMARIZER_BACKENDS)
    raise ValueError(f"must be one of {choices}, got {shown(text)}")


_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


def parse_flag(text: str) -> bool:
    """A YAML boolean as written: true/false (yes/no and on/off too, as YAML 1.1 reads them)."""
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {shown(text)}")


def parse_sync_scope(text: str) -> SyncScope:
    if text == "guild":
        return "guild"
    if text == "global":
        return "global"
    raise ValueError(f"must be 'guild' or 'global', got {shown(text)}")


def parse_http_url(text: str) -> str:
    return _check_url(text, ("http", "https"))


def parse_webhook_url(text: str) -> str:
    """`settings.telegram.webhook_url`: Telegram delivers only to HTTPS; plain http is allowed
    for a loopback host (a test or a TLS-terminating proxy on this machine)."""
    url = _check_url(text, ("http", "https"))
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("Telegram sends webhooks only to https URLs (http only on loopback)")
    return url


def parse_websocket_url(text: str) -> str:
    return _check_url(text, ("ws", "wss"))


def _check_url(text: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() not in schemes or not parts.hostname or " " in text:
        raise ValueError(f"expected a {' or '.join(schemes)} URL with a host name")
    return text


def check_feed_url(text: str, allow_private_networks: bool = False) -> str:
    """Keep http(s) URLs as written; rewrite file URLs in one canonical spelling.

    An IP address as host is checked as the fetcher will check it (`netguard.config_problem`).
    """
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        url = _check_url(text, ("http", "https"))
        problem = config_problem(parts.hostname or "", allow_private_networks)
        if problem is not None:
            raise ValueError(problem)
        return url
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError("a file URL needs an absolute path, e.g. file:///srv/feeds/news.xml")
        local = Path(urllib.request.url2pathname(parts.path))
        if not local.is_absolute():
            raise ValueError("a file URL needs an absolute path, e.g. file:///srv/feeds/news.xml")
        return Path(os.path.normpath(local)).as_uri()
    raise ValueError(f"unsupported URL scheme '{parts.scheme}' (use http, https or file)")


def default_feed_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path)).name or url
    return parts.hostname or url


def resolve_database(text: str, base_dir: Path) -> str:
    """SQLite paths become absolute (relative to the config file); PostgreSQL passes through.

    Messages never repeat the URL: a PostgreSQL URL may carry a password.
    """
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL (e.g. sqlite+aiosqlite:///policywire.db)") from None
    if url.drivername == "postgresql+asyncpg":
        return text
    if url.drivername not in ("sqlite", "sqlite+aiosqlite"):
        raise ValueError(
            f"unsupported database driver '{url.drivername}' "
            "(use sqlite+aiosqlite:///FILE or postgresql+asyncpg://...)"
        )
    url = url.set(drivername="sqlite+aiosqlite")
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        local = Path(database).expanduser()
        url = url.set(database=os.path.normpath(base_dir / local))
    return url.render_as_string(hide_password=False)


def regex_problem(keyword: str) -> str | None:
    """The matcher's own verdict, so `check` refuses exactly what the matcher cannot compile."""
    return validate_keyword(keyword)


def unknown_topic_message(topic_id: str, topics: Mapping[str, TopicConfig]) -> str:
    if not topics:
        return f"unknown topic '{topic_id}' (no topics are defined)"
    return f"unknown topic '{topic_id}' (defined: {', '.join(topics)})"


def has_items(fields: Fields, key: str) -> bool:
    node = fields.value(key)
    return node is not None and not (isinstance(node, SequenceNode) and not node.value)


def is_mapping(node: Node) -> bool:
    return isinstance(node, MappingNode)


def parse_listen_address(text: str) -> str | None:
    """`settings.ops_listen`: "host:port" ("127.0.0.1:9464", "[::1]:9464", ":9464" for
    loopback); the empty string or "off" turns the port off."""
    if text.strip().lower() in ("", "off", "false", "no"):
        return None
    host, port = split_listen_address(text)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_webhook_listen(text: str) -> str:
    """`settings.telegram.webhook_listen`: "host:port" as for `ops_listen`, never off."""
    host, port = split_listen_address(text)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_shard_count(text: str) -> int:
    """`settings.discord.shard_count`: Discord wants about one shard per 1,000 servers."""
    return parse_int(text, 1)


def split_listen_address(text: str) -> tuple[str, int]:
    """ "host:port" → (host, port), loopback when the host is left out; ValueError says why."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected host:port (e.g. 127.0.0.1:9464), got {shown(text)}")
    return (host.strip("[]") or "127.0.0.1"), int(port)
