"""Alembic's environment: run the migrations on the connection the store gave us.

Loaded by Alembic (`migrate.upgrade_schema`), never imported. Online only: there is no
alembic.ini, no URL and no offline (`--sql`) mode.
"""

from __future__ import annotations

from alembic import context

from policywire.storage.schema import metadata

if context.is_offline_mode():
    raise RuntimeError("policywire's migrations run online only (policywire db upgrade)")

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
