"""A destination's thread: destinations.thread_id; meta.schema_version = 4.

A subscription made in a Telegram forum topic posts its digests into that topic: the topic's
`message_thread_id` is kept with the destination and passed on every send. NULL (every row
written before this revision) posts into the chat itself, as before. The version marker goes
up so policywire 0.1.0, which would ignore the column and post a forum topic's digests into
the forum's General topic, refuses the database instead.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # A nullable ADD COLUMN: SQLite and PostgreSQL change no existing row.
    op.add_column("destinations", sa.Column("thread_id", sa.Integer(), nullable=True))
    _schema_version("4")


def downgrade() -> None:
    op.drop_column("destinations", "thread_id")
    _schema_version("3")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
