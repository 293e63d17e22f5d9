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
about, so one mention there counts. The body (the entry's full content, `Item.content`, of
which every keyword reads the first `BODY_CHARS` characters) is full of passing mentions, so a
keyword found only there counts when it occurs at least `BODY_MENTIONS` times. This holds for
`any`, `all` and `none` keywords alike. A `deep:re:` keyword also reads on to the end of the
body, where it counts when two of its matches start less than `PASSAGE_CHARS` apart: a passage
about it (a newsletter's section, a story's second half), not a remark in passing. Only
keywords that are evidence on their own should be deep (an AI word and a law word in one
sentence, say): three topic words found in three far-apart sections of a long article are not.

A topic hits when at least one `any` keyword hits, every `all` keyword hits and no `none`
keyword hits. A topic whose `any` is empty never matches. The hit lists the `any` then the
`all` keywords that hit, as written in the rule and in rule order. `Matcher.explain_item`
says, per topic, which keywords were found in which field and what was missing.

Here: the Matcher and how it reads text (`_Text`, token caches). Compiling rules is in
`match_rules`, `re:` keywords in `match_regex`, words and capitals in `match_words`, and
turning what was found into explanations in `match_explain`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from itertools import accumulate, chain, compress, islice, pairwise
from operator import eq, itemgetter
from typing import TYPE_CHECKING, Final, NamedTuple

from policywire.ingest.match_explain import (
    _EXPLAIN_COUNT_LIMIT,
    ItemExplanation,
    TopicExplanation,
    _explain_topic,
)
from policywire.ingest.match_regex import _ASCII_LOOKALIKES as _ASCII_LOOKALIKES
from policywire.ingest.match_regex import (
    REGEX_PREFIX,
    _deep_patterns,
    _Regex,
    _regex_counts,
)
from policywire.ingest.match_regex import _required_prefix as _required_prefix
from policywire.ingest.match_rules import (
    BODY_CHARS,
    BODY_MENTIONS,
    PASSAGE_CHARS,
    _Builder,
    _evaluate,
    _Outcome,
    _Phrase,
    _Topic,
    validate_keyword,
)
from policywire.ingest.match_words import (
    _JOINABLE,
    _WORD_SPLIT,
    _capitals,
    _clean,
    _fold_word,
    _in_capitals,
    _normalize_any_gap,
    _Words,
)
from policywire.ingest.match_words import SHOUTED_RUN as SHOUTED_RUN
from policywire.ingest.match_words import _fold as _fold
from policywire.models import Item, TopicHit, TopicRule

if TYPE_CHECKING:  # imported where used: the service loads text helpers only to parse
    from policywire.ingest.match_text import MatchFields

__all__ = [
    "BODY_CHARS",
    "BODY_MENTIONS",
    "REGEX_PREFIX",
    "ItemExplanation",
    "Matcher",
    "TopicExplanation",
    "validate_keyword",
]

# Fields are joined with a NUL between spaces before splitting, so the NUL is a token of its
# own (the words around it stay ordinary, cacheable tokens) that _Text takes as a word no
# keyword word equals: phrases cannot span two fields. Keywords cannot contain control
# characters, so a NUL inside a token (hostile text) is a gap no keyword gap equals.
_FIELD_SEPARATOR: Final = " \x00 "

# A topic's outcome depends only on which of its own patterns a text has. Outcomes for several
# patterns are remembered per topic (feeds repeat the same few combinations); the bound keeps a
# topic with many keywords from remembering without end.
_OUTCOMES_PER_TOPIC: Final = 256

# Up to this many words, `_pattern_counts` counts each with list.count rather than all at once.
_COUNTED_APART: Final = 8

_TOPIC: Final = itemgetter(0)

# Where explanations say a `deep:re:` keyword was found past the body's first BODY_CHARS. Not
# "body …": a place that does not start with "body" counts as found (match_explain).
_DEEP_PLACE: Final = f"further down (2 matches within {PASSAGE_CHARS:,} characters)"


