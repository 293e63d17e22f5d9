"""Stories with an identity, their cards and readers' verdicts; meta.schema_version = 6.

`stories` gives each story a stable id across polls and digests (`merged_into` when it proved
to be another one, the merge recorded in `story_merges`); `story_members` says which story an
item belongs to; `story_cards` is each destination's card of a story (the outbox row that
posted it, when it was last edited, whether an edit is due); `story_verdicts` keeps what
readers said with the card's buttons, with a copy of the articles, for `policywire labels
export`. New, empty tables: no existing row changes. The version marker goes up so policywire
0.1.0, which would post every update as a new message, refuses the database instead.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("merged_into", sa.Integer(), sa.ForeignKey("stories.id"), nullable=True),
    )
    op.create_table(
        "story_members",
        sa.Column(
            "item_pk",
            sa.Integer(),
            sa.ForeignKey("items.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer(), sa.ForeignKey("stories.id"), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_story_members_story", "story_members", ["story_id"])
    op.create_table(
        "story_merges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
    )
    _cards()
    _verdicts()
    _schema_version("6")


def _cards() -> None:
    op.create_table(
        "story_cards",
        sa.Column("destination", sa.String(512), primary_key=True),
        sa.Column("story_id", sa.Integer(), primary_key=True),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime()),
        sa.Column("edit_due", sa.DateTime()),
        sa.Column("edit_outbox_id", sa.Integer()),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_story_cards_due", "story_cards", ["edit_due"])


def _verdicts() -> None:
    op.create_table(
        "story_verdicts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("destination", sa.String(512), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("item_pk", sa.Integer()),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("reader", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("articles", sa.Text(), nullable=False),
    )
    op.create_index("ix_story_verdicts_story", "story_verdicts", ["destination", "story_id"])


def downgrade() -> None:
    for table in ("story_verdicts", "story_cards", "story_merges", "story_members", "stories"):
        op.drop_table(table)
    _schema_version("5")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
