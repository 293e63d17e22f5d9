"""Place names in every language our feeds use, from the Unicode CLDR (through Babel) rather
than from a hand-written list: the name of every country and territory, and the exemplar
city of every time zone ("Wien", "Vienna", "Vienne", "Viena", "Wenen", "Wiedeń").

`place_spellings()` maps each spelling to one id per place ("cldr:AT", "tz:Europe/Vienna"),
so "Stati Uniti", "États-Unis" and "Estados Unidos" compare equal; `policywire.curate.entities`
merges it into its alias table. Only places whose name differs between two of the languages
are kept: a place spelled alike everywhere ("Jersey", "Darwin", "Phoenix") already compares
equal as a capitalized name, and leaving it out spares common words and first names that
happen to be places; one of several words ("Costa Rica", "Los Angeles") is kept, so that it
is one name and not two. An island, atoll or station keeps only its names of several words
and its compounds (`_GENERIC_ENDINGS`). The table is built on first use (a few hundred
milliseconds) and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from babel import Locale
from babel.core import get_global

from policywire.curate.entity_words import COMMON_WORDS, fold_name

__all__ = ["PLACE_LANGUAGES", "PlaceTable", "place_spellings", "spelling_key"]

# The languages of our feeds (en it fr de es pt) and two more that cost nothing (nl pl).
PLACE_LANGUAGES = ("en", "it", "fr", "de", "es", "pt", "nl", "pl")

# CLDR "territories" that are no place: groupings of our own field (the EU, the euro area:
# every AI-policy article names them), the unknown region and the pseudo-locales.
_NOT_PLACES = frozenset({"EU", "EZ", "QO", "XA", "XB", "ZZ"})
# A spelling shorter than this (letters) is too easily an acronym or a word ("Rom", "Man").
MIN_LETTERS = 4
_SHARED_TO_MERGE = 3
# A place whose English name says it is an island, an atoll or a station keeps only its
# spellings of several words and its compounds ("Christmas Island", "Weihnachtsinsel"): its
# bare name is more often a holiday, a word or another place ("Christmas", Spanish
# "Navidad", Italian "Pasqua", German "Kanton", "Wake", "Troll", "Norfolk").
_GENERIC_ENDINGS = frozenset({"island", "islands", "atoll", "land", "station"})
_COMPOUND_ENDINGS = ("insel", "inseln", "eiland", "eilanden")
# The English names CLDR keeps as variants of a new official one (`alt="variant"` and
# `alt="short"` in its en.xml), which Babel does not expose: English news still writes
# "Turkey" far more often than "Türkiye". Only those a feed writes and no other place claims
# ("Congo (DRC)" would be Congo, which is two countries; "UK" and "US" are the aliases').
_ENGLISH_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "CI": ("Ivory Coast",),
    "CV": ("Cape Verde",),
    "CZ": ("Czech Republic",),
    "PS": ("Palestine",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "TR": ("Turkey",),
}
# Spelled alike everywhere, and more often the last word of a longer name: "New Jersey".
_BARE_IN_LONGER = frozenset({"cldr:JE"})
_PARENTHESIS = re.compile(r"\s*\(([^)]*)\)")


def spelling_key(spelling: str) -> str:
    """How a spelling is compared: folded, one space between its words."""
    return " ".join(re.split(r"[\s-]+", fold_name(spelling).strip()))


@dataclass(frozen=True, slots=True)
class PlaceTable:
    ids: Mapping[str, str]  # spelling key → place id
    labels: Mapping[str, str]  # place id → its English name
    # The countries and territories left out of `ids` as spelled alike in every language
    # ("Iran", "Nigeria", "Nepal"): two articles naming one already share a capitalized name,
    # but which countries a title names (`entities.country_names`) is asked of them too.
    alike: Mapping[str, str] = field(default_factory=dict)  # spelling key → "cldr:…"


@cache
def place_spellings(languages: tuple[str, ...] = PLACE_LANGUAGES) -> PlaceTable:
    """Every spelling of every kept place in `languages` (built once per process)."""
    locales = [Locale.parse(language) for language in languages]
    places = _merged(list(_places(locales)))
    owners: dict[str, set[str]] = {}
    for place in places:
        for key in place.keys:
            owners.setdefault(key, set()).add(place.id)
    ids: dict[str, str] = {}
    labels: dict[str, str] = {}
    alike: dict[str, str] = {}
    for place in places:
        # A spelling two places claim ("Salvador": El Salvador, and Bahia's city in
        # Portuguese) tells neither apart: it is left to the names.
        keys = sorted(k for k in _unambiguous(place) if len(owners[k]) == 1)
        if len(keys) < 2 and " " not in "".join(keys):
            # Spelled alike in every language: a capitalized name already matches. A name of
            # several words stays ("Costa Rica", "Los Angeles"): one name, not two.
            if keys and place.id.startswith("cldr:") and place.id not in _BARE_IN_LONGER:
                alike[keys[0]] = place.id
            continue
        labels[place.id] = place.english
        ids.update(dict.fromkeys(keys, place.id))
    return PlaceTable(ids, labels, alike)


@dataclass(slots=True)
class _Place:
    id: str
    english: str
    keys: set[str]


def _unambiguous(place: _Place) -> set[str]:
    """The spellings of `place` that name it and nothing else (`_GENERIC_ENDINGS`)."""
    if spelling_key(place.english).rsplit(" ", 1)[-1] not in _GENERIC_ENDINGS:
        return place.keys
    return {k for k in place.keys if " " in k or k.endswith(_COMPOUND_ENDINGS)}


def _places(locales: list[Locale]) -> Iterator[_Place]:
    """Every territory, then every time zone's city, with its usable spellings."""
    english = locales[0]
    codes = [c for c in sorted(english.territories) if c.isalpha() and c not in _NOT_PLACES]
    named = {
        spelling_key(_outside(locale.territories.get(code, "")))
        for code in codes
        for locale in locales
    }
    variants = _ENGLISH_VARIANTS if english.language == "en" else {}
    for code in codes:
        names = [locale.territories.get(code, "") for locale in locales]
        names += variants.get(code, ())
        # "Myanmar (Burma)" is also "Burma"; "RAS di Hong Kong (Cina)" is not China.
        inside = [part for name in names for part in _PARENTHESIS.findall(name)]
        keys = _keys([*map(_outside, names), *inside])
        yield _Place(f"cldr:{code}", _outside(names[0]), keys - (_keys(inside) & named))
    for zone in _zones(locales):
        fallback = zone.rsplit("/", 1)[1].replace("_", " ")  # CLDR's own rule for the root
        cities = [(locale.time_zones.get(zone) or {}).get("city", fallback) for locale in locales]
        # "Beulah (Dakota du Nord)": what the brackets hold is a region, not the city.
        yield _Place(f"tz:{zone}", _outside(cities[0]), _keys(map(_outside, cities)))


