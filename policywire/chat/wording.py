"""Everything the chat bots say, written once, and the one function that turns it into text.

A message *key* is the message's English source text with ``{name}`` placeholders: its gettext
msgid. ``N_()`` marks a key where it is written (``NP_()`` one with plural forms, ``NC_()`` a
short word that needs a context) and returns it unchanged; `render` is the only place a key
becomes text, in a language, through the catalogues of `policywire.locale.catalogues`
(``policywire/locale/<language>/LC_MESSAGES/policywire.po``). After adding or changing a key,
run ``python -m policywire.locale.update`` and translate the new entries in every ``.po`` file:
`tests/test_i18n.py` fails until each language has them.

Rules for keys:

- Whole sentences, never fragments glued together: "Following: {topic}" and "Stopped: {topic}"
  are two keys, not "{state}: {topic}".
- Data goes in arguments. An argument may be another `Message` or a `LanguageName`, rendered
  in the same language: "Saved. {settings}" lets a translator place the settings sentence
  where it belongs.
- A count is a plural key (`NP_`) counted by its ``count`` argument: "1 story", "2 stories".
- Plain text only: Telegram HTML and Discord markdown are the bots' business, applied to the
  rendered text (Telegram escapes it whole).
- Commands are written as on Telegram ("/subscribe"), in every language; the Discord bot puts
  its localized command names in their place.

`CommandError(KEY, name=value)` (policywire.errors) carries a key of this module and its
arguments; the bots render it like any other reply. Comments starting ``TRANSLATORS:`` go to
the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from policywire.languages import SUPPORTED_LANGUAGES
from policywire.locale.catalogues import (
    N_,
    NC_,
    NP_,
    SOURCE_LANGUAGE,
    Plural,
    gettext,
    language_name,
    ngettext,
    own_name,
)

if TYPE_CHECKING:
    from policywire.storage.store import DestinationRow

__all__ = ["NC_", "NP_", "N_", "SOURCE_LANGUAGE", "LanguageName", "Message", "Plural", "render"]

_NO_ARGUMENTS: Mapping[str, object] = MappingProxyType({})


class Message(NamedTuple):
    """Something to say, before its language is known: a key and the arguments that fill it."""

    key: str | Plural
    arguments: Mapping[str, object] = _NO_ARGUMENTS

    def text(self, language: str) -> str:
        return render(self.key, self.arguments, language)


class LanguageName(NamedTuple):
    """A language by name in the reader's language: "it" → "italiano", "Italian", "Italienisch"."""

    code: str

    def text(self, language: str) -> str:
        return language_name(self.code, language)


def render(key: str | Plural, arguments: Mapping[str, object] | None, language: str) -> str:
    """The text of message `key` in `language`, its ``{placeholders}`` filled from `arguments`.

    `Message` and `LanguageName` arguments are rendered first, in the same language; anything
    else is formatted as it is. A key without arguments is returned as translated (it may hold
    literal braces). A language we do not speak gets the English source text.
    """
    if isinstance(key, Plural):
        count = (arguments or {}).get("count")
        template = ngettext(language, key, count if isinstance(count, int) else 0)
    else:
        template = gettext(language, key)
    if not arguments:
        return template
    values = {
        name: value.text(language) if isinstance(value, Message | LanguageName | Listing) else value
        for name, value in arguments.items()
    }
    return template.format_map(values)


def listing(items: Iterable[str]) -> str:
    """Several values in one argument ("ai-act, mistral"): the one place lists are joined."""
    return ", ".join(items)


def all_topics_words() -> frozenset[str]:
    """What /unsubscribe takes for every topic, in any language we speak ("all", "tutti")."""
    return frozenset(
        gettext(language, ALL_TOPICS_CHOICE).casefold() for language in SUPPORTED_LANGUAGES
    ) | {"all"}


def language_choices() -> str:
    """The languages to pick from, each as typed and in its own words: "it (italiano)"."""
    return listing(f"{code} ({own_name(code)})" for code in SUPPORTED_LANGUAGES)


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
    # TRANSLATORS: the codes are what /language takes; keep them as they are.
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
    ("help", N_("What this bot can do")),
)

