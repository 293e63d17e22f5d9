"""What chat commands do, for every platform: subscribe, unsubscribe, schedule, language…

Bots parse a command and call one of these; the rules (known topics, valid schedules and zones,
who owns a destination) live here once. Each change is stored, then `on_change` lets the
service reschedule the chat's digest job at once. A refusal is a `CommandError` holding a key of
`policywire.chat.wording` and its arguments, never a finished sentence: the bot renders it. A
command that would change nothing is refused too ("this chat wasn't following mistral"), so
"Done." is only ever said of a change.

A chat is named by the platform's id for it; a Telegram forum topic by ``CHAT/THREAD``
(`place`), which keeps one subscription per topic and posts its digests there.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache

from policywire.chat import wording
from policywire.chat.locale import resolve_language
from policywire.config.durations import parse_schedule
from policywire.errors import CommandError
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.storage.store import DestinationRow, Store

DEFAULT_CHAT_SCHEDULE = "08:00"

OnChange = Callable[[DestinationRow, bool], Awaitable[None]]  # (row, is_new_subscriber)

_DAILY = re.compile(r"\d{1,2}:\d{2}")


@dataclass(frozen=True, slots=True)
class Defaults:
    topics: Mapping[str, str]  # topic id → display name, in config order
    language: str
    timezone: str
    # language → topic id → that language's display name (feeds.yaml `name:` per language)
    localized: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def topics_in(self, language: str | None) -> Mapping[str, str]:
        """Topic names as a chat in `language` reads them (the default names otherwise)."""
        return self.localized.get(language or "", self.topics)


def chat_key(platform: str, chat_id: str) -> str:
    return f"{platform}:{chat_id}"


def place(chat_id: str, thread_id: int | None) -> str:
    """How a chat (or one topic of a forum) is named to `Subscriptions`."""
    return chat_id if thread_id is None else f"{chat_id}/{thread_id}"


def split_place(chat_id: str) -> tuple[str, int | None]:
    """``"-100123/45"`` → ``("-100123", 45)``: the chat to send to and the forum topic."""
    target, _, thread = chat_id.partition("/")
    return target, int(thread) if thread.isdigit() else None


class FirstPoll:
    """The feeds not polled yet since the service started, and the chats waiting for them.

    Right after a start nothing is known of the feeds' news: a chat that subscribes or asks
    for its digest then would hear "nothing new" about stories the service has not read yet.
    Instead it is told the first poll is running, and gets its digest when the last of those
    polls has ended (`polled` hands its key back). `active` says whether polls are running
    at all (a paused scheduler promises nothing).
    """

    def __init__(self, feeds: Iterable[str] = (), active: Callable[[], bool] = lambda: True):
        self._pending = set(feeds)
        self._waiting: dict[str, None] = {}  # destination keys, in the order they asked
        self._active = active

    def running(self) -> bool:
        return bool(self._pending) and self._active()

    def wait(self, key: str) -> bool:
        """Have chat `key` wait for the first poll; False when there is none to wait for."""
        if not self.running():
            return False
        self._waiting[key] = None
        return True

    def is_waiting(self, key: str) -> bool:
        return key in self._waiting

    def polled(self, url: str) -> list[str]:
        """A feed's first poll ended (or the feed is gone): the chats whose wait is over."""
        self._pending.discard(url)
        if self._pending or not self._waiting:
            return []
        done, self._waiting = list(self._waiting), {}
        return done


