"""The topic matcher: keyword semantics, topic rules, hostile input, and a slow reference."""

from __future__ import annotations

import functools
import random
import re
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from policywire.ingest import match as match_module
from policywire.ingest.match import Matcher, validate_keyword
from policywire.models import Item, TopicHit, TopicRule


def _hits(keyword: str, text: str) -> bool:
    matcher = Matcher.compile([TopicRule(id="t", name="T", any=(keyword,))])
    return bool(matcher.match(text))


KEYWORD_CASES = [
    # Acronyms: a keyword word in capitals (2+ letters) needs capitals in the text.
    ("AI", "New AI rules for Europe", True),
    ("AI", "Lettera ai cittadini", False),
    ("AI", "Ai Weiwei opens a show", False),
    ("AI", "AI-generated images", True),
    ("AI", "Des règles pour l'AI", True),
    ("ai", "New AI rules", True),
    ("Ai", "lettera ai cittadini", True),
    ("EU", "EU regulators act", True),
    ("EU", "eu sou brasileiro", False),
    ("EU", "Eu sou", False),
    ("GPAI", "GPAI obligations start", True),
    ("GPAI", "gpai obligations start", False),
    ("GPT4", "GPT4 is out", True),
    ("GPT4", "gpt4 is out", False),
    ("AI Act", "the AI act", True),
    ("AI Act", "THE AI ACT", True),
    ("AI Act", "the ai act", False),
    # Accents and case.
    ("regulation", "La régulation de l'IA", True),
    ("régulation", "NEW REGULATION", True),
    ("régulation", "re\u0301gulation (decomposed accent)", True),
    ("Commissione europea", "la Commissione Europea ha detto", True),
    ("Commissione europea", "LA COMMISSIONE EUROPEA", True),
    ("Künstliche Intelligenz", "kunstliche intelligenz", True),
    ("Kunstliche Intelligenz", "Künstliche Intelligenz", True),
    ("Straße", "STRASSE", True),
    ("Mistral", "Mis\u00adtral (soft hyphen)", True),
    ("Mistral", "Ｍｉｓｔｒａｌ (full width)", True),
    # Whole words.
    ("Act", "Action plan", False),
    ("Act", "React app", False),
    ("Act", "they enact laws", False),
    ("Act", "the Act.", True),
    ("Mistral", "Mistral's new model", True),
    ("Mistral", "Mistral’s new model", True),
    ("Mistral", "Mistral-7B released", True),
    ("Mistral", "trending: #Mistral", True),
    ("Mistral", "a French firm (Mistral)", True),
    ("Mistral", "backed Mistral.", True),
    ("Mistral", "MISTRAL RAISES", True),
    ("Mistral", "mistral_ai on GitHub", True),
    ("Mistral", "Mistrals", False),
    ("Mistral", "MistralAI", False),
    ("7B", "Mistral-7B", True),
    # Phrases: whitespace runs, line breaks and hyphens join words; other punctuation does not.
    ("AI Act", "the AI  Act", True),
    ("AI Act", "the AI\nAct", True),
    ("AI Act", "the AI\r\n\t Act", True),
    ("AI Act", "the AI-Act", True),
    ("AI Act", "the AI\u2011Act", True),
    ("AI-Act", "the AI Act", True),
    ("Artificial Intelligence Act", "artificial\nintelligence  act", True),
    ("AI Act", "Act on AI", False),
    ("AI Act", "AI regulatory Act", False),
    ("AI Act", "about AI. Act now", False),
    ("AI Act", "AI, Act", False),
    ("AI Act", "AI’s Act", False),
    ("AI Act", "AI", False),
    ("Llama 3.1", "Llama 3.1 released", True),
    ("Llama 3.1", "Llama 3 1 released", False),
    ("Llama 3.1", "Llama 3.10 released", False),
    ("Mistral's", "Mistral’s model", True),
    ("Mistral's", "Mistral model", False),
    ("U.S.", "the U.S. Congress", True),
    ("U.S.", "tell us", False),
    ("AT&T", "AT & T", True),
    # Regular expressions: searched in the original text, case-insensitively.
    ("re:GPT-?4o?", "new gpt4 release", True),
    (r"re:\bA\.I\.", "A.I. rules", True),
    (r"re:Mistral\s+Large", "mistral  large", True),
    ("re:régulation", "RÉGULATION", True),
    ("re:régulation", "regulation", False),
    ("re:^Breaking", "not Breaking", False),
    ("re:^breaking", "BREAKING news", True),
    (r"re:\bdatenschutz\w*", "Die Datenschutzgrundverordnung", True),
    (r"re:\bdatenschutz", "kein Daten schutz", False),
    (r"re:\bmistral", "MIſTRAL", True),  # re.IGNORECASE: "ſ" (long s) matches "s"
    ("re:kilo", "\u212ailo", True),  # and the Kelvin sign matches "k"
    ("re:gpai", "the İGPAI", True),
    # Punctuation standing alone between two words is part of the gap.
    ("AI Act", "the AI - Act", True),
    ("AI Act", "the AI -- Act", True),
    ("AI Act", "the AI . Act", False),
    ("AI Act", "the AI ( Act", False),
    ("AT&T", "AT &T", True),
    ("AT&T", "AT& T", True),
    ("AT&T", "AT & & T", False),
    ("AI Act", "AI \x00 Act", False),
    ("Mistral", "x \x00 Mistral", True),
]


