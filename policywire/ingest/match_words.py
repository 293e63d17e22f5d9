"""What a word is, when two words or the gaps between them are equal, and capitals.

The building blocks that both compiling keywords (`match_rules`) and reading text
(`match.Matcher`) rely on, kept apart so that neither has to import the other: the word
pattern, folding words (case and accents), cleaning text, normalizing the punctuation between
words, telling acronyms, and judging whether a text word counts as written in capitals. Pure
functions without state: the token caches that make reading text fast live in `match`, next
to the reader (`match._Text`) that fills them. The matching rules these implement are
described in `policywire.ingest.match`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from typing import Final, Protocol

# Words in capitals, this many in a row or more, are all-caps text: their capitals say nothing.
SHOUTED_RUN: Final = 3

# `[^\W_]` is "\w without the underscore": runs of letters and digits. Splitting with a capture
# group yields [gap, word, gap, word, ..., gap] in one C-level pass.
_WORD_SPLIT: Final = re.compile(r"([^\W_]+)")

# Invisible characters that can sit inside a word in feed text (soft hyphen, zero-width
# space/joiners, word joiner, BOM); removed so they do not cut the word in two.
_INVISIBLE_CHARACTERS: Final = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE: Final = re.compile(f"[{_INVISIBLE_CHARACTERS}]")

_HYPHENS: Final = frozenset("-\u2010\u2011")
_APOSTROPHES: Final = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u2032`", "'"))

# A normalized gap of "" means "only whitespace and hyphens": a phrase may continue across it.
_JOINABLE: Final = ""


# A plain keyword's words: (folded word, is acronym, normalized gap before it).
_Words = tuple[tuple[str, bool, str], ...]


def _is_acronym(word: str) -> bool:
    return word.isupper() and sum(char.isalpha() for char in word) >= 2


def _fold_word(word: str) -> str:
    return word.lower() if word.isascii() else _fold(word)


def _clean(text: str) -> str:
    """Compose accents (so "e" + U+0301 stays one word) and drop invisible characters."""
    if any(map(text.__contains__, _INVISIBLE_CHARACTERS)):
        text = _INVISIBLE.sub("", text)
    return unicodedata.normalize("NFC", text)


def _fold(text: str) -> str:
    """Case-fold and strip accents: "Régulation" -> "regulation", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _normalize_any_gap(gap: str) -> str:
    """_JOINABLE for whitespace/hyphens only, else the folded punctuation without whitespace."""
    squeezed = "".join(char for char in _fold(gap.translate(_APOSTROPHES)) if not char.isspace())
    if all(char in _HYPHENS for char in squeezed):
        return _JOINABLE
    return squeezed


class _TextWords(Protocol):
    """A text cut into words, as `match._Text` gives it: what judging capitals reads of it."""

    folded: list[str]

    def word(self, position: int) -> str:
        """The word at `position`, as written."""
        ...


def _capitals(head: str, words: _TextWords, confirmed: AbstractSet[str], limit: int) -> int:
    """How many text words that fold to `head` count as written in capitals (up to `limit`)."""
    folded = words.folded
    position = -1
    found = 0
    for _ in range(folded.count(head)):
        position = folded.index(head, position + 1)
        if _in_capitals(position, words, confirmed):
            found += 1
            if found == limit:
                break
    return found


def _in_capitals(position: int, words: _TextWords, confirmed: AbstractSet[str]) -> bool:
    """Does the word at `position` count as written in capitals?

    In all-caps text (SHOUTED_RUN words in capitals in a row) only when the item writes the
    same word in capitals elsewhere (`confirmed`): there the capitals are the text's, not the
    word's.
    """
    if not words.word(position).isupper():
        return False
    return words.folded[position] in confirmed or not _shouted(position, words)


def _shouted(position: int, words: _TextWords) -> bool:
    """Is the word at `position` (in capitals) part of a run of SHOUTED_RUN words in capitals?

    A single capital letter (an initial, the letters of "U.S." or "U.K.") neither counts in a
    run nor ends one: "the U.S. AI Safety Institute" is not all-caps text, "U.S. AI CHIP BAN"
    is. The field separator is a word that is not in capitals, so a run never spans two fields.
    """
    run = 1
    before = position - 1
    while run < SHOUTED_RUN and before >= 0 and (word := words.word(before)).isupper():
        run += _counts_in_run(word)
        before -= 1
    after, end = position + 1, len(words.folded)
    while run < SHOUTED_RUN and after < end and (word := words.word(after)).isupper():
        run += _counts_in_run(word)
        after += 1
    return run >= SHOUTED_RUN


def _counts_in_run(word: str) -> int:
    """1 for a word in capitals with two letters or more, 0 for a lone capital letter."""
    return 1 if _is_acronym(word) else 0