class Subscriptions:
    def __init__(
        self,
        store: Store,
        defaults: Callable[[], Defaults],
        clock: Callable[[], datetime],
        on_change: OnChange,
        *,
        first_poll: FirstPoll | None = None,
    ) -> None:
        self.store = store
        self.defaults = defaults  # a callable: a config reload changes the topics
        self.clock = clock
        self.on_change = on_change
        self.first_poll = first_poll or FirstPoll()

    async def get(self, platform: str, chat_id: str) -> DestinationRow | None:
        return await self.store.destination(chat_key(platform, chat_id))

    def describe(self, row: DestinationRow) -> wording.Message:
        """The chat's settings in one sentence, topics by their current names."""
        return wording.describe(row, self.defaults().topics_in(row.language))

    # --- first contact ---------------------------------------------------------------------

    def wait_for_first_poll(self, row: DestinationRow) -> bool:
        """True while the first poll since the start runs: the chat's digest follows when it
        ends, and the bot says so instead of "nothing new"."""
        return self.first_poll.wait(row.key)

    def first_poll_pending(self, row: DestinationRow) -> bool:
        """Whether this chat waits for the first poll (a subscription made during it)."""
        return self.first_poll.is_waiting(row.key)

    # --- topics ----------------------------------------------------------------------------

    def resolve_topics(self, words: Iterable[str], followed: Iterable[str] = ()) -> list[str]:
        """Topic ids from what a user typed: ids or names, any case, names with spaces as
        typed ("EU AI Act"), several separated by spaces or commas. `followed` are ids the
        chat follows that may no longer be offered (accepted so they can be dropped)."""
        defaults = self.defaults()
        known = defaults.topics
        by_phrase = {t.casefold(): t for t in (*followed, *known)}
        for names in (known, *defaults.localized.values()):  # a name in any language
            by_phrase |= {n.casefold(): t for t, n in names.items()}
        found: list[str] = []
        unknown: list[str] = []
        for chunk in " ".join(words).split(","):
            hits, misses = _match_phrases(chunk.split(), by_phrase)
            found += hits
            unknown += misses
        if unknown:
            raise CommandError(
                wording.UNKNOWN_TOPIC,
                unknown=wording.listing(unknown),
                topics=wording.listing(known),
            )
        return list(dict.fromkeys(found))

    def _names_of(self, topics: Iterable[str], language: str | None = None) -> str:
        names = self.defaults().topics_in(language)
        return wording.listing(names.get(t, t) for t in topics)

    # --- changes ---------------------------------------------------------------------------

    async def subscribe(
        self,
        platform: str,
        chat_id: str,
        topics: Iterable[str],
        *,
        title: str = "",
        language: str | None = None,
    ) -> DestinationRow:
        wanted = self.resolve_topics(topics)
        row = await self._row_for_change(platform, chat_id, title, language)
        is_new = not row.active or not row.topics
        if not is_new and set(wanted) <= set(row.topics):
            raise CommandError(
                wording.ALREADY_FOLLOWING,
                topics=self._names_of(wanted, row.language),
                settings=self.describe(row),
            )
        merged = tuple(dict.fromkeys((*row.topics, *wanted)))
        changed = replace(row, topics=merged, active=True)
        if is_new:  # coming (back) now: the backfill window counts from now
            changed = replace(changed, created_at=self.clock())
        return await self._save(changed, is_new)

    async def unsubscribe(
        self, platform: str, chat_id: str, topics: Iterable[str]
    ) -> DestinationRow:
        row = await self._existing(platform, chat_id)
        words = list(topics)
        if len(words) == 1 and words[0].strip().casefold() in wording.all_topics_words():
            remaining: tuple[str, ...] = ()
        else:
            dropped = self.resolve_topics(words, followed=row.topics)
            if not set(dropped) & set(row.topics):
                raise CommandError(
                    wording.NOT_FOLLOWING, topics=self._names_of(dropped, row.language)
                )
            remaining = tuple(t for t in row.topics if t not in dropped)
        return await self._save(replace(row, topics=remaining, active=bool(remaining)), False)

    async def toggle(
        self,
        platform: str,
        chat_id: str,
        topic: str,
        *,
        title: str = "",
        language: str | None = None,
    ) -> tuple[DestinationRow, bool]:
        """Flip one topic (the inline keyboard); returns the row and whether it is now on."""
        row = await self.get(platform, chat_id)
        if row is not None and row.active and topic in row.topics:
            return await self.unsubscribe(platform, chat_id, [topic]), False
        return await self.subscribe(
            platform, chat_id, [topic], title=title, language=language
        ), True

    async def deactivate(self, platform: str, chat_id: str, reason: str) -> bool:
        """The bot was removed from the chat (or blocked): stop sending there, to each of a
        forum's topics too."""
        rows = [row for row in await self.store.destinations_at(platform, chat_id) if row.active]
        for row in rows:
            await self.store.set_destination_active(row.key, False, reason)
            await self.on_change(replace(row, active=False), False)
        return bool(rows)

    async def set_schedule(self, platform: str, chat_id: str, text: str) -> DestinationRow:
        text = " ".join(text.split())
        try:
            schedule = parse_schedule(text)
        except ValueError as exc:
            raise _schedule_error(text) from exc
        row = await self._existing(platform, chat_id)
        return await self._save_setting(replace(row, schedule=schedule.text), row)

    async def set_language(self, platform: str, chat_id: str, typed: str) -> DestinationRow:
        """A code or a language's name: "it", "italiano", "Italian"."""
        language = resolve_language(typed)
        if language is None:
            choices = wording.language_choices()
            raise CommandError(wording.SUPPORTED_LANGUAGES_ARE, languages=choices)
        row = await self._row_for_change(platform, chat_id, "", language)
        chosen = replace(row, language=language, language_chosen=True)
        return await self._save_setting(chosen, row)

    async def set_timezone(
        self, platform: str, chat_id: str, zone: str, *, language: str | None = None
    ) -> DestinationRow:
        """`language`: what a chat this creates starts in (`policywire.chat.locale`)."""
        name = canonical_zone(zone)
        row = await self._row_for_change(platform, chat_id, "", language)
        return await self._save_setting(replace(row, timezone=name), row)

    async def check_not_configured(self, platform: str, alias: str) -> None:
        """A chat the operator set in feeds.yaml under another name (a channel's @name) is
        theirs to change, whichever name a command uses for it."""
        row = await self.get(platform, alias)
        if row is not None:
            self._check_owned_by_chat(row)

    # --- helpers ---------------------------------------------------------------------------

    async def _existing(self, platform: str, chat_id: str) -> DestinationRow:
        row = await self.get(platform, chat_id)
        if row is None or not row.topics:
            raise CommandError(wording.NO_SUBSCRIPTION_YET)
        self._check_owned_by_chat(row)
        return row

    async def _row_for_change(
        self, platform: str, chat_id: str, title: str, language: str | None
    ) -> DestinationRow:
        row = await self.get(platform, chat_id)
        if row is not None:
            self._check_owned_by_chat(row)
            return replace(row, title=title or row.title)
        defaults = self.defaults()
        target, thread = split_place(chat_id)
        return DestinationRow(
            key=chat_key(platform, chat_id),
            origin="chat",
            platform=platform,
            target=target,
            topics=(),
            schedule=DEFAULT_CHAT_SCHEDULE,
            timezone=defaults.timezone,
            language=language if language in SUPPORTED_LANGUAGES else defaults.language,
            active=True,
            created_at=self.clock(),
            last_digest_at=None,
            title=title,
            thread_id=thread,
        )

    @staticmethod
    def _check_owned_by_chat(row: DestinationRow) -> None:
        if row.origin == "config":
            raise CommandError(wording.SET_IN_FEEDS_YAML)

    async def _save_setting(self, row: DestinationRow, before: DestinationRow) -> DestinationRow:
        """Save a setting, or say it was already so (a stored row that would not change)."""
        stored = await self.store.destination(row.key)
        if stored is not None and replace(row, title=stored.title) == stored:
            raise CommandError(wording.ALREADY_SET, settings=self.describe(before))
        return await self._save(row, False)

    async def _save(self, row: DestinationRow, is_new: bool) -> DestinationRow:
        saved = await self.store.upsert_destination(row, restart=is_new)
        await self.on_change(saved, is_new)
        return saved


