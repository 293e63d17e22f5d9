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
* In text written all in capitals (a run of three or more words in capitals, such as the
  headline "ALLERTA MISTRAL AI PORTI DELLA LIGURIA") capitals say nothing, so there an
  acronym is judged by the rest of the item: a word in such a run counts as the acronym only
  when the item also writes it in capitals outside any such run (in its other fields, or
  elsewhere in the same one). An all-caps headline therefore neither makes "AI" match the
  Italian "ai" nor satisfies the capitals rule by itself.
* A phrase matches its words in order, on consecutive words. Between two words, any run of
  whitespace (line breaks included) and hyphens is interchangeable: "AI Act" matches
  "AI\\n  Act" and "AI-Act". Other punctuation written inside a keyword must appear in the
  text ("Llama 3.1" does not match "Llama 3 1"); curly and straight apostrophes are equal.
  A phrase never runs from one field into the next (title, summary, each tag, body).
* A keyword starting with ``re:`` is a raw Python regular expression, searched with
  re.IGNORECASE in the original text (title, summary and tags joined by line breaks; the body
  apart), except that runs of three or more words in capitals are lower-cased first, so a
  case-sensitive part such as ``(?-i:AI)`` cannot be satisfied by shouting either. These run
  one by one, outside the word index, so keep them few.

Where a keyword is found matters. The title, the summary and the tags say what an item is
about, so one mention there counts. The body (the first few KB of the entry's full content,
`Item.content`) is full of passing mentions, so a keyword found only there counts when it
occurs at least `BODY_MENTIONS` times. This holds for `any`, `all` and `none` keywords alike.

A topic hits when at least one `any` keyword hits, every `all` keyword hits and no `none`
keyword hits. A topic whose `any` is empty never matches. The hit lists the `any` then the
`all` keywords that hit, as written in the rule and in rule order. `Matcher.explain_item`
says, per topic, which keywords were found in which field and what was missing.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, compress, islice, pairwise
from operator import eq, itemgetter
from typing import TYPE_CHECKING, Final, NamedTuple

from policywire.models import Item, TopicHit, TopicRule

if TYPE_CHECKING:  # imported where used: the service loads text helpers only to parse
    from policywire.ingest.match_text import MatchFields

__all__ = [
    "BODY_MENTIONS",
    "REGEX_PREFIX",
    "ItemExplanation",
    "Matcher",
    "TopicExplanation",
    "validate_keyword",
]

REGEX_PREFIX: Final = "re:"

# A keyword found only in the body counts from this many mentions on: one mention deep in an
# article is usually in passing ("unlike the EU's AI Act, …"); the article's subject recurs.
BODY_MENTIONS: Final = 2
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

# Fields are joined with a NUL between spaces before splitting, so the NUL is a token of its
# own (the words around it stay ordinary, cacheable tokens) that _Text takes as a word no
# keyword word equals: phrases cannot span two fields. Keywords cannot contain control
# characters, so a NUL inside a token (hostile text) is a gap no keyword gap equals.
_FIELD_SEPARATOR: Final = " \x00 "


# A plain keyword's words: (folded word, is acronym, normalized gap before it).
_Words = tuple[tuple[str, bool, str], ...]

# A compiled keyword, hashable so that equal keywords share one pattern id: a regular
# expression's source (str), or a plain keyword's words.
_PatternKey = str | _Words


class _Phrase(NamedTuple):
    """A plain keyword of two words or more, indexed under its first two folded words."""

    head_is_acronym: bool
    rest: _Words  # the words after the first
    pattern: int  # id shared by every keyword that compiles to the same words


class _Regex(NamedTuple):
    """A `re:` keyword."""

    regex: re.Pattern[str]
    prefix: str  # lower-case letters and digits every match starts with, or ""
    pattern: int


