"""Bringing a database to the schema this code uses: Alembic, run from code on the store's
own connection (Store.open and `policywire db upgrade`).

A database already at HEAD costs one look at `alembic_version` and never imports Alembic (it
loads every SQL dialect, the PostgreSQL one too): a cron run stays cheap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from policywire.errors import SchemaError
from policywire.storage.schema import SCHEMA_VERSION, TABLE_NAMES, meta_table, metadata

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

FIRST = "0001"  # the schema of policywire 0.1.0, which had no Alembic
HEAD = "0007"  # the newest revision in migrations/versions (tests/test_migrations.py checks)
MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """What opening the database did to its schema."""

    before: str | None  # the revision it had; None: a new, empty database
    after: str
    adopted: bool = False  # written by 0.1.0: stamped as FIRST, then upgraded

    def describe(self) -> str:
        """One line: from which revision to which, or already there."""
        if self.adopted:
            upgraded = "" if self.after == FIRST else f" and upgraded to revision {self.after}"
            return f"database of policywire 0.1.0 stamped as revision {FIRST}{upgraded}"
        if self.before is None:
            return f"new database upgraded from empty to revision {self.after}"
        if self.before == self.after:
            return f"database already at revision {self.after}"
        return f"database upgraded from revision {self.before} to {self.after}"


def upgrade_schema(connection: Connection) -> SchemaUpgrade:
    """Upgrade the database to HEAD in the caller's transaction; refuse a newer one."""
    inspector = inspect(connection)
    if inspector.has_table("alembic_version"):
        current = _versions(connection)
        if current == [HEAD]:
            return SchemaUpgrade(HEAD, HEAD)
        return _upgrade(connection, current)
    ours = TABLE_NAMES.intersection(inspector.get_table_names())
    if not ours:
        return _upgrade(connection, [])
    if meta_table.name not in ours:
        raise SchemaError(
            f"the database has tables named like policywire's ({', '.join(sorted(ours))}) "
            "but no schema version: it is not a policywire database"
        )
    _check_legacy_version(connection)
    return _upgrade(connection, [], adopt=True)


def _versions(connection: Connection) -> list[str]:
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return sorted(str(row[0]) for row in rows)


def _check_legacy_version(connection: Connection) -> None:
    """A database without Alembic: 0.1.0's marker must be one this code knows."""
    version = connection.scalar(
        select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    )
    if version is not None and int(version) > SCHEMA_VERSION:
        raise SchemaError(
            f"the database has schema version {version}, newer than this policywire knows "
            f"({SCHEMA_VERSION}): this policywire is older than the one that wrote it"
        )


def _upgrade(connection: Connection, current: list[str], *, adopt: bool = False) -> SchemaUpgrade:
    _quiet_alembic()
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(connection)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise SchemaError(
            f"the database is at schema revision {', '.join(unknown)}, which this policywire "
            f"does not know (its newest is {HEAD}): this policywire is older than the one "
            "that upgraded it"
        )
    if adopt:
        command.stamp(config, FIRST)
    command.upgrade(config, "head")
    after = _versions(connection)
    upgrade = SchemaUpgrade(FIRST if adopt else (current[0] if current else None), after[0], adopt)
    log.info("%s", upgrade.describe())
    return upgrade


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our migrations, without alembic.ini: `env.py` runs them on
    `connection`."""
    from alembic.config import Config

    config = Config(attributes={"connection": connection, "target_metadata": metadata})
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def _quiet_alembic() -> None:
    """Alembic's per-step INFO lines stay out of the one-line-per-event log (ours says it)."""
    alembic_log = logging.getLogger("alembic")
    if alembic_log.level == logging.NOTSET:
        alembic_log.setLevel(logging.WARNING)
