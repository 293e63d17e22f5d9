"""The schema of policywire 0.1.0: seven tables, their indexes and meta.schema_version = 1.

A database written by 0.1.0 (tables and meta, no alembic_version) is stamped with this
revision instead of running it (see migrate.upgrade_schema).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    _feeds()
    _items()
    _destinations()
    _outbox()
    _matches()
    _deliveries()
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"}])


def downgrade() -> None:
    for table in ("deliveries", "matches", "outbox", "destinations", "items", "feeds", "meta"):
        op.drop_table(table)


def _feeds() -> None:
    op.create_table(
        "feeds",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("first_polled", sa.DateTime()),
        sa.Column("last_polled", sa.DateTime()),
        sa.Column("last_success", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_at", sa.DateTime()),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("next_poll", sa.DateTime()),
    )


def _items() -> None:
    op.create_table(
        "items",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feed", sa.String(2048), nullable=False),
        sa.Column("item_id", sa.String(2048), nullable=False),
        sa.Column("link", sa.String(2048), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published", sa.DateTime(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("story_id", sa.Integer()),
        sa.UniqueConstraint("feed", "item_id", name="uq_items_feed_item"),
    )
    op.create_index("ix_items_link", "items", ["link"])
    op.create_index("ix_items_first_seen", "items", ["first_seen"])
    op.create_index("ix_items_story", "items", ["story_id"])


def _destinations() -> None:
    op.create_table(
        "destinations",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("schedule", sa.String(128), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_digest_at", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
    )


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("destination", sa.String(512), nullable=False),
        sa.Column("idempotency_key", sa.String(256), nullable=False, unique=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("platform_message_id", sa.String(64)),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_destination", "outbox", ["destination", "id"])


def _matches() -> None:
    op.create_table(
        "matches",
        sa.Column(
            "item_pk",
            sa.Integer(),
            sa.ForeignKey("items.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic", sa.String(128), primary_key=True),
        sa.Column("keywords", sa.Text(), nullable=False),
    )
    op.create_index("ix_matches_topic", "matches", ["topic"])


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("destination", sa.String(512), primary_key=True),
        sa.Column(
            "item_pk",
            sa.Integer(),
            sa.ForeignKey("items.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("delivered_at", sa.DateTime(), nullable=False),
    )
