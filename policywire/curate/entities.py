"""Names in an article: the organisations, people, laws, places and figures it is about.

Story grouping compares articles by the names they share, so the names must compare equal
across languages: "Commissione europea", "European Commission", "Commission européenne" and
"Europäische Kommission" are all `eu-commission`. Six sources of names, all found with
regular expressions over the title and the first few sentences of the summary:

* **aliases** — the institutions, laws and authorities that matter to AI policy, in English,
  Italian, French and German, each mapped to one id (`entity_aliases`). Ids of the ones
  nearly every AI-policy article names (the AI Act, the Commission, the EU…) carry a low
  weight (`entity_weights`): sharing them says little about sharing an event;
* **places** — every country, territory and time-zone city in the CLDR, in en it fr de es pt
  nl pl (`entity_places`): "Wien", "Vienne" and "Viena" are one id. A place spelled only by
  CLDR counts as a capitalized name would (a short one not as a sentence's first word);
* **cities** — the GeoNames names of every city of 150,000 people or more (`entity_cities`):
  "München", "Munich" and "Monachium" are one id, found as capitalized names are;
* **nationalities** — the words for the people of a country, from the CLDR's language names
  (`entity_demonyms`): "Uzbek", "uzbeca" and "usbekische" are Uzbekistan; English ones
  count capitalized, the others only in an article of their language;
* **proper names** — capitalized words that are not common words ("Mistral", "Microsoft",
  "Azure", "Benifei"). A capitalized word at the start of a sentence counts only when the
  article also capitalizes it elsewhere, or when it looks like a name on its own (CNIL,
  OpenAI, GPT-4); a Title Case Headline counts only its words that the summary confirms
  (a German one only when its verbs are capitalized too);
  German capitalizes every noun, so there a capitalized word weighs less;
* **figures** — numbers of two digits or more ("523 votes", "€15 million", "15 milioni"),
  years left out. Day-of-month-sized numbers weigh less.

Pure and deterministic: the same text always gives the same names. Bounded: only the first
`SUMMARY_CHARS` characters of a summary are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from policywire.curate.entity_aliases import ALIASES, CONCEPTS
from policywire.curate.entity_cities import city_spellings
from policywire.curate.entity_demonyms import demonym_spellings
from policywire.curate.entity_places import place_spellings, spelling_key
from policywire.curate.entity_weights import (
    DATE_WEIGHT,
    GERMAN_NOUN_WEIGHT,
    NAME_WEIGHT,
    alias_weight,
    number_weight,
)
from policywire.curate.entity_words import COMMON_WORDS, fold_name

__all__ = ["Entities", "country_names", "extract_entities", "label", "weight"]

SUMMARY_CHARS = 600

_Trie = dict[str, "_Trie"]


def _trie_pattern(words: list[str]) -> str:
    """One regex matching exactly `words` (spaces match any run of spaces and hyphens)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie)