class _Topic(NamedTuple):
    id: str
    any: frozenset[int]  # `any` patterns
    required: frozenset[int]  # `all` patterns
    excluded: frozenset[int]  # `none` patterns
    reported: tuple[tuple[int, str], ...]  # `any` then `all`, as written, for TopicHit
    written: tuple[tuple[str, tuple[tuple[int, str], ...]], ...]  # per part: (pattern, keyword)


# A topic's outcome for a text: (its TopicHit,) when it matches, () when it does not.
_Outcome = tuple[TopicHit, ...]

# A topic's outcome depends only on which of its own patterns a text has. Outcomes for several
# patterns are remembered per topic (feeds repeat the same few combinations); the bound keeps a
# topic with many keywords from remembering without end.
_OUTCOMES_PER_TOPIC: Final = 256

_TOPIC: Final = itemgetter(0)
_OUTCOME: Final = itemgetter(1)


def _evaluate(topic: _Topic, found: AbstractSet[int]) -> _Outcome:
    """The topic's outcome when `found` are the patterns in the text."""
    if topic.any.isdisjoint(found) or not topic.required <= found:
        return ()
    if not topic.excluded.isdisjoint(found):
        return ()
    return (TopicHit(topic.id, tuple(kw for pattern, kw in topic.reported if pattern in found)),)


