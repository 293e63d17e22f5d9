"""What topic rules compile into, and when a compiled topic matches.

`Matcher.compile` (in `match`) hands every rule to `_Builder` here, which parses each keyword
(`validate_keyword` gives its verdict in words), gives equal keywords one shared pattern id,
and files each pattern where the matcher looks for it: one-word keywords and acronyms by
folded word, phrases by their first two words, `re:` keywords (see `match_regex`) in a list.
A rule becomes a `_Topic`, and `_evaluate` says whether a topic hits given the patterns found
in a text. Kept apart from the matcher, which only reads these structures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from typing import Final, NamedTuple

from policywire.ingest.match_regex import (
    DEEP_PREFIX,
    REGEX_PREFIX,
    _check_regex,
    _Regex,
    _required_prefix,
)
from policywire.ingest.match_words import (
    _JOINABLE,
    _WORD_SPLIT,
    _clean,
    _fold,
    _is_acronym,
    _normalize_any_gap,
    _Words,
)
from policywire.models import TopicHit, TopicRule

# A keyword found only in the body counts from this many mentions on: one mention deep in an
# article is usually in passing ("unlike the EU's AI Act, …"); the article's subject recurs.
BODY_MENTIONS: Final = 2
# How much of the body every keyword reads: the first paragraphs hold the lede and the
# article's subject; later ones are where passing mentions, newsletter sections on other news
# and cross-links pile up. 2,000 characters (about 2 KB) scored best on the tuning part of
# tests/data/relevance (4,000 let two topics' keywords meet in unrelated sections).
BODY_CHARS: Final = 2000
# A `deep:re:` keyword also reads on past BODY_CHARS (as far as the body goes, see
# match_text.DEEP_BODY_CHARS), where it counts when two of its matches start less than this
# many characters apart: a passage about it (about two paragraphs), not a passing mention.
PASSAGE_CHARS: Final = 1200


class _DeepRegex(NamedTuple):
    """A `deep:re:` keyword's key: its regex source, kept apart from the same `re:` keyword."""

    source: str


# A compiled keyword, hashable so that equal keywords share one pattern id: a regular
# expression's source (str, or _DeepRegex for `deep:re:`), or a plain keyword's words.
_PatternKey = str | _DeepRegex | _Words


class _Phrase(NamedTuple):
    """A plain keyword of two words or more, indexed under its first two folded words."""

    head_is_acronym: bool
    rest: _Words  # the words after the first
    pattern: int  # id shared by every keyword that compiles to the same words


class _Topic(NamedTuple):
    id: str
    any: frozenset[int]  # `any` patterns
    required: frozenset[int]  # `all` patterns
    excluded: frozenset[int]  # `none` patterns
    reported: tuple[tuple[int, str], ...]  # `any` then `all`, as written, for TopicHit
    written: tuple[tuple[str, tuple[tuple[int, str], ...]], ...]  # per part: (pattern, keyword)


# A topic's outcome for a text: (its TopicHit,) when it matches, () when it does not.
_Outcome = tuple[TopicHit, ...]


def _evaluate(topic: _Topic, found: AbstractSet[int]) -> _Outcome:
    """The topic's outcome when `found` are the patterns in the text."""
    if topic.any.isdisjoint(found) or not topic.required <= found:
        return ()
    if not topic.excluded.isdisjoint(found):
        return ()
    return (TopicHit(topic.id, tuple(kw for pattern, kw in topic.reported if pattern in found)),)


def validate_keyword(keyword: str) -> str | None:
    """None when the keyword can be matched, else one readable line saying what is wrong."""
    try:
        _parse_keyword(keyword)
    except ValueError as problem:
        return str(problem)
    return None


