"""Reading the destinations: section of feeds.yaml (kinds, targets, options, credentials)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from yaml.nodes import Node, SequenceNode

from policywire.config.model import DestinationConfig, DestinationKind, Settings, TopicConfig
from policywire.config.values import (
    parse_env_name,
    parse_flag,
    parse_language,
    parse_schedule_text,
    parse_timezone,
    unknown_topic_message,
)
from policywire.config.yamlpos import (
    Fields,
    item_path,
    line_of,
    parse_node,
    sequence_items,
)
from policywire.logsafe import secret_kind

# The YAML key that names a destination's kind, and the kind it stands for.
_KIND_BY_KEY: dict[str, DestinationKind] = {
    "console": "console",
    "telegram": "telegram",
    "discord": "discord",
    "discord_webhook_env": "discord_webhook",
}

if TYPE_CHECKING:  # the reader that calls us; imported only for its type
    from policywire.config.load import ConfigReader


_DESTINATION_OPTIONS = ("topics", "schedule", "timezone", "language", "max_stories", "cards")


_TELEGRAM_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


_TELEGRAM_CHAT_ID = re.compile(r"-?[0-9]+")


_SNOWFLAKE = re.compile(r"[0-9]{1,20}")


class DestinationsReader:
    """Reads ``destinations``; needs the settings and topics read before it."""

    def __init__(
        self, config: ConfigReader, settings: Settings, topics: Mapping[str, TopicConfig]
    ) -> None:
        self.config = config
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
        schedule = fields.parsed("schedule", "instant", parse_schedule_text)
        timezone = fields.parsed("timezone", self.settings.timezone, parse_timezone)
        language = fields.parsed("language", self.settings.language, parse_language)
        max_stories = fields.integer("max_stories", self.settings.max_stories, minimum=1)
        cards = fields.parsed("cards", True, parse_flag)  # story cards for instant destinations
        kind_key = self._kind_key(fields)
        target = None if kind_key is None else self._target(fields, kind_key)
        if kind_key is None or target is None:
            return None
        destination = DestinationConfig(
            _KIND_BY_KEY[kind_key], target, topics, schedule, timezone, language, max_stories, cards
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
        if not self.config.require_secrets:
            self.config.unset_secrets.append(needed)  # the command sends nothing: a warning
            return
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
                    unknown_topic_message(topic_id, self.topics),
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


# A token or webhook URL pasted where a target belongs is never repeated: `check` output ends up
# in terminals, CI logs and bug reports.
_NOT_HERE = "tokens and webhook URLs are read from environment variables, never from this file"


def _got(text: str) -> str:
    """What the user wrote, for "expected X, got Y" — unless it looks like a secret."""
    kind = secret_kind(text)
    return repr(text) if kind is None else f"{kind} (not shown; {_NOT_HERE})"


def _console_target(text: str) -> str:
    if text not in ("stdout", "stderr"):
        raise ValueError(f"must be 'stdout' or 'stderr', got {_got(text)}")
    return text


def _telegram_target(text: str) -> str:
    if _TELEGRAM_CHAT_ID.fullmatch(text):
        return str(int(text))
    if _TELEGRAM_USERNAME.fullmatch(text):
        return text
    hint = " (did you forget the '@'?)" if _TELEGRAM_USERNAME.fullmatch("@" + text) else ""
    raise ValueError(f"expected a channel @username or a numeric chat id, got {_got(text)}{hint}")


def _discord_target(text: str) -> str:
    if not _SNOWFLAKE.fullmatch(text) or int(text) == 0:
        raise ValueError(f"expected a numeric Discord channel id, got {_got(text)}")
    return str(int(text))


_TARGET_PARSERS = {
    "console": _console_target,
    "telegram": _telegram_target,
    "discord": _discord_target,
    "discord_webhook_env": parse_env_name,
}
