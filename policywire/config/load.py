"""Load and check feeds.yaml: settings, feeds, topics and destinations.

Every problem is reported as ``FILE:LINE: path.to.key: what is wrong``, all of them at once
and sorted by line, so one run of the loader tells the user everything to fix. Secrets never
live in the file: tokens and webhook URLs come from environment variables, and the loader
only checks that those are set, without ever reading their values into a message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from yaml.nodes import MappingNode, Node, SequenceNode

from policywire.config.destinations import DestinationsReader
from policywire.config.durations import parse_duration
from policywire.config.model import (
    Config,
    DiscordSettings,
    EmbeddingSettings,
    FeedConfig,
    Settings,
    SummarizerSettings,
    TelegramSettings,
    TopicConfig,
)
from policywire.config.values import (
    TOPIC_ID,
    URL_SCHEME,
    check_feed_url,
    default_feed_name,
    has_items,
    is_mapping,
    parse_byte_size,
    parse_duration_or_zero,
    parse_embedding_backend,
    parse_env_name,
    parse_feed_language,
    parse_flag,
    parse_http_url,
    parse_language,
    parse_listen_address,
    parse_shard_count,
    parse_summarizer_backend,
    parse_sync_scope,
    parse_timezone,
    parse_webhook_listen,
    parse_webhook_url,
    parse_websocket_url,
    regex_problem,
    resolve_database,
)
from policywire.config.yamlpos import (
    Fields,
    Problems,
    compose,
    item_path,
    line_of,
    parse_node,
    scalar_text,
    sequence_items,
)
from policywire.errors import ConfigError, YamlSyntaxError

logger = logging.getLogger(__name__)


CONFIG_PATH_ENV = "POLICYWIRE_CONFIG"
# Overrides settings.database, so a container can point at PostgreSQL without editing the file.
DATABASE_ENV = "POLICYWIRE_DATABASE"


DEFAULT_CONFIG_NAME = "feeds.yaml"


_TOP_LEVEL_KEYS = ("settings", "feeds", "topics", "destinations")


_FEED_KEYS = ("url", "name", "language", "interval", "primary")


_TOPIC_KEYS = ("name", "any", "all", "none", "renamed_from")

# A `renamed_from:` entry: (topic id, former id, its node, its path).
_Rename = tuple[str, str, Node, str]


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$POLICYWIRE_CONFIG`` when set and not blank, else ``feeds.yaml`` in the working dir."""
    env = os.environ if env is None else env
    configured = env.get(CONFIG_PATH_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read, check and resolve a configuration file; raise ConfigError listing every problem.

    ``env`` is where token and webhook variables and ``$POLICYWIRE_DATABASE`` are looked up
    (default: ``os.environ``). Every token and webhook variable a destination needs must be set.
    """
    return _load(path, env, require_secrets=True)[0]


def load_config_without_secrets(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> tuple[Config, tuple[str, ...]]:
    """`load_config` for a command that sends nothing (every one but `run`): an unset token or
    webhook variable is no problem. Returns the configuration and the names of those variables,
    in the order the file needs them, for the caller to warn that `run` will need them."""
    return _load(path, env, require_secrets=False)


def _load(
    path: str | os.PathLike[str], env: Mapping[str, str] | None, *, require_secrets: bool
) -> tuple[Config, tuple[str, ...]]:
    env = os.environ if env is None else env
    filename = os.fspath(path)
    root = _compose_file(filename)
    config_path = Path(filename).expanduser().resolve()
    problems = Problems(filename)
    reader = ConfigReader(problems, config_path.parent, env, require_secrets=require_secrets)
    config = reader.read(root, config_path)
    config, env_problem = _database_override(config, env)
    if problems or env_problem:
        raise ConfigError([*([env_problem] if env_problem else []), *problems.lines()])
    logger.debug(
        "loaded %s: %d feeds, %d topics, %d destinations",
        filename,
        len(config.feeds),
        len(config.topics),
        len(config.destinations),
    )
    return config, tuple(reader.unset_secrets)


def _database_override(config: Config, env: Mapping[str, str]) -> tuple[Config, str | None]:
    """`settings.database` replaced by ``$POLICYWIRE_DATABASE`` when that is set and not blank,
    resolved the same way (a relative SQLite path from the config file's folder); else the
    config as it is. The problem, if any, never repeats the value: it may hold a password."""
    text = env.get(DATABASE_ENV, "").strip()
    if not text:
        return config, None
    try:
        database = resolve_database(text, config.path.parent)
    except ValueError as exc:
        return config, f"{DATABASE_ENV} (environment variable): {exc}"
    logger.debug("database from %s (overrides settings.database)", DATABASE_ENV)
    return replace(config, settings=replace(config.settings, database=database)), None


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


class ConfigReader:
    """Walks the YAML node tree once, building the Config and recording every problem."""

    def __init__(
        self,
        problems: Problems,
        base_dir: Path,
        env: Mapping[str, str],
        *,
        require_secrets: bool = True,
    ) -> None:
        self.problems = problems
        self.base_dir = base_dir
        self.env = env
        # False: an unset token or webhook variable is recorded here instead of a problem.
        self.require_secrets = require_secrets
        self.unset_secrets: list[str] = []

    def read(self, root: Node | None, config_path: Path) -> Config:
        top = Fields.of(root, "", self.problems) if root is not None else None
        if top is None:
            return Config(config_path, self._settings(None), (), {}, ())
        top.reject_unknown(_TOP_LEVEL_KEYS)
        settings = self._settings(self._section(top, "settings"))
        topics = self._topics(top, settings.language)
        return Config(
            path=config_path,
            settings=settings,
            feeds=self._feeds(top, settings),
            topics=topics,
            destinations=DestinationsReader(self, settings, topics).read(top),
        )

    def _section(self, parent: Fields, key: str) -> Fields | None:
        node = parent.value(key)
        return None if node is None else Fields.of(node, parent.path_of(key), self.problems)

    # settings

    def _settings(self, fields: Fields | None) -> Settings:
        defaults = Settings()
        database = resolve_database(defaults.database, self.base_dir)
        if fields is None:
            return Settings(database=database)
        fields.reject_unknown([*Settings.__dataclass_fields__])
        return Settings(
            database=fields.parsed(
                "database", database, lambda text: resolve_database(text, self.base_dir)
            ),
            timezone=fields.parsed("timezone", defaults.timezone, parse_timezone),
            language=fields.parsed("language", defaults.language, parse_language),
            poll_interval=fields.parsed("poll_interval", defaults.poll_interval, parse_duration),
            max_stories=fields.integer("max_stories", defaults.max_stories, minimum=1),
            backfill=fields.parsed("backfill", defaults.backfill, parse_duration_or_zero),
            story_window=fields.parsed("story_window", defaults.story_window, parse_duration),
            retention=fields.parsed("retention", defaults.retention, parse_duration),
            max_body_size=fields.parsed("max_body_size", defaults.max_body_size, parse_byte_size),
            user_agent=fields.optional_text("user_agent"),
            concurrency=fields.integer("concurrency", defaults.concurrency, minimum=1),
            per_host_concurrency=fields.integer(
                "per_host_concurrency", defaults.per_host_concurrency, minimum=1
            ),
            timeout=fields.parsed("timeout", defaults.timeout, parse_duration),
            allow_private_networks=fields.parsed(
                "allow_private_networks", defaults.allow_private_networks, parse_flag
            ),
            parse_timeout=fields.parsed("parse_timeout", defaults.parse_timeout, parse_duration),
            parse_memory=fields.parsed("parse_memory", defaults.parse_memory, parse_byte_size),
            ops_listen=fields.parsed("ops_listen", None, parse_listen_address),
            telegram=self._telegram_settings(self._section(fields, "telegram")),
            discord=self._discord_settings(self._section(fields, "discord")),
            embedding=self._embedding_settings(self._section(fields, "embedding")),
            summarizer=self._summarizer_settings(self._section(fields, "summarizer")),
            card_edit_interval=fields.parsed(
                "card_edit_interval", defaults.card_edit_interval, parse_duration_or_zero
            ),
        )

    def _embedding_settings(self, fields: Fields | None) -> EmbeddingSettings:
        defaults = EmbeddingSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*EmbeddingSettings.__dataclass_fields__])
        settings = EmbeddingSettings(
            backend=fields.parsed("backend", defaults.backend, parse_embedding_backend),
            model=fields.optional_text("model"),
            url=fields.parsed("url", None, parse_http_url),
            api_key_env=fields.parsed("api_key_env", None, parse_env_name),
            timeout=fields.parsed("timeout", defaults.timeout, parse_duration),
            batch_size=fields.integer("batch_size", defaults.batch_size, minimum=1),
        )
        needs = {"sentence-transformers": ("model",), "endpoint": ("url", "model")}
        for key in needs.get(settings.backend, ()):
            if getattr(settings, key) is None:
                self.problems.add(
                    fields.key_node("backend"),
                    fields.path_of(key),
                    f"required with backend {settings.backend!r}",
                )
        return settings

    def _summarizer_settings(self, fields: Fields | None) -> SummarizerSettings:
        defaults = SummarizerSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*SummarizerSettings.__dataclass_fields__])
        settings = SummarizerSettings(
            backend=fields.parsed("backend", defaults.backend, parse_summarizer_backend),
            url=fields.parsed("url", None, parse_http_url),
            model=fields.optional_text("model"),
            api_key_env=fields.parsed("api_key_env", None, parse_env_name),
            timeout=fields.parsed("timeout", defaults.timeout, parse_duration),
            budget_requests=fields.integer("budget_requests", defaults.budget_requests, minimum=1),
            budget_time=fields.parsed("budget_time", defaults.budget_time, parse_duration),
            max_tokens=fields.integer("max_tokens", defaults.max_tokens, minimum=16),
            max_chars=fields.integer("max_chars", defaults.max_chars, minimum=80),
            json_mode=fields.parsed("json_mode", defaults.json_mode, parse_flag),
        )
        if settings.backend == "openai":
            for key in ("url", "model"):
                if getattr(settings, key) is None:
                    self.problems.add(
                        fields.key_node("backend"),
                        fields.path_of(key),
                        "required with backend 'openai'",
                    )
        return settings

    def _telegram_settings(self, fields: Fields | None) -> TelegramSettings:
        defaults = TelegramSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*TelegramSettings.__dataclass_fields__])
        return TelegramSettings(
            token_env=fields.parsed("token_env", defaults.token_env, parse_env_name),
            api_base_url=fields.parsed("api_base_url", defaults.api_base_url, parse_http_url),
            webhook_url=fields.parsed("webhook_url", None, parse_webhook_url),
            webhook_listen=fields.parsed(
                "webhook_listen", defaults.webhook_listen, parse_webhook_listen
            ),
            webhook_secret_env=fields.parsed(
                "webhook_secret_env", defaults.webhook_secret_env, parse_env_name
            ),
        )

    def _discord_settings(self, fields: Fields | None) -> DiscordSettings:
        defaults = DiscordSettings()
        if fields is None:
            return defaults
        fields.reject_unknown([*DiscordSettings.__dataclass_fields__])
        return DiscordSettings(
            token_env=fields.parsed("token_env", defaults.token_env, parse_env_name),
            api_base_url=fields.parsed("api_base_url", defaults.api_base_url, parse_http_url),
            gateway_url=fields.parsed("gateway_url", defaults.gateway_url, parse_websocket_url),
            sync=fields.parsed("sync", defaults.sync, parse_sync_scope),
            shard_count=fields.parsed("shard_count", None, parse_shard_count),
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
        if not is_mapping(node):
            # A bare URL is a feed with every option left at its default.
            url = parse_node(
                node, path, self.problems, lambda text: self._resolve_feed_url(text, settings)
            )
            if url is None:
                return None
            return FeedConfig(url, default_feed_name(url), None, settings.poll_interval), node
        fields = Fields.of(node, path, self.problems)
        if fields is None:
            return None
        fields.reject_unknown(_FEED_KEYS)
        url_text = fields.required_text("url")
        url_node = fields.value("url")
        name = fields.optional_text("name")
        language = fields.parsed("language", None, parse_feed_language)
        interval = fields.parsed("interval", settings.poll_interval, parse_duration)
        primary = fields.parsed("primary", False, parse_flag)  # its articles lead their stories
        if url_text is None or url_node is None:
            return None
        try:
            url = self._resolve_feed_url(url_text, settings)
        except ValueError as exc:
            self.problems.add(url_node, fields.path_of("url"), str(exc))
            return None
        feed = FeedConfig(url, name or default_feed_name(url), language, interval, primary)
        return feed, url_node

    def _resolve_feed_url(self, text: str, settings: Settings) -> str:
        if URL_SCHEME.match(text):
            return check_feed_url(text, settings.allow_private_networks)
        local = Path(text).expanduser()
        return Path(os.path.normpath(self.base_dir / local)).as_uri()

    # topics

    def _topics(self, top: Fields, language: str) -> dict[str, TopicConfig]:
        fields = self._section(top, "topics")
        if fields is None:
            return {}
        topics: dict[str, TopicConfig] = {}
        renames: list[_Rename] = []
        for topic_id, key_node, value_node in fields.items():
            path = fields.path_of(topic_id)
            if not TOPIC_ID.fullmatch(topic_id):
                self.problems.add(
                    key_node,
                    path,
                    "a topic id uses lowercase letters, digits, '-' and '_', "
                    "starting with a letter or digit",
                )
                continue
            read = self._topic(topic_id, key_node, value_node, path, language)
            if read is not None:
                topics[topic_id], renamed = read
                renames += renamed
        return self._check_renames(topics, fields, renames)

    def _renamed_from(self, topic_id: str, fields: Fields) -> list[_Rename]:
        """`renamed_from:` as one former id or a list of them, each well formed."""
        value = fields.value("renamed_from")
        if value is None:
            return []
        key_path = fields.path_of("renamed_from")
        if isinstance(value, SequenceNode):
            items = [(n, item_path(key_path, i)) for i, n in enumerate(value.value)]
        else:
            items = [(value, key_path)]
        found: list[_Rename] = []
        for item, item_where in items:
            old = scalar_text(item, item_where, self.problems)
            if old is None:
                continue
            if not TOPIC_ID.fullmatch(old):
                message = f"'{old}' is not a topic id (lowercase letters, digits, '-', '_')"
                self.problems.add(item, item_where, message)
            elif old == topic_id:
                self.problems.add(item, item_where, "a topic cannot be renamed from its own id")
            else:
                found.append((topic_id, old, item, item_where))
        return found

    def _check_renames(
        self,
        topics: dict[str, TopicConfig],
        fields: Fields,
        renames: list[_Rename],
    ) -> dict[str, TopicConfig]:
        """A former id must be free (no topic has it now) and claimed by one topic only."""
        claimed: dict[str, tuple[str, int]] = {}  # old id → (new id, line)
        kept: dict[str, list[str]] = {}
        for new, old, node, where in renames:
            if old in fields:
                line = line_of(fields.key_node(old))
                message = f"'{old}' is still a topic (line {line}); a former id must be free"
                self.problems.add(node, where, message)
            elif old in claimed:
                first, line = claimed[old]
                message = f"'{old}' is already renamed to '{first}' (line {line})"
                self.problems.add(node, where, message)
            else:
                claimed[old] = (new, line_of(node))
                kept.setdefault(new, []).append(old)
        return {
            topic_id: replace(topic, renamed_from=tuple(kept.get(topic_id, ())))
            for topic_id, topic in topics.items()
        }

    def _topic(
        self, topic_id: str, key_node: Node, node: Node, path: str, language: str
    ) -> tuple[TopicConfig, list[_Rename]] | None:
        fields = Fields.of(node, path, self.problems)
        if fields is None:
            return None
        fields.reject_unknown(_TOPIC_KEYS)
        name, names = self._topic_names(fields, topic_id, language)
        topic = TopicConfig(
            id=topic_id,
            name=name,
            names=names,
            any=self._keywords(fields, "any"),
            all=self._keywords(fields, "all"),
            none=self._keywords(fields, "none"),
        )
        # A topic whose only keywords were rejected already has its problems reported.
        if not (topic.any or topic.all or has_items(fields, "any") or has_items(fields, "all")):
            self.problems.add(key_node, path, "needs at least one keyword in 'any' or 'all'")
        return topic, self._renamed_from(topic_id, fields)

    def _topic_names(
        self, fields: Fields, topic_id: str, language: str
    ) -> tuple[str, tuple[tuple[str, str], ...]]:
        """`name:` as one text for every language, or as a mapping of language → text; the
        fallback is the name in the default `language`, else the first one given."""
        node = fields.value("name")
        if isinstance(node, SequenceNode):
            message = "expected a name, or one per language (en: AI Act, it: Legge sull'IA)"
            self.problems.add(node, fields.path_of("name"), message)
            return topic_id, ()
        if not isinstance(node, MappingNode):
            return fields.text("name", topic_id), ()
        names = Fields(node, fields.path_of("name"), self.problems)
        found: dict[str, str] = {}
        first_line: dict[str, int] = {}  # "EN" and "en" are one language
        for key, key_node, value_node in names.items():
            path = names.path_of(key)
            try:
                code = parse_language(key)
            except ValueError as exc:
                self.problems.add(key_node, path, str(exc))
                continue
            if code in first_line:
                message = f"duplicate language (first given at line {first_line[code]})"
                self.problems.add(key_node, path, message)
                continue
            first_line[code] = line_of(key_node)
            text = scalar_text(value_node, path, self.problems)
            if text is not None:
                found[code] = text
        if not node.value:
            self.problems.add(node, fields.path_of("name"), "needs a name, e.g. en: AI Act")
        if not found:
            return topic_id, ()
        return found.get(language, next(iter(found.values()))), tuple(found.items())

    def _keywords(self, fields: Fields, key: str) -> tuple[str, ...]:
        keywords: dict[str, None] = {}  # a dict keeps the order and drops repeats
        for index, (keyword, node) in enumerate(fields.text_list(key)):
            problem = regex_problem(keyword)
            if problem:
                self.problems.add(node, item_path(fields.path_of(key), index), problem)
            else:
                keywords[keyword] = None
        return tuple(keywords)