class _Builder:
    """Collects phrases, regexes and topics while compiling; shares one id per distinct keyword."""

    __slots__ = (
        "acronym_words",
        "acronyms",
        "keywords",
        "mentioned",
        "pattern_ids",
        "phrases",
        "regexes",
        "single_words",
    )

    def __init__(self) -> None:
        self.single_words: dict[str, int] = {}
        self.acronyms: dict[str, int] = {}
        self.acronym_words: set[str] = set()
        self.phrases: dict[tuple[str, str], list[_Phrase]] = {}
        self.regexes: list[_Regex] = []
        self.pattern_ids: dict[_PatternKey, int] = {}
        self.keywords: dict[int, dict[str, None]] = {}
        self.mentioned: list[frozenset[int]] = []

    def add_topic(self, rule: TopicRule) -> _Topic:
        any_ids = [self._pattern_for(rule.id, kw) for kw in rule.any]
        all_ids = [self._pattern_for(rule.id, kw) for kw in rule.all]
        none_ids = [self._pattern_for(rule.id, kw) for kw in rule.none]
        self.mentioned.append(frozenset((*any_ids, *all_ids, *none_ids)))
        # A keyword written in both `any` and `all` is reported once; equal strings always
        # share a pattern, so deduplicating the pairs deduplicates the strings.
        reported = dict.fromkeys(
            (*zip(any_ids, rule.any, strict=True), *zip(all_ids, rule.all, strict=True))
        )
        written = (
            ("any", tuple(zip(any_ids, rule.any, strict=True))),
            ("all", tuple(zip(all_ids, rule.all, strict=True))),
            ("none", tuple(zip(none_ids, rule.none, strict=True))),
        )
        return _Topic(
            rule.id,
            frozenset(any_ids),
            frozenset(all_ids),
            frozenset(none_ids),
            tuple(reported),
            written,
        )

    def _pattern_for(self, topic: str, keyword: str) -> int:
        try:
            key = _parse_keyword(keyword)
        except ValueError as problem:
            raise ValueError(f"topic {topic!r}, keyword {keyword!r}: {problem}") from None
        pattern = self.pattern_ids.get(key)
        if pattern is None:
            pattern = self.pattern_ids[key] = len(self.pattern_ids)
            self._index(key, pattern)
        self.keywords.setdefault(pattern, {})[keyword] = None
        return pattern

    def _index(self, key: _PatternKey, pattern: int) -> None:
        if isinstance(key, str):
            self.regexes.append(
                _Regex(re.compile(key, re.IGNORECASE), _required_prefix(key), pattern)
            )
            return
        if isinstance(key, _DeepRegex):
            source = key.source
            compiled = re.compile(source, re.IGNORECASE)
            self.regexes.append(_Regex(compiled, _required_prefix(source), pattern, deep=True))
            return
        self.acronym_words.update(word for word, is_acronym, _ in key if is_acronym)
        (head, head_is_acronym, _), *rest = key
        if not rest:
            # One pattern per (folded word, acronym) pair: equal keys share a pattern.
            (self.acronyms if head_is_acronym else self.single_words)[head] = pattern
            return
        pair = (head, rest[0][0])
        self.phrases.setdefault(pair, []).append(_Phrase(head_is_acronym, tuple(rest), pattern))


def _parse_keyword(keyword: str) -> _PatternKey:
    if not keyword.strip():
        raise ValueError("empty keyword")
    if keyword.startswith(REGEX_PREFIX):
        return _check_regex(keyword.removeprefix(REGEX_PREFIX))
    if keyword.startswith(DEEP_PREFIX):
        regex = keyword.removeprefix(DEEP_PREFIX)
        if not regex.startswith(REGEX_PREFIX):
            raise ValueError(f"{DEEP_PREFIX!r} only goes before a 're:' keyword ('deep:re:…')")
        return _DeepRegex(_check_regex(regex.removeprefix(REGEX_PREFIX)))
    return _keyword_words(keyword)


def _keyword_words(keyword: str) -> _Words:
    if any(unicodedata.category(char) == "Cc" and not char.isspace() for char in keyword):
        raise ValueError("contains control characters")
    # A trailing period belongs to abbreviations ("U.S.", "Inc.") and cannot be required of
    # the text, where it is usually sentence punctuation.
    text = _clean(keyword).strip().rstrip(".")
    parts = _WORD_SPLIT.split(text)
    if len(parts) < 3:
        raise ValueError("has no letters or digits; use 're:' for a pattern of symbols")
    for edge in (parts[0], parts[-1]):
        if edge.strip():
            raise ValueError(
                f"{edge.strip()!r} at the edge is invisible to whole-word matching; "
                "remove it or write a 're:' pattern"
            )
    words = parts[1::2]
    gaps = parts[0::2]
    return tuple(
        (_fold(word), _is_acronym(word), _normalize_any_gap(gap) if index else _JOINABLE)
        for index, (word, gap) in enumerate(zip(words, gaps, strict=False))
    )