@pytest.mark.parametrize(("keyword", "text", "expected"), KEYWORD_CASES)
def test_keyword_semantics(keyword: str, text: str, expected: bool) -> None:
    assert _hits(keyword, text) is expected


def _rules(*rules: TopicRule) -> Matcher:
    return Matcher.compile(rules)


def test_tags_are_searched() -> None:
    matcher = _rules(TopicRule(id="act", name="Act", any=("AI Act",)))
    assert matcher.match("Nothing here", "", tags=("EU", "AI Act")) == (
        TopicHit("act", ("AI Act",)),
    )


def test_phrases_do_not_run_across_fields() -> None:
    matcher = _rules(TopicRule(id="act", name="Act", any=("AI Act",)))
    assert matcher.match("Rules on AI", "Act now") == ()
    assert matcher.match("Rules", "", tags=("AI", "Act")) == ()


def test_none_excludes_the_item() -> None:
    matcher = _rules(
        TopicRule(id="m", name="M", any=("Mistral",), none=("wind", "re:mistral\\s+gust"))
    )
    assert matcher.match("Mistral raises funds") == (TopicHit("m", ("Mistral",)),)
    assert matcher.match("Mistral", "the wind blows") == ()
    assert matcher.match("The Mistral gust") == ()


def test_all_keywords_are_required_and_reported() -> None:
    matcher = _rules(
        TopicRule(id="gpai", name="GPAI", any=("GPAI", "general-purpose AI"), all=("Code",))
    )
    assert matcher.match("GPAI rules") == ()
    assert matcher.match("GPAI code of practice, general purpose AI") == (
        TopicHit("gpai", ("GPAI", "general-purpose AI", "Code")),
    )


def test_keywords_are_recorded_in_rule_order_as_written() -> None:
    matcher = _rules(TopicRule(id="t", name="T", any=("régulation", "AI Act", "Mistral", "EU")))
    hits = matcher.match("EU: Mistral on the AI-Act and regulation")
    assert hits == (TopicHit("t", ("régulation", "AI Act", "Mistral", "EU")),)


def test_keyword_in_any_and_all_is_reported_once() -> None:
    matcher = _rules(TopicRule(id="t", name="T", any=("Mistral",), all=("Mistral", "model")))
    assert matcher.match("Mistral model") == (TopicHit("t", ("Mistral", "model")),)


def test_equal_keywords_written_differently_are_each_reported() -> None:
    matcher = _rules(TopicRule(id="t", name="T", any=("AI Act", "AI-Act")))
    assert matcher.match("AI Act") == (TopicHit("t", ("AI Act", "AI-Act")),)