class Matcher:
    """All topic rules of one configuration, compiled once; `match` is O(words in the item)."""

    __slots__ = (
        "_acronym_words",
        "_acronyms",
        "_keywords_by_pattern",
        "_mentioned",
        "_outcomes",
        "_pairs",
        "_phrases",
        "_regexes",
        "_single_words",
        "_solo",
        "_topics",
    )

    def __init__(
        self,
        single_words: dict[str, int],
        acronyms: dict[str, int],
        phrases: dict[tuple[str, str], tuple[_Phrase, ...]],
        regexes: tuple[_Regex, ...],
        topics: tuple[_Topic, ...],
        mentioned: tuple[frozenset[int], ...],
        keywords_by_pattern: dict[int, tuple[str, ...]],
        acronym_words: frozenset[str] = frozenset(),
    ) -> None:
        # Most keywords are one ordinary word: a set intersection with the text's words finds
        # them all. A one-word acronym also needs a look at the case of the text word; a phrase
        # needs its words in a row, so it is indexed under its first two words and only looked
        # for when the text has them in a row.
        self._single_words = single_words
        self._acronyms = acronyms
        # Every folded word that some keyword writes as an acronym (alone or in a phrase): the
        # words whose capitals in all-caps text need the rest of the item to be judged.
        self._acronym_words = acronym_words
        self._phrases = phrases
        self._pairs = frozenset(phrases)  # the same pairs: looking one up here is faster
        self._regexes = regexes
        self._topics = topics
        self._mentioned = mentioned  # per topic: every pattern its outcome depends on
        self._keywords_by_pattern = keywords_by_pattern
        self._outcomes: tuple[dict[frozenset[int], _Outcome], ...] = tuple({} for _ in topics)
        # Per pattern, (topic, outcome) for each topic that mentions it, the outcome being the
        # topic's when that pattern is the only one of the topic's in the text: by far the most
        # common case, worked out here once.
        by_pattern: dict[int, list[tuple[int, _Outcome]]] = {}
        for index, (topic, patterns) in enumerate(zip(topics, mentioned, strict=True)):
            for pattern in patterns:
                outcome = (index, _evaluate(topic, {pattern}))
                by_pattern.setdefault(pattern, []).append(outcome)
        self._solo = {pattern: tuple(pairs) for pattern, pairs in by_pattern.items()}

    @classmethod
    def compile(cls, rules: Iterable[TopicRule]) -> Matcher:
        """Compile every rule; raise ValueError naming the topic and keyword that is invalid."""
        builder = _Builder()
        topics = tuple(builder.add_topic(rule) for rule in rules)
        return cls(
            single_words=builder.single_words,
            acronyms=builder.acronyms,
            phrases={pair: tuple(phrases) for pair, phrases in builder.phrases.items()},
            regexes=tuple(builder.regexes),
            topics=topics,
            mentioned=tuple(builder.mentioned),
            keywords_by_pattern={p: tuple(kws) for p, kws in builder.keywords.items()},
            acronym_words=frozenset(builder.acronym_words),
        )

    def match(
        self, title: str, summary: str = "", tags: Sequence[str] = (), body: str = ""
    ) -> tuple[TopicHit, ...]:
        """The topics this text matches, in rule order (`body`: see BODY_MENTIONS)."""
        found = self._patterns_in((title, summary, *tags), body)
        if not found:
            return ()
        # (topic, outcome) for every topic that mentions a pattern found, the outcome as if
        # that pattern were the only one of the topic's found; sorted by topic, all in C.
        solo = self._solo
        pairs = sorted(chain.from_iterable(map(solo.__getitem__, solo.keys() & found)), key=_TOPIC)
        outcomes = list(map(_OUTCOME, pairs))
        ordered = list(map(_TOPIC, pairs))
        # A topic listed twice or more has several patterns found: work its outcome out in full
        # and report it once (at its first place; its other places get no hit).
        for index in set(compress(ordered, map(eq, ordered, islice(ordered, 1, None)))):
            first = ordered.index(index)
            last = first + ordered.count(index)
            outcomes[first:last] = [self._outcome(index, self._mentioned[index] & found)]
            ordered[first:last] = [index]
        return tuple(chain.from_iterable(outcomes))

    def match_item(self, item: Item) -> tuple[TopicHit, ...]:
        """The topics the item matches, read as `match_text.matching_fields` gives it."""
        from policywire.ingest.match_text import matching_fields

        fields = matching_fields(item)
        return self.match(fields.title, fields.summary, fields.tags, fields.body)

    def keywords_in(self, text: str) -> set[str]:
        """Every keyword (from any rule, `none` included) found in text, as written."""
        return {
            kw
            for pattern in self._patterns_in((text,), "")
            for kw in self._keywords_by_pattern[pattern]
        }

    def explain_item(self, item: Item) -> ItemExplanation:
        """Why the item matched each topic it matched, and why it missed the others it came
        close to: those with an `any` keyword somewhere in the item, if only once in the body."""
        from policywire.ingest.match_text import matching_fields

        fields = matching_fields(item)
        hits = {hit.topic for hit in self.match(*fields)}
        places = self._places(fields)
        topics = tuple(
            _explain_topic(topic, places, topic.id in hits)
            for topic in self._topics
            if topic.id in hits or not places.keys().isdisjoint(topic.any)
        )
        return ItemExplanation(item.feed, item.id, item.title, topics)

    def _places(self, fields: MatchFields) -> dict[int, list[str]]:
        """Per pattern found anywhere, where: "title", "summary", "tag", "body ×N"."""
        head = (fields.title, fields.summary, *fields.tags)
        names = ("title", "summary", *("tag" for _ in fields.tags))
        confirmed = self._confirmed([_Text(_FIELD_SEPARATOR.join(head)), _Text(fields.body)])
        places: dict[int, list[str]] = {}
        for name, text in zip(names, head, strict=True):
            counts = self._pattern_counts(_Text(text), confirmed, 1)
            counts.update(_regex_counts(_unshout(text), self._regexes, 1))
            for pattern in counts:
                where = places.setdefault(pattern, [])
                if name not in where:
                    where.append(name)
        body_counts = self._pattern_counts(_Text(fields.body), confirmed, _EXPLAIN_COUNT_LIMIT)
        body_counts.update(
            _regex_counts(_unshout(fields.body), self._regexes, _EXPLAIN_COUNT_LIMIT)
        )
        for pattern, count in body_counts.items():
            places.setdefault(pattern, []).append(f"body ×{count}")
        return places

    def _outcome(self, index: int, found: frozenset[int]) -> _Outcome:
        """Topic `index`'s outcome when `found` are the patterns of it in the text."""
        remembered = self._outcomes[index]
        outcome = remembered.get(found)
        if outcome is None:
            outcome = _evaluate(self._topics[index], found)
            if len(remembered) < _OUTCOMES_PER_TOPIC:
                remembered[found] = outcome
        return outcome

    def _patterns_in(self, fields: Sequence[str], body: str) -> set[int]:
        head = _Text(_FIELD_SEPARATOR.join(fields))
        texts = [head, _Text(body)] if body else [head]
        confirmed = self._confirmed(texts)
        found = set(self._pattern_counts(head, confirmed, 1))
        if body:
            counts = self._pattern_counts(texts[1], confirmed, BODY_MENTIONS)
            found.update(p for p, count in counts.items() if count >= BODY_MENTIONS)
        if self._regexes:
            found.update(_regex_counts(_unshout("\n".join(fields)), self._regexes, 1))
            if body:
                counts = _regex_counts(_unshout(body), self._regexes, BODY_MENTIONS)
                found.update(p for p, count in counts.items() if count >= BODY_MENTIONS)
        return found

    def _confirmed(self, texts: Sequence[_Text]) -> frozenset[str]:
        """The acronym words the item writes in capitals outside all-caps runs somewhere."""
        acronym_words = self._acronym_words
        if not acronym_words:
            return frozenset()
        return frozenset(
            word
            for words in texts
            for word in acronym_words & words.present
            if _capitals(word, words, frozenset(), 1)
        )

    def _pattern_counts(
        self, words: _Text, confirmed: frozenset[str], limit: int
    ) -> dict[int, int]:
        """Patterns in `words` with how often each occurs, counted up to `limit`."""
        folded = words.folded
        present = words.present
        # `keys() & set` runs in C; usually only a few of the text's words are keywords.
        single_words = self._single_words
        if limit == 1:
            counts = dict.fromkeys(map(single_words.__getitem__, single_words.keys() & present), 1)
        else:
            counts = {
                single_words[word]: min(folded.count(word), limit)
                for word in single_words.keys() & present
            }
        acronyms = self._acronyms
        for word in acronyms.keys() & present:
            if count := _capitals(word, words, confirmed, limit):
                counts[acronyms[word]] = count
        phrases = self._phrases
        if phrases:
            # Frozenset.intersection takes each pair of neighbours as pairwise makes it, without
            # building a set of them first.
            for pair in self._pairs.intersection(pairwise(folded)):
                for phrase in phrases[pair]:
                    if counts.get(phrase.pattern, 0) >= limit:
                        continue
                    if count := _phrase_count(pair[0], phrase, words, confirmed, limit):
                        counts[phrase.pattern] = count
        return counts


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
        self.acronym_words.update(word for word, is_acronym, _ in key if is_acronym)
        (head, head_is_acronym, _), *rest = key
        if not rest:
            # One pattern per (folded word, acronym) pair: equal keys share a pattern.
            (self.acronyms if head_is_acronym else self.single_words)[head] = pattern
            return
        pair = (head, rest[0][0])
        self.phrases.setdefault(pair, []).append(_Phrase(head_is_acronym, tuple(rest), pattern))


