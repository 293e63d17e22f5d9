"""Where an item's date comes from: items.date_source; meta.schema_version = 3.

"feed" (the feed's own date), "seen" (no date we trust; the first-seen time stands in) or
"unknown" (no date we trust, and the item was there when we first read its feed: never sent as
new). Rows written before this revision are "feed": what they said about an undated item is
no longer known, and they were eligible then. The version marker goes up so policywire
0.1.0 refuses the database instead of writing rows that would all read as dated.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: SQLite and PostgreSQL change no existing row.
    op.add_column(
        "items",
        sa.Column("date_source", sa.String(8), nullable=False, server_default="feed"),
    )
    _schema_version("3")


def downgrade() -> None:
    op.drop_column("items", "date_source")
    _schema_version("2")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
