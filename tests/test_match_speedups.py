"""The matcher's shortcuts give the answers the long way would: regex pre-checks, body counts."""

from __future__ import annotations

import random
import re

from policywire.ingest import match as match_module
from policywire.ingest.match import BODY_MENTIONS, Matcher
from policywire.ingest.match_regex import (
    _ASCII_LOOKALIKES,
    _candidates,
    _Regex,
    _regex_counts,
    _required_prefix,
    _unshout,
)
from policywire.models import TopicHit, TopicRule


def test_no_other_character_lower_cases_to_ascii_letters_or_digits() -> None:
    # Unshouting lower-cases words; the pre-check reads the text as written. Only the
    # look-alikes (which turn the pre-check off) become ASCII letters or digits.
    for code in range(0x80, 0x110000):
        char = chr(code)
        if char in _ASCII_LOOKALIKES:
            continue
        lowered = char.lower()
        assert not any(c.isascii() and c.isalnum() for c in lowered), hex(code)
        assert lowered.lower() == lowered, hex(code)


_PIECES = (
    *("daten", "schutz", "Datenschutz", "DATENSCHUTZ", "KI", "ki", "gesetz", "abc", "ABC"),
    *(" ", "  ", "\n", "-", "'", "’", "_", ".", "\u00ad", "\u200b", "\u0301", "é", "É", "ß"),
    *(_ASCII_LOOKALIKES, "Ｄａｔｅｎ", "ﬁ", "\x00", "2024", "İ", "straße"),
)
_SOURCES = (r"\bdatenschutz\w*", r"kigesetz", r"^abc", r"\bschutz", r"gesetz\w+", r"(?-i:ABC)")


def _regexes() -> list[_Regex]:
    return [
        _Regex(re.compile(source, re.IGNORECASE), _required_prefix(source), number)
        for number, source in enumerate(_SOURCES)
    ]


def test_prefix_pre_check_never_drops_a_regex_that_matches() -> None:
    rng = random.Random(5)
    regexes = _regexes()
    assert all(regex.prefix for regex in regexes[:5])
    for _ in range(20_000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12)))
        folded = match_module._Text(text).folded
        expected = {r.pattern for r in regexes if r.regex.search(_unshout(text))}
        kept = {r.pattern for r in _candidates(text, regexes, folded)}
        assert expected <= kept, text
        assert set(_regex_counts(text, regexes, 1, folded)) == expected, text


def test_regex_counts_count_in_the_unshouted_text() -> None:
    regexes = _regexes()
    text = "Datenschutz heute. DATENSCHUTZ UND RECHT IM NETZ. datenschutzrecht"
    folded = match_module._Text(text).folded
    assert _regex_counts(text, regexes, 9, folded) == {0: 3}
    assert _regex_counts(text, regexes, 2, folded) == {0: 2}
    assert _regex_counts("nothing here", regexes, 2, ["nothing", "here"]) == {}


def _body_rules(extra: int) -> list[TopicRule]:
    # `extra` other one-word keywords that the body also has, so that counting takes the
    # one-by-one path (few) or the count-everything path (many).
    others = tuple(f"word{n}" for n in range(extra))
    return [
        TopicRule(id="t", name="T", any=("gusts", *others)),
        TopicRule(id="u", name="U", any=("storm",), none=("calm",)),
    ]


def test_body_counts_are_the_same_counted_apart_or_all_at_once() -> None:
    for extra in (0, 3, 30):
        matcher = Matcher.compile(_body_rules(extra))
        filler = " ".join(f"word{n}" for n in range(extra))
        once = f"{filler} gusts today"
        twice = f"{filler} gusts today, gusts tomorrow"
        assert matcher.match("Weather", body=once) == (), extra
        hits = matcher.match("Weather", body=twice)
        assert [hit.topic for hit in hits] == ["t"], extra
        assert "gusts" in hits[0].keywords


def test_a_keyword_of_the_title_counts_whatever_the_body_says() -> None:
    matcher = Matcher.compile(_body_rules(20))
    assert matcher.match("Storm warning", body="a storm") == (TopicHit("u", ("storm",)),)
    # A `none` keyword found once in the title excludes; only in the body it needs two.
    assert matcher.match("Storm, then calm", body="storm storm") == ()
    assert matcher.match("Storm", body="calm storm") == (TopicHit("u", ("storm",)),)
    assert matcher.match("Storm", body="calm, calm") == ()
    assert BODY_MENTIONS == 2


def test_several_patterns_of_one_topic_are_judged_together() -> None:
    rules = [
        TopicRule(id="a", name="A", any=("alpha", "beta"), all=("gamma",)),
        TopicRule(id="b", name="B", any=("beta",)),
        TopicRule(id="c", name="C", any=("alpha",), none=("beta",)),
    ]
    matcher = Matcher.compile(rules)
    assert matcher.match("alpha beta gamma") == (
        TopicHit("a", ("alpha", "beta", "gamma")),
        TopicHit("b", ("beta",)),
    )
    assert matcher.match("alpha") == (TopicHit("c", ("alpha",)),)
    assert matcher.match("alpha gamma") == (
        TopicHit("a", ("alpha", "gamma")),
        TopicHit("c", ("alpha",)),
    )
