"""The command line, run as a user would: the offline demo, check, and JSON output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler import main

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = ROOT / "examples" / "offline.yaml"
NOISE = ("Sanremo", "Norma", "piste ciclabili", "vélo-cargo", "mistral soffia", "Fire Act")


def preview_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["preview", "--config", str(OFFLINE), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def titles(digest: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["title"] for story in digest["stories"] for item in story["items"]]


def test_offline_demo_shows_matching_items_only(capsys: pytest.CaptureFixture[str]) -> None:
    result = preview_json(capsys)
    assert result["errors"] == []
    assert [d["destination"] for d in result["digests"]] == ["console:stdout", "console:stderr"]
    for digest in result["digests"]:
        assert digest["stories"], digest["destination"]
        for title in titles(digest):
            assert not any(word in title for word in NOISE), title
    italian = result["digests"][0]
    assert italian["language"] == "it"
    assert any("Mistral" in title for title in titles(italian))
    assert all(set(s["topics"]) <= {"mistral", "ai-act"} for s in italian["stories"])


def test_article_through_two_feeds_is_shown_once_naming_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = preview_json(capsys)
    english = result["digests"][1]
    items = [item for story in english["stories"] for item in story["items"]]
    deal = [i for i in items if "minority stake in Mistral AI" in i["title"]]
    assert len(deal) == 1
    assert deal[0]["sources"] == ["EU Digital Brief", "Tech Policy Roundup"]
    assert "utm_" not in deal[0]["link"]


def test_preview_for_one_topic_in_german(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["preview", "--config", str(OFFLINE), "--topic", "mistral", "--language", "de"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Mistral AI · ")
    assert "Meldungen" in out
    assert "AI Act" not in out.split("\n")[0]


def test_unknown_topic_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--config", str(OFFLINE), "--topic", "nope"]) == 2
    assert "unknown topic 'nope'" in capsys.readouterr().err


def test_check_reports_every_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "settings:\n"
        "  poll_interval: soon\n"
        "  timezone: Mars/Olympus\n"
        "topics:\n"
        "  ai-act:\n"
        "    any: [AI Act]\n"
        "destinations:\n"
        "  - console: stdout\n"
        "    topics: [missing]\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--config", "feeds.yaml"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("feeds.yaml:2: settings.poll_interval: ")
    assert lines[1].startswith("feeds.yaml:3: settings.timezone: ")
    assert lines[2].startswith("feeds.yaml:9: destinations[0].topics[0]: ")
    assert len(lines) == 3


def test_policywire_config_env_selects_the_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYWIRE_CONFIG", str(OFFLINE))
    assert main(["check"]) == 0
    assert "5 feeds" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("policywire") is None, reason="console script not installed")
def test_console_script_runs_the_offline_demo() -> None:
    result = subprocess.run(
        ["policywire", "preview", "--config", str(OFFLINE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Mistral" in result.stdout
    assert "loaded 5 feeds" in result.stderr


def test_scheduler_py_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scheduler.py"), "check", "--config", str(OFFLINE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_the_shipped_feeds_yaml_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(ROOT / "feeds.yaml")]) == 0
    out = capsys.readouterr().out
    assert "20 feeds" in out and "1 destination" in out and "1 destinations" not in out


def test_a_cron_run_with_nothing_to_parse_imports_no_parser_nor_chat_library(
    tmp_path: Path,
) -> None:
    # One feed that cannot be reached (port 9, discard: refused on loopback): the run polls,
    # records the failure and sends nothing, so it never needs a parser, grouping or a bot.
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "settings:\n  database: sqlite+aiosqlite:///pw.db\n"
        "feeds:\n  - url: http://127.0.0.1:9/feed.xml\n    name: Nowhere\n"
        "topics:\n  ai-act:\n    name: AI Act\n    any: [AI Act]\n"
        "destinations:\n  - console: stdout\n"
    )
    # The database exists already (creating it runs Alembic, which loads every SQL dialect).
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    unwanted = (
        "feedparser",
        "lxml",
        "policywire.ingest.parse",
        "policywire.curate.stories",
        "sqlalchemy.dialects.postgresql",
        "telegram",
        "discord",
    )
    probe = (
        "import sys, scheduler\n"
        f"code = scheduler.main(['run', '--once', '--config', {str(config)!r}])\n"
        f"print(sorted(m for m in {unwanted!r} if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr  # every feed failed: a supervisor hears it
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
    assert "Nowhere" in result.stderr  # the failed poll was reported


def test_a_policywire_error_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "feeds.yaml"
    # A database inside a file: the store cannot open it, which is the user's to fix.
    (tmp_path / "blocker").write_text("not a folder")
    config.write_text(
        "settings:\n  database: sqlite+aiosqlite:///blocker/state.db\n"
        "feeds:\n  - url: feeds/none.xml\n"
        "topics:\n  t:\n    any: [AI]\n"
        "destinations:\n  - console: stdout\n"
    )
    assert main(["status", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("policywire: "), err
    assert "Traceback" not in err[0]


def test_a_bug_is_a_traceback_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import scheduler

    def broken(args: object) -> int:
        raise KeyError("a bug in our own code")

    monkeypatch.setattr(scheduler, "_dispatch", broken)  # our own seam, not a library's
    assert main(["check", "--config", str(OFFLINE)]) == 2
    assert "please report it" in caplog.text
    assert "Traceback" in caplog.text and "a bug in our own code" in caplog.text
