"""Everything the chat bots say, written once, and the one function that turns it into text.

A message *key* is the message's English source text with ``{name}`` placeholders: the gettext
msgid to come. ``N_()`` marks a key where it is written (``pybabel extract`` knows ``N_`` by
default) and returns it unchanged; `render` is the only place a key becomes text, in a
language. Today every language gets the English source text, formatted; issue 14 plugs the
gettext catalogues in there, and nowhere else.

Rules for keys:

- Whole sentences, never fragments glued together: "Following: {topic}" and "Stopped: {topic}"
  are two keys, not "{state}: {topic}".
- Data goes in arguments. An argument may be another `Message`, rendered in the same language:
  "Saved. {settings}" lets a translator place the settings sentence where it belongs.
- Plain text only: Telegram HTML and Discord markdown are the bots' business, applied to the
  rendered text (Telegram escapes it whole).

`CommandError(KEY, name=value)` (policywire.errors) carries a key of this module and its
arguments; the bots render it like any other reply. Comments starting ``TRANSLATORS:`` go to
the catalogue with ``pybabel extract -c TRANSLATORS:``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from policywire.storage.store import DestinationRow

# The language keys are written in. Every reply is in it until issue 14 picks the chat's.
SOURCE_LANGUAGE = "en"

_NO_ARGUMENTS: Mapping[str, object] = MappingProxyType({})


def N_(key: str) -> str:  # the gettext convention: extractors look for N_
    """Mark `key` as a message to translate; the key itself is the value."""
    return key


class Message(NamedTuple):
    """Something to say, before its language is known: a key and the arguments that fill it."""

    key: str
    arguments: Mapping[str, object] = _NO_ARGUMENTS

    def text(self, language: str) -> str:
        return render(self.key, self.arguments, language)


def render(key: str, arguments: Mapping[str, object] | None, language: str) -> str:
    """The text of message `key` in `language`, its ``{placeholders}`` filled from `arguments`.

    `Message` arguments are rendered first, in the same language; anything else is formatted
    as it is. A key without arguments is returned as written (it may hold literal braces).
    """
    template = key  # issue 14: the `language` catalogue's translation of `key`
    if not arguments:
        return template
    values = {
        name: value.text(language) if isinstance(value, Message) else value
        for name, value in arguments.items()
    }
    return template.format_map(values)


def listing(items: Iterable[str]) -> str:
    """Several values in one argument ("ai-act, mistral"): the one place lists are joined."""
    return ", ".join(items)


# --- commands: name and description, in menu order -------------------------------------------

TELEGRAM_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Welcome and the topics to pick from")),
    ("help", N_("What this bot can do")),
    ("topics", N_("All topics you can follow")),
    ("subscribe", N_("Follow topics: /subscribe ai-act mistral")),
    ("unsubscribe", N_("Stop topics: /unsubscribe ai-act, or all")),
    ("list", N_("This chat's topics and schedule")),
    ("digest", N_("Send this chat's digest now")),
    ("schedule", N_("When to send: HH:MM, a cron line, or instant")),
    ("language", N_("Digest language: en, it, fr or de")),
    ("timezone", N_("Time zone for the schedule, e.g. Europe/Rome")),
)

DISCORD_COMMANDS: tuple[tuple[str, str], ...] = (
    ("subscribe", N_("Follow a topic in this channel")),
    ("unsubscribe", N_("Stop a topic in this channel, or all of them")),
    ("topics", N_("All topics this bot can follow")),
    ("list", N_("This channel's topics, schedule, time zone and language")),
    ("digest", N_("Post this channel's digest now")),
    ("schedule", N_("When digests are posted: HH:MM, a cron line, or instant")),
    ("language", N_("Digest language")),
    ("timezone", N_("Time zone of the schedule, e.g. Europe/Rome")),
)

# Discord slash command options and choices.
TOPIC_OPTION = N_("A topic id or name")
FOLLOWED_TOPIC_OPTION = N_("A topic id or name, or all")
SCHEDULE_OPTION = N_("HH:MM (daily), a cron line like '0 8 * * 1-5', or instant")
LANGUAGE_OPTION = N_("The digests' language")
TIMEZONE_OPTION = N_("An IANA time zone, e.g. Europe/Rome")
# TRANSLATORS: the choice's label only; its value stays "all", which /unsubscribe understands.
ALL_TOPICS_CHOICE = N_("all")

# --- a chat's settings (see `describe`) -------------------------------------------------------

SETTINGS_SCHEDULED = N_("Topics: {topics}. Digest at {schedule} ({timezone}), in {language}.")
SETTINGS_INSTANT = N_(
    "Topics: {topics}. Digest as soon as news arrives ({timezone}), in {language}."
)
# TRANSLATORS: {topics} above, for a chat that follows no topic yet.
NO_TOPICS = N_("none")

# --- replies ----------------------------------------------------------------------------------

WELCOME_TITLE = N_("Welcome to policywire.")
WELCOME = N_(
    "I send curated digests of the news on the topics you pick. "
    "Tap a topic to follow it, or see /help."
)
HELP_GROUPS = N_("In groups, only admins can change the group's subscription.")
NO_TOPICS_CONFIGURED = N_("No topics are configured.")
PICK_TOPICS = N_("Tap the topics to follow:")
WHICH_TOPICS = N_("Which topics? /unsubscribe ai-act, or /unsubscribe all")
# TRANSLATORS: {settings} is one of the "Topics: …" sentences above.
SUBSCRIBED = N_("Subscribed. {settings}")
DONE = N_("Done. {settings}")
SAVED = N_("Saved. {settings}")
UNSUBSCRIBED_ALL = N_("Unsubscribed from everything. /subscribe to come back.")
CHAT_FOLLOWS_NOTHING = N_("This chat follows no topic yet. Try /subscribe.")
CHANNEL_FOLLOWS_NOTHING = N_("This channel follows no topic yet. Try /subscribe.")
NOTHING_TO_SEND = N_("Nothing to send yet: /subscribe to a topic first.")
NOTHING_TO_POST = N_("Nothing to post yet: /subscribe to a topic first.")
NOTHING_NEW_SINCE_YOURS = N_("Nothing new since your last digest.")
NOTHING_NEW_SINCE_LAST = N_("Nothing new since the last digest.")
POSTING = N_("Posting {count} stories here now.")
USAGE_SCHEDULE = N_("Usage: /schedule 08:00, or instant")
# TRANSLATORS: {languages} is "en|it|fr|de".
USAGE_LANGUAGE = N_("Usage: /language {languages}")
USAGE_TIMEZONE = N_("Usage: /timezone Europe/Rome")
FOLLOWING = N_("Following: {topic}")
STOPPED = N_("Stopped: {topic}")
ADMINS_ONLY = N_("Only the group's admins can change this.")
ADMINS_ONLY_SUBSCRIPTION = N_("Only the group's admins can change its subscription.")
MANAGE_CHANNELS_NEEDED = N_(
    "You need the Manage Channels permission to change this channel's digest."
)
UNKNOWN_COMMAND = N_("I don't know that command. /help lists what I can do.")
FAILED_ON_OUR_SIDE = N_("Sorry, that failed on our side; the operator can see why.")

# --- errors: CommandError keys (raised by policywire.chat.subscriptions) ----------------------

UNKNOWN_TOPIC = N_("Unknown topic: {unknown}. Topics: {topics}")
# TRANSLATORS: {problem} says why the schedule was refused (English, from the config reader).
BAD_SCHEDULE = N_("{problem}. Use HH:MM (daily), a cron line like '0 8 * * 1-5', or 'instant'.")
SUPPORTED_LANGUAGES_ARE = N_("Supported languages: {languages}.")
UNKNOWN_TIMEZONE = N_("Unknown time zone '{zone}': use Area/City, e.g. Europe/Rome.")
NO_SUBSCRIPTION_YET = N_("This chat has no subscription yet: use /subscribe first.")
SET_IN_FEEDS_YAML = N_(
    "This chat's digest is set in the operator's feeds.yaml; ask them to change it."
)


def describe(row: DestinationRow, names: Mapping[str, str]) -> Message:
    """A chat's settings in one sentence: topics by name, when, which time zone, which language."""
    topics: str | Message = listing(names.get(t, t) for t in row.topics) or Message(NO_TOPICS)
    arguments: dict[str, object] = {
        "topics": topics,
        "timezone": row.timezone,
        "language": row.language,
    }
    if row.schedule == "instant":
        return Message(SETTINGS_INSTANT, arguments)
    return Message(SETTINGS_SCHEDULED, {**arguments, "schedule": row.schedule})