def _regex_counts(text: str, regexes: Sequence[_Regex], limit: int) -> dict[int, int]:
    """The patterns of the regexes found in text, with how often each matches (up to `limit`)."""
    if not regexes or not text:
        return {}
    if limit == 1:
        return {regex.pattern: 1 for regex in _regexes_in(text, regexes)}
    return {
        regex.pattern: sum(1 for _ in islice(regex.regex.finditer(text), limit))
        for regex in _regexes_in(text, regexes)
    }


def _regexes_in(text: str, regexes: Sequence[_Regex]) -> Iterator[_Regex]:
    """The regexes found in text."""
    # A regex whose matches start with a known prefix is skipped when the lower-cased text
    # lacks it: one C-level substring search instead of trying the regex at every position.
    # With re.IGNORECASE an ASCII letter also matches four other characters, whose lower-case
    # forms differ; if the text has one of those, every regex runs.
    lowered = None
    if text.isascii() or not any(map(text.__contains__, _ASCII_LOOKALIKES)):
        lowered = text.lower()
    for regex in regexes:
        if regex.prefix and lowered is not None and regex.prefix not in lowered:
            continue
        if regex.regex.search(text):
            yield regex


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


def _capitals(head: str, words: _Text, confirmed: AbstractSet[str], limit: int) -> int:
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


def _in_capitals(position: int, words: _Text, confirmed: AbstractSet[str]) -> bool:
    """Does the word at `position` count as written in capitals?

    In all-caps text (SHOUTED_RUN words in capitals in a row) only when the item writes the
    same word in capitals elsewhere (`confirmed`): there the capitals are the text's, not the
    word's.
    """
    if not words.word(position).isupper():
        return False
    return words.folded[position] in confirmed or not _shouted(position, words)


def _shouted(position: int, words: _Text) -> bool:
    """Is the word at `position` (in capitals) part of a run of SHOUTED_RUN words in capitals?

    The field separator is a word that is not in capitals, so a run never spans two fields.
    """
    run = 1
    before = position - 1
    while run < SHOUTED_RUN and before >= 0 and words.word(before).isupper():
        run += 1
        before -= 1
    after, end = position + 1, len(words.folded)
    while run < SHOUTED_RUN and after < end and words.word(after).isupper():
        run += 1
        after += 1
    return run >= SHOUTED_RUN


def _phrase_count(
    head: str, phrase: _Phrase, words: _Text, confirmed: AbstractSet[str], limit: int
) -> int:
    """How often the phrase starts at a text word equal to its first word `head` (to `limit`)."""
    folded = words.folded
    position = -1
    found = 0
    for _ in range(folded.count(head)):
        position = folded.index(head, position + 1)
        if phrase.head_is_acronym and not _in_capitals(position, words, confirmed):
            continue
        if _rest_at(phrase.rest, position, words, confirmed):
            found += 1
            if found == limit:
                break
    return found


def _rest_at(rest: _Words, position: int, words: _Text, confirmed: AbstractSet[str]) -> bool:
    """Do the words after a phrase's first word follow the text word at `position`?"""
    folded = words.folded
    if len(folded) - position <= len(rest):
        return False
    for offset, (word, is_acronym, gap) in enumerate(rest, start=1):
        index = position + offset
        if folded[index] != word:
            return False
        if is_acronym and not _in_capitals(index, words, confirmed):
            return False
        text_gap = words.gap_before(index)
        if (_normalize_gap(text_gap) if text_gap else _JOINABLE) != gap:
            return False
    return True


class _Text:
    """A text cut into words: all of them folded at once, as written and between only on demand.

    A word is a run of letters and digits (what `_WORD_SPLIT` finds), but running that regex
    over a whole text is slow. The text is cut at whitespace in C (str.split) instead, and each
    token's folded words come from a cache: feed vocabularies are small and repetitive, and most
    tokens are exactly one word. The words as written and the gaps between them are only needed
    to check acronyms and phrases, and are worked out for the few words looked at.
    """

    __slots__ = ("_present", "_starts", "_token_folds", "folded", "tokens")

    def __init__(self, text: str) -> None:
        if not text.isascii():
            text = _clean(text)
        self.tokens = tokens = text.split()
        try:
            cached = list(map(_TOKEN_FOLDS.__getitem__, tokens))
        except KeyError:  # tokens not seen yet, or too long to be cached
            cached = [_TOKEN_FOLDS.get(token) or _fold_token(token) for token in tokens]
        self._token_folds = cached
        self.folded = list(chain.from_iterable(self._token_folds))
        self._starts: list[int] = []
        self._present: set[str] | None = None

    @property
    def present(self) -> set[str]:
        """The distinct folded words."""
        if self._present is None:
            self._present = set(self.folded)
        return self._present

    def word(self, position: int) -> str:
        """The word at `position`, as written."""
        index, offset = self._locate(position)
        return _token_pieces(self.tokens[index]).words[offset]

    def gap_before(self, position: int) -> str:
        """The text between the words at `position` - 1 and `position`, whitespace left out.

        Whitespace never changes a normalized gap: _normalize_gap drops it, and folding maps
        whitespace to whitespace.
        """
        index, offset = self._locate(position)
        pieces = _token_pieces(self.tokens[index])
        if offset:
            return pieces.inner[offset - 1]
        previous, _ = self._locate(position - 1)
        # The tokens in between have no word: they are all gap.
        between = "".join(self.tokens[previous + 1 : index])
        return _token_pieces(self.tokens[previous]).trail + between + pieces.lead

    def _locate(self, position: int) -> tuple[int, int]:
        """The token holding the word at `position`, and the word's place in the token."""
        if not self._starts:
            self._starts = list(accumulate(map(len, self._token_folds), initial=0))
        index = bisect_right(self._starts, position) - 1
        return index, position - self._starts[index]


