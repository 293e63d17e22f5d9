"""What the store gives its callers: frozen rows, typed, never a mapping read by string keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policywire.models import Validators


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    destination: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class FeedState:
    """What a poll needs to know of its feed (see Store.feed_states)."""

    url: str
    validators: Validators
    failures: int
    first_polled: datetime | None
    last_success: datetime | None
    last_error: str | None
    items_total: int


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A feed's whole row, for `status` and tests (see Store.feed_rows)."""

    url: str
    title: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    first_polled: datetime | None
    last_polled: datetime | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    items_total: int
    next_poll: datetime | None


@dataclass(frozen=True, slots=True)
class DestinationRow:
    key: str
    origin: str
    platform: str
    target: str
    topics: tuple[str, ...]
    schedule: str
    timezone: str
    language: str
    active: bool
    created_at: datetime
    last_digest_at: datetime | None
    title: str = ""
    last_error: str | None = None
    thread_id: int | None = None  # a forum topic (Telegram message_thread_id); None: the chat
    language_chosen: bool = False  # by feeds.yaml or /language; False: guessed at first contact


def feed_state_from_row(url: str, row: Any) -> FeedState:
    """The state of a `feeds` row; a feed without one gets an empty state."""
    if row is None:
        return FeedState(url, Validators(), 0, None, None, None, 0)
    return FeedState(
        url=url,
        validators=Validators(row.etag, row.last_modified, row.body_hash),
        failures=row.failures,
        first_polled=row.first_polled,
        last_success=row.last_success,
        last_error=row.last_error,
        items_total=row.items_total,
    )


def feed_row_from_row(row: Any) -> FeedRow:
    return FeedRow(
        url=row.url,
        title=row.title,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        first_polled=row.first_polled,
        last_polled=row.last_polled,
        last_success=row.last_success,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        failures=int(row.failures or 0),
        items_total=int(row.items_total or 0),
        next_poll=row.next_poll,
    )


def outbox_row_from_row(row: Any) -> OutboxRow:
    return OutboxRow(
        row.id,
        row.destination,
        row.idempotency_key,
        json.loads(row.payload),
        row.attempts,
        row.next_attempt_at,
    )


def destination_from_row(row: Any) -> DestinationRow:
    """A `destinations` row, given as its mapping (`row._mapping`: `key` is a Row method)."""
    return DestinationRow(
        key=row["key"],
        origin=row["origin"],
        platform=row["platform"],
        target=row["target"],
        topics=tuple(json.loads(row["topics"])),
        schedule=row["schedule"],
        timezone=row["timezone"],
        language=row["language"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        last_digest_at=row["last_digest_at"],
        title=row["title"],
        last_error=row["last_error"],
        thread_id=row["thread_id"],
        language_chosen=bool(row["language_chosen"]),
    )
