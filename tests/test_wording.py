"""The chat wording: message keys rendered by one function, ready for gettext extraction."""

from __future__ import annotations

import ast
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policywire.chat import wording
from policywire.chat.wording import Message, Plural, describe, render
from policywire.errors import CommandError
from policywire.locale.update import extract
from policywire.storage.store import DestinationRow

ROOT = Path(__file__).resolve().parents[1]


def keys() -> dict[str, str]:
    """Every message key the module defines: its constants and the command descriptions."""
    found: dict[str, str] = {}
    for name, value in vars(wording).items():
        if not name.isupper() or name == "SOURCE_LANGUAGE" or name.endswith("_CONTEXT"):
            continue  # the source language and msgctxt values are no messages
        if isinstance(value, str):
            found[name] = value
        elif isinstance(value, Plural):
            found |= {f"{name} (one)": value.singular, f"{name} (many)": value.plural}
    for platform, commands in (
        ("telegram", wording.TELEGRAM_COMMANDS),
        ("discord", wording.DISCORD_COMMANDS),
    ):
        found |= {f"{platform} /{name}": description for name, description in commands}
    return found


def row(**changes: object) -> DestinationRow:
    values: dict[str, object] = {
        "key": "telegram:1",
        "origin": "chat",
        "platform": "telegram",
        "target": "1",
        "topics": ("ai-act", "mistral"),
        "schedule": "07:30",
        "timezone": "Europe/Rome",
        "language": "it",
        "active": True,
        "created_at": datetime(2026, 3, 10, tzinfo=UTC),
        "last_digest_at": None,
        "title": "",
    }
    return DestinationRow(**(values | changes))  # type: ignore[arg-type]


def test_render_fills_placeholders_and_nested_messages() -> None:
    assert render("Nothing new.", None, "en") == "Nothing new."
    assert render("No {braces} without arguments", {}, "it") == "No {braces} without arguments"
    assert render(wording.FOLLOWING, {"topic": "EU AI Act"}, "en") == "Following: EU AI Act"
    inner = Message(wording.UNSUBSCRIBED_ALL)
    assert Message("Done. {settings}", {"settings": inner}).text("en") == (
        "Done. Unsubscribed from everything. /subscribe to come back."
    )


def test_a_command_error_is_a_key_and_arguments() -> None:
    error = CommandError(wording.UNKNOWN_TIMEZONE, zone="Mars/Base")
    assert error.key == wording.UNKNOWN_TIMEZONE and dict(error.arguments) == {"zone": "Mars/Base"}
    expected = "Unknown time zone 'Mars/Base': use Area/City, e.g. Europe/Rome."
    assert render(error.key, error.arguments, "en") == str(error) == expected


def test_describe_says_the_settings_in_one_sentence() -> None:
    names = {"ai-act": "EU AI Act", "mistral": "Mistral AI"}
    assert describe(row(), names).text("en") == (
        "Topics: EU AI Act, Mistral AI. Digest at 07:30 (Europe/Rome), in Italian."
    )
    assert describe(row(schedule="instant", topics=()), names).text("en") == (
        "Topics: none. Digest as soon as news arrives (Europe/Rome), in Italian."
    )


def test_describe_names_the_language_in_the_readers_language() -> None:
    names = {"ai-act": "EU AI Act", "mistral": "Mistral AI"}
    assert describe(row(), names).text("it") == (
        "Temi: EU AI Act, Mistral AI. Riepilogo alle 07:30 (Europe/Rome), in italiano."
    )
    assert describe(row(language="fr"), names).text("de").endswith("auf Französisch.")
    assert describe(row(topics=()), names).text("fr").startswith("Sujets : aucun.")


def test_plural_keys_count_in_each_language() -> None:
    assert Message(wording.POSTING, {"count": 1}).text("en") == "Posting 1 story here now."
    assert Message(wording.POSTING, {"count": 2}).text("en") == "Posting 2 stories here now."
    assert Message(wording.POSTING, {"count": 1}).text("it") == "Pubblico qui ora 1 notizia."
    assert Message(wording.POSTING, {"count": 5}).text("de") == "Ich poste hier jetzt 5 Meldungen."


@pytest.mark.parametrize("name", sorted(keys()))
def test_keys_are_plain_text_with_named_placeholders(name: str) -> None:
    key = keys()[name]
    fields = [f for _, f, spec, conversion in string.Formatter().parse(key) if f is not None]
    assert all(f.isidentifier() for f in fields), f"{name}: placeholders must be {{name}}"
    assert "<" not in key and "`" not in key and "**" not in key, f"{name}: platform markup"
    assert key == key.strip() and key, name


def test_pybabel_extracts_every_key() -> None:
    """Babel's extractor, with our markers, finds every key: none is left out of the .pot."""
    extracted: set[str] = set()
    for message in extract():
        extracted |= set(message.id) if isinstance(message.id, tuple | list) else {message.id}
    missing = {name: key for name, key in keys().items() if key not in extracted}
    assert not missing, f"not marked with N_() or NP_(): {missing}"


def test_command_errors_are_raised_with_wording_keys() -> None:
    """No English sentence is passed to a UserError: the first argument is a wording key."""
    wrong: list[str] = []
    for path in sorted([*(ROOT / "policywire").rglob("*.py"), *(ROOT / "bots").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"UserError", "CommandError"}
            ):
                continue
            key = node.args[0] if node.args else None
            if not (
                isinstance(key, ast.Attribute)
                and isinstance(key.value, ast.Name)
                and key.value.id == "wording"
                and isinstance(getattr(wording, key.attr, None), str)
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "raise CommandError(wording.KEY, name=value):\n" + "\n".join(wrong)
