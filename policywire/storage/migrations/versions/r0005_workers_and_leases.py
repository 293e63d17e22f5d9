"""Several workers on one database: workers, leases, digest_ticks; meta.schema_version = 5.

`workers` lists the running processes (host, pid, heartbeat, config version), `leases` says
which worker may poll a feed, send a destination's messages or receive a chat platform's
updates, and until when; `digest_ticks` records which worker builds a destination's scheduled
digest for one tick. New, empty tables: no existing row changes. The version marker goes up so
policywire 0.1.0 refuses the database rather than run beside workers it cannot see.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("config_version", sa.String(64), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(2048), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_leases_holder", "leases", ["holder"])
    op.create_table(
        "digest_ticks",
        sa.Column("destination", sa.String(512), primary_key=True),
        sa.Column("tick", sa.DateTime(), primary_key=True),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
    )
    _schema_version("5")


def downgrade() -> None:
    op.drop_table("digest_ticks")
    op.drop_index("ix_leases_holder", table_name="leases")
    op.drop_table("leases")
    op.drop_table("workers")
    _schema_version("4")


def _schema_version(value: str) -> None:
    meta = sa.table("meta", sa.column("key", sa.String()), sa.column("value", sa.Text()))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=value))