# Discord's command and option names are localized too (Telegram's are the same everywhere).
# Replies mention commands as on Telegram ("/subscribe"); the Discord bot writes these names in
# their place.
DISCORD_COMMAND_CONTEXT = "command name"
DISCORD_COMMAND_NAMES: Mapping[str, str] = MappingProxyType(
    {
        # TRANSLATORS: each "command name" is a Discord slash command's name: lowercase, no
        # spaces, at most 32 letters, digits, "-" or "_", unlike the other command names.
        "subscribe": NC_("command name", "subscribe"),
        "unsubscribe": NC_("command name", "unsubscribe"),
        "topics": NC_("command name", "topics"),
        "list": NC_("command name", "list"),
        "digest": NC_("command name", "digest"),
        "schedule": NC_("command name", "schedule"),
        "language": NC_("command name", "language"),
        "timezone": NC_("command name", "timezone"),
        "help": NC_("command name", "help"),
    }
)
DISCORD_OPTION_CONTEXT = "option name"
DISCORD_OPTION_NAMES: Mapping[str, str] = MappingProxyType(
    {
        # TRANSLATORS: each "option name" is a Discord slash command option's name: the same
        # rules as command names.
        "topic": NC_("option name", "topic"),
        "when": NC_("option name", "when"),
        "language": NC_("option name", "language"),
        "zone": NC_("option name", "zone"),
    }
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
HELP_MANAGE_CHANNELS = N_("Changing a channel's digest takes the Manage Channels permission.")
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
POSTING = NP_("Posting {count} story here now.", "Posting {count} stories here now.")
USAGE_SCHEDULE = N_("Usage: /schedule 08:00, or instant")
# TRANSLATORS: {languages} is "en (English), it (italiano), fr (français), de (Deutsch)".
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
BAD_SCHEDULE = N_(
    "I can't read '{text}' as a schedule. "
    "Use HH:MM (daily), a cron line like '0 8 * * 1-5', or 'instant'."
)
BAD_SCHEDULE_TIME = N_(
    "'{text}' is not a time of day: hours go from 00 to 23, minutes from 00 to 59. "
    "Use HH:MM (daily), a cron line like '0 8 * * 1-5', or 'instant'."
)
BAD_SCHEDULE_CRON = N_(
    "'{text}' is not a cron line I can read (minute hour day month weekday). "
    "Use HH:MM (daily), a cron line like '0 8 * * 1-5', or 'instant'."
)
# TRANSLATORS: {languages} as in "Usage: /language {languages}".
SUPPORTED_LANGUAGES_ARE = N_("Supported languages: {languages}.")
UNKNOWN_TIMEZONE = N_("Unknown time zone '{zone}': use Area/City, e.g. Europe/Rome.")
# TRANSLATORS: {suggestion} is a time zone's name, e.g. Europe/Rome.
UNKNOWN_TIMEZONE_DID_YOU_MEAN = N_("Unknown time zone '{zone}'. Did you mean {suggestion}?")
# TRANSLATORS: {topics} are topic names; {settings} is one of the "Topics: …" sentences.
ALREADY_FOLLOWING = N_("This chat already follows {topics}. {settings}")
NOT_FOLLOWING = N_("This chat wasn't following {topics}.")
# TRANSLATORS: a /schedule, /language or /timezone that asked for what was already set.
ALREADY_SET = N_("Nothing to change. {settings}")
# TRANSLATORS: {channel} is a Telegram channel's @name, managed from a private chat.
CHANNEL_NOT_FOUND = N_("I can't find {channel}: add me to the channel as an administrator first.")
CHANNEL_ADMINS_ONLY = N_("Only the admins of {channel} can change its digest.")
CHANNEL_BOT_NOT_ADMIN = N_(
    "Make me an administrator of {channel} who may post messages, then try again."
)
CHANNEL_FROM_PRIVATE_CHAT = N_(
    "Channels are managed from a private chat with me: /subscribe @channel ai-act."
)
NO_SUBSCRIPTION_YET = N_("This chat has no subscription yet: use /subscribe first.")
SET_IN_FEEDS_YAML = N_(
    "This chat's digest is set in the operator's feeds.yaml; ask them to change it."
)


# --- first contact, channels and forum topics -------------------------------------------------

FIRST_POLL_RUNNING = N_("The first poll is still running; your stories follow in a moment.")
NOTHING_YET = N_("No stories on this chat's topics yet; they come with the next digest.")
NOTHING_YET_CHANNEL = N_("No stories on this channel's topics yet; they come with the next digest.")
# TRANSLATORS: a reply about a channel managed from a private chat; {reply} is the reply itself.
FOR_CHANNEL = N_("{channel}: {reply}")
HELP_CHANNELS = N_(
    "To manage a channel, write to me privately: /subscribe @channel ai-act "
    "(you must be one of its admins)."
)
# TRANSLATORS: {settings} is a "Topics: …" sentence; {topics} were removed from the bot's list.
NO_LONGER_OFFERED = N_("{settings} No longer offered: {topics} (/unsubscribe to drop them).")

# --- schedules in words (see `schedule_words`) ------------------------------------------------

# TRANSLATORS: {when} is one of the "every day at …", "on weekdays at …" phrases below.
SETTINGS_WHEN = N_("Topics: {topics}. Digest {when} ({timezone}), in {language}.")
# TRANSLATORS: {times} is one time or several: "08:00" or "08:00, 18:00".
WHEN_EVERY_DAY = N_("every day at {times}")
WHEN_WEEKDAYS = N_("on weekdays at {times}")
WHEN_WEEKENDS = N_("at weekends at {times}")
# TRANSLATORS: {days} lists the day names below: "Mondays, Thursdays".
WHEN_ON_DAYS = N_("on {days} at {times}")
# TRANSLATORS: {cron} is a crontab line, kept as typed: a schedule too unusual to say in words.
WHEN_CRON = N_("on the cron schedule '{cron}'")
DAY_NAMES = (
    N_("Sundays"),
    N_("Mondays"),
    N_("Tuesdays"),
    N_("Wednesdays"),
    N_("Thursdays"),
    N_("Fridays"),
    N_("Saturdays"),
)
_DAY_NUMBERS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_WEEKDAYS, _WEEKEND = frozenset(range(1, 6)), frozenset({0, 6})


def schedule_words(cron: str) -> Message:
    """A five-field cron line as people say it: "on weekdays at 08:00", "every day at 08:00,
    18:00"; one too unusual for that (steps, days of the month) is shown as typed."""
    fields = cron.split()
    times = _cron_times(fields[0], fields[1]) if len(fields) == 5 else None
    days = _cron_days(fields[4]) if times and fields[2:4] == ["*", "*"] else None
    if times is None or days is None:
        return Message(WHEN_CRON, {"cron": cron})
    spoken = {"times": listing(times)}
    if days == frozenset(range(7)):
        return Message(WHEN_EVERY_DAY, spoken)
    if days == _WEEKDAYS:
        return Message(WHEN_WEEKDAYS, spoken)
    if days == _WEEKEND:
        return Message(WHEN_WEEKENDS, spoken)
    names = [Message(DAY_NAMES[day]) for day in sorted(days, key=lambda d: (d == 0, d))]
    return Message(WHEN_ON_DAYS, {**spoken, "days": Listing(tuple(names))})


class Listing(NamedTuple):
    """Messages listed in one argument, each rendered in the reader's language."""

    items: tuple[Message, ...]

    def text(self, language: str) -> str:
        return listing(item.text(language) for item in self.items)


def _cron_times(minute: str, hour: str) -> list[str] | None:
    """ "0" and "8,18" → ["08:00", "18:00"]; None for steps, ranges or stars."""
    if not minute.isdigit() or not all(h.isdigit() for h in hour.split(",")):
        return None
    hours = sorted({int(h) for h in hour.split(",")})
    if int(minute) > 59 or hours[-1] > 23:
        return None
    return [f"{h:02d}:{int(minute):02d}" for h in hours]


def _cron_days(field: str) -> frozenset[int] | None:
    """The weekday field as day numbers (0 = Sunday, as cron counts); None for steps."""
    if field == "*":
        return frozenset(range(7))
    days: set[int] = set()
    for part in field.lower().split(","):
        first, _, last = part.partition("-")
        start, end = _day_number(first), _day_number(last or first)
        if start is None or end is None or end < start:
            return None
        days.update(day % 7 for day in range(start, end + 1))
    return frozenset(days)


def _day_number(text: str) -> int | None:
    if text.isdigit():
        return int(text) if int(text) <= 7 else None
    return _DAY_NUMBERS.get(text)


def describe(row: DestinationRow, names: Mapping[str, str]) -> Message:
    """A chat's settings in one sentence: topics by name, when, which time zone, which language.

    A followed topic no longer in `names` (removed from feeds.yaml) is said apart, as no
    longer offered, so the chat knows to drop it rather than wait for it.
    """
    offered = [names[t] for t in row.topics if t in names]
    retired = [t for t in row.topics if t not in names]
    topics: str | Message = listing(offered) or Message(NO_TOPICS)
    arguments: dict[str, object] = {
        "topics": topics,
        "timezone": row.timezone,
        "language": LanguageName(row.language),
    }
    if row.schedule == "instant":
        settings = Message(SETTINGS_INSTANT, arguments)
    elif row.schedule.count(" ") == 4:  # a cron line, said in words where it can be
        settings = Message(SETTINGS_WHEN, {**arguments, "when": schedule_words(row.schedule)})
    else:
        settings = Message(SETTINGS_SCHEDULED, {**arguments, "schedule": row.schedule})
    if not retired:
        return settings
    return Message(NO_LONGER_OFFERED, {"settings": settings, "topics": listing(retired)})