def _match_phrases(words: list[str], by_phrase: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The longest known phrase at each position ("EU AI Act" before "EU"); consecutive
    words that start no known phrase are one unknown phrase, as the user typed it."""
    found: list[str] = []
    unknown: list[str] = []
    run: list[str] = []  # the unknown words since the last known phrase
    start = 0
    while start < len(words):
        hit = _longest_phrase(words, start, by_phrase)
        if hit is None:
            run.append(words[start])
            start += 1
            continue
        if run:
            unknown.append(" ".join(run))
            run = []
        found.append(hit[0])
        start = hit[1]
    if run:
        unknown.append(" ".join(run))
    return found, unknown


def _longest_phrase(
    words: list[str], start: int, by_phrase: Mapping[str, str]
) -> tuple[str, int] | None:
    """The topic of the longest known phrase starting at `start`, and where it ends."""
    for end in range(len(words), start, -1):
        topic = by_phrase.get(" ".join(words[start:end]).casefold())
        if topic is not None:
            return topic, end
    return None


def _schedule_error(text: str) -> CommandError:
    """One reply per kind of mistake, each with the usage hint once."""
    if _DAILY.fullmatch(text):
        return CommandError(wording.BAD_SCHEDULE_TIME, text=text)
    if len(text.split()) == 5:
        return CommandError(wording.BAD_SCHEDULE_CRON, text=text)
    return CommandError(wording.BAD_SCHEDULE, text=text)


@cache
def _zones_by_folded_name() -> Mapping[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def canonical_zone(text: str) -> str:
    """An IANA time zone as typed in any case ("europe/rome" → "Europe/Rome"); an unknown one
    is refused with the closest names ("Rome", "Europe/Roma" → "did you mean Europe/Rome?")."""
    typed = "_".join(text.strip().split())  # "New York" is written New_York
    zones = _zones_by_folded_name()
    name = zones.get(typed.casefold())
    if name is not None:
        return name
    suggestion = _closest_zone(typed.casefold(), zones)
    if suggestion is None:
        raise CommandError(wording.UNKNOWN_TIMEZONE, zone=text.strip())
    raise CommandError(
        wording.UNKNOWN_TIMEZONE_DID_YOU_MEAN, zone=text.strip(), suggestion=suggestion
    )


def _closest_zone(folded: str, zones: Mapping[str, str]) -> str | None:
    """A city alone ("rome") names its zone; else the nearest spelling of a whole name."""
    cities = [name for key, name in zones.items() if key.rsplit("/", 1)[-1] == folded]
    if cities:
        return min(cities, key=len)  # "Europe/Rome" over "posix/Europe/Rome"-like aliases
    close = difflib.get_close_matches(folded, list(zones), n=1, cutoff=0.75)
    return zones[close[0]] if close else None
