"""Whether a destination's language was chosen: destinations.language_chosen;
meta.schema_version = 7.

A chat's language is set three ways: from feeds.yaml, by `/language`, or guessed when the chat
first subscribes (a Discord server's locale, a Telegram user's language). Only a chosen one
outranks the language of the person asking (docs/commands.md, "Which language"); a guess does
not. Rows written before this revision were guessed or chosen, nobody knows which: they start
as not chosen (configured destinations are marked chosen again when the config is applied).
The version marker goes up, as for every change of the tables, so policywire 0.1.0 refuses
the database rather than write into a schema it does not know.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "destinations",
        sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    _schema_version("7")


def downgrade() -> None:
    op.drop_column("destinations", "language_chosen")
    _schema_version("6")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
