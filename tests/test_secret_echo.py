"""A secret pasted into feeds.yaml is never repeated by `check`, and never reaches a log.

The tokens below are made up, in the shapes the platforms use: a Telegram bot token (bot id,
colon, 35 characters), a Discord bot token (base64 of the id, timestamp, HMAC) and a Discord
webhook URL.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.errors import ConfigError
from policywire.logsafe import MASK, SecretFilter, mask_secret_shapes, secret_kind, shown
from scheduler import main
from tests.helpers import config_yaml

TELEGRAM_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fEdCbA"
WEBHOOK_URL = (
    "https://discord.com/api/webhooks/123456789012345678/Xy_Z-9aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
)
API_KEY = "sk-proj-Q2x8LmN4vB7cT1kR9wE3yU6iO0pA5sDf"
# What must never show: each secret, and the secret part of the webhook URL.
SECRETS = [TELEGRAM_TOKEN, DISCORD_TOKEN, WEBHOOK_URL.split("/webhooks/")[1], API_KEY]


def write(tmp_path: Path, destination: dict[str, object], **settings: object) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        config_yaml(
            database=tmp_path / "s.db",
            settings=settings,
            feeds=["https://feeds.example/a.xml"],
            topics={"ai-act": ["AI Act"]},
            destinations=[destination],
        ),
        encoding="utf-8",
    )
    return path


def problems(path: Path) -> str:
    env = {"TELEGRAM_BOT_TOKEN": "x", "DISCORD_BOT_TOKEN": "x"}
    with pytest.raises(ConfigError) as refused:
        load_config(path, env=env)
    return "\n".join(refused.value.errors)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[:8] not in text  # not even the start of it ('MTIzNDU2…')


@pytest.mark.parametrize(
    ("kind", "secret", "what"),
    [
        ("telegram", DISCORD_TOKEN, "a token"),
        ("telegram", TELEGRAM_TOKEN, "a token"),
        ("telegram", WEBHOOK_URL, "a webhook URL"),
        ("discord", DISCORD_TOKEN, "a token"),
        ("discord", WEBHOOK_URL, "a webhook URL"),
        ("console", API_KEY, "a token"),
    ],
)
def test_a_secret_pasted_as_a_target_is_not_echoed(
    tmp_path: Path, kind: str, secret: str, what: str
) -> None:
    text = problems(write(tmp_path, {kind: secret}))

    assert_no_secret(text)
    assert f"destinations[0].{kind}: " in text
    assert f"got {what} (not shown; tokens and webhook URLs are read from environment " in text


@pytest.mark.parametrize(
    ("key", "secret"),
    [("language", TELEGRAM_TOKEN), ("timezone", WEBHOOK_URL), ("max_body_size", API_KEY)],
)
def test_a_secret_pasted_into_a_setting_is_not_echoed(
    tmp_path: Path, key: str, secret: str
) -> None:
    text = problems(write(tmp_path, {"console": "stdout"}, **{key: secret}))

    assert_no_secret(text)
    assert f"settings.{key}: " in text and "(not shown)" in text


def test_ordinary_mistakes_are_still_quoted(tmp_path: Path) -> None:
    text = problems(write(tmp_path, {"telegram": "ai_policy_it"}, language="klingon"))

    assert "got 'ai_policy_it' (did you forget the '@'?)" in text
    assert "unsupported language 'klingon'" in text


def test_check_prints_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"discord": WEBHOOK_URL})

    assert main(["check", "--config", str(path)]) == 1

    err = capsys.readouterr().err
    assert "expected a numeric Discord channel id, got a webhook URL (not shown" in err
    assert_no_secret(err)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (TELEGRAM_TOKEN, "a token"),
        (DISCORD_TOKEN, "a token"),
        (API_KEY, "a token"),
        ("0123456789abcdef0123456789abcdef", "a token"),
        (WEBHOOK_URL, "a webhook URL"),
        ("https://hooks.slack.com/services/T0/B0/abc", "a webhook URL"),
        ("@ai_policy_it", None),
        ("-1001234567890", None),
        ("123456789012345678", None),  # a Discord channel id is not a secret
        ("Europe/Rome", None),
        ("https://feeds.example/2026/ai-act.xml", None),
    ],
)
def test_what_looks_secret(text: str, kind: str | None) -> None:
    assert secret_kind(text) == kind
    assert (shown(text) == repr(text)) is (kind is None)


def test_log_records_are_masked_by_shape_even_for_secrets_nobody_declared() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SecretFilter([]))
    logger = logging.getLogger("tests.secret_echo")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("POST https://api.telegram.org/bot%s/sendMessage failed", TELEGRAM_TOKEN)
        try:
            raise RuntimeError(f"cannot post to {WEBHOOK_URL}")
        except RuntimeError:
            logger.exception("webhook send failed")
    finally:
        logger.removeHandler(handler)

    text = out.getvalue()
    assert_no_secret(text)
    assert f"https://api.telegram.org/bot{MASK}/sendMessage" in text
    assert f"https://discord.com/api/webhooks/{MASK}" in text


def test_masking_leaves_ordinary_text_alone() -> None:
    line = "feed https://feeds.example/2026/03/ai-act.xml: 12 entries, 3 new matching"
    assert mask_secret_shapes(line) == line
