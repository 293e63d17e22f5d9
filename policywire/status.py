"""`policywire status`: what the database says about feeds, destinations and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from policywire.config.durations import parse_schedule
from policywire.config.model import Config
from policywire.storage.store import DestinationRow, FeedRow, Store


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    url: str
    last_success: datetime | None
    last_error: str | None
    items: int
    next_poll: datetime | None
    failures: int


@dataclass(frozen=True, slots=True)
class DestinationStatus:
    key: str
    origin: str
    topics: tuple[str, ...]
    schedule: str
    active: bool
    last_digest: datetime | None
    next_digest: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Status:
    feeds: tuple[FeedStatus, ...]
    destinations: tuple[DestinationStatus, ...]
    outbox: dict[str, int]


async def collect_status(config: Config, store: Store, now: datetime) -> Status:
    rows = {row.url: row for row in await store.feed_rows()}
    feeds = tuple(_feed_status(feed.name, feed.url, rows.get(feed.url)) for feed in config.feeds)
    destinations = tuple(
        _destination_status(row, now) for row in await store.destinations(active_only=False)
    )
    return Status(feeds, destinations, await store.outbox_counts())


def _feed_status(name: str, url: str, row: FeedRow | None) -> FeedStatus:
    if row is None:  # never polled yet
        return FeedStatus(name, url, None, None, 0, None, 0)
    return FeedStatus(
        name=name,
        url=url,
        last_success=row.last_success,
        last_error=row.last_error if row.failures else None,  # an old error is history
        items=row.items_total,
        next_poll=row.next_poll,
        failures=row.failures,
    )


def _destination_status(row: DestinationRow, now: datetime) -> DestinationStatus:
    return DestinationStatus(
        key=row.key,
        origin=row.origin,
        topics=row.topics,
        schedule=row.schedule,
        active=row.active,
        last_digest=row.last_digest_at,
        next_digest=next_digest(row, now),
        last_error=row.last_error,
    )


def next_digest(row: DestinationRow, now: datetime) -> datetime | None:
    """When the destination's next scheduled digest fires (None: instant or inactive)."""
    if not row.active:
        return None
    trigger = parse_schedule(row.schedule).to_trigger(row.timezone)
    if trigger is None:
        return None
    fire: datetime | None = trigger.get_next_fire_time(None, now.astimezone(ZoneInfo(row.timezone)))
    return fire


def format_status(status: Status, timezone: str) -> str:
    zone = ZoneInfo(timezone)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"

    feed_rows = [
        [
            f.name,
            when(f.last_success),
            str(f.items),
            when(f.next_poll),
            str(f.failures),
            _short(f.last_error or ""),
        ]
        for f in status.feeds
    ]
    destination_rows = [
        [
            d.key,
            d.origin,
            ",".join(d.topics),
            d.schedule,
            when(d.last_digest),
            when(d.next_digest) if d.schedule != "instant" else "on match",
            "active" if d.active else f"inactive: {_short(d.last_error or '')}",
        ]
        for d in status.destinations
    ]
    outbox = status.outbox
    return "\n".join(
        [
            f"Feeds (times in {timezone})",
            _table(
                ["feed", "last success", "items", "next poll", "failures", "last error"],
                feed_rows,
            ),
            "",
            "Destinations and subscriptions",
            _table(
                [
                    "destination",
                    "from",
                    "topics",
                    "schedule",
                    "last digest",
                    "next digest",
                    "state",
                ],
                destination_rows,
            ),
            "",
            f"Outbox: {outbox['pending']} pending, {outbox['failed']} failed, "
            f"{outbox['sent']} sent",
        ]
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "  (none)"
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  "
        + "  ".join(
            str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )
