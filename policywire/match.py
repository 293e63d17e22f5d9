"""Topic matching: every rule's keywords compiled once into one word-indexed matcher.

A plain keyword is a sequence of words. A *word* is a run of letters and digits; everything
else (spaces, punctuation, apostrophes, hyphens, underscores) only separates words. So
"Mistral" matches "Mistral's", "Mistral’s", "Mistral-7B", "#Mistral", "(Mistral)" and
"Mistral." but never "Mistrals", and "Act" never matches "Action", "React" or "enact".

* Words compare case- and accent-insensitively (case-folded, NFKD, combining marks dropped):
  "regulation" matches "Régulation". Transliterations are not applied ("ue" is not "ü").
* Acronyms are the exception: a keyword word written in capitals with at least two letters
  ("AI", "EU", "GPAI", "GPT4") only matches a word written in capitals, so the Italian
  "ai" or a stray "Ai" never match "AI". "AI Act" = acronym "AI" + ordinary word "act".
* A phrase matches its words in order, on consecutive words. Between two words, any run of
  whitespace (line breaks included) and hyphens is interchangeable: "AI Act" matches
  "AI\\n  Act" and "AI-Act". Other punctuation written inside a keyword must appear in the
  text ("Llama 3.1" does not match "Llama 3 1"); curly and straight apostrophes are equal.
  A phrase never runs from one field into the next (title, summary, each tag).
* A keyword starting with ``re:`` is a raw Python regular expression, searched with
  re.IGNORECASE in the original text (title, summary and tags joined by line breaks). These
  run one by one, outside the word index, so keep them few.

A topic hits when at least one `any` keyword hits, every `all` keyword hits and no `none`
keyword hits. A topic whose `any` is empty never matches. The hit lists the `any` then the
`all` keywords that hit, as written in the rule and in rule order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final, NamedTuple

from policywire.models import Item, TopicHit, TopicRule

__all__ = ["REGEX_PREFIX", "Matcher", "validate_keyword"]

REGEX_PREFIX: Final = "re:"

# `[^\W_]` is "\w without the underscore": runs of letters and digits. Splitting with a capture
# group yields [gap, word, gap, word, ..., gap] in one C-level pass.
_WORD_SPLIT: Final = re.compile(r"([^\W_]+)")

# Invisible characters that can sit inside a word in feed text (soft hyphen, zero-width
# space/joiners, word joiner, BOM); removed so they do not cut the word in two.
_INVISIBLE: Final = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")

_HYPHENS: Final = frozenset("-\u2010\u2011")
_APOSTROPHES: Final = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u2032`", "'"))

# A normalized gap of "" means "only whitespace and hyphens": a phrase may continue across it.
_JOINABLE: Final = ""

# Fields are joined with NUL before splitting. Keywords cannot contain control characters, so
# a gap holding NUL equals no keyword gap and phrases cannot span two fields.
_FIELD_SEPARATOR: Final = "\x00"


# A plain keyword's words: (folded word, is acronym, normalized gap before it).
_Words = tuple[tuple[str, bool, str], ...]

# A compiled keyword, hashable so that equal keywords share one pattern id: a regular
# expression's source (str), or a plain keyword's words.
_PatternKey = str | _Words


class _Phrase(NamedTuple):
    """A plain keyword, indexed under its first folded word."""

    head_is_acronym: bool
    rest: _Words  # the words after the first
    pattern: int  # id shared by every keyword that compiles to the same words


class _Topic(NamedTuple):
    id: str
    required: frozenset[int]  # `all` patterns
    excluded: frozenset[int]  # `none` patterns
    reported: tuple[tuple[int, str], ...]  # `any` then `all`, as written, for TopicHit


class Matcher:
    """All topic rules of one configuration, compiled once; `match` is O(words in the item)."""

    __slots__ = (
        "_heads",
        "_keywords_by_pattern",
        "_regexes",
        "_single_words",
        "_topics",
        "_topics_by_any",
    )

    def __init__(
        self,
        single_words: dict[str, int],
        heads: dict[str, tuple[_Phrase, ...]],
        regexes: tuple[tuple[re.Pattern[str], int], ...],
        topics: tuple[_Topic, ...],
        topics_by_any: dict[int, tuple[int, ...]],
        keywords_by_pattern: dict[int, tuple[str, ...]],
    ) -> None:
        # Most keywords are one ordinary word: those are a plain dict lookup per text word.
        # Phrases and acronyms need a look at the neighbours or the case, so they are indexed
        # apart under their first folded word.
        self._single_words = single_words
        self._heads = heads
        self._regexes = regexes
        self._topics = topics
        self._topics_by_any = topics_by_any
        self._keywords_by_pattern = keywords_by_pattern

    @classmethod
    def compile(cls, rules: Iterable[TopicRule]) -> Matcher:
        """Compile every rule; raise ValueError naming the topic and keyword that is invalid."""
        builder = _Builder()
        topics = tuple(builder.add_topic(rule) for rule in rules)
        topics_by_any: dict[int, list[int]] = {}
        for index, any_patterns in enumerate(builder.any_patterns):
            for pattern in dict.fromkeys(any_patterns):
                topics_by_any.setdefault(pattern, []).append(index)
        return cls(
            single_words=builder.single_words,
            heads={head: tuple(phrases) for head, phrases in builder.heads.items()},
            regexes=tuple(builder.regexes),
            topics=topics,
            topics_by_any={pattern: tuple(idx) for pattern, idx in topics_by_any.items()},
            keywords_by_pattern={p: tuple(kws) for p, kws in builder.keywords.items()},
        )

    def match(
        self, title: str, summary: str = "", tags: Sequence[str] = ()
    ) -> tuple[TopicHit, ...]:
        """The topics this text matches, in rule order."""
        found = self._patterns_in((title, summary, *tags))
        if not found:
            return ()
        candidates = {index for pattern in found for index in self._topics_by_any.get(pattern, ())}
        hits: list[TopicHit] = []
        for index in sorted(candidates):
            topic = self._topics[index]
            if topic.required <= found and topic.excluded.isdisjoint(found):
                keywords = tuple(kw for pattern, kw in topic.reported if pattern in found)
                hits.append(TopicHit(topic.id, keywords))
        return tuple(hits)

    def match_item(self, item: Item) -> tuple[TopicHit, ...]:
        return self.match(item.title, item.summary, item.tags)

    def keywords_in(self, text: str) -> set[str]:
        """Every keyword (from any rule, `none` included) found in text, as written."""
        return {
            kw
            for pattern in self._patterns_in((text,))
            for kw in self._keywords_by_pattern[pattern]
        }

    def _patterns_in(self, fields: Sequence[str]) -> set[int]:
        found = self._word_patterns_in(_FIELD_SEPARATOR.join(fields))
        if self._regexes:
            original = "\n".join(fields)
            found.update(pattern for regex, pattern in self._regexes if regex.search(original))
        return found

    def _word_patterns_in(self, text: str) -> set[int]:
        parts, folded = _split_words(text)
        # `keys() & list` runs in C over the text's words; usually only a few are keywords.
        single_words = self._single_words
        found = {single_words[word] for word in single_words.keys() & folded}
        heads = self._heads
        present = heads.keys() & folded
        if not present:
            return found
        for position, word in enumerate(folded):
            if word not in present:
                continue
            for phrase in heads[word]:
                if phrase.pattern in found:
                    continue
                if phrase.head_is_acronym and not parts[2 * position + 1].isupper():
                    continue
                if _rest_at(phrase.rest, position, parts, folded):
                    found.add(phrase.pattern)
        return found


def validate_keyword(keyword: str) -> str | None:
    """None when the keyword can be matched, else one readable line saying what is wrong."""
    try:
        _parse_keyword(keyword)
    except ValueError as problem:
        return str(problem)
    return None


class _Builder:
    """Collects phrases, regexes and topics while compiling; shares one id per distinct keyword."""

    __slots__ = ("any_patterns", "heads", "keywords", "pattern_ids", "regexes", "single_words")

    def __init__(self) -> None:
        self.single_words: dict[str, int] = {}
        self.heads: dict[str, list[_Phrase]] = {}
        self.regexes: list[tuple[re.Pattern[str], int]] = []
        self.pattern_ids: dict[_PatternKey, int] = {}
        self.keywords: dict[int, dict[str, None]] = {}
        self.any_patterns: list[list[int]] = []

    def add_topic(self, rule: TopicRule) -> _Topic:
        any_ids = [self._pattern_for(rule.id, kw) for kw in rule.any]
        all_ids = [self._pattern_for(rule.id, kw) for kw in rule.all]
        none_ids = [self._pattern_for(rule.id, kw) for kw in rule.none]
        self.any_patterns.append(any_ids)
        # A keyword written in both `any` and `all` is reported once; equal strings always
        # share a pattern, so deduplicating the pairs deduplicates the strings.
        reported = dict.fromkeys(
            (*zip(any_ids, rule.any, strict=True), *zip(all_ids, rule.all, strict=True))
        )
        return _Topic(rule.id, frozenset(all_ids), frozenset(none_ids), tuple(reported))

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
            self.regexes.append((re.compile(key, re.IGNORECASE), pattern))
            return
        (head, head_is_acronym, _), *rest = key
        if not rest and not head_is_acronym:
            self.single_words[head] = pattern
            return
        self.heads.setdefault(head, []).append(_Phrase(head_is_acronym, tuple(rest), pattern))


def _parse_keyword(keyword: str) -> _PatternKey:
    if not keyword.strip():
        raise ValueError("empty keyword")
    if keyword.startswith(REGEX_PREFIX):
        return _check_regex(keyword.removeprefix(REGEX_PREFIX))
    return _keyword_words(keyword)


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
        (_fold(word), _is_acronym(word), _normalize_gap(gap) if index else _JOINABLE)
        for index, (word, gap) in enumerate(zip(words, gaps, strict=False))
    )


def _is_acronym(word: str) -> bool:
    return word.isupper() and sum(char.isalpha() for char in word) >= 2


def _rest_at(rest: _Words, position: int, parts: list[str], folded: list[str]) -> bool:
    """Do the words after a phrase's first word follow the text word at `position`?

    parts is [gap, word, gap, word, ...]: word i is parts[2i + 1], the gap before it parts[2i].
    """
    if len(folded) - position <= len(rest):
        return False
    for offset, (word, is_acronym, gap) in enumerate(rest, start=1):
        index = position + offset
        if folded[index] != word:
            return False
        if is_acronym and not parts[2 * index + 1].isupper():
            return False
        if _normalize_gap(parts[2 * index]) != gap:
            return False
    return True


def _split_words(text: str) -> tuple[list[str], list[str]]:
    """[gap, word, gap, word, ..., gap] and the folded words, with one regex pass."""
    if text.isascii():
        parts = _WORD_SPLIT.split(text)
        return parts, list(map(str.lower, parts[1::2]))
    parts = _WORD_SPLIT.split(_clean(text))
    return parts, [
        _fold_cached(word) if len(word) <= _CACHED_LENGTH else _fold(word) for word in parts[1::2]
    ]


def _clean(text: str) -> str:
    """Compose accents (so "e" + U+0301 stays one word) and drop invisible characters."""
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", text))


def _fold(text: str) -> str:
    """Case-fold and strip accents: "Régulation" -> "regulation", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# Feed vocabularies are small and repetitive, so caching keeps non-ASCII words cheap. Only
# short strings are cached: a hostile feed's megabyte-long "word" must not be kept alive.
_CACHED_LENGTH: Final = 64
_fold_cached: Final = lru_cache(maxsize=65536)(_fold)


def _normalize_any_gap(gap: str) -> str:
    """_JOINABLE for whitespace/hyphens only, else the folded punctuation without whitespace."""
    squeezed = "".join(char for char in _fold(gap.translate(_APOSTROPHES)) if not char.isspace())
    if all(char in _HYPHENS for char in squeezed):
        return _JOINABLE
    return squeezed


_normalize_gap_cached: Final = lru_cache(maxsize=4096)(_normalize_any_gap)


def _normalize_gap(gap: str) -> str:
    if gap == " ":  # by far the most common gap
        return _JOINABLE
    if len(gap) <= _CACHED_LENGTH:
        return _normalize_gap_cached(gap)
    return _normalize_any_gap(gap)
