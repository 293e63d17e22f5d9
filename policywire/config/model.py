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


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token_env: str = "DISCORD_BOT_TOKEN"
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    sync: SyncScope = "guild"


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
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)


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