def test_several_topics_come_back_in_rule_order() -> None:
    matcher = _rules(
        TopicRule(id="eu", name="EU", any=("Commission",)),
        TopicRule(id="unused", name="Unused", any=("quantum",)),
        TopicRule(id="act", name="AI Act", any=("AI Act",)),
        TopicRule(id="mistral", name="Mistral", any=("Mistral",)),
    )
    hits = matcher.match("Mistral and the Commission discuss the AI Act")
    assert [hit.topic for hit in hits] == ["eu", "act", "mistral"]


def test_empty_any_never_matches() -> None:
    matcher = _rules(TopicRule(id="t", name="T", all=("Mistral",)))
    assert matcher.match("Mistral") == ()
    assert matcher.keywords_in("Mistral") == {"Mistral"}


def test_keywords_in_lists_every_rule_keyword_found() -> None:
    matcher = _rules(
        TopicRule(id="a", name="A", any=("AI Act", "re:gpt-?4"), none=("React",)),
        TopicRule(id="b", name="B", any=("ai act", "EU")),
    )
    found = matcher.keywords_in("The AI Act, GPT4 and React; eu")
    assert found == {"AI Act", "re:gpt-?4", "React", "ai act"}


def test_match_item_searches_title_summary_and_tags() -> None:
    matcher = _rules(TopicRule(id="t", name="T", any=("Mistral",), all=("GPAI",)))
    item = Item(
        feed="https://example.org/feed",
        id="1",
        link="https://example.org/1",
        title="Mistral",
        summary="nothing",
        published=datetime(2025, 1, 1, tzinfo=UTC),
        tags=("GPAI",),
    )
    assert matcher.match_item(item) == (TopicHit("t", ("Mistral", "GPAI")),)


def test_rules_may_be_a_one_shot_iterator() -> None:
    matcher = Matcher.compile(TopicRule(id=f"t{n}", name="T", any=(f"word{n}",)) for n in range(3))
    assert matcher.match("word2 word0") == (TopicHit("t0", ("word0",)), TopicHit("t2", ("word2",)))


def test_empty_input_and_empty_rules() -> None:
    matcher = _rules(TopicRule(id="t", name="T", any=("AI",)))
    assert matcher.match("") == ()
    assert matcher.match("", "", ()) == ()
    assert matcher.keywords_in("") == set()
    assert Matcher.compile([]).match("AI Act") == ()


@pytest.mark.parametrize(
    ("keyword", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("re:", "empty regular expression"),
        ("re:(", "bad regular expression"),
        ("re:a*", "matches empty text"),
        ("!!!", "no letters or digits"),
        ("C++", "'++'"),
        ("#AI", "'#'"),
        ("AI\x01Act", "control characters"),
    ],
)
def test_validate_keyword_explains_problems(keyword: str, problem: str) -> None:
    message = validate_keyword(keyword)
    assert message is not None
    assert problem in message


@pytest.mark.parametrize("keyword", ["AI", "AI Act", "Mistral's", "U.S.", "Llama 3.1", "re:gpt-?4"])
def test_validate_keyword_accepts_good_keywords(keyword: str) -> None:
    assert validate_keyword(keyword) is None


def test_compile_names_the_topic_and_keyword_that_fail() -> None:
    with pytest.raises(ValueError, match=r"topic 'bad', keyword 're:\('"):
        Matcher.compile([TopicRule(id="bad", name="Bad", any=("AI", "re:("))])


@pytest.mark.parametrize(
    "text",
    [
        "AI Act " * 200_000,
        "x" * 1_000_000,
        "\x00\x01\x02\x1b[31m AI\x00Act \x7f\x85",
        "\ud800 lone surrogate AI Act \udfff",
        "\u202eevil RTL\u202c AI‐Act 👩‍👩‍👧 \u200d\ufeff",
        "Ǆ ǅ ǆ İstanbul ß ﬁ ½ ² ㍱ ﷺ",
        "-" * 10_000 + "'" * 10_000,
        "\u0301" * 5_000 + "AI",
    ],
)
def test_hostile_text_does_not_crash(text: str) -> None:
    matcher = _rules(
        TopicRule(id="t", name="T", any=("AI Act", "Mistral", "re:evil"), none=("İstanbul",))
    )
    hits = matcher.match(text, text[:1000], tags=(text[:100],))
    assert isinstance(hits, tuple)
    assert isinstance(matcher.keywords_in(text), set)


