"""The operator's kit read as its tools read it: compose.yaml, the Dockerfile, .dockerignore
and the systemd unit, each checked against the code and the docs it must agree with.

Docker is not needed (nor present on CI): compose.yaml is parsed with PyYAML, and the unit is
checked by `systemd-analyze verify` where that exists.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from policywire.config.load import load_config
from policywire.config.values import resolve_database
from tests.helpers import config_file

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = re.compile(r"postgresql\+asyncpg://[^\s`)]+")


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    )
    found = []
    for line in logical.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            found.append((instruction.upper(), " ".join(arguments.split())))
    return found


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in dockerfile():
        if instruction == "ENV":
            for pair in arguments.split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


# --- compose.yaml -------------------------------------------------------------------------


def test_compose_runs_policywire_on_sqlite_by_default_with_its_data_in_a_volume() -> None:
    document = compose()
    service = document["services"]["policywire"]
    assert "profiles" not in service  # always on: `docker compose up` starts it
    assert service["build"] == "."
    assert service["command"] == ["run"]
    assert "policywire-data:/data" in service["volumes"]
    assert set(document["volumes"]) == {"policywire-data", "postgres-data"}


def test_the_config_mount_is_where_the_image_looks_and_its_database_lands_in_the_volume() -> None:
    [mount] = [v for v in compose()["services"]["policywire"]["volumes"] if "feeds.yaml" in v]
    source, target, mode = mount.split(":")
    assert (ROOT / source).is_file() and mode == "ro"
    assert dockerfile_env()["POLICYWIRE_CONFIG"] == target
    assert ("VOLUME", "/data") in dockerfile()
    # The shipped feeds.yaml names its SQLite file relative to itself: in the container that
    # is the volume, not the read-only mount's folder.
    shipped = yaml.safe_load((ROOT / source).read_text(encoding="utf-8"))["settings"]["database"]
    resolved = make_url(resolve_database(shipped, Path(target).parent))
    assert Path(str(resolved.database)).parent == Path("/data")


def test_the_postgres_profile_and_the_documented_url_name_the_same_database(
    tmp_path: Path,
) -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert postgres["profiles"] == ["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert services["policywire"]["depends_on"]["postgres"] == {
        "condition": "service_healthy",
        "required": False,  # without the profile, policywire starts alone
    }
    environment = postgres["environment"]
    password = re.fullmatch(r"\$\{POSTGRES_PASSWORD:-(.+)\}", environment["POSTGRES_PASSWORD"])
    assert password is not None
    documented = {
        *POSTGRES_URL.findall((ROOT / "compose.yaml").read_text(encoding="utf-8")),
        *POSTGRES_URL.findall((ROOT / "docs" / "operations.md").read_text(encoding="utf-8")),
    }
    [url] = documented  # the comment and the docs say the same
    parsed = make_url(url)
    assert (parsed.host, parsed.port) == ("postgres", 5432)  # the service's name on the network
    assert parsed.username == environment["POSTGRES_USER"]
    assert parsed.database == environment["POSTGRES_DB"]
    assert parsed.password == password.group(1)
    config = config_file(tmp_path, database=url, feeds=["https://news.example/feed.xml"], topics={})
    assert load_config(config).settings.database == url  # `check` accepts it as written


def test_the_documented_postgres_variable_reaches_the_service_and_overrides_the_file(
    tmp_path: Path,
) -> None:
    """compose.yaml and the docs put POLICYWIRE_DATABASE in the env_file the service reads;
    with it, the shipped SQLite `settings.database` gives way to the documented URL."""
    env_files = [entry["path"] for entry in compose()["services"]["policywire"]["env_file"]]
    setting = re.compile(r"POLICYWIRE_DATABASE=(postgresql\+asyncpg://[^\s`)]+)")
    for name in ("compose.yaml", "docs/operations.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        [url] = set(setting.findall(text))
        assert any(Path(env_file).name in text for env_file in env_files), name
    sqlite = config_file(
        tmp_path, database=tmp_path / "x.db", feeds=["https://news.example/feed.xml"], topics={}
    )
    assert load_config(sqlite, {"POLICYWIRE_DATABASE": url}).settings.database == url


def test_the_documented_alert_rules_are_a_rule_file() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text[text.index("### Alert rules") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") : section.index("\n```\n")]
    [group] = yaml.safe_load(block)["groups"]
    rules = group["rules"]
    assert len({rule["alert"] for rule in rules}) == len(rules) > 5
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "annotations"}, rule["alert"]
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


# --- the image ----------------------------------------------------------------------------


def test_the_image_is_python_3_11_slim_and_runs_as_a_user() -> None:
    instructions = dockerfile()
    bases = [
        arguments.split()[0] for instruction, arguments in instructions if instruction == "FROM"
    ]
    assert bases and set(bases) == {"python:3.11-slim"}
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("ENTRYPOINT", '["policywire"]') in instructions
    runs = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    assert "pip install ." in runs  # the default model's weights come with the package


def test_dockerignore_lets_in_exactly_what_pip_install_needs() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # everything else stays out: .venv, .git, databases, tests
    let_in = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = {"pyproject.toml", project["project"]["readme"]}
    needed |= {f"{module}.py" for module in project["tool"]["setuptools"]["py-modules"]}
    needed |= {
        pattern.rstrip("*")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert let_in == needed
    assert {"**/*.db", "**/*.db-*", "**/*.env", "**/__pycache__"} <= set(lines)


# --- systemd ------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(ROOT / "deploy" / "policywire.service", encoding="utf-8")
    return parser


def test_the_unit_is_type_notify_with_the_watchdog() -> None:
    service = unit()["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"  # the parse workers never speak for the service
    assert re.fullmatch(r"\d+s", service["WatchdogSec"])
    program, *arguments = service["ExecStart"].split()
    assert Path(program).name == "policywire" and arguments == ["run"]
    assert service["User"] not in {"root", "0"}
    assert service["StateDirectory"] == "policywire"
    # The model's table file goes to the unit's cache directory, not the backed-up state.
    assert service["CacheDirectory"] == "policywire"
    assert "POLICYWIRE_MODEL_CACHE=/var/cache/policywire" in service["Environment"].split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The unit names the installed console script; verify it with one that exists here.
    text = (ROOT / "deploy" / "policywire.service").read_text(encoding="utf-8")
    installed = text.replace("/opt/policywire/bin/policywire", sys.executable)
    (tmp_path / "policywire.service").write_text(installed, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "policywire.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
