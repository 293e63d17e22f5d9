"""`check` and `preview` need no bot token: they warn that `run` will; `run` still refuses.

Run as a user would: the real command line in a child process, with the token variables
removed from its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parents[1]
TOKENS = ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "POLICY_WEBHOOK_URL")


def configured(tmp_path: Path) -> Path:
    (tmp_path / "news.xml").write_text(rss(["The AI Act applies"]), encoding="utf-8")
    return config_file(
        tmp_path,
        database=tmp_path / "cli.db",
        settings={"embedding": {"backend": "none"}, "backfill": "100000d"},
        feeds=[{"url": "news.xml", "name": "Policy News"}],
        topics={"ai-act": ["AI Act"]},
        destinations=[
            {"telegram": "@policy_news", "topics": ["ai-act"]},
            {"discord": 1_150_000_000_000_000_003, "topics": ["ai-act"]},
            {"discord_webhook_env": "POLICY_WEBHOOK_URL", "topics": ["ai-act"]},
        ],
    )


def policywire(*args: str, blank: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    if blank is not None:
        env[blank] = "   "  # set but blank counts as not set
    return subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_passes_without_tokens_and_warns_about_run(tmp_path: Path) -> None:
    result = policywire("check", "--config", str(configured(tmp_path)), blank="DISCORD_BOT_TOKEN")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    for name in TOKENS:
        assert f"warning: {name} is not set; `policywire run` will need it" in result.stderr
    assert result.stderr.count("TELEGRAM_BOT_TOKEN") == 1  # once, not once per destination


def test_preview_prints_digests_without_tokens(tmp_path: Path) -> None:
    result = policywire("preview", "--config", str(configured(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "The AI Act applies" in result.stdout
    assert "warning: TELEGRAM_BOT_TOKEN is not set" in result.stderr


def test_run_still_refuses_to_start_without_its_tokens(tmp_path: Path) -> None:
    result = policywire("run", "--once", "--config", str(configured(tmp_path)))
    assert result.returncode == 1
    assert "the environment variable TELEGRAM_BOT_TOKEN is not set" in result.stderr
