"""The tables, as SQLAlchemy Core metadata: what the queries are written against.

The database itself is made and changed by the migrations (`storage/migrations/`), never by
`metadata.create_all`: a change here needs a new revision there (tests/test_migrations.py
compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

# `meta.schema_version`, the marker policywire 0.1.0 checks: it refuses a database whose
# version is higher. A revision that changes the tables raises it, so 0.1.0 never writes
# into a schema it does not know.
SCHEMA_VERSION = 7  # 2: item_vectors (revision 0002); 3: items.date_source (0003);
# 4: destinations.thread_id (0004); 5: workers, leases, digest_ticks (0005);
# 6: stories, story_members, story_merges, story_cards, story_verdicts (0006);
# 7: destinations.language_chosen (0007)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and gives them back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

meta_table = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

feeds_table = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("title", Text, nullable=False, default=""),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("first_polled", UTCDateTime),
    Column("last_polled", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("failures", Integer, nullable=False, default=0),
    Column("items_total", Integer, nullable=False, default=0),
    Column("next_poll", UTCDateTime),
)

items_table = Table(
    "items",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(2048), nullable=False),
    Column("item_id", String(2048), nullable=False),
    Column("link", String(2048), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("language", String(16)),
    Column("tags", Text, nullable=False, default="[]"),
    Column("links", Text, nullable=False, default="[]"),
    Column("source", Text, nullable=False, default=""),
    Column("story_id", Integer),
    # Where `published` comes from (storage/items.py, DATE_FROM_*): "feed", the feed's own
    # date; "seen", no date we trust, first seen after we had read the feed before, so the
    # first-seen time stands in; "unknown", no date we trust and there when we first read
    # the feed: an archive item, never sent as new.
    Column("date_source", String(8), nullable=False, server_default="feed"),
    UniqueConstraint("feed", "item_id", name="uq_items_feed_item"),
    Index("ix_items_link", "link"),
    Index("ix_items_first_seen", "first_seen"),
    Index("ix_items_story", "story_id"),
)

matches_table = Table(
    "matches",
    metadata,
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(128), primary_key=True),
    Column("keywords", Text, nullable=False),
    Index("ix_matches_topic", "topic"),
)

destinations_table = Table(
    "destinations",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("origin", String(16), nullable=False),  # "config" or "chat"
    Column("platform", String(32), nullable=False),
    Column("target", String(512), nullable=False),
    Column("topics", Text, nullable=False, default="[]"),
    Column("schedule", String(128), nullable=False, default="instant"),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("language", String(8), nullable=False, default="en"),
    Column("title", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),
    Column("last_error", Text),
    # A forum topic's message_thread_id (Telegram): digests go into that topic. NULL: the chat.
    Column("thread_id", Integer),
    # Set by feeds.yaml or /language (not guessed from a locale): it outranks the asker's own.
    Column("language_chosen", Boolean, nullable=False, default=False, server_default=false()),
)

deliveries_table = Table(
    "deliveries",
    metadata,
    Column("destination", String(512), primary_key=True),
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("delivered_at", UTCDateTime, nullable=False),
)

outbox_table = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("destination", String(512), nullable=False),
    Column("idempotency_key", String(256), nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # JSON: what the platform call needs
    Column("state", String(16), nullable=False, default="pending"),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("platform_message_id", String(64)),
    Column("last_error", Text),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_destination", "destination", "id"),
)

# A matched item's embedding, per model: float32 little-endian bytes of `dimensions` values.
# Keyed by the model's id, so a change of model computes new vectors instead of comparing
# vectors of two spaces; they go with their item (ON DELETE CASCADE) when it is pruned.
item_vectors_table = Table(
    "item_vectors",
    metadata,
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("model", String(256), primary_key=True),
    Column("dimensions", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

# Several workers on one PostgreSQL database (policywire/coordination/, docs/scaling.md). On
# SQLite, one instance per file, these stay empty.
workers_table = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("config_version", String(64), nullable=False),  # sha256 of its feeds.yaml, 12 hex
)

# Who may do what until when: kind "feed" (poll a feed; expires one interval after the poll),
# "outbox" (send a destination's messages), "updates" (receive a chat platform's updates).
# A worker's heartbeat renews its outbox and updates leases; a dead worker's run out.
leases_table = Table(
    "leases",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("name", String(2048), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_leases_holder", "holder"),
)

# One row per scheduled digest built: the first worker to insert (destination, tick) builds it.
digest_ticks_table = Table(
    "digest_ticks",
    metadata,
    Column("destination", String(512), primary_key=True),
    Column("tick", UTCDateTime, primary_key=True),
    Column("worker", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
)

# Stories with an identity (storage/stories.py, docs/cards.md): a stable id across polls and
# digests; a story that proved to be another one points at it (`merged_into`, `story_merges`).
stories_table = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("merged_into", Integer, ForeignKey("stories.id")),
)

# Which story an item belongs to: one each, gone with the item when it is pruned.
story_members_table = Table(
    "story_members",
    metadata,
    Column("item_pk", Integer, ForeignKey("items.pk", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Index("ix_story_members_story", "story_id"),
)

story_merges_table = Table(
    "story_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kept", Integer, nullable=False),
    Column("merged", Integer, nullable=False),
    Column("merged_at", UTCDateTime, nullable=False),
    Column("items", Integer, nullable=False),  # members moved from `merged` to `kept`
)

# A destination's card of a story: the outbox row that posted it (its platform message id is
# there once sent), the last edit queued, and when the next one is due (NULL: none wanted).
story_cards_table = Table(
    "story_cards",
    metadata,
    Column("destination", String(512), primary_key=True),
    Column("story_id", Integer, primary_key=True),
    Column("outbox_id", Integer, nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("edit_due", UTCDateTime),
    Column("edit_outbox_id", Integer),
    Column("shown", Text, nullable=False, default="[]"),  # JSON: item pks the card shows
    Column("muted", Boolean, nullable=False, default=False),  # "not relevant" in that chat
    Index("ix_story_cards_due", "edit_due"),
)

# What readers said with a card's buttons: "not_relevant" (the story) or "wrong_grouping"
# (`item_pk` is not about the story's event); `articles` copies what `labels export` writes,
# so a verdict outlives the items' retention.
story_verdicts_table = Table(
    "story_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("destination", String(512), nullable=False),
    Column("story_id", Integer, nullable=False),
    Column("item_pk", Integer),
    Column("verdict", String(32), nullable=False),
    Column("reader", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("articles", Text, nullable=False),
    Index("ix_story_verdicts_story", "destination", "story_id"),
)

TABLE_NAMES = frozenset(metadata.tables)  # every table policywire owns (without alembic's)