def _near(body: str) -> str:
    """The start of the body that every keyword reads: BODY_CHARS at most, cut at a space."""
    if len(body) <= BODY_CHARS:
        return body
    cut = max(body.rfind(" ", BODY_CHARS // 2, BODY_CHARS), body.rfind("\n", 0, BODY_CHARS))
    return body[: cut if cut > BODY_CHARS // 2 else BODY_CHARS]


class Matcher:
    """All topic rules of one configuration, compiled once; `match` is O(words in the item)."""

    __slots__ = (
        "_acronym_words",
        "_acronyms",
        "_deep",
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
        self._deep = tuple(regex for regex in regexes if regex.deep)
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
        """The topics this text matches, in rule order (`body`: BODY_CHARS, BODY_MENTIONS)."""
        found = self._patterns_in((title, summary, *tags), body)
        if not found:
            return ()
        # (topic, outcome) for every topic that mentions a pattern found, the outcome as if
        # that pattern were the only one of the topic's found; sorted by topic, all in C. A
        # dict of them keeps each topic once, at its first place, with its last outcome.
        solo = self._solo
        pairs = sorted(chain.from_iterable(map(solo.__getitem__, solo.keys() & found)), key=_TOPIC)
        outcomes = dict(pairs)
        if len(outcomes) < len(pairs):
            # A topic listed twice or more has several patterns found: work its outcome out
            # in full.
            ordered = list(map(_TOPIC, pairs))
            for index in set(compress(ordered, map(eq, ordered, islice(ordered, 1, None)))):
                outcomes[index] = self._outcome(index, self._mentioned[index] & found)
        return tuple(chain.from_iterable(outcomes.values()))

    def match_item(self, item: Item) -> tuple[TopicHit, ...]:
        """The topics the item matches, read as `match_text.matching_fields` gives it."""
        from policywire.ingest.match_text import matching_fields

        fields = matching_fields(item)
        return self.match(fields.title, fields.summary, fields.head_tags(), fields.body)

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
        hits = {hit.topic for hit in self.match_item(item)}
        places = self._places(fields)
        topics = tuple(
            _explain_topic(topic, places, topic.id in hits)
            for topic in self._topics
            if topic.id in hits or not places.keys().isdisjoint(topic.any)
        )
        return ItemExplanation(item.feed, item.id, item.title, topics)

    def _places(self, fields: MatchFields) -> dict[int, list[str]]:
        """Per pattern found anywhere, where: "title", "summary", "tag", "body ×N"."""
        head = (fields.title, fields.summary, *fields.head_tags())
        names = ("title", "summary", *("tag" for _ in fields.tags), *("lede" for _ in fields.lede))
        confirmed = self._confirmed([_Text(_FIELD_SEPARATOR.join(head)), _Text(fields.body)])
        places: dict[int, list[str]] = {}
        for name, text in zip(names, head, strict=True):
            words = _Text(text)
            counts = self._pattern_counts(words, confirmed, 1)
            counts.update(_regex_counts(text, self._regexes, 1, words.folded))
            for pattern in counts:
                where = places.setdefault(pattern, [])
                if name not in where:
                    where.append(name)
        near = _near(fields.body)
        body = _Text(near)
        body_counts = self._pattern_counts(body, confirmed, _EXPLAIN_COUNT_LIMIT)
        body_counts.update(_regex_counts(near, self._regexes, _EXPLAIN_COUNT_LIMIT, body.folded))
        for pattern, count in body_counts.items():
            places.setdefault(pattern, []).append(f"body ×{count}")
        if len(near) < len(fields.body):
            for pattern in _deep_patterns(fields.body, self._deep, PASSAGE_CHARS):
                places.setdefault(pattern, []).append(_DEEP_PLACE)
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

    def _patterns_in(self, fields: Sequence[str], whole_body: str) -> set[int]:
        head = _Text(_FIELD_SEPARATOR.join(fields))
        body = _near(whole_body)
        texts = [head, _Text(body)] if body else [head]
        confirmed = self._confirmed(texts)
        found = self._head_patterns(head, confirmed)
        regexes = self._regexes
        if regexes:
            found.update(_regex_counts("\n".join(fields), regexes, 1, head.folded))
        if body:
            # A pattern already found in the title, summary or tags counts whatever the body
            # says, so the body is only searched for the others.
            counts = self._pattern_counts(texts[1], confirmed, BODY_MENTIONS, found)
            if regexes:
                unfound = [regex for regex in regexes if regex.pattern not in found]
                counts.update(_regex_counts(body, unfound, BODY_MENTIONS, texts[1].folded))
            found.update(p for p, count in counts.items() if count >= BODY_MENTIONS)
        if self._deep and len(body) < len(whole_body):
            deep = [regex for regex in self._deep if regex.pattern not in found]
            found.update(_deep_patterns(whole_body, deep, PASSAGE_CHARS))
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

    def _head_patterns(self, words: _Text, confirmed: frozenset[str]) -> set[int]:
        """The patterns in `words`: `_pattern_counts` with a limit of 1, as a set."""
        present = words.present
        # `keys() & set` runs in C; usually only a few of the text's words are keywords.
        single_words = self._single_words
        found = set(map(single_words.__getitem__, single_words.keys() & present))
        acronyms = self._acronyms
        if acronyms:
            for word in acronyms.keys() & present:
                if _capitals(word, words, confirmed, 1):
                    found.add(acronyms[word])
        if self._phrases:
            found.update(self._phrase_counts(words, confirmed, 1, found))
        return found

    def _pattern_counts(
        self,
        words: _Text,
        confirmed: frozenset[str],
        limit: int,
        skipped: AbstractSet[int] = frozenset(),
    ) -> dict[int, int]:
        """Patterns in `words` but not in `skipped`, with how often each occurs (to `limit`)."""
        folded = words.folded
        present = words.present
        single_words = self._single_words
        wanted = [
            (word, pattern)
            for word in single_words.keys() & present
            if (pattern := single_words[word]) not in skipped
        ]
        # Counting the words one by one is a pass over the text each; past a few, one pass
        # counting every word (in C) is cheaper.
        tally = Counter(folded).__getitem__ if len(wanted) > _COUNTED_APART else folded.count
        counts = {pattern: min(tally(word), limit) for word, pattern in wanted}
        acronyms = self._acronyms
        for word in acronyms.keys() & present:
            pattern = acronyms[word]
            if pattern not in skipped and (count := _capitals(word, words, confirmed, limit)):
                counts[pattern] = count
        if self._phrases:
            counts.update(self._phrase_counts(words, confirmed, limit, skipped))
        return counts

    def _phrase_counts(
        self, words: _Text, confirmed: frozenset[str], limit: int, skipped: AbstractSet[int]
    ) -> dict[int, int]:
        """Phrases in `words` but not in `skipped`, with how often each occurs (to `limit`)."""
        counts: dict[int, int] = {}
        phrases = self._phrases
        # Frozenset.intersection takes each pair of neighbours as pairwise makes it, without
        # building a set of them first.
        for pair in self._pairs.intersection(pairwise(words.folded)):
            for phrase in phrases[pair]:
                if phrase.pattern in skipped:
                    continue
                if count := _phrase_count(pair[0], phrase, words, confirmed, limit):
                    counts[phrase.pattern] = count
        return counts


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

    __slots__ = ("_present", "_starts", "folded", "tokens")

    def __init__(self, text: str) -> None:
        if not text.isascii():
            text = _clean(text)
        self.tokens = tokens = text.split()
        try:
            self.folded = list(chain.from_iterable(map(_TOKEN_FOLDS.__getitem__, tokens)))
        except KeyError:  # tokens not seen yet, or too long to be cached
            self.folded = list(chain.from_iterable(map(_token_folds, tokens)))
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
            # Only phrases and acronyms need this, for a few words: worked out when first asked.
            try:
                folds = list(map(_TOKEN_FOLDS.__getitem__, self.tokens))
            except KeyError:  # the cache was emptied since, or a token is too long for it
                folds = list(map(_token_folds, self.tokens))
            self._starts = list(accumulate(map(len, folds), initial=0))
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


def _token_folds(token: str) -> tuple[str, ...]:
    """The token's folded words, from the cache when it has them."""
    folded = _TOKEN_FOLDS.get(token)
    return _fold_token(token) if folded is None else folded


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


_normalize_gap_cached: Final = lru_cache(maxsize=4096)(_normalize_any_gap)


def _normalize_gap(gap: str) -> str:
    if gap == " ":  # by far the most common gap
        return _JOINABLE
    if len(gap) <= _CACHED_LENGTH:
        return _normalize_gap_cached(gap)
    return _normalize_any_gap(gap)


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
