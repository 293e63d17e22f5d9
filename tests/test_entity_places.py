"""Place names from the CLDR (`policywire.curate.entity_places`) as names that compare equal
across languages, and the guards that keep common words and first names out."""

from __future__ import annotations

import pytest

from policywire.curate.entities import country_names, extract_entities, label
from policywire.curate.entity_places import place_spellings, spelling_key


def _places(title: str, summary: str = "", language: str | None = None) -> set[str]:
    keys = extract_entities(title, summary, language).all
    return {k for k in keys if k.startswith(("cldr:", "tz:"))}


@pytest.mark.parametrize(
    ("spellings", "place"),
    [
        (("Vienna", "Wien", "Vienne", "Viena", "Wenen", "Wiedeń"), "tz:Europe/Vienna"),
        (("Lisbon", "Lisbona", "Lisbonne", "Lissabon", "Lisboa"), "tz:Europe/Lisbon"),
        (("Switzerland", "Svizzera", "Suisse", "Schweiz", "Suiza", "Suíça"), "cldr:CH"),
    ],
)
def test_one_place_has_one_id_in_every_language(spellings: tuple[str, ...], place: str) -> None:
    ids = place_spellings().ids
    assert {ids[spelling_key(s)] for s in spellings} == {place}


def test_a_country_the_alias_table_knows_keeps_its_id_in_the_new_languages() -> None:
    # "Alemanha" and "Alemania" are only CLDR's; Germany was already the alias `germany`.
    for text, language in [("Governo da Alemanha aprova", "pt"), ("Visita a Alemania", "es")]:
        assert "germany" in extract_entities(text, "", language).all


def test_a_multi_word_country_is_one_name_not_its_words() -> None:
    found = extract_entities("Accordo tra Corea del Sud e Giappone", "", "it")
    assert {"cldr:KR", "cldr:JP"} <= found.all
    assert not {"corea", "sud", "giappone"} & found.all
    assert label("cldr:KR") == "South Korea"


def test_two_languages_share_the_place_names_of_one_event() -> None:
    english = _places("Talks resume in Vienna", "Delegations from Switzerland arrived.", "en")
    german = _places("Gespräche in Wien gehen weiter", "Auch die Schweiz ist dabei.", "de")
    assert english == german == {"tz:Europe/Vienna", "cldr:CH"}


@pytest.mark.parametrize(
    ("title", "summary", "language", "place"),
    [
        # "Gana" is Ghana in Italian and "wins" in Spanish: a sentence's first word only.
        pytest.param("Gana el Real Madrid en casa", "", "es", "cldr:GH", id="short-word-first"),
        # a place name written in lower case is a word, whatever CLDR says
        pytest.param("", "Ha giocato contro la ghana.", "it", "cldr:GH", id="lower-case"),
        # a short spelling may be a first name at a sentence's start
        pytest.param("Chad Smith scores", "", "en", "cldr:TD", id="first-name"),
        # a Title Case headline capitalizes every word: its long places need the summary too
        pytest.param("Kazakhstan Wins Gold Again In Seoul", "", "en", "cldr:KZ", id="title-case"),
        # an island's bare name is a holiday, a word or another place
        pytest.param(
            "Christmas fairs open", "Crowds at Christmas fairs.", "en", "cldr:CX", id="christmas"
        ),
        pytest.param("Llega la Navidad", "Luces de Navidad.", "es", "cldr:CX", id="navidad"),
        pytest.param("Traffico", "Le partenze per Pasqua.", "it", "tz:Pacific/Easter", id="pasqua"),
        pytest.param("Neue Regeln", "Im Kanton Zürich.", "de", "tz:Pacific/Kanton", id="kanton"),
    ],
)
def test_a_spelling_that_reads_as_something_else_is_not_the_place(
    title: str, summary: str, language: str, place: str
) -> None:
    assert place not in extract_entities(title, summary, language).all


def test_a_place_at_a_sentence_start_counts_when_the_article_capitalizes_it_again() -> None:
    found = extract_entities("Ghana votes", "Observers praised Ghana's count.", "en")
    assert "cldr:GH" in found.all


def test_a_long_place_name_counts_at_a_sentence_start() -> None:
    found = extract_entities("Kazakhstan and Uzbekistan open talks", "", "en")
    assert {"cldr:KZ", "cldr:UZ"} <= found.all
    german = extract_entities("Usbekistan lädt ein", "Kasachstan sagt zu.", "de")
    assert {"cldr:KZ", "cldr:UZ"} <= german.all


def test_short_and_shared_spellings_are_left_to_the_names() -> None:
    ids = place_spellings().ids
    assert all(sum(c.isalpha() for c in key) >= 4 for key in ids)  # no "Rom", "Man"
    assert spelling_key("Salvador") not in ids  # El Salvador, and Bahia's capital
    assert spelling_key("Jersey") not in ids  # spelled alike everywhere: a name already
    assert spelling_key("European Union") not in ids  # every AI-policy article names it


def test_the_table_is_built_once() -> None:
    assert place_spellings() is place_spellings()


@pytest.mark.parametrize(
    ("title", "summary", "language", "entity_id"),
    [
        ("Il voto", "Solo uno dei due governi ha firmato.", "it", "un"),
        ("What the ruling tells us", "Judges told us more.", "en", "us"),
        ("Uk-based firm", "", "en", "uk"),
    ],
)
def test_a_short_acronym_written_in_lower_case_is_a_word(
    title: str, summary: str, language: str, entity_id: str
) -> None:
    assert entity_id not in extract_entities(title, summary, language).all


def test_a_short_acronym_in_capitals_is_the_name() -> None:
    found = extract_entities("US tariffs", "The UNO and the UK replied.", "de").all
    assert {"us", "un", "uk"} <= found


def test_an_island_is_found_by_its_full_name_in_every_language() -> None:
    english = extract_entities("Flights to Christmas Island resume", "", "en").all
    german = extract_entities("Flüge zur Weihnachtsinsel", "", "de").all
    assert "cldr:CX" in english and "cldr:CX" in german


def test_a_swiss_canton_is_no_city() -> None:
    # GeoNames lists "Kanton" and "Canton" among Guangzhou's names.
    found = extract_entities("Neue Regeln", "Im Kanton Zürich gilt ab Montag eine Regel.", "de")
    assert found.all == {"tz:Europe/Zurich", "regel", "regeln"}


def test_a_holiday_in_a_headline_names_no_country() -> None:
    assert country_names("Christmas travel chaos as storms close roads") == frozenset()


@pytest.mark.parametrize(
    ("english", "elsewhere"),
    [
        ("Turkey's central bank raises rates", "Leitzins in der Türkei steigt"),
        ("Talks in Prague as Czech Republic votes", "Wahl in Tschechien"),
        ("Cocoa prices jump as Ivory Coast rains fail", "Pluies en Côte d'Ivoire"),
    ],
)
def test_the_english_name_cldr_keeps_as_a_variant_is_the_country(
    english: str, elsewhere: str
) -> None:
    # CLDR's English says "Türkiye", "Czechia" and "Côte d'Ivoire"; English news does not.
    assert country_names(english) and country_names(english) <= country_names(elsewhere)
    assert not country_names("The turkey was cooked for six hours")
