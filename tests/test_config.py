"""Tests for the feeds.yaml loader: typed values, resolved paths and located error lines."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from policywire.config.durations import parse_duration, parse_schedule
from policywire.config.load import default_config_path, load_config
from policywire.config.model import SUPPORTED_LANGUAGES, Config
from policywire.config.values import parse_byte_size
from policywire.errors import ConfigError
from policywire.models import TopicRule

SECRET = "123456:SECRET-token-value"
WEBHOOK_SECRET = "https://discord.com/api/webhooks/1/SECRET-webhook"
FULL_ENV = {
    "TELEGRAM_BOT_TOKEN": SECRET,
    "DISCORD_BOT_TOKEN": SECRET,
    "POLICY_WEBHOOK_URL": WEBHOOK_SECRET,
}

FULL_EXAMPLE = """\
settings:
  database: sqlite+aiosqlite:///data/policywire.db
  timezone: Europe/Brussels
  language: en
  poll_interval: 15m
  max_stories: 10
  backfill: 24h
  story_window: 72h
  retention: 30d
  max_body_size: 5MB
  user_agent: null
  concurrency: 50
  per_host_concurrency: 4
  timeout: 20s
  telegram:
    token_env: TELEGRAM_BOT_TOKEN
    api_base_url: https://api.telegram.org/bot
  discord:
    token_env: DISCORD_BOT_TOKEN
    api_base_url: https://discord.com/api/v10
    gateway_url: wss://gateway.discord.gg/
    sync: guild
feeds:
  - url: https://example.org/feed.xml
    name: Example News
    language: en
    interval: 30m
  - url: local/news.xml
  - https://www.example.net/rss
topics:
  ai-act:
    name: EU AI Act
    any: ["AI Act", "Artificial Intelligence Act", "AI Office", "GPAI"]
    all: []
    none: ["Fire Act"]
  mistral:
    any: [Mistral, "re:\\\\bLe ?Chat\\\\b"]
destinations:
  - console: stdout
    topics: [ai-act]
    language: it
  - telegram: "@ai_policy_it"
    topics: [mistral, ai-act]
    schedule: "08:00"
    timezone: Europe/Rome
    language: it
  - discord: 123456789012345678
    topics: [ai-act]
    schedule: instant
  - discord_webhook_env: POLICY_WEBHOOK_URL
    topics: [mistral]
    schedule: "09:30"
    max_stories: 3
"""

# Two topics, used as a prefix by the destination tests; destinations start on line 7.
TOPICS = """\
topics:
  ai-act:
    any: [AI Act]
  mistral:
    any: [Mistral]
