"""Alembic migrations of policywire's database, run from code (`storage/migrate.py`).

No alembic.ini: `migrate.alembic_config` builds the configuration and hands `env.py` the
store's open connection. A new revision is a file in `versions/` (copy `r0001_initial.py`):
explicit `op` calls, `down_revision` the previous head, and `migrate.HEAD` set to its id. A
revision that changes the tables also raises `meta.schema_version` (schema.SCHEMA_VERSION),
so policywire 0.1.0, which knows no Alembic, refuses the database instead of misusing it.
"""
