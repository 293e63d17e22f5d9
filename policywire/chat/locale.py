"""Whose language a chat reply is in, and which language a new chat starts with.

The rules (issue 14), in one place for every platform:

- A chat's language setting wins: what ``/language`` chose, or what the chat started with.
- A private chat starts in its user's client language when we speak it (Telegram's
  ``language_code``), else in the configured default; until it has a setting, replies follow
  the same rule.
- In a group, the group's setting holds, never the language of whichever member asked first:
  a Telegram group starts in the configured default, a Discord channel in its server's
  preferred locale when we speak it, else the default.
- A reply only its asker sees (Discord answers ephemerally) is in that user's client language
  (``interaction.locale``) when we speak it, else in the chat's setting, else the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from policywire.languages import SUPPORTED_LANGUAGES


def client_language(tag: str | None) -> str | None:
    """A client's language tag ("it", "it-IT", "pt_BR", Discord's "en-US") as a language we
    speak, or None."""
    if not tag:
        return None
    code = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return code if code in SUPPORTED_LANGUAGES else None


def chat_language(setting: str | None, client: str | None, default: str, *, shared: bool) -> str:
    """The language of a reply everyone in the chat sees (Telegram)."""
    if shared:
        return _first((setting,), default)
    return _first((setting, client_language(client)), default)


def personal_language(
    client: str | None, setting: str | None, default: str, *, chosen: bool = False
) -> str:
    """The language of a reply only its asker sees (Discord's ephemeral answers): the
    channel's when it was chosen (feeds.yaml, /language), else the asker's own."""
    if chosen:
        return _first((setting, client_language(client)), default)
    return _first((client_language(client), setting), default)


def initial_language(
    client: str | None, default: str, *, shared: bool, group: str | None = None
) -> str:
    """The language a new chat's subscription starts with (its digests' language)."""
    if shared:
        return _first((client_language(group),), default)
    return _first((client_language(client),), default)


def resolve_language(text: str) -> str | None:
    """What a user typed after /language as one of our codes: "it", "IT", "it-IT", or a
    language's name in any language we speak ("italiano", "Italian", "Italienisch")."""
    word = text.strip().casefold()
    return client_language(word) or _by_name().get(word)


@cache
def _by_name() -> dict[str, str]:
    from babel import Locale  # only when a user typed a name, not a code

    names: dict[str, str] = {}
    for code in SUPPORTED_LANGUAGES:
        for reader in SUPPORTED_LANGUAGES:
            name = Locale.parse(code).get_display_name(reader)
            if name:
                names[name.casefold()] = code
    return names


def _first(candidates: Iterable[str | None], default: str) -> str:
    for candidate in candidates:
        if candidate is not None and candidate in SUPPORTED_LANGUAGES:
            return candidate
    return default if default in SUPPORTED_LANGUAGES else SUPPORTED_LANGUAGES[0]
