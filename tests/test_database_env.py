"""`$POLICYWIRE_DATABASE` replaces `settings.database`, so a container points at PostgreSQL
(or another SQLite file) without editing feeds.yaml.

Read the way `settings.database` is read (a relative SQLite path from the config file's
folder, PostgreSQL as written), ignored when blank, an error when it is no database URL, and
never echoed: it may hold a password. The command line is run as a user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from policywire.config.load import DATABASE_ENV, load_config, load_config_without_secrets
from policywire.errors import ConfigError
from tests.helpers import config_file

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql+asyncpg://policywire:s3cr3t-pw@postgres:5432/policywire"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "etc"
    folder.mkdir()
    return config_file(
        folder,
        database=folder / "from-the-file.db",
        feeds=["https://news.example/feed.xml"],
        topics={"ai": ["AI Act"]},
    )


def test_without_the_variable_the_file_decides(config: Path) -> None:
    assert load_config(config, {}).settings.database.endswith("/etc/from-the-file.db")


def test_a_postgresql_url_is_used_as_written(config: Path) -> None:
    assert load_config(config, {DATABASE_ENV: POSTGRES}).settings.database == POSTGRES


def test_a_relative_sqlite_path_is_relative_to_the_config_file(config: Path) -> None:
    env = {DATABASE_ENV: "  sqlite:///state/elsewhere.db  "}
    database = load_config(config, env).settings.database
    assert database == f"sqlite+aiosqlite:///{config.parent / 'state' / 'elsewhere.db'}"


def test_a_blank_variable_is_not_set(config: Path) -> None:
    assert load_config(config, {DATABASE_ENV: "   "}).settings.database.endswith("from-the-file.db")


def test_the_commands_that_need_no_tokens_read_it_too(config: Path) -> None:
    loaded, _unset = load_config_without_secrets(config, {DATABASE_ENV: POSTGRES})
    assert loaded.settings.database == POSTGRES


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mysql://root:hunter2@db/policywire", "unsupported database driver 'mysql'"),
        ("not a url with hunter2", "not a database URL"),
    ],
)
def test_a_bad_value_is_an_error_that_never_repeats_it(
    config: Path, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config, {DATABASE_ENV: value})
    [line] = raised.value.errors
    assert line.startswith(f"{DATABASE_ENV} (environment variable): {problem}")
    assert "hunter2" not in line


def test_a_bad_value_is_reported_with_the_files_own_problems(config: Path) -> None:
    text = config.read_text(encoding="utf-8").replace("topics:", "topics:\n  Bad Id: [x]", 1)
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config, {DATABASE_ENV: "mysql://db/x"})
    assert len(raised.value.errors) == 2
    assert raised.value.errors[0].startswith(DATABASE_ENV)


def policywire(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, DATABASE_ENV: database}
    return subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_and_backup_use_the_variables_database(config: Path, tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.db"
    database = f"sqlite+aiosqlite:///{chosen}"
    result = policywire("db", "upgrade", "--config", str(config), database=database)
    assert result.returncode == 0, result.stderr
    assert chosen.is_file()
    assert not (config.parent / "from-the-file.db").exists()
    copy = tmp_path / "copy.db"
    result = policywire("backup", str(copy), "--config", str(config), database=database)
    assert result.returncode == 0, result.stderr
    assert copy.is_file()


def test_check_refuses_a_bad_value_without_showing_it(config: Path) -> None:
    result = policywire("check", "--config", str(config), database="mysql://u:hunter2@db/x")
    assert result.returncode == 1
    assert f"{DATABASE_ENV} (environment variable): unsupported database driver" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