def _merged(places: list[_Place]) -> list[_Place]:
    """A city-state's territory and city are one place: they have the same English name
    ("Singapore") or share three spellings ("Città del Vaticano", "Vaticaanstad", "Watykan":
    "Vatican City" and the time zone's "Vatican"). Fewer in common is a coincidence: the
    time zone's "Mexico" is Mexico City in French, the country in English."""
    kept: list[_Place] = []
    by_english: dict[str, _Place] = {}
    by_key: dict[str, list[_Place]] = {}
    for place in places:
        english = spelling_key(place.english)
        sharing = [other for key in place.keys for other in by_key.get(key, ())]
        into = by_english.get(english) or next(
            (other for other in sharing if sharing.count(other) >= _SHARED_TO_MERGE), None
        )
        if into is None:
            kept.append(place)
            by_english[english] = into = place
        else:
            into.keys |= place.keys
        for key in place.keys:
            if into not in by_key.setdefault(key, []):
                by_key[key].append(into)
    return kept


def _zones(locales: list[Locale]) -> list[str]:
    zones: set[str] = set(get_global("zone_territories"))
    for locale in locales:
        zones.update(str(z) for z in locale.time_zones if "city" in locale.time_zones[z])
    return sorted(z for z in zones if "/" in z and not z.startswith("Etc/"))


def _outside(name: str) -> str:
    """The name without what brackets or a comma add: "Beulah, North Dakota" is "Beulah"."""
    return _PARENTHESIS.sub("", name).split(",", 1)[0].strip()


def _keys(names: Iterable[str]) -> set[str]:
    """The usable keys of `names`; English "&" is also written "and" ("Trinidad & Tobago")."""
    keys = set()
    for name in names:
        for spelling in (name, name.replace("&", "and")):
            key = spelling_key(spelling)
            if _usable(key):
                keys.add(key)
    return keys


def _usable(key: str) -> bool:
    letters = sum(c.isalpha() for c in key)
    return letters >= MIN_LETTERS and key not in COMMON_WORDS and "&" not in key