class _Pieces(NamedTuple):
    """A token (a run of non-whitespace) cut at its words, with its gaps."""

    lead: str  # before the first word (the whole token if it has no word)
    words: tuple[str, ...]
    folded: tuple[str, ...]
    inner: tuple[str, ...]  # between the words
    trail: str  # after the last word


# Per token, its folded words. Only short tokens are cached, so a hostile feed's megabyte-long
# "word" is not kept alive, and the caches are emptied when full, so their size stays bounded.
_CACHED_LENGTH: Final = 64
_CACHED_TOKENS: Final = 65536
_TOKEN_FOLDS: Final[dict[str, tuple[str, ...]]] = {}
_TOKEN_PIECES: Final[dict[str, _Pieces]] = {}

# A NUL token (the field separator) is taken as a word of its own that no keyword word equals
# (folded words never hold NUL): cheaper than a gap holding NUL, and just as sure to stop a
# phrase from running on into the next field.
_SEPARATOR_TOKEN: Final = _FIELD_SEPARATOR.strip()
_SEPARATOR_PIECES: Final = _Pieces("", (_SEPARATOR_TOKEN,), (_SEPARATOR_TOKEN,), (), "")


def _fold_token(token: str) -> tuple[str, ...]:
    if token.isalnum():
        folded: tuple[str, ...] = (_fold_word(token),)
    else:
        folded = _token_pieces(token).folded
    if len(token) <= _CACHED_LENGTH:
        if len(_TOKEN_FOLDS) >= _CACHED_TOKENS:
            _TOKEN_FOLDS.clear()
        _TOKEN_FOLDS[token] = folded
    return folded


def _token_pieces(token: str) -> _Pieces:
    pieces = _TOKEN_PIECES.get(token)
    if pieces is None:
        if token == _SEPARATOR_TOKEN:
            return _SEPARATOR_PIECES
        parts = _WORD_SPLIT.split(token)
        words = tuple(parts[1::2])
        folded = tuple(map(_fold_word, words))
        pieces = _Pieces(parts[0], words, folded, tuple(parts[2:-1:2]), parts[-1])
        if len(token) <= _CACHED_LENGTH:
            if len(_TOKEN_PIECES) >= _CACHED_TOKENS:
                _TOKEN_PIECES.clear()
            _TOKEN_PIECES[token] = pieces
    return pieces


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


_normalize_gap_cached: Final = lru_cache(maxsize=4096)(_normalize_any_gap)


def _normalize_gap(gap: str) -> str:
    if gap == " ":  # by far the most common gap
        return _JOINABLE
    if len(gap) <= _CACHED_LENGTH:
        return _normalize_gap_cached(gap)
    return _normalize_any_gap(gap)