# --- A slow reference implementation, written differently, to check the fast one against.


def _ref_fold(text: str) -> str:
    return "".join(
        char
        for char in unicodedata.normalize("NFKD", text.casefold())
        if not unicodedata.combining(char)
    )


def _ref_words(text: str) -> list[tuple[str, str]]:
    """(word, gap before it) by scanning characters, instead of a regex split."""
    text = "".join(char for char in text if char not in "\u00ad\u200b\u200c\u200d\u2060\ufeff")
    text = unicodedata.normalize("NFC", text)
    words: list[tuple[str, str]] = []
    word, gap = "", ""
    for char in text:
        if char.isalnum():
            word += char
            continue
        if word:
            words.append((word, gap))
            word, gap = "", ""
        gap += char
    if word:
        words.append((word, gap))
    return words


def _ref_gap(gap: str) -> str:
    gap = re.sub(r"[\u2019\u2018\u02bc\u2032`]", "'", gap)
    kept = "".join(char for char in _ref_fold(gap) if not char.isspace())
    return "" if set(kept) <= {"-", "\u2010", "\u2011"} else kept


_RefWord = tuple[str, bool, str]  # folded word, acronym (keyword) or in capitals (text), gap


def _ref_prepare(text: str, *, keyword: bool) -> list[_RefWord]:
    def capitals(word: str) -> bool:
        if keyword:
            return word.isupper() and sum(char.isalpha() for char in word) >= 2
        return word.isupper()

    return [(_ref_fold(word), capitals(word), _ref_gap(gap)) for word, gap in _ref_words(text)]


@functools.cache
def _ref_keyword(keyword: str) -> list[_RefWord]:
    return _ref_prepare(keyword.strip().rstrip("."), keyword=True)


def _ref_occurs(wanted: list[_RefWord], found: list[_RefWord]) -> bool:
    for start in range(len(found) - len(wanted) + 1):
        if found[start][0] == wanted[0][0] and all(
            text_word == word and (text_upper or not acronym) and (offset == 0 or text_gap == gap)
            for offset, ((word, acronym, gap), (text_word, text_upper, text_gap)) in enumerate(
                zip(wanted, found[start:], strict=False)
            )
        ):
            return True
    return False


def _ref_match(rules: Sequence[TopicRule], fields: Sequence[str]) -> tuple[TopicHit, ...]:
    prepared = [_ref_prepare(field, keyword=False) for field in fields]
    present = {word for field in prepared for word, _, _ in field}
    cache: dict[str, bool] = {}

    def hits(keyword: str) -> bool:
        if keyword not in cache:
            if keyword.startswith("re:"):
                joined = "\n".join(fields)
                cache[keyword] = re.search(keyword[3:], joined, re.IGNORECASE) is not None
            else:
                wanted = _ref_keyword(keyword)
                cache[keyword] = wanted[0][0] in present and any(
                    _ref_occurs(wanted, field) for field in prepared
                )
        return cache[keyword]

    result = []
    for rule in rules:
        if (
            any(hits(kw) for kw in rule.any)
            and all(hits(kw) for kw in rule.all)
            and not any(hits(kw) for kw in rule.none)
        ):
            reported = dict.fromkeys(kw for kw in (*rule.any, *rule.all) if hits(kw))
            result.append(TopicHit(rule.id, tuple(reported)))
    return tuple(result)


# Tricky on purpose: acronyms and their lower-case twins, accents, words that contain others.
_BASE_WORDS = (
    *("AI", "Act", "EU", "GPAI", "Mistral", "régulation", "Commissione", "europea"),
    *("Künstliche", "Intelligenz", "model", "open", "data", "safety", "Office", "Action"),
    *("React", "enact", "code", "practice", "Llama", "3", "1", "7B", "ai", "eu", "Ai"),
    *("Straße", "U", "S", "transparency", "copyright", "Brussels"),
)
_SEPARATORS = (
    *(" ", " ", " ", "  ", "\n", "-", ", ", ". "),
    *("'s ", "’s ", " (", ") ", " #", "_", "\u00ad"),
)