destinations:
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work inside tmp_path, so the file can be named "feeds.yaml" as a user would."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str) -> str:
    Path("feeds.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return "feeds.yaml"


def errors_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    path = write(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=FULL_ENV if env is None else env)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


def test_full_example_loads_with_typed_values(in_tmp: Path) -> None:
    config = load_config(write(FULL_EXAMPLE), env=FULL_ENV)

    settings = config.settings
    assert config.path == in_tmp / "feeds.yaml"
    assert settings.database == f"sqlite+aiosqlite:///{in_tmp}/data/policywire.db"
    assert settings.timezone == "Europe/Brussels"
    assert settings.poll_interval == timedelta(minutes=15)
    assert settings.backfill == timedelta(hours=24)
    assert settings.story_window == timedelta(hours=72)
    assert settings.retention == timedelta(days=30)
    assert settings.timeout == timedelta(seconds=20)
    assert settings.max_body_size == 5 * 1024 * 1024
    assert settings.user_agent is None
    assert (settings.max_stories, settings.concurrency, settings.per_host_concurrency) == (
        10,
        50,
        4,
    )
    assert settings.telegram.api_base_url == "https://api.telegram.org/bot"
    assert settings.discord.gateway_url == "wss://gateway.discord.gg/"
    assert settings.discord.sync == "guild"


def test_full_example_feeds_are_resolved(in_tmp: Path) -> None:
    config = load_config(write(FULL_EXAMPLE), env=FULL_ENV)

    first, local, bare = config.feeds
    assert first.url == "https://example.org/feed.xml"
    assert (first.name, first.language, first.interval) == (
        "Example News",
        "en",
        timedelta(minutes=30),
    )
    assert local.url == (in_tmp / "local" / "news.xml").as_uri()
    assert (local.name, local.language, local.interval) == ("news.xml", None, timedelta(minutes=15))
    assert (bare.url, bare.name) == ("https://www.example.net/rss", "www.example.net")


def test_full_example_topics_and_destinations() -> None:
    config = load_config(write(FULL_EXAMPLE), env=FULL_ENV)

    assert config.topics["ai-act"].any == (
        "AI Act",
        "Artificial Intelligence Act",
        "AI Office",
        "GPAI",
    )
    assert config.topics["ai-act"].none == ("Fire Act",)
    assert config.topics["mistral"].name == "mistral"
    assert config.topic_rules()["mistral"] == TopicRule(
        id="mistral", name="mistral", any=("Mistral", r"re:\bLe ?Chat\b")
    )
    keys = [destination.key for destination in config.destinations]
    assert keys == [
        "console:stdout",
        "telegram:@ai_policy_it",
        "discord:123456789012345678",
        "discord_webhook:POLICY_WEBHOOK_URL",
    ]
    console, telegram, discord, webhook = config.destinations
    assert (console.language, console.timezone, console.schedule) == (
        "it",
        "Europe/Brussels",
        "instant",
    )
    assert (telegram.topics, telegram.schedule, telegram.timezone) == (
        ("mistral", "ai-act"),
        "08:00",
        "Europe/Rome",
    )
    assert (discord.language, discord.max_stories) == ("en", 10)
    assert (webhook.schedule, webhook.max_stories) == ("09:30", 3)
    assert config.needs_telegram and config.needs_discord


def test_defaults_fill_an_almost_empty_file(in_tmp: Path) -> None:
    config = load_config(
        write("topics:\n  ai:\n    any: [AI]\ndestinations:\n  - console: stderr\n")
    )

    assert config.feeds == ()
    assert config.settings.database == f"sqlite+aiosqlite:///{in_tmp}/policywire.db"
    assert config.settings.timezone == "UTC"
    assert config.settings.telegram.token_env == "TELEGRAM_BOT_TOKEN"
    assert config.settings.discord.token_env == "DISCORD_BOT_TOKEN"
    (destination,) = config.destinations
    assert (destination.topics, destination.language, destination.max_stories) == (
        ("ai",),
        "en",
        10,
    )
    assert not config.needs_telegram and not config.needs_discord


def test_an_empty_file_is_an_empty_config() -> None:
    config = load_config(write(""), env={})

    assert isinstance(config, Config)
    assert (config.feeds, config.topics, config.destinations) == ((), {}, ())


def test_yaml_quirks_are_read_as_written() -> None:
    """Unquoted 9:30 is a YAML 1.1 integer (570); chat ids may be ints or digit strings."""
    config = load_config(
        write(
            TOPICS
            + "  - telegram: -1001234\n    schedule: 9:30\n"
            + "  - telegram: '-100999'\n    schedule: '0 8 * * mon-fri'\n"
        ),
        env=FULL_ENV,
    )
    first, second = config.destinations
    assert (first.key, first.schedule) == ("telegram:-1001234", "09:30")
    assert (second.key, second.schedule) == ("telegram:-100999", "0 8 * * mon-fri")


def test_postgres_url_passes_through_untouched() -> None:
    url = "postgresql+asyncpg://policy:pw@db.local:5432/policywire"
    config = load_config(write(f"settings:\n  database: {url}\n"), env={})

    assert config.settings.database == url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "settings:\n  timezone: UTC\nfeeed: []\n",
            "feeds.yaml:3: feeed: unknown key 'feeed' (did you mean 'feeds'?)",
            id="unknown top-level key",
        ),
        pytest.param(
            "settings:\n  language: en\n  pol_interval: 5m\n",
            "feeds.yaml:3: settings.pol_interval: unknown key 'pol_interval' "
            "(did you mean 'poll_interval'?)",
            id="unknown settings key",
        ),
        pytest.param(
            "settings:\n  telegram:\n    token: abc\n",
            "feeds.yaml:3: settings.telegram.token: unknown key 'token' "
            "(did you mean 'token_env'?)",
            id="unknown nested key",
        ),
        pytest.param(
            "settings:\n  poll_interval: 15 minutes\n",
            "feeds.yaml:2: settings.poll_interval: invalid duration '15 minutes': "
            "use a number and a unit s, m, h, d or w, e.g. 30s, 15m, 1h30m, 7d",
            id="bad duration",
        ),
        pytest.param(
            "settings:\n  poll_interval: 0m\n",
            "feeds.yaml:2: settings.poll_interval: must be longer than zero, got '0m'",
            id="zero duration",
        ),
        pytest.param(
            "settings:\n  max_stories: ten\n",
            "feeds.yaml:2: settings.max_stories: expected a whole number, got 'ten'",
            id="wrong type: int",
        ),
        pytest.param(
            "settings:\n  concurrency: 0\n",
            "feeds.yaml:2: settings.concurrency: must be at least 1, got 0",
            id="int below minimum",
        ),
        pytest.param(
            "feeds:\n  url: https://example.org/feed\n",
            "feeds.yaml:2: feeds: expected a list, got a mapping",
            id="wrong type: list",
        ),
        pytest.param(
            "- feeds\n- topics\n",
            "feeds.yaml:1: (top level): expected a mapping of keys to values, got a list",
            id="wrong type: top level",
        ),
        pytest.param(
            "settings: [1, 2]\n",
            "feeds.yaml:1: settings: expected a mapping of keys to values, got a list",
            id="wrong type: mapping",
        ),
        pytest.param(
            "settings:\n  max_body_size: lots\n",
            "feeds.yaml:2: settings.max_body_size: invalid size 'lots': "
            "use bytes or a size like 500KB or 5MB",
            id="bad size",
        ),
        pytest.param(
            "settings:\n  timezone: Europe/Brusels\n",
            "feeds.yaml:2: settings.timezone: unknown time zone 'Europe/Brusels' "
            "(did you mean Europe/Brussels?)",
            id="unknown timezone",
        ),
        pytest.param(
            "settings:\n  language: es\n",
            "feeds.yaml:2: settings.language: unsupported language 'es' "
            "(choose one of: en, it, fr, de)",
            id="unknown language",
        ),
        pytest.param(
            "settings:\n  discord:\n    sync: everywhere\n",
            "feeds.yaml:3: settings.discord.sync: must be 'guild' or 'global', got 'everywhere'",
            id="bad sync",
        ),
        pytest.param(
            "settings:\n  database: mysql://u@h/db\n",
            "feeds.yaml:2: settings.database: unsupported database driver 'mysql' "
            "(use sqlite+aiosqlite:///FILE or postgresql+asyncpg://...)",
            id="bad database",
        ),
        pytest.param(
            "settings:\n  timezone: UTC\n  timezone: UTC\n",
            "feeds.yaml:3: settings.timezone: duplicate key (first given at line 2)",
            id="duplicate key",
        ),
        pytest.param(
            "settings:\n  telegram:\n    webhook_url: http://bots.example.org/tg\n",
            "feeds.yaml:3: settings.telegram.webhook_url: Telegram sends webhooks only to "
            "https URLs (http only on loopback)",
            id="plain http webhook",
        ),
        pytest.param(
            "settings:\n  telegram:\n    webhook_listen: everywhere\n",
            "feeds.yaml:3: settings.telegram.webhook_listen: expected host:port "
            "(e.g. 127.0.0.1:9464), got 'everywhere'",
            id="bad webhook listen address",
        ),
        pytest.param(
            "settings:\n  discord:\n    shard_count: 0\n",
            "feeds.yaml:3: settings.discord.shard_count: must be at least 1, got 0",
            id="no shards",
        ),
    ],
)
def test_settings_errors_name_the_line(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "feeds:\n  - url: https://a.example/rss\n  - name: No URL\n",
            "feeds.yaml:3: feeds[1]: missing required key 'url'",
            id="missing url",
        ),
        pytest.param(
            "feeds:\n  - url: ftp://a.example/rss\n",
            "feeds.yaml:2: feeds[0].url: unsupported URL scheme 'ftp' (use http, https or file)",
            id="bad scheme",
        ),
        pytest.param(
            "feeds:\n  - url: https:///rss\n",
            "feeds.yaml:2: feeds[0].url: expected a http or https URL with a host name",
            id="no host",
        ),
        pytest.param(
            "feeds:\n  - url: https://a.example/rss\n    interval: soon\n",
            "feeds.yaml:3: feeds[0].interval: invalid duration 'soon': "
            "use a number and a unit s, m, h, d or w, e.g. 30s, 15m, 1h30m, 7d",
            id="bad feed interval",
        ),
        pytest.param(
            "feeds:\n  - url: https://a.example/rss\n    lang: en\n",
            "feeds.yaml:3: feeds[0].lang: unknown key 'lang' (did you mean 'language'?)",
            id="unknown feed key",
        ),
        pytest.param(
            "feeds:\n  - url: https://a.example/rss\n  - url: https://a.example/rss\n",
            "feeds.yaml:3: feeds[1].url: duplicate feed (the same URL is at line 2)",
            id="duplicate url",
        ),
        pytest.param(
            "feeds:\n  - url: news/feed.xml\n  - {url: ./news/../news/feed.xml}\n",
            "feeds.yaml:3: feeds[1].url: duplicate feed (the same URL is at line 2)",
            id="duplicate after path resolution",
        ),
        pytest.param(
            "topics:\n  AI Act:\n    any: [AI Act]\n",
            "feeds.yaml:2: topics.AI Act: a topic id uses lowercase letters, digits, '-' and "
            "'_', starting with a letter or digit",
            id="bad topic id",
        ),
        pytest.param(
            "topics:\n  ai:\n    any: [AI, 're:gpt-(4|5']\n",
            "feeds.yaml:3: topics.ai.any[1]: bad regular expression: "
            "missing ), unterminated subpattern at position 4",
            id="bad regex",
        ),
        pytest.param(
            "topics:\n  ai:\n    any: AI Act\n",
            "feeds.yaml:3: topics.ai.any: expected a list, got text",
            id="keywords not a list",
        ),
        pytest.param(
            "topics:\n  ai:\n    none: [Fire Act]\n",
            "feeds.yaml:2: topics.ai: needs at least one keyword in 'any' or 'all'",
            id="topic without keywords",
        ),
    ],
)
def test_feed_and_topic_errors_name_the_line(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_file_url_and_relative_path_to_the_same_file_are_duplicates(in_tmp: Path) -> None:
    absolute = (in_tmp / "feed.xml").as_uri()
    errors = errors_of(f"feeds:\n  - feed.xml\n  - url: {absolute}\n")

    assert errors == ["feeds.yaml:3: feeds[1].url: duplicate feed (the same URL is at line 2)"]


@pytest.mark.parametrize(
    ("destinations", "expected"),
    [
        pytest.param(
            "  - console: stdout\n    topics: [ai-act, gpai]\n",
            "feeds.yaml:8: destinations[0].topics[1]: unknown topic 'gpai' "
            "(defined: ai-act, mistral)",
            id="missing topic",
        ),
        pytest.param(
            "  - console: stdout\n    schedule: '24:00'\n",
            "feeds.yaml:8: destinations[0].schedule: invalid time '24:00': "
            "hours go from 00 to 23, minutes from 00 to 59",
            id="HH:MM out of range",
        ),
        pytest.param(
            "  - console: stdout\n    schedule: '0 8 * *'\n",
            "feeds.yaml:8: destinations[0].schedule: invalid schedule '0 8 * *': use 'instant', "
            "a daily time like '08:00', or a cron expression with 5 fields "
            "(minute hour day month weekday)",
            id="cron with four fields",
        ),
        pytest.param(
            "  - console: stdout\n    schedule: '0 8 * 13 *'\n",
            "feeds.yaml:8: destinations[0].schedule: invalid cron expression '0 8 * 13 *': "
            "Error validating expression '13': the last value (13) is higher than the "
            "maximum value (12)",
            id="cron that does not parse",
        ),
        pytest.param(
            "  - console: stdout\n    timezone: Mars/Olympus\n",
            "feeds.yaml:8: destinations[0].timezone: unknown time zone 'Mars/Olympus' "
            "(use a name like Europe/Rome)",
            id="unknown timezone",
        ),
        pytest.param(
            "  - console: stdout\n    language: pt\n",
            "feeds.yaml:8: destinations[0].language: unsupported language 'pt' "
            "(choose one of: en, it, fr, de)",
            id="unknown language",
        ),
        pytest.param(
            "  - console: stdout\n    max_stories: 0\n",
            "feeds.yaml:8: destinations[0].max_stories: must be at least 1, got 0",
            id="max_stories below one",
        ),
        pytest.param(
            "  - console: printer\n",
            "feeds.yaml:7: destinations[0].console: must be 'stdout' or 'stderr', got 'printer'",
            id="bad console stream",
        ),
        pytest.param(
            "  - telegram: ai_policy_it\n",
            "feeds.yaml:7: destinations[0].telegram: expected a channel @username or a numeric "
            "chat id, got 'ai_policy_it' (did you forget the '@'?)",
            id="telegram username without @",
        ),
        pytest.param(
            "  - discord: general\n",
            "feeds.yaml:7: destinations[0].discord: expected a numeric Discord channel id, "
            "got 'general'",
            id="discord channel not a snowflake",
        ),
        pytest.param(
            "  - topics: [ai-act]\n    schedule: instant\n",
            "feeds.yaml:7: destinations[0]: needs one of: console, telegram, discord, "
            "discord_webhook_env",
            id="zero kinds",
        ),
        pytest.param(
            "  - console: stdout\n    discord: 1234\n",
            "feeds.yaml:8: destinations[0]: has both 'console' and 'discord'; "
            "give each destination one kind",
            id="two kinds",
        ),
        pytest.param(
            "  - discord: 1234\n  - console: stderr\n  - discord: '1234'\n",
            "feeds.yaml:9: destinations[2]: duplicate destination discord:1234 "
            "(first given at line 7)",
            id="duplicate destination",
        ),
        pytest.param(
            "  - console: stdout\n    topics: []\n",
            "feeds.yaml:8: destinations[0].topics: names no topic; leave the key out for "
            "every topic",
            id="empty topic list",
        ),
        pytest.param(
            "  - console: stdout\n    topic: [ai-act]\n",
            "feeds.yaml:8: destinations[0].topic: unknown key 'topic' (did you mean 'topics'?)",
            id="unknown destination key",
        ),
    ],
)
def test_destination_errors_name_the_line(destinations: str, expected: str) -> None:
    assert errors_of(TOPICS + destinations) == [expected]


def test_telegram_destination_needs_the_token_variable() -> None:
    env = {"DISCORD_BOT_TOKEN": SECRET}
    errors = errors_of(TOPICS + "  - console: stdout\n  - telegram: '@news'\n", env=env)

    assert errors == [
        "feeds.yaml:8: destinations[1].telegram: the environment variable TELEGRAM_BOT_TOKEN "
        "is not set (the bot token is read from it)"
    ]


def test_token_variable_name_comes_from_settings() -> None:
    text = "settings:\n  telegram:\n    token_env: MY_TG\n" + TOPICS + "  - telegram: 42\n"

    errors = errors_of(text, env={"TELEGRAM_BOT_TOKEN": SECRET})

    assert errors == [
        "feeds.yaml:10: destinations[0].telegram: the environment variable MY_TG is not set "
        "(the bot token is read from it)"
    ]
    config = load_config("feeds.yaml", env={"MY_TG": SECRET})
    assert config.settings.telegram.token_env == "MY_TG"


def test_discord_destination_needs_the_token_variable_reported_once() -> None:
    errors = errors_of(TOPICS + "  - discord: 111\n  - discord: 222\n", env={})

    assert errors == [
        "feeds.yaml:7: destinations[0].discord: the environment variable DISCORD_BOT_TOKEN "
        "is not set (the bot token is read from it)"
    ]


def test_webhook_destination_needs_its_variable() -> None:
    errors = errors_of(TOPICS + "  - discord_webhook_env: POLICY_WEBHOOK_URL\n", env={})

    assert errors == [
        "feeds.yaml:7: destinations[0].discord_webhook_env: the environment variable "
        "POLICY_WEBHOOK_URL is not set (the webhook URL is read from it)"
    ]


def test_a_blank_variable_counts_as_unset() -> None:
    errors = errors_of(TOPICS + "  - telegram: '@news'\n", env={"TELEGRAM_BOT_TOKEN": "  "})

    assert len(errors) == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in errors[0]


def test_every_error_is_reported_at_once_sorted_by_line() -> None:
    text = """\
        destinations:
          - telegram: '@news'
            topics: [nope]
        topics:
          ai:
            any: ['re:[']
        settings:
          timeout: 5 sec
          language: xx
        feeds:
          - url: gopher://old.example/
        """

    errors = errors_of(text, env={})

    lines = [int(error.split(":")[1]) for error in errors]
    assert lines == [2, 3, 6, 8, 9, 11]
    assert errors[0].startswith("feeds.yaml:2: destinations[0].telegram: the environment")
    assert errors[1].startswith("feeds.yaml:3: destinations[0].topics[0]: unknown topic 'nope'")
    assert errors[5].startswith("feeds.yaml:11: feeds[0].url: unsupported URL scheme")


def test_secrets_never_appear_in_errors() -> None:
    """Tokens live in the environment; the database password may be in the YAML itself."""
    text = (
        "settings:\n  database: postgresql://admin:SECRET-db-pw@db/x\n"
        "  telegram:\n    token_env: 'SECRET-token-value'\n"
        + TOPICS
        + "  - telegram: '@news'\n  - discord: 5\n  - discord_webhook_env: POLICY_WEBHOOK_URL\n"
        "  - discord_webhook_env: UNSET\n  - console: stdout\n    bogus: 1\n"
    )

    errors = errors_of(text)

    assert len(errors) >= 4
    for error in errors:
        assert "SECRET" not in error


def test_yaml_syntax_error_is_one_line_with_its_number() -> None:
    errors = errors_of("settings:\n  timezone: UTC\n  language: [en\nfeeds: []\n")

    assert len(errors) == 1
    assert errors[0].startswith("feeds.yaml:4: YAML syntax error: ")


def test_missing_file_is_one_clear_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("nowhere.yaml", env={})

    assert caught.value.errors == ["nowhere.yaml: configuration file not found"]


def test_the_file_name_is_shown_as_given(in_tmp: Path) -> None:
    write("settings:\n  retention: forever\n")
    given = str(in_tmp / "feeds.yaml")

    with pytest.raises(ConfigError) as caught:
        load_config(given, env={})

    assert caught.value.errors[0].startswith(f"{given}:2: settings.retention: ")


def test_default_config_path_follows_the_environment(in_tmp: Path) -> None:
    assert default_config_path({}) == Path("feeds.yaml")
    assert default_config_path({"POLICYWIRE_CONFIG": "  "}) == Path("feeds.yaml")
    assert default_config_path({"POLICYWIRE_CONFIG": "/etc/pw/feeds.yaml"}) == Path(
        "/etc/pw/feeds.yaml"
    )


def test_default_config_path_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYWIRE_CONFIG", "conf/custom.yaml")

    assert default_config_path() == Path("conf/custom.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 2h 3m 4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("  90M ", timedelta(minutes=90)),
        ("45", timedelta(seconds=45)),
        (600, timedelta(minutes=10)),
    ],
)
def test_parse_duration(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid duration"),
        ("15", None),
        ("1.5h", "invalid duration"),
        ("30m1h", "largest first"),
        ("1h1h", "largest first"),
        ("-5m", "invalid duration"),
        ("0s", "longer than zero"),
        (0, "longer than zero"),
        (-3, "cannot be negative"),
        (True, "expected a duration"),
    ],
)
def test_parse_duration_rejects(text: str | int, message: str | None) -> None:
    if message is None:  # the control row: plain seconds are fine
        assert parse_duration(text) == timedelta(seconds=15)
        return
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_zero_is_allowed_for_backfill() -> None:
    assert parse_duration("0s", allow_zero=True) == timedelta(0)
    config = load_config(write("settings:\n  backfill: 0s\n"), env={})
    assert config.settings.backfill == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1024", 1024), ("500KB", 500 * 1024), ("5MB", 5 * 1024**2), ("1.5 mb", 1572864), (7, 7)],
)
def test_parse_byte_size(text: str | int, expected: int) -> None:
    assert parse_byte_size(text) == expected


