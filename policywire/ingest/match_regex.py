"""`re:` keywords: checked and compiled, then searched one by one outside the word index.

A `re:` keyword is a raw regular expression, so it shares nothing with the word index of plain
keywords (`match_rules`, `match.Matcher`): when rules compile it is checked and given a cheap
substring pre-check (its required prefix); when items are matched it runs over the original
text with all-caps runs lower-cased (`_unshout`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from typing import Final, NamedTuple

from policywire.ingest.match_words import _WORD_SPLIT, SHOUTED_RUN, _is_acronym

REGEX_PREFIX: Final = "re:"
# Written before "re:": the keyword also reads the body past its first BODY_CHARS, where two
# matches close together count (`match_rules.PASSAGE_CHARS`, `_deep_patterns`).
DEEP_PREFIX: Final = "deep:"


class _Regex(NamedTuple):
    """A `re:` (or `deep:re:`) keyword."""

    regex: re.Pattern[str]
    prefix: str  # lower-case letters and digits every match starts with, or ""
    pattern: int
    deep: bool = False  # `deep:re:`: also looked for further down the body


def _regex_counts(
    text: str, regexes: Sequence[_Regex], limit: int, folded: Sequence[str]
) -> dict[int, int]:
    """The patterns of the regexes found in text, with how often each matches (up to `limit`).

    `text` is as written, `folded` its words as the matcher folds them (`match._Text`). The
    text is unshouted (`_unshout`) here, and only when a regex passes the prefix pre-check:
    unshouting text that is not ASCII costs more than most searches.
    """
    if not regexes or not text:
        return {}
    candidates = _candidates(text, regexes, folded)
    if not candidates:
        return {}
    text = _unshout(text)
    if limit == 1:
        return {regex.pattern: 1 for regex in candidates if regex.regex.search(text)}
    counts = {
        regex.pattern: sum(1 for _ in islice(regex.regex.finditer(text), limit))
        for regex in candidates
    }
    return {pattern: count for pattern, count in counts.items() if count}


def _deep_patterns(text: str, regexes: Sequence[_Regex], passage: int) -> set[int]:
    """The patterns of the regexes with two matches in text (unshouted) that start less than
    `passage` characters apart: a passage about them, wherever it is in the text.

    One pass of each regex over the text, stopping at the first such pair.
    """
    if not regexes or not text:
        return set()
    text = _unshout(text)
    found: set[int] = set()
    for regex in regexes:
        previous = -passage
        for match in regex.regex.finditer(text):
            if match.start() - previous < passage:
                found.add(regex.pattern)
                break
            previous = match.start()
    return found


def _candidates(text: str, regexes: Sequence[_Regex], folded: Sequence[str]) -> list[_Regex]:
    """The regexes that could match text: those without a required prefix, or whose prefix
    occurs in one of the text's folded words.

    A regex whose matches start with a known prefix (ASCII letters and digits) is skipped when
    no folded word holds it: one C-level substring search instead of trying the regex at every
    position. That is safe because every ASCII letter or digit of the text is in the folded
    words, in order, in the folded word of the run of letters and digits it is in: cleaning
    only drops invisible characters and composes accents (which folding strips again), and
    folding turns ASCII into lower case. Unshouting only lower-cases too. With re.IGNORECASE
    an ASCII letter also matches four other characters, whose lower-case or folded forms
    differ; if the text has one of those, every regex runs.
    """
    if not text.isascii() and any(map(text.__contains__, _ASCII_LOOKALIKES)):
        return list(regexes)
    words = None
    found = []
    for regex in regexes:
        if regex.prefix:
            if words is None:
                words = " ".join(folded)
            if regex.prefix not in words:
                continue
        found.append(regex)
    return found


# The characters other than ASCII that re.IGNORECASE matches to an ASCII letter or digit
# (İ ı ſ and the Kelvin sign); tests/test_match.py checks the list against every character.
_ASCII_LOOKALIKES: Final = "\u0130\u0131\u017f\u212a"

_LEADING_ASSERTION: Final = re.compile(r"(?:\\b|\^)*")
_LEADING_LETTERS: Final = re.compile(r"[A-Za-z0-9]*")


def _required_prefix(source: str) -> str:
    """Lower-case ASCII letters/digits that every match of the regex starts with, or "".

    Deliberately narrow: only a regex without alternation or groups of any kind is looked at,
    and only the plain letters and digits right after its leading `\\b` or `^` assertions;
    a letter followed by a quantifier is not part of the prefix.
    """
    if "|" in source or "(" in source:
        return ""
    start = _LEADING_ASSERTION.match(source)
    assert start is not None  # the pattern matches the empty string
    letters = _LEADING_LETTERS.match(source, start.end())
    assert letters is not None
    prefix = letters.group()
    if source[letters.end() : letters.end() + 1] in ("*", "+", "?", "{"):
        prefix = prefix[:-1]
    return prefix.lower() if len(prefix) >= 3 else ""


def _check_regex(source: str) -> str:
    if not source.strip():
        raise ValueError("empty regular expression after 're:'")
    try:
        compiled = re.compile(source, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"bad regular expression: {error}") from None
    if compiled.search("") is not None:
        raise ValueError("regular expression matches empty text, so it would match every item")
    return source


# A run of SHOUTED_RUN or more words in capitals, in ASCII text: a word is letters and digits
# with two capitals or more and no small letter; a lone capital letter (an initial, the letters
# of "U.S.") may sit inside a run without counting (`match_words._shouted`); line breaks (between
# fields) end a run. Each part after a gap must start with a capital, so matching stays linear.
_RUN_WORD: Final = r"[0-9]*[A-Z][0-9]*[A-Z][A-Z0-9]*"
_RUN_GAP: Final = r"[^A-Za-z0-9\n]+(?:[0-9]*[A-Z][0-9]*[^A-Za-z0-9\n]+)*"
_ASCII_SHOUTED: Final = re.compile(
    r"(?<![A-Za-z0-9])"
    + _RUN_WORD
    + r"(?:"
    + _RUN_GAP
    + _RUN_WORD
    + r"){"
    + str(SHOUTED_RUN - 1)
    + r",}(?![A-Za-z0-9])"
)


def _unshout(text: str) -> str:
    """`text` with every run of SHOUTED_RUN or more words in capitals lower-cased.

    What a `re:` keyword is searched in: there a case-sensitive part cannot be satisfied by a
    headline that is all capitals.
    """
    if text.isascii():
        return _ASCII_SHOUTED.sub(lambda run: run.group().lower(), text)
    return "\n".join(map(_unshout_line, text.split("\n")))


def _unshout_line(line: str) -> str:
    parts = _WORD_SPLIT.split(line)  # [gap, word, gap, ..., word, gap]
    words = parts[1::2]
    # Per word: 1 counts in a run, 0 may sit inside one (a lone capital letter), None ends one.
    weights = [(1 if _is_acronym(word) else 0) if word.isupper() else None for word in words]
    run: list[int] = []  # the counting words of the current run, by index
    for index, weight in enumerate((*weights, None)):
        if weight:
            run.append(index)
            continue
        if weight is None:
            if len(run) >= SHOUTED_RUN:
                for word in range(run[0], run[-1] + 1):
                    parts[2 * word + 1] = parts[2 * word + 1].lower()
            run = []
    return "".join(parts)