def _case_variant(rng: random.Random, word: str) -> str:
    return rng.choice((word, word, word.upper(), word.lower(), word.capitalize()))


def _random_text(rng: random.Random, length: int) -> str:
    pieces = []
    for _ in range(length):
        pieces.append(_case_variant(rng, rng.choice(_BASE_WORDS)))
        pieces.append(rng.choice(_SEPARATORS))
    return "".join(pieces)


def _random_keyword(rng: random.Random) -> str:
    if rng.random() < 0.02:
        return rng.choice(("re:mistral\\W+7b", "re:\\bAI\\s+act\\b", "re:brussels$"))
    words = [_case_variant(rng, rng.choice(_BASE_WORDS)) for _ in range(rng.choice((1, 1, 2, 3)))]
    joined = words[0]
    for word in words[1:]:
        joined += rng.choice((" ", " ", "-", "'", "."))[0] + word
    return joined


def _random_rule(rng: random.Random, number: int) -> TopicRule:
    def keywords(count: int) -> tuple[str, ...]:
        return tuple(_random_keyword(rng) for _ in range(count))

    return TopicRule(
        id=f"t{number}",
        name=f"Topic {number}",
        any=keywords(rng.randint(0, 4)),
        all=keywords(rng.choice((0, 0, 0, 1, 2))),
        none=keywords(rng.choice((0, 0, 1))),
    )


def test_same_results_as_slow_reference_on_generated_texts() -> None:
    rng = random.Random(7)
    rules = [_random_rule(rng, number) for number in range(1_000)]
    matcher = Matcher.compile(rules)
    topic_hits = 0
    for _ in range(2_000):
        title = _random_text(rng, rng.randint(0, 8))
        summary = _random_text(rng, rng.randint(0, 30))
        tags = tuple(_random_text(rng, 1) for _ in range(rng.randint(0, 2)))
        expected = _ref_match(rules, (title, summary, *tags))
        assert matcher.match(title, summary, tags) == expected, (title, summary, tags)
        topic_hits += len(expected)
    # The comparison must not be vacuous: plenty of topics match, and plenty do not.
    assert 2_000 < topic_hits < 1_000 * 2_000 / 2


# Harder text for the same comparison: accents (composed and not), ligatures, full-width and
# other compatibility forms, invisible characters, unusual whitespace, punctuation standing
# alone between words (which the matcher folds into the gap), and field separators in the text.
_RICH_WORDS = (
    *("AI", "Act", "EU", "Mistral", "régulation", "Régulation", "re\u0301gulation", "Straße"),
    *("STRASSE", "ﬁnance", "finance", "Ｍｉｓｔｒａｌ", "Mis\u00adtral", "İstanbul", "istanbul"),
    *("½", "1", "2", "x\u0301y", "ǅemal", "MIſTRAL", "code", "Code", "AT", "T", "ai", "été"),
    *("Künstliche", "KÜNSTLICHE", "Intelligenz", "GPAI", "gpai", "Office", "data", "Ἀθῆναι"),
)
_RICH_SEPARATORS = (
    *(" ", " ", " ", "\u00a0", "\u3000", "\u2003", "\n", "\r\n\t", "-", "\u2011", " - "),
    *(" -- ", " & ", "&", " — ", "…", " . ", ". ", ", ", "'", "’", " ' ", "`", " ¨ ", "¨"),
    *("\u0301", " \u0301 ", "_", "/", " \x00 ", "\x00", "(", ") ", " #", "\u200b", "\u00ad "),
)


def _rich_text(rng: random.Random, length: int) -> str:
    pieces = [rng.choice(_RICH_SEPARATORS)] if rng.random() < 0.2 else []
    for _ in range(length):
        pieces.append(_case_variant(rng, rng.choice(_RICH_WORDS)))
        pieces.append(rng.choice(_RICH_SEPARATORS))
    return "".join(pieces)


