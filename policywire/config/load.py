"""Load and check feeds.yaml: settings, feeds, topics and destinations.

Every problem is reported as ``FILE:LINE: path.to.key: what is wrong``, all of them at once
and sorted by line, so one run of the loader tells the user everything to fix. Secrets never
live in the file: tokens and webhook URLs come from environment variables, and the loader
only checks that those are set, without ever reading their values into a message.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from yaml.nodes import MappingNode, Node, SequenceNode

from policywire.config.durations import Schedule, parse_duration, parse_schedule
from policywire.config.yamlpos import (
    Fields,
    Problems,
    compose,
    item_path,
    line_of,
    parse_node,
    sequence_items,
)
from policywire.errors import ConfigError, YamlSyntaxError
from policywire.ingest.match import validate_keyword
from policywire.models import TopicRule

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Config",
    "ConfigError",
    "DestinationConfig",
    "DestinationKind",
    "DiscordSettings",
    "FeedConfig",
    "Schedule",
    "Settings",
    "TelegramSettings",
    "TopicConfig",
    "default_config_path",
    "load_config",
    "parse_byte_size",
    "parse_duration",
    "parse_schedule",
]

logger = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("en", "it", "fr", "de")
CONFIG_PATH_ENV = "POLICYWIRE_CONFIG"
DEFAULT_CONFIG_NAME = "feeds.yaml"

DestinationKind = Literal["console", "telegram", "discord", "discord_webhook"]
SyncScope = Literal["guild", "global"]

# The YAML key that names a destination's kind, and the kind it stands for.
_KIND_BY_KEY: dict[str, DestinationKind] = {
    "console": "console",
    "telegram": "telegram",
    "discord": "discord",
    "discord_webhook_env": "discord_webhook",
}
_DESTINATION_OPTIONS = ("topics", "schedule", "timezone", "language", "max_stories")
_TOP_LEVEL_KEYS = ("settings", "feeds", "topics", "destinations")
_FEED_KEYS = ("url", "name", "language", "interval")
_TOPIC_KEYS = ("name", "any", "all", "none")

_TOPIC_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
_TELEGRAM_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_TELEGRAM_CHAT_ID = re.compile(r"-?[0-9]+")
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
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


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base_url: str = "https://api.telegram.org/bot"


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token_env: str = "DISCORD_BOT_TOKEN"
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    sync: SyncScope = "guild"


@dataclass(frozen=True, slots=True)
class Settings:
    database: str = "sqlite+aiosqlite:///policywire.db"
    timezone: str = "UTC"
    language: str = "en"
    poll_interval: timedelta = timedelta(minutes=15)
    max_stories: int = 10
    backfill: timedelta = timedelta(hours=24)
    story_window: timedelta = timedelta(hours=72)
    retention: timedelta = timedelta(days=30)
    max_body_size: int = 5 * 1024**2
    user_agent: str | None = None
    concurrency: int = 50
    per_host_concurrency: int = 4
    timeout: timedelta = timedelta(seconds=20)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str  # absolute http(s) URL or file:// URL; the feed's key everywhere else
    name: str
    language: str | None
    interval: timedelta


@dataclass(frozen=True, slots=True)
class TopicConfig:
    id: str
    name: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()

    def to_rule(self) -> TopicRule:
        return TopicRule(id=self.id, name=self.name, any=self.any, all=self.all, none=self.none)


@dataclass(frozen=True, slots=True)
class DestinationConfig:
    kind: DestinationKind
    target: str  # "stdout", "@channel", "-100123", a snowflake, or a webhook's env var name
    topics: tuple[str, ...]
    schedule: str  # "instant", "HH:MM" or a cron expression, normalized
    timezone: str
    language: str
    max_stories: int

    @property
    def key(self) -> str:
        """A stable name for this destination, e.g. ``telegram:@ai_policy_it``."""
        return f"{self.kind}:{self.target}"

    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    settings: Settings
    feeds: tuple[FeedConfig, ...]
    topics: dict[str, TopicConfig]
    destinations: tuple[DestinationConfig, ...]

    def topic_rules(self) -> dict[str, TopicRule]:
        return {topic_id: topic.to_rule() for topic_id, topic in self.topics.items()}

    @property
    def needs_telegram(self) -> bool:
        return any(destination.kind == "telegram" for destination in self.destinations)

    @property
    def needs_discord(self) -> bool:
        return any(destination.kind == "discord" for destination in self.destinations)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$POLICYWIRE_CONFIG`` when set and not blank, else ``feeds.yaml`` in the working dir."""
    env = os.environ if env is None else env
    configured = env.get(CONFIG_PATH_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read, check and resolve a configuration file; raise ConfigError listing every problem.

    ``env`` is where token and webhook variables are looked up (default: ``os.environ``).
    """
    env = os.environ if env is None else env
    filename = os.fspath(path)
    root = _compose_file(filename)
    config_path = Path(filename).expanduser().resolve()
    problems = Problems(filename)
    config = _ConfigReader(problems, config_path.parent, env).read(root, config_path)
    if problems:
        raise ConfigError(problems.lines())
    logger.debug(
        "loaded %s: %d feeds, %d topics, %d destinations",
        filename,
        len(config.feeds),
        len(config.topics),
        len(config.destinations),
    )
    return config


def _compose_file(filename: str) -> Node | None:
    try:
        text = Path(filename).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{filename}: configuration file not found"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{filename}: not a UTF-8 text file"]) from None
    except OSError as exc:
        raise ConfigError([f"{filename}: cannot read the file: {exc.strerror}"]) from None
    try:
        return compose(text)
    except YamlSyntaxError as exc:
        raise ConfigError([f"{filename}:{exc.line}: YAML syntax error: {exc.message}"]) from None


class _ConfigReader:
    """Walks the YAML node tree once, building the Config and recording every problem."""

    def __init__(self, problems: Problems, base_dir: Path, env: Mapping[str, str]) -> None:
        self.problems = problems
        self.base_dir = base_dir
        self.env = env

    def read(self, root: Node | None, config_path: Path) -> Config:
        top = Fields.of(root, "", self.problems) if root is not None else None
        if top is None:
            return Config(config_path, self._settings(None), (), {}, ())
        top.reject_unknown(_TOP_LEVEL_KEYS)
        settings = self._settings(self._section(top, "settings"))
        topics = self._topics(top)
        return Config(
            path=config_path,
            settings=settings,
            feeds=self._feeds(top, settings),
            topics=topics,
            destinations=_DestinationsReader(self, settings, topics).read(top),
        )

    def _section(self, parent: Fields, key: str) -> Fields | None:
        node = parent.value(key)
        return None if node is None else Fields.of(node, parent.path_of(key), self.problems)

    # settings

    def _settings(self, fields: Fields | None) -> Settings:
        defaults = Settings()
        database = _resolve_database(defaults.database, self.base_dir)
        if fields is None:
            return Settings(database=database)
        fields.reject_unknown([*Settings.__dataclass_fields__])
        return Settings(
            database=fields.parsed(
                "database", database, lambda text: _resolve_database(text, self.base_dir)
            ),
            timezone=fields.parsed("timezone", defaults.timezone, _parse_timezone),
            language=fields.parsed("language", defaults.language, _parse_language),
            poll_interval=fields.parsed("poll_interval", defaults.poll_interval, parse_duration),
            max_stories=fields.integer("max_stories", defaults.max_stories, minimum=1),
            backfill=fields.parsed("backfill", defaults.backfill, _parse_duration_or_zero),
            story_window=fields.parsed("story_window", defaults.story_window, parse_duration),
            retention=fields.parsed("retention", defaults.retention, parse_duration),
            max_body_size=fields.parsed("max_body_size", defaults.max_body_size, parse_byte_size),
            user_agent=fields.optional_text("user_agent"),
            concurrency=fields.integer("concurrency", defaults.concurrency, minimum=1),
            per_host_concurrency=fields.integer(
                "per_host_concurrency", defaults.per_host_concurrency, minimum=1
            ),
            timeout=fields.parsed("timeout", defaults.timeout, parse_duration),
            telegram=self._telegram_settings(self._section(fields, "telegram")),
            discord=self._discord_settings(self._section(fields, "discord")),
        )

    def _telegram_settings(self, fields: Fields | None) -> TelegramSettings:
        defaults = TelegramSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*TelegramSettings.__dataclass_fields__])
        return TelegramSettings(
            token_env=fields.parsed("token_env", defaults.token_env, _parse_env_name),
            api_base_url=fields.parsed("api_base_url", defaults.api_base_url, _parse_http_url),
        )

    def _discord_settings(self, fields: Fields | None) -> DiscordSettings:
        defaults = DiscordSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*DiscordSettings.__dataclass_fields__])
        return DiscordSettings(
            token_env=fields.parsed("token_env", defaults.token_env, _parse_env_name),
            api_base_url=fields.parsed("api_base_url", defaults.api_base_url, _parse_http_url),
            gateway_url=fields.parsed("gateway_url", defaults.gateway_url, _parse_websocket_url),
            sync=fields.parsed("sync", defaults.sync, _parse_sync_scope),
        )

    # feeds

    def _feeds(self, top: Fields, settings: Settings) -> tuple[FeedConfig, ...]:
        node = top.value("feeds")
        items = [] if node is None else sequence_items(node, "feeds", self.problems) or []
        feeds: list[FeedConfig] = []
        first_line_of_url: dict[str, int] = {}
        for index, item in enumerate(items):
            read = self._feed(item, item_path("feeds", index), settings)
            if read is None:
                continue
            feed, url_node = read
            if feed.url in first_line_of_url:
                self.problems.add(
                    url_node,
                    f"{item_path('feeds', index)}.url",
                    f"duplicate feed (the same URL is at line {first_line_of_url[feed.url]})",
                )
                continue
            first_line_of_url[feed.url] = line_of(url_node)
            feeds.append(feed)
        return tuple(feeds)

    def _feed(self, node: Node, path: str, settings: Settings) -> tuple[FeedConfig, Node] | None:
        if not _is_mapping(node):
            # A bare URL is a feed with every option left at its default.
            url = parse_node(node, path, self.problems, self._resolve_feed_url)
            if url is None:
                return None
            return FeedConfig(url, _default_feed_name(url), None, settings.poll_interval), node
        fields = Fields.of(node, path, self.problems)
        if fields is None:
            return None
        fields.reject_unknown(_FEED_KEYS)
        url_text = fields.required_text("url")
        url_node = fields.value("url")
        name = fields.optional_text("name")
        language = fields.parsed("language", None, _parse_feed_language)
        interval = fields.parsed("interval", settings.poll_interval, parse_duration)
        if url_text is None or url_node is None:
            return None
        try:
            url = self._resolve_feed_url(url_text)
        except ValueError as exc:
            self.problems.add(url_node, fields.path_of("url"), str(exc))
            return None
        return FeedConfig(url, name or _default_feed_name(url), language, interval), url_node

    def _resolve_feed_url(self, text: str) -> str:
        if _URL_SCHEME.match(text):
            return _check_feed_url(text)
        local = Path(text).expanduser()
        return Path(os.path.normpath(self.base_dir / local)).as_uri()

    # topics

    def _topics(self, top: Fields) -> dict[str, TopicConfig]:
        fields = self._section(top, "topics")
        if fields is None:
            return {}
        topics: dict[str, TopicConfig] = {}
        for topic_id, key_node, value_node in fields.items():
            path = fields.path_of(topic_id)
            if not _TOPIC_ID.fullmatch(topic_id):
                self.problems.add(
                    key_node,
                    path,
                    "a topic id uses lowercase letters, digits, '-' and '_', "
                    "starting with a letter or digit",
                )
                continue
            topic = self._topic(topic_id, key_node, value_node, path)
            if topic is not None:
                topics[topic_id] = topic
        return topics

    def _topic(self, topic_id: str, key_node: Node, node: Node, path: str) -> TopicConfig | None:
        fields = Fields.of(node, path, self.problems)
        if fields is None:
            return None
        fields.reject_unknown(_TOPIC_KEYS)
        topic = TopicConfig(
            id=topic_id,
            name=fields.text("name", topic_id),
            any=self._keywords(fields, "any"),
            all=self._keywords(fields, "all"),
            none=self._keywords(fields, "none"),
        )
        # A topic whose only keywords were rejected already has its problems reported.
        if not (topic.any or topic.all or _has_items(fields, "any") or _has_items(fields, "all")):
            self.problems.add(key_node, path, "needs at least one keyword in 'any' or 'all'")
        return topic

    def _keywords(self, fields: Fields, key: str) -> tuple[str, ...]:
        keywords: dict[str, None] = {}  # a dict keeps the order and drops repeats
        for index, (keyword, node) in enumerate(fields.text_list(key)):
            problem = _regex_problem(keyword)
            if problem:
                self.problems.add(node, item_path(fields.path_of(key), index), problem)
            else:
                keywords[keyword] = None
        return tuple(keywords)


class _DestinationsReader:
    """Reads ``destinations``; needs the settings and topics read before it."""

    def __init__(
        self, config: _ConfigReader, settings: Settings, topics: Mapping[str, TopicConfig]
    ) -> None:
        self.problems = config.problems
        self.env = config.env
        self.settings = settings
        self.topics = topics
        self._first_line_of_key: dict[str, int] = {}
        self._credentials_checked: set[str] = set()

    def read(self, top: Fields) -> tuple[DestinationConfig, ...]:
        node = top.value("destinations")
        items = [] if node is None else sequence_items(node, "destinations", self.problems) or []
        destinations = []
        for index, item in enumerate(items):
            destination = self._destination(item, item_path("destinations", index))
            if destination is not None:
                destinations.append(destination)
        return tuple(destinations)

    def _destination(self, node: Node, path: str) -> DestinationConfig | None:
        fields = Fields.of(node, path, self.problems)
        if fields is None:
            return None
        fields.reject_unknown([*_KIND_BY_KEY, *_DESTINATION_OPTIONS])
        # Options are read even when the kind is wrong, so their problems show up too.
        topics = self._topic_ids(fields)
        schedule = fields.parsed("schedule", "instant", _parse_schedule_text)
        timezone = fields.parsed("timezone", self.settings.timezone, _parse_timezone)
        language = fields.parsed("language", self.settings.language, _parse_language)
        max_stories = fields.integer("max_stories", self.settings.max_stories, minimum=1)
        kind_key = self._kind_key(fields)
        target = None if kind_key is None else self._target(fields, kind_key)
        if kind_key is None or target is None:
            return None
        destination = DestinationConfig(
            _KIND_BY_KEY[kind_key], target, topics, schedule, timezone, language, max_stories
        )
        self._check_unique(destination, fields, kind_key)
        return destination

    def _kind_key(self, fields: Fields) -> str | None:
        kinds = [key for key in fields.names() if key in _KIND_BY_KEY]
        if not kinds:
            self.problems.add(
                fields.node,
                fields.path,
                "needs one of: " + ", ".join(_KIND_BY_KEY),
            )
            return None
        if len(kinds) > 1:
            self.problems.add(
                fields.key_node(kinds[1]),
                fields.path,
                f"has both '{kinds[0]}' and '{kinds[1]}'; give each destination one kind",
            )
            return None
        return kinds[0]

    def _target(self, fields: Fields, kind_key: str) -> str | None:
        path = fields.path_of(kind_key)
        node = fields.value(kind_key)
        if node is None:
            self.problems.add(fields.key_node(kind_key), path, "must not be empty")
            return None
        target = parse_node(node, path, self.problems, _TARGET_PARSERS[kind_key])
        if target is not None:
            self._check_credentials(kind_key, target, fields)
        return target

    def _check_credentials(self, kind_key: str, target: str, fields: Fields) -> None:
        """Tokens live in the environment; say so once per missing variable."""
        needed = {
            "telegram": self.settings.telegram.token_env,
            "discord": self.settings.discord.token_env,
            "discord_webhook_env": target,
        }.get(kind_key)
        if needed is None or self.env.get(needed, "").strip():
            return
        if needed in self._credentials_checked:
            return
        self._credentials_checked.add(needed)
        what = "the webhook URL" if kind_key == "discord_webhook_env" else "the bot token"
        self.problems.add(
            fields.key_node(kind_key),
            fields.path_of(kind_key),
            f"the environment variable {needed} is not set ({what} is read from it)",
        )

    def _topic_ids(self, fields: Fields) -> tuple[str, ...]:
        node = fields.value("topics")
        if node is None:
            return tuple(self.topics)
        if isinstance(node, SequenceNode) and not node.value:
            self.problems.add(
                node, fields.path_of("topics"), "names no topic; leave the key out for every topic"
            )
        chosen: dict[str, None] = {}
        for index, (topic_id, item) in enumerate(fields.text_list("topics")):
            if topic_id in self.topics:
                chosen[topic_id] = None
            else:
                self.problems.add(
                    item,
                    item_path(fields.path_of("topics"), index),
                    _unknown_topic_message(topic_id, self.topics),
                )
        return tuple(chosen)

    def _check_unique(self, destination: DestinationConfig, fields: Fields, kind_key: str) -> None:
        node = fields.key_node(kind_key)
        first = self._first_line_of_key.get(destination.key)
        if first is None:
            self._first_line_of_key[destination.key] = line_of(node)
            return
        self.problems.add(
            node,
            fields.path,
            f"duplicate destination {destination.key} (first given at line {first})",
        )


# Value parsers: each takes the raw text of one YAML scalar and raises ValueError with a
# message fit for the user.


def _parse_duration_or_zero(text: str) -> timedelta:
    return parse_duration(text, allow_zero=True)


def _parse_schedule_text(text: str) -> str:
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
            raise ValueError(f"invalid size {text!r}: use bytes or a size like 500KB or 5MB")
        amount, unit = match.groups()
        size = int(float(amount) * _BYTE_UNITS[(unit or "b").lower()])
    if size <= 0:
        raise ValueError(f"must be larger than zero, got {text!r}")
    return size


def _parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        suggestion = _closest_timezone(text)
        hint = f"did you mean {suggestion}?" if suggestion else "use a name like Europe/Rome"
        raise ValueError(f"unknown time zone {text!r} ({hint})") from None
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


def _parse_language(text: str) -> str:
    language = text.lower()
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported language {text!r} (choose one of: {', '.join(SUPPORTED_LANGUAGES)})"
        )
    return language


def _parse_feed_language(text: str) -> str:
    """A feed may be in any language; keep the primary subtag ("en-US" -> "en")."""
    match = _LANGUAGE_TAG.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid language code {text!r} (use a code like en, it or pt-BR)")
    return match.group(1).lower()


def _parse_env_name(text: str) -> str:
    if not _ENV_NAME.fullmatch(text):
        # Not echoed: a value here that is not a variable name is often the secret itself.
        raise ValueError(
            "must be the name of an environment variable (e.g. MY_BOT_TOKEN), not the secret itself"
        )
    return text


def _parse_sync_scope(text: str) -> SyncScope:
    if text == "guild":
        return "guild"
    if text == "global":
        return "global"
    raise ValueError(f"must be 'guild' or 'global', got {text!r}")


def _parse_http_url(text: str) -> str:
    return _check_url(text, ("http", "https"))


def _parse_websocket_url(text: str) -> str:
    return _check_url(text, ("ws", "wss"))


def _check_url(text: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() not in schemes or not parts.hostname or " " in text:
        raise ValueError(f"expected a {' or '.join(schemes)} URL with a host name")
    return text


def _check_feed_url(text: str) -> str:
    """Keep http(s) URLs as written; rewrite file URLs in one canonical spelling."""
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return _check_url(text, ("http", "https"))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError("a file URL needs an absolute path, e.g. file:///srv/feeds/news.xml")
        local = Path(urllib.request.url2pathname(parts.path))
        if not local.is_absolute():
            raise ValueError("a file URL needs an absolute path, e.g. file:///srv/feeds/news.xml")
        return Path(os.path.normpath(local)).as_uri()
    raise ValueError(f"unsupported URL scheme '{parts.scheme}' (use http, https or file)")


def _default_feed_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path)).name or url
    return parts.hostname or url


def _resolve_database(text: str, base_dir: Path) -> str:
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


def _console_target(text: str) -> str:
    if text not in ("stdout", "stderr"):
        raise ValueError(f"must be 'stdout' or 'stderr', got {text!r}")
    return text


def _telegram_target(text: str) -> str:
    if _TELEGRAM_CHAT_ID.fullmatch(text):
        return str(int(text))
    if _TELEGRAM_USERNAME.fullmatch(text):
        return text
    hint = " (did you forget the '@'?)" if _TELEGRAM_USERNAME.fullmatch("@" + text) else ""
    raise ValueError(f"expected a channel @username or a numeric chat id, got {text!r}{hint}")


def _discord_target(text: str) -> str:
    if not _SNOWFLAKE.fullmatch(text) or int(text) == 0:
        raise ValueError(f"expected a numeric Discord channel id, got {text!r}")
    return str(int(text))


_TARGET_PARSERS = {
    "console": _console_target,
    "telegram": _telegram_target,
    "discord": _discord_target,
    "discord_webhook_env": _parse_env_name,
}


def _regex_problem(keyword: str) -> str | None:
    """The matcher's own verdict, so `check` refuses exactly what the matcher cannot compile."""
    return validate_keyword(keyword)


def _unknown_topic_message(topic_id: str, topics: Mapping[str, TopicConfig]) -> str:
    if not topics:
        return f"unknown topic '{topic_id}' (no topics are defined)"
    return f"unknown topic '{topic_id}' (defined: {', '.join(topics)})"


def _has_items(fields: Fields, key: str) -> bool:
    node = fields.value(key)
    return node is not None and not (isinstance(node, SequenceNode) and not node.value)


def _is_mapping(node: Node) -> bool:
    return isinstance(node, MappingNode)
