"""Item vectors: one embedding per matched item and model; meta.schema_version = 2.

The version marker goes up so policywire 0.1.0, which knows nothing of this table, refuses
the database instead of writing into it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "item_vectors",
        sa.Column(
            "item_pk",
            sa.Integer(),
            sa.ForeignKey("items.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    _schema_version("2")


def downgrade() -> None:
    op.drop_table("item_vectors")
    _schema_version("1")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