def _rich_keyword(rng: random.Random) -> str:
    while True:
        if rng.random() < 0.03:
            keyword = rng.choice(
                ("re:\\bmistral", "re:istanbul\\b", "re:finance", "re:^ai\\b", "re:gpai|office")
            )
        else:
            words = [rng.choice(_RICH_WORDS) for _ in range(rng.choice((1, 1, 2, 3)))]
            keyword = words[0]
            for word in words[1:]:
                keyword += rng.choice((" ", " ", "-", "'", ".", " & ", "&", "’", "/")) + word
        if validate_keyword(keyword) is None:
            return keyword


def test_same_results_as_slow_reference_on_harder_texts() -> None:
    rng = random.Random(11)

    def keywords(count: int) -> tuple[str, ...]:
        return tuple(_rich_keyword(rng) for _ in range(count))

    rules = [
        TopicRule(
            id=f"t{number}",
            name=f"Topic {number}",
            any=keywords(rng.randint(0, 4)),
            all=keywords(rng.choice((0, 0, 0, 1, 2))),
            none=keywords(rng.choice((0, 0, 1))),
        )
        for number in range(400)
    ]
    matcher = Matcher.compile(rules)
    topic_hits = 0
    for _ in range(1_500):
        title = _rich_text(rng, rng.randint(0, 8))
        summary = _rich_text(rng, rng.randint(0, 30))
        tags = tuple(_rich_text(rng, 1) for _ in range(rng.randint(0, 2)))
        expected = _ref_match(rules, (title, summary, *tags))
        assert matcher.match(title, summary, tags) == expected, (title, summary, tags)
        # The same text again, now from the matcher's caches.
        assert matcher.match(title, summary, tags) == expected, (title, summary, tags)
        topic_hits += len(expected)
    assert 1_500 < topic_hits < 400 * 1_500 / 2


def test_ascii_lookalikes_are_every_character_ignorecase_matches_to_ascii() -> None:
    # The regex prefilter relies on this list being complete.
    ascii_class = re.compile("[a-z0-9]", re.IGNORECASE)
    found = "".join(
        chr(code) for code in range(0x80, sys.maxunicode + 1) if ascii_class.fullmatch(chr(code))
    )
    assert found == match_module._ASCII_LOOKALIKES


def test_folding_maps_whitespace_to_whitespace() -> None:
    # Gaps are compared with their whitespace left out, which relies on this.
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isspace():
            assert match_module._fold(char).isspace(), hex(code)


@pytest.mark.parametrize(
    ("source", "prefix"),
    [
        (r"\bdatenschutz\w*", "datenschutz"),
        ("^Breaking", "breaking"),
        ("GPT-?4o?", "gpt"),
        ("abcd*", "abc"),
        ("abcd{2}", "abc"),
        ("Mistral\\s+Large", "mistral"),
        ("ab", ""),
        ("abc|xyz", ""),
        ("(?i)abc", ""),
        ("(?x) a b c", ""),
        ("[a]bc", ""),
        (r"\\bfoo", ""),
        (r"\Bfoo", ""),
        ("régulation", ""),
    ],
)
def test_regex_prefix_is_only_what_every_match_starts_with(source: str, prefix: str) -> None:
    assert match_module._required_prefix(source) == prefix


def test_small_caches_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # Caches emptied all the time, and long tokens, must not change any result.
    monkeypatch.setattr(match_module, "_CACHED_TOKENS", 3)
    monkeypatch.setattr(match_module, "_CACHED_LENGTH", 4)
    monkeypatch.setattr(match_module, "_OUTCOMES_PER_TOPIC", 1)
    monkeypatch.setattr(match_module, "_TOKEN_FOLDS", {})
    monkeypatch.setattr(match_module, "_TOKEN_PIECES", {})
    rng = random.Random(5)
    rules = [_random_rule(rng, number) for number in range(200)]
    matcher = Matcher.compile(rules)
    for _ in range(300):
        title = _rich_text(rng, rng.randint(0, 8))
        summary = _random_text(rng, rng.randint(0, 30))
        expected = _ref_match(rules, (title, summary))
        assert matcher.match(title, summary) == expected, (title, summary)
    assert len(match_module._TOKEN_FOLDS) <= 3
    assert all(len(token) <= 4 for token in match_module._TOKEN_FOLDS)