def _node_pattern(node: _Trie) -> str:
    branches = []
    for char in sorted(k for k in node if k):
        head = r"[\s-]+" if char == " " else re.escape(char)
        branches.append(head + _node_pattern(node[char]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


@dataclass(frozen=True, slots=True)
class _Aliases:
    pattern: re.Pattern[str]  # every spelling, hand-written and CLDR's
    ids: dict[str, str]  # spelling key → id
    part_words: frozenset[str]  # words of the hand-written multi-word spellings
    places: frozenset[str]  # the spelling keys only CLDR gives: checked like names
    labels: dict[str, str]  # id → how it reads
    capitals: frozenset[str]  # spelling keys that count only written in capitals ("US")
    cities: dict[str, str]  # one-word city names only GeoNames gives (`_city_ids`) → id
    # Words of nationality (`entity_demonyms`) → the languages they count in as written
    demonyms: dict[str, frozenset[str]]


@cache
def _aliases() -> _Aliases:
    """The alias table, built on first use: the hand-written spellings, then the CLDR place
    names (`entity_places`), a place taking the id of a hand-written alias it shares a
    spelling with ("Alemanha" → `germany`)."""
    spellings: dict[str, str] = {}
    written: dict[str, list[str]] = {}  # spelling key → the spellings as written
    every = {**ALIASES, **{f"~{key}": value for key, value in CONCEPTS.items()}}
    for entity_id in sorted(every):
        for spelling in every[entity_id]:
            spellings.setdefault(spelling_key(spelling), entity_id)
            written.setdefault(spelling_key(spelling), []).append(spelling)
    # A short acronym is a word in lower case: "tells us", Italian and Spanish "uno".
    capitals = frozenset(
        key
        for key, forms in written.items()
        if all(form.isupper() for form in forms) and sum(c.isalpha() for c in key) <= 3
    )
    table = place_spellings()
    hand_ids: dict[str, str] = {}
    for key, place in table.ids.items():
        if key in spellings and not spellings[key].startswith("~"):
            hand_ids.setdefault(place, spellings[key])
    places = frozenset(key for key in table.ids if key not in spellings)
    part_words = frozenset(
        word for key in spellings if " " in key for word in key.split() if word not in spellings
    )
    for key in sorted(places):
        place = table.ids[key]
        spellings[key] = hand_ids.get(place, place)
    cities, city_labels = _city_ids(spellings)
    # A city's name of several words is matched here, as one name ("Abu Dhabi", not "Abu"
    # and "Dhabi"); its one-word names are looked up as capitalized words are found.
    phrases = {key: city for key, city in cities.items() if " " in key}
    spellings.update(phrases)
    places = places | frozenset(phrases)
    cities = {key: city for key, city in cities.items() if " " not in key}
    demonyms = _demonyms(spellings, cities, hand_ids)
    # A trie-shaped pattern: the regex engine follows one branch per character instead of
    # trying every spelling at every position (ten times faster on 400 spellings). Greedy
    # branches with a fallback, so "European Parliament" wins over "European".
    pattern = re.compile(r"(?<![\w])" + _trie_pattern(sorted(spellings)) + r"(?![\w])")
    labels = {
        **{place: name for place, name in table.labels.items() if place not in hand_ids},
        **{entity_id: spellings[0] for entity_id, spellings in sorted(ALIASES.items())},
        **{f"~{key}": spellings[0] for key, spellings in sorted(CONCEPTS.items())},
        **city_labels,
    }
    return _Aliases(pattern, spellings, part_words, places, labels, capitals, cities, demonyms)


def _demonyms(
    spellings: dict[str, str], cities: dict[str, str], hand_ids: Mapping[str, str]
) -> dict[str, frozenset[str]]:
    """Add the words of nationality no other name spells to `spellings`, under their
    country's id (or the hand-written alias it joined: "tedesco" is `germany`); returns the
    languages each counts in. A word GeoNames also lists for a city is the nationality:
    "Kazakh" is among Petropavl's alternate names."""
    table = demonym_spellings()
    added: dict[str, frozenset[str]] = {}
    for key, country in table.ids.items():
        if key not in spellings:
            cities.pop(key, None)
            spellings[key] = hand_ids.get(country, country)
            added[key] = table.languages[key]
    return added


def _city_ids(known: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The GeoNames cities' spellings (`entity_cities`) the table `known` lacks, with the
    labels of the new ids. A city the table knows (a time zone's "Vienna", the hand-written
    `brussels`) keeps the table's id, so "Wien" (CLDR) and "Bécs" (GeoNames) are one place."""
    ids: dict[str, str] = {}
    labels: dict[str, str] = {}
    for city in city_spellings():
        main = known.get(spelling_key(city.name))
        tz = (known[k] for k in sorted(city.keys) if known.get(k, "").startswith("tz:"))
        city_id = main or next(tz, city.id)
        new = [key for key in sorted(city.keys) if key not in known and key not in ids]
        ids.update(dict.fromkeys(new, city_id))
        if city_id == city.id:
            labels[city_id] = city.name
    return ids, labels


_CAPITALIZED_ONLY = frozenset({"eu-commission", "garante", "mistral", "meta"})

# A word that may be a name: a capital letter first (Latin, Greek, Cyrillic scripts), then
# letters, digits, apostrophes and hyphens; or a figure of two digits or more. Lower-case
# words never reach Python code, which keeps extraction fast.
_UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper() and chr(c).isalpha())
# A capitalized word or a number, not inside another word. Each branch starts with its first
# character and only then looks behind it (two characters back): the regex engine can then
# skip ahead to candidate characters instead of testing a lookbehind at every position.
_WORD = re.compile(rf"[{_UPPER}](?<![\w'’-].)[\w'’-]*|\d(?<![\w.,].)[\d.,]*\d")
_SENTENCE_BREAK = re.compile(r"[.!?:;—–|«»\"“”(]\s*\Z")
_YEAR = re.compile(r"\A(?:19|20)\d\d\Z")
_MONTH_NAMES = (
    ("january", "gennaio", "janvier", "januar", "jan"),
    ("february", "febbraio", "fevrier", "februar", "feb"),
    ("march", "marzo", "mars", "marz"),
    ("april", "aprile", "avril", "apr"),
    ("may", "maggio", "mai"),
    ("june", "giugno", "juin", "juni", "jun"),
    ("july", "luglio", "juillet", "juli", "jul"),
    ("august", "agosto", "aout", "aug"),
    ("september", "settembre", "septembre", "sep", "sept"),
    ("october", "ottobre", "octobre", "oktober", "oct"),
    ("november", "novembre", "nov"),
    ("december", "dicembre", "decembre", "dezember", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
# "2 February", "2 febbraio", "2. Februar", "1er août" (folded: no accents, lower case).
# The lookahead repeats what the day's first character must be: checked first, it spares the
# lookbehind at every other position (twice as fast; the matches are the same by construction).
_DATE_RE = re.compile(
    r"(?=[1-9])(?<!\d)([1-9]|[12]\d|3[01])(?:er|st|nd|rd|th)?\.?\s+("
    + "|".join(sorted(_MONTHS, key=lambda m: (-len(m), m)))
    + r")\b"
)


@dataclass(frozen=True, slots=True)
class Entities:
    """What `extract_entities` found; keys are ids ("eu-commission") or folded names."""

    title: frozenset[str]  # the keys found in the title
    all: frozenset[str]  # title and summary together
    weights: Mapping[str, float]  # key → weight, for every key in `all`
    # Pairs of keys written one after the other ("World" "Economic", "Economic" "Forum"):
    # the words of one longer name that no table knows, so a count of names counts it once.
    neighbours: frozenset[tuple[str, str]] = frozenset()


def extract_entities(title: str, summary: str, language: str | None = None) -> Entities:
    """The names in an article's title and the first sentences of its summary."""
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0]
    weights: dict[str, float] = {}
    neighbours: set[tuple[str, str]] = set()
    title_keys = _names(title, summary, language, weights, neighbours, is_title=True)
    summary_keys = _names(summary, title, language, weights, neighbours, is_title=False)
    return Entities(
        frozenset(title_keys), frozenset(title_keys | summary_keys), weights, frozenset(neighbours)
    )


def _names(
    text: str,
    other: str,
    language: str | None,
    weights: dict[str, float],
    neighbours: set[tuple[str, str]],
    *,
    is_title: bool,
) -> set[str]:
    keys: set[str] = set()
    if not text:
        return keys
    folded = fold_name(text)
    aligned = len(folded) == len(text)
    title_case = is_title and _is_title_case(text, language)
    aliases = _aliases()
    cities = aliases.cities
    # The words of the multi-word place names found here: one name, not several.
    place_words: set[str] = set()
    for match in aliases.pattern.finditer(folded):
        key = _matched_key(match)
        entity_id = aliases.ids[key]
        # "commissione" and "garante" are common words; "mistral" is also a wind: the bare
        # spelling counts only when capitalized.
        if entity_id in _CAPITALIZED_ONLY and aligned and not text[match.start()].isupper():
            continue
        if key in aliases.capitals and aligned and not text[match.start() : match.end()].isupper():
            continue
        written_in = aliases.demonyms.get(key)
        if written_in is not None:
            if language in written_in and language != "en":
                pass  # "tedesco" in an Italian article, "Deutsche" in a German one
            elif not (
                "en" in written_in and aligned and _counts_as_place(text, match, other, title_case)
            ):
                continue  # elsewhere only English's forms count, capitalized: "polish" is a verb
        elif key in aliases.places:
            if aligned and not _counts_as_place(text, match, other, title_case):
                continue
            if " " in key:
                place_words.update(key.split())
        keys.add(entity_id)
        weights[entity_id] = alias_weight(entity_id)
    for match in _DATE_RE.finditer(folded):
        month = _MONTHS[match.group(2)]
        key = f"@{month:02d}-{int(match.group(1)):02d}"
        keys.add(key)
        weights[key] = DATE_WEIGHT
    previous: tuple[str, int] | None = None  # the last name kept, and where it ended
    for match in _WORD.finditer(text):
        word = match.group()
        first = word[0]
        if first.isdigit():
            _add_number(word, keys, weights)
            continue
        if not first.isupper():
            continue
        name, head, distinctive = _word_info(word)
        if head is not None:
            # "Replika-Anbieter", "DSA-Verfahren": the name before the hyphen counts too.
            keys.add(head)
            weights[head] = max(weights.get(head, 0.0), GERMAN_NOUN_WEIGHT)
        if name is None or name in place_words:
            continue
        initial = title_case or _starts_sentence(text, match.start())
        if initial and not distinctive and not _capitalized_inside(word, other):
            continue
        weight = GERMAN_NOUN_WEIGHT if language == "de" and not distinctive else NAME_WEIGHT
        city = cities.get(name)
        if city is not None:  # "München" is no common noun; "Parigi" weighs as "Paris"
            name, weight = city, alias_weight(city) if city[:4] != "geo:" else NAME_WEIGHT
        keys.add(name)
        if weights.get(name, 0.0) < weight:
            weights[name] = weight
        if previous is not None and text[previous[1] : match.start()] == " ":
            neighbours.add((previous[0], name))
        # "Corvana's Lumetra bid": a possessive ends a name.
        possessive = word.endswith(("'s", "’s"))
        previous = None if possessive else (name, match.end())
    return keys


def _matched_key(match: re.Match[str]) -> str:
    """The alias table's key of a match in folded text (`entity_places.spelling_key` without
    folding again): one space between its words, the hyphen read as a space."""
    return " ".join(re.split(r"[\s-]+", match.group()))


# A place spelling this long is the place even where a sentence starts ("Kazakhstan and
# Uzbekistan open talks"): the ones that are words too are short ("Chad", "Oral", "Gana").
# Shorter cuts gain a little more but let in "Réunion", "Maurice", "Jordan" and "Madera".
_LONG_PLACE = 8


def _counts_as_place(text: str, match: re.Match[str], other: str, title_case: bool) -> bool:
    """A CLDR place name counts as a capitalized name would: "Chad", "Oral" and "Gana"
    (Ghana in Italian, "wins" in Spanish) start sentences as words. A long one counts at a
    sentence's start too, except in a Title Case headline, where every word is capitalized."""
    word = text[match.start() : match.end()]
    if not word[0].isupper():
        return False
    if " " in word or "-" in word:
        return True  # "Stati Uniti", "Zuid-Korea": a multi-word name is no common word
    initial = title_case or _starts_sentence(text, match.start())
    long_at_start = not title_case and len(word) >= _LONG_PLACE
    return (
        not initial or long_at_start or _looks_like_a_name(word) or _capitalized_inside(word, other)
    )


# CLDR lists the United Nations among its territories ("UN"): an institution, not a country.
_NOT_COUNTRIES = frozenset({"un"})


@cache
def _country_ids() -> frozenset[str]:
    """The ids of the CLDR's countries and territories, under the id of the hand-written
    alias a country joined ("Alemanha" made `germany` one); not the time zones' cities, as
    "Tallinn" in one title and "Estonia" in the other is one place, not two."""
    aliases = _aliases()
    ids = set()
    for key, place in place_spellings().ids.items():
        entity_id = aliases.ids.get(key, place)
        if place.startswith("cldr:") and entity_id not in _NOT_COUNTRIES:
            ids.add(entity_id)
    return frozenset(ids)


def country_names(text: str) -> frozenset[str]:
    """The countries `text` names with a capital letter, wherever in a sentence: unlike
    `extract_entities`, a headline's first word counts ("Thailand's conservatives win"),
    as its only use (`story_scoring.places_conflict`) asks which countries a text is about,
    not which names two articles share."""
    if not text:
        return frozenset()
    folded = fold_name(text)
    aligned = len(folded) == len(text)
    aliases, countries = _aliases(), _country_ids()
    found = set()
    for match in aliases.pattern.finditer(folded):
        key = _matched_key(match)
        entity_id = aliases.ids[key]
        # "tells us" is no United States: the capitals are read where folding kept positions.
        written = text[match.start() : match.end()] if aligned else ""
        if written and not (written.isupper() if key in aliases.capitals else written[0].isupper()):
            continue
        if entity_id in countries and key not in aliases.demonyms:
            found.add(entity_id)
    return frozenset(found | _alike_countries(text))


def _alike_countries(text: str) -> set[str]:
    """The countries spelled alike in every language (`PlaceTable.alike`) that `text` names
    with a capital letter, alone or in a compound ("US-Iran talks")."""
    found: set[str] = set()
    for match in _WORD.finditer(text):
        found.update(_alike_in_word(match.group()))
    return found


@lru_cache(maxsize=1 << 16)
def _alike_in_word(word: str) -> tuple[str, ...]:
    """The alike-spelled countries a capitalized word names; cached, as words repeat."""
    alike = place_spellings().alike
    # `fold_name` writes "’" as "'": "Iran’s" and "Iran's" are one key.
    keys = (fold_name(part).rstrip("'") for part in word.split("-") if part[:1].isupper())
    found = (alike.get(key.removesuffix("'s")) for key in keys)
    return tuple(country for country in found if country)


def _add_number(word: str, keys: set[str], weights: dict[str, float]) -> None:
    digits = word.replace(",", "").replace(".", "")
    if len(digits) < 2 or _YEAR.match(digits):
        return
    key = "#" + digits.lstrip("0")
    keys.add(key)
    weights[key] = number_weight(digits)


@lru_cache(maxsize=1 << 16)
def _word_info(word: str) -> tuple[str | None, str | None, bool]:
    """A capitalized word → (its key or None when it is no name, the name before its hyphen
    or None, whether it looks like a name wherever it stands). Cached: words repeat."""
    aliases = _aliases()
    key = fold_name(word).rstrip("'-")
    if key.endswith("'s"):
        key = key[:-2]
    head = None
    if "-" in key:
        if key.replace("-", " ") in aliases.ids:
            return None, None, False  # an alias, already counted under its id
        first = key.split("-", 1)[0]
        if first not in COMMON_WORDS and first not in aliases.ids and len(first) > 2:
            head = first
    if "'" in key:  # "L'Europa", "dell'UE": the article is not part of the name
        key = key.rsplit("'", 1)[1]
    if len(key) < 2 or key in COMMON_WORDS or key in aliases.ids or key in aliases.part_words:
        return None, head, False
    return key, head, _looks_like_a_name(word)


# A digit, or an upper-case letter right after a lower-case one ("OpenAI", "DeepMind");
# "KI-Modelle" and "US-Investor" are German compounds, not names.
_CAMEL_OR_DIGIT = re.compile(rf"[^\W\d_](?<![{_UPPER}])[{_UPPER}]|\d")


def _looks_like_a_name(word: str) -> bool:
    """CNIL, OpenAI, GPT-4, McKinsey: a name whatever its place in the sentence."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    return _CAMEL_OR_DIGIT.search(word) is not None


def _starts_sentence(text: str, start: int) -> bool:
    if start == 0:
        return True
    return _SENTENCE_BREAK.search(text, max(0, start - 4), start) is not None


def _capitalized_inside(word: str, other: str) -> bool:
    """The word also appears capitalized somewhere else, not at a sentence start."""
    return word in other or word.rstrip("'’s") in other


def _is_title_case(title: str, language: str | None = None) -> bool:
    """Most long words capitalized ("Mistral Opens Office In Munich"). German capitalizes
    every noun, so a German headline is Title Case only when its verbs and adjectives are
    capitalized too: "Mistral AI eröffnet Büro in München" is sentence case."""
    words = [w for w in title.split() if len(w) >= 4 and w[0].isalpha()]
    capitalized = sum(w[0].isupper() for w in words)
    if language == "de":
        return len(words) >= 4 and capitalized == len(words)
    return len(words) >= 4 and capitalized * 3 >= len(words) * 2


def weight(entities: Entities, key: str) -> float:
    return entities.weights.get(key, 0.0)


def label(key: str) -> str:
    """How a key reads in an explanation: the alias's first spelling, a name, a figure."""
    labels = _aliases().labels
    if key in labels:
        return labels[key]
    if key.startswith("#"):
        return key[1:]
    return key.title() if key.islower() else key