# A run of SHOUTED_RUN or more words in capitals, in ASCII text: a word is letters and digits
# with a capital and no small letter; line breaks (between fields) end a run.
_ASCII_SHOUTED: Final = re.compile(
    r"(?<![A-Za-z0-9])[0-9]*[A-Z][A-Z0-9]*"
    r"(?:[^A-Za-z0-9\n]+[0-9]*[A-Z][A-Z0-9]*){" + str(SHOUTED_RUN - 1) + r",}(?![A-Za-z0-9])"
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
    capitals = [word.isupper() for word in parts[1::2]]
    start = None
    for index, upper in enumerate((*capitals, False)):
        if upper and start is None:
            start = index
        elif not upper and start is not None:
            if index - start >= SHOUTED_RUN:
                for word in range(start, index):
                    parts[2 * word + 1] = parts[2 * word + 1].lower()
            start = None
    return "".join(parts)


# Where explanations count body mentions up to: enough to tell "once" from "several times".
_EXPLAIN_COUNT_LIMIT: Final = 9
_SHOWN_KEYWORD_CHARS: Final = 40


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    """Why one item matched one topic or not."""

    topic: str
    matched: bool
    found: tuple[tuple[str, str], ...]  # (keyword as written, where: "title, body ×2")
    any_found: bool  # an `any` keyword counts (see BODY_MENTIONS)
    missing: tuple[str, ...]  # `all` keywords that do not count
    excluded: tuple[str, ...]  # `none` keywords that count

    def line(self) -> str:
        """One readable line: "big-tech-ai: no — 'OpenAI' in body ×1; missing 're:…'"."""
        parts = [f"{_shown(kw)} in {where}" for kw, where in self.found]
        if not self.any_found:
            parts.append(
                f"no `any` keyword in the title, summary or tags, nor {BODY_MENTIONS}× in the body"
            )
        if self.missing:
            parts.append("missing " + ", ".join(map(_shown, self.missing)))
        if self.excluded:
            parts.append("excluded by " + ", ".join(map(_shown, self.excluded)))
        verdict = "matched" if self.matched else "not matched"
        return f"{self.topic}: {verdict} — {'; '.join(parts)}"


@dataclass(frozen=True, slots=True)
class ItemExplanation:
    """Per topic that any of the item's text touched, why it matched or did not."""

    feed: str
    id: str
    title: str
    topics: tuple[TopicExplanation, ...]


def _shown(keyword: str) -> str:
    if len(keyword) > _SHOWN_KEYWORD_CHARS:
        keyword = keyword[: _SHOWN_KEYWORD_CHARS - 1] + "…"
    return repr(keyword)


def _counts_as_found(where: Sequence[str]) -> bool:
    """Do these places make a keyword found (see BODY_MENTIONS)?"""
    return any(
        not place.startswith("body") or int(place.rpartition("×")[2]) >= BODY_MENTIONS
        for place in where
    )


def _explain_topic(topic: _Topic, places: dict[int, list[str]], matched: bool) -> TopicExplanation:
    found: list[tuple[str, str]] = []
    missing: list[str] = []
    excluded: list[str] = []
    parts = dict(topic.written)
    for part in ("any", "all", "none"):
        for pattern, keyword in parts[part]:
            where = places.get(pattern)
            counted = where is not None and _counts_as_found(where)
            if where is not None and part != "none":
                found.append((keyword, ", ".join(where)))
            if part == "all" and not counted:
                missing.append(keyword)
            if part == "none" and counted:
                excluded.append(keyword)
    any_found = any(_counts_as_found(places.get(pattern, ())) for pattern, _ in parts["any"])
    return TopicExplanation(
        topic.id, matched, tuple(found), any_found, tuple(missing), tuple(excluded)
    )


# The topics each matching item hit, keyed by (item.feed, item.id).
Hits = dict[tuple[str, str], tuple[TopicHit, ...]]


def match_items(matcher: Matcher, items: Sequence[Item]) -> Hits:
    """Topic hits of every item that matched at least one topic."""
    hits: Hits = {}
    for item in items:
        found = matcher.match_item(item)
        if found:
            hits[(item.feed, item.id)] = found
    return hits
