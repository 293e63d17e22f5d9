"""What feeds.yaml says, once read and checked: frozen settings, feeds, topics, destinations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from policywire.languages import SUPPORTED_LANGUAGES as SUPPORTED_LANGUAGES
from policywire.models import TopicRule

DestinationKind = Literal["console", "telegram", "discord", "discord_webhook"]


SyncScope = Literal["guild", "global"]


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base_url: str = "https://api.telegram.org/bot"
    # Webhook mode (docs/scaling.md): Telegram posts updates to this public URL, a load balancer
    # forwards them to any worker's `webhook_listen`; None means long polling (getUpdates).
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token_env: str = "DISCORD_BOT_TOKEN"
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    sync: SyncScope = "guild"
    # Gateway shards (docs/scaling.md): None is one unsharded connection; with several workers
    # each runs its share of the shards, taken as leases.
    shard_count: int | None = None


EmbeddingBackend = Literal["universal", "sentence-transformers", "endpoint", "none"]
EMBEDDING_BACKENDS: tuple[EmbeddingBackend, ...] = (
    "universal",
    "sentence-transformers",
    "endpoint",
    "none",
)


@dataclass(frozen=True, slots=True)
class EmbeddingSettings:
    """Which model turns articles into vectors for story grouping (see docs/configuration.md)."""

    backend: EmbeddingBackend = "universal"  # the multilingual model that ships with the package
    model: str | None = None  # sentence-transformers: a model name or folder; endpoint: its id
    url: str | None = None  # endpoint: the API base, e.g. http://127.0.0.1:11434/v1
    api_key_env: str | None = None  # endpoint: the variable holding the key, if it needs one
    timeout: timedelta = timedelta(seconds=30)
    batch_size: int = 64


SummarizerBackend = Literal["openai", "none"]
SUMMARIZER_BACKENDS: tuple[SummarizerBackend, ...] = ("openai", "none")


@dataclass(frozen=True, slots=True)
class SummarizerSettings:
    """Who writes a story's headline and summary in the reader's language (see
    docs/configuration.md); "none" keeps the lead article's own title and first sentences."""

    backend: SummarizerBackend = "none"
    url: str | None = None  # openai: the API base, e.g. http://127.0.0.1:11434/v1
    model: str | None = None  # openai: the model's id on that server
    api_key_env: str | None = None  # openai: the variable holding the key, if it needs one
    timeout: timedelta = timedelta(seconds=20)  # one request
    budget_requests: int = 10  # requests per digest; later stories keep the extractive text
    budget_time: timedelta = timedelta(seconds=60)  # all of one digest's requests together
    max_tokens: int = 400  # asked of the model per answer
    max_chars: int = 600  # the longest summary accepted
    json_mode: bool = True  # send response_format json_object (off for servers that refuse it)


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
    # Feeds may reach loopback/private/link-local addresses only when true (see netguard).
    allow_private_networks: bool = False
    parse_timeout: timedelta = timedelta(seconds=20)  # one parse, in its worker process
    parse_memory: int = 512 * 1024**2  # what one parse may allocate in its worker
    # host:port of the opt-in operations port (/healthz, /metrics); None: no port.
    ops_listen: str | None = None
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    summarizer: SummarizerSettings = field(default_factory=SummarizerSettings)
    # A story card is edited at most once per this long: what joined meanwhile comes together.
    card_edit_interval: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str  # absolute http(s) URL or file:// URL; the feed's key everywhere else
    name: str
    language: str | None
    interval: timedelta
    # A primary source (an EU institution, a company's own newsroom): its article leads any
    # story it is part of, and such a story ranks above one of as many outlets without.
    primary: bool = False


@dataclass(frozen=True, slots=True)
class TopicConfig:
    id: str
    name: str  # the default display name (`name:` as text, or its mapping's fallback)
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()  # (language, display name) from a `name:` mapping
    # Former ids (`renamed_from:`): their subscriptions and matches move to this one.
    renamed_from: tuple[str, ...] = ()

    def display_name(self, language: str) -> str:
        """What a reader in `language` sees: the name in that language, else `name`."""
        return dict(self.names).get(language, self.name)

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
    # Instant destinations: each story is one message (a card) edited as articles join it.
    cards: bool = True

    @property
    def key(self) -> str:
        """A stable name for this destination, e.g. ``telegram:@ai_policy_it``."""
        return f"{self.kind}:{self.target}"


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