def test_schedules_become_triggers() -> None:
    start = datetime(2025, 1, 1, 12, 0, tzinfo=ZoneInfo("UTC"))  # a Wednesday

    instant = parse_schedule("Instant")
    daily = parse_schedule("7:05")
    assert (instant.kind, instant.to_trigger("UTC")) == ("instant", None)
    assert (daily.kind, daily.text) == ("daily", "07:05")
    trigger = daily.to_trigger("Europe/Rome")
    assert trigger is not None
    fire = trigger.get_next_fire_time(None, start)
    assert fire == datetime(2025, 1, 2, 7, 5, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.mark.parametrize(
    ("expression", "expected_day"),
    [
        ("0 8 * * 1", 6),  # crontab 1 = Monday, not APScheduler's Tuesday
        ("0 8 * * 0", 5),  # 0 = Sunday
        ("0 8 * * 7", 5),  # 7 = Sunday too
        ("0 8 * * 6-7", 4),  # Saturday and Sunday
        ("0 8 * * sat", 4),
    ],
)
def test_cron_weekdays_follow_crontab_numbering(expression: str, expected_day: int) -> None:
    start = datetime(2025, 1, 2, 12, 0, tzinfo=ZoneInfo("UTC"))  # Thursday 2 January

    schedule = parse_schedule(expression)
    trigger = schedule.to_trigger("UTC")
    assert trigger is not None
    fire = trigger.get_next_fire_time(None, start)

    assert schedule.kind == "cron"
    assert fire == datetime(2025, 1, expected_day, 8, 0, tzinfo=ZoneInfo("UTC"))


def test_supported_languages() -> None:
    assert SUPPORTED_LANGUAGES == ("en", "it", "fr", "de")


def test_keywords_the_matcher_cannot_use_are_config_errors(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("topics:\n  lang:\n    any: [Python, C++]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config, env={})
    [line] = caught.value.errors
    assert line.startswith(f"{config}:3: topics.lang.any[1]: '++' at the edge")


def _node_tree(node: object) -> object:
    """What the config reader looks at in a node: kind, tag, value and line, recursively."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    line = node.start_mark.line  # type: ignore[attr-defined]
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, node.style or None, line)  # libyaml: "" for plain
    if isinstance(node, SequenceNode):
        return ("list", node.tag, line, [_node_tree(child) for child in node.value])
    assert isinstance(node, MappingNode)
    pairs = [(_node_tree(key), _node_tree(value)) for key, value in node.value]
    return ("map", node.tag, line, pairs)


def test_libyaml_composes_the_same_nodes_as_the_pure_loader() -> None:
    import yaml

    from policywire.config import yamlpos

    assert yamlpos._FAST_LOADER is not None  # PyYAML's wheels ship libyaml: the fast path runs
    root = Path(__file__).resolve().parents[1]
    tricky = textwrap.dedent(
        """\
        settings: {timezone: Europe/Rome, language: it}
        feeds:
          - url: "https://a.example/feed?x=1&y=2"   # comment
            name: 'Città — “quoted”'
            interval: 8:00
            enabled: no
          - {url: https://b.example/rss, name: B, tags: [a, "b c", ~]}
        topics:
          ai-act:
            any: &words ["AI Act", 'KI-Verordnung', règlement IA]
            none: *words
        note: |
          two
          lines
        """
    )
    texts = [(root / "feeds.yaml").read_text(), (root / "examples/offline.yaml").read_text()]
    for text in [*texts, tricky]:
        fast = yaml.compose(text, Loader=yamlpos._FAST_LOADER)
        pure = yaml.compose(text, Loader=yaml.SafeLoader)
        assert _node_tree(fast) == _node_tree(pure)
