"""Words compared across case, accents and language: `fold` and `detect_language_hint`.

The other plain-text helpers live beside this module: `html_text` (HTML to plain text),
`boilerplate` (feed trailers and bylines), `sentences` (summaries) and `links` (canonical
links).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["detect_language_hint", "fold"]


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents, for accent- and case-blind comparison.

    `casefold` rather than `lower`, so that "Straße" and "STRASSE" compare equal.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


_LANGUAGE_TAG = re.compile(r"\A([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*\Z")
_THREE_LETTER_CODES = {
    "eng": "en",
    "ita": "it",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "por": "pt",
    "nld": "nl",
    "dut": "nl",
}
_LANGUAGE_NAMES = {
    "english": "en",
    "italian": "it",
    "italiano": "it",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "german": "de",
    "deutsch": "de",
    "spanish": "es",
    "español": "es",
}


def detect_language_hint(lang: str | None) -> str | None:
    """ISO 639-1 code from a feed's language tag: "en-US" → "en", "IT" → "it".

    Returns None for anything that is not a language tag ("und", "x-default", "", None).
    """
    if not lang:
        return None
    value = lang.strip()
    named = _LANGUAGE_NAMES.get(value.lower())
    if named:
        return named
    match = _LANGUAGE_TAG.match(value)
    if match is None:
        return None
    primary = match.group(1).lower()
    if len(primary) == 2:
        return primary
    return _THREE_LETTER_CODES.get(primary)
