"""`status`, `backup` and `db upgrade` need no bot token: only `run` sends anything.

Each command runs as a user runs it, the real command line in a child process, with the token
and webhook variables removed from its environment; the configuration names a Telegram, a
Discord and a webhook destination. The command works and says once per variable, on stderr,
that `run` will need it; `run` still refuses to start without them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from policywire.config.load import load_config, load_config_without_secrets
from policywire.errors import ConfigError
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]
TOKENS = ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "ALERTS_WEBHOOK_URL")


def _warning(name: str) -> str:
    return f"warning: {name} is not set; `policywire run` will need it"


def _write_config(directory: Path) -> Path:
    (directory / "news.xml").write_text(rss(["Data rules agreed"]), encoding="utf-8")
    return config_file(
        directory,
        database=directory / "state.db",
        settings={"embedding": {"backend": "none"}},
        feeds=[{"url": "news.xml", "name": "Policy News"}],
        topics={"data": ["data rules"]},
        destinations=[
            {"telegram": "@policy_data", "topics": ["data"]},
            {"telegram": -1001234567890, "topics": ["data"]},  # the same token: one warning
            {"discord": 1_150_000_000_000_000_007, "topics": ["data"]},
            {"discord_webhook_env": "ALERTS_WEBHOOK_URL", "topics": ["data"]},
        ],
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return _write_config(tmp_path)


@pytest.fixture(scope="module")
def upgraded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database `db upgrade` brought to this version's schema, without tokens (once)."""
    directory = tmp_path_factory.mktemp("upgraded")
    result = policywire("db", "upgrade", "--config", str(_write_config(directory)))
    assert result.returncode == 0, result.stderr
    _warned_once_each(result.stderr)
    return directory / "state.db"


@pytest.fixture
def upgraded(config: Path, upgraded_database: Path) -> Path:
    """`config`, its database a copy of the upgraded one."""
    shutil.copyfile(upgraded_database, config.parent / "state.db")
    return config


def policywire(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in TOKENS and k != "POLICYWIRE_DATABASE"}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _warned_once_each(stderr: str) -> None:
    for name in TOKENS:
        assert stderr.count(_warning(name)) == 1, stderr


def test_db_upgrade_runs_without_tokens(upgraded_database: Path) -> None:
    with sqlite3.connect(upgraded_database) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]


def test_status_runs_without_tokens(upgraded: Path) -> None:
    result = policywire("status", "--config", str(upgraded))
    assert result.returncode == 0, result.stderr
    _warned_once_each(result.stderr)
    assert "Outbox: 0 pending" in result.stdout  # the report, read from the database
    assert "warning:" not in result.stdout  # stdout stays the report alone


def test_status_check_exit_code_is_not_spoilt_by_the_warning(upgraded: Path) -> None:
    result = policywire("status", "--check", "--config", str(upgraded))
    assert result.returncode == 0, result.stdout + result.stderr


def test_backup_runs_without_tokens(upgraded: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    result = policywire("backup", str(target), "--config", str(upgraded))
    assert result.returncode == 0, result.stderr
    _warned_once_each(result.stderr)
    with sqlite3.connect(target) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_no_warning_when_the_tokens_are_set(config: Path) -> None:
    secrets = {
        "TELEGRAM_BOT_TOKEN": "not-a-real-token",
        "DISCORD_BOT_TOKEN": "not-a-real-token",
        "ALERTS_WEBHOOK_URL": "https://discord.example/api/webhooks/1/x",
    }
    result = policywire("db", "upgrade", "--config", str(config), **secrets)
    assert result.returncode == 0, result.stderr
    assert "warning:" not in result.stderr


def test_run_still_needs_them(config: Path) -> None:
    result = policywire("run", "--once", "--config", str(config))
    assert result.returncode == 1
    for name in TOKENS:
        assert f"the environment variable {name} is not set" in result.stderr
    assert "will need it" not in result.stderr


def test_the_loader_returns_what_is_unset_in_file_order(config: Path) -> None:
    env = {"DISCORD_BOT_TOKEN": "set", "ALERTS_WEBHOOK_URL": "   "}  # blank is not set
    loaded, unset = load_config_without_secrets(config, env)
    assert unset == ("TELEGRAM_BOT_TOKEN", "ALERTS_WEBHOOK_URL")
    assert len(loaded.destinations) == 4
    with pytest.raises(ConfigError) as raised:
        load_config(config, env)
    assert len(raised.value.errors) == 2


def test_other_problems_are_still_errors(config: Path) -> None:
    """Leniency is for the token variables only: a broken file still fails every command."""
    text = config.read_text(encoding="utf-8").replace("@policy_data", "policy data")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config_without_secrets(config, {})
    assert any("expected a channel @username" in line for line in raised.value.errors)
    result = policywire("status", "--config", str(config))
    assert result.returncode == 1
    assert "expected a channel @username" in result.stderr
