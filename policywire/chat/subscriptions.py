"""What chat commands do, for every platform: subscribe, unsubscribe, schedule, language…

Bots parse a command and call one of these; the rules (known topics, valid schedules and zones,
who owns a destination) live here once. Each change is stored, then `on_change` lets the
service reschedule the chat's digest job at once. A refusal is a `CommandError` holding a key of
`policywire.chat.wording` and its arguments, never a finished sentence: the bot renders it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from policywire.chat import wording
from policywire.config.durations import parse_schedule
from policywire.errors import CommandError
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.storage.store import DestinationRow, Store

DEFAULT_CHAT_SCHEDULE = "08:00"

OnChange = Callable[[DestinationRow, bool], Awaitable[None]]  # (row, is_new_subscriber)


@dataclass(frozen=True, slots=True)
class Defaults:
    topics: Mapping[str, str]  # topic id → display name, in config order
    language: str
    timezone: str


def chat_key(platform: str, chat_id: str) -> str:
    return f"{platform}:{chat_id}"


class Subscriptions:
    def __init__(
        self,
        store: Store,
        defaults: Callable[[], Defaults],
        clock: Callable[[], datetime],
        on_change: OnChange,
    ) -> None:
        self.store = store
        self.defaults = defaults  # a callable: a config reload changes the topics
        self.clock = clock
        self.on_change = on_change

    async def get(self, platform: str, chat_id: str) -> DestinationRow | None:
        return await self.store.destination(chat_key(platform, chat_id))

    def resolve_topics(self, words: Iterable[str]) -> list[str]:
        """Topic ids from what a user typed (id or name, any case); unknown ones are an error."""
        known = self.defaults().topics
        by_word = {t.casefold(): t for t in known} | {n.casefold(): t for t, n in known.items()}
        found: list[str | None] = []
        unknown: list[str] = []
        for word in words:
            topic = by_word.get(word.strip().casefold())
            if topic:
                found.append(topic)
            else:
                unknown.append(word)
        if unknown:
            raise CommandError(
                wording.UNKNOWN_TOPIC,
                unknown=wording.listing(unknown),
                topics=wording.listing(known),
            )
        return list(dict.fromkeys(t for t in found if t))

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
        if [w.casefold() for w in words] == ["all"]:
            remaining: tuple[str, ...] = ()
        else:
            dropped = set(self.resolve_topics(words))
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
        """The bot was removed from the chat (or blocked): stop sending there."""
        row = await self.get(platform, chat_id)
        if row is None or not row.active:
            return False
        await self.store.set_destination_active(row.key, False, reason)
        await self.on_change(replace(row, active=False), False)
        return True

    async def set_schedule(self, platform: str, chat_id: str, text: str) -> DestinationRow:
        try:
            schedule = parse_schedule(text.strip())
        except ValueError as exc:
            raise CommandError(wording.BAD_SCHEDULE, problem=str(exc)) from exc
        row = await self._existing(platform, chat_id)
        return await self._save(replace(row, schedule=schedule.text), False)

    async def set_language(self, platform: str, chat_id: str, language: str) -> DestinationRow:
        language = language.strip().lower()
        if language not in SUPPORTED_LANGUAGES:
            raise CommandError(
                wording.SUPPORTED_LANGUAGES_ARE, languages=wording.listing(SUPPORTED_LANGUAGES)
            )
        row = await self._row_for_change(platform, chat_id, "", language)
        return await self._save(replace(row, language=language), False)

    async def set_timezone(self, platform: str, chat_id: str, zone: str) -> DestinationRow:
        zone = zone.strip()
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(wording.UNKNOWN_TIMEZONE, zone=zone) from exc
        row = await self._row_for_change(platform, chat_id, "", None)
        return await self._save(replace(row, timezone=zone), False)

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
        return DestinationRow(
            key=chat_key(platform, chat_id),
            origin="chat",
            platform=platform,
            target=chat_id,
            topics=(),
            schedule=DEFAULT_CHAT_SCHEDULE,
            timezone=defaults.timezone,
            language=language if language in SUPPORTED_LANGUAGES else defaults.language,
            active=True,
            created_at=self.clock(),
            last_digest_at=None,
            title=title,
        )

    @staticmethod
    def _check_owned_by_chat(row: DestinationRow) -> None:
        if row.origin == "config":
            raise CommandError(wording.SET_IN_FEEDS_YAML)

    async def _save(self, row: DestinationRow, is_new: bool) -> DestinationRow:
        saved = await self.store.upsert_destination(row, restart=is_new)
        await self.on_change(saved, is_new)
        return saved
