"""Words of nationality (`policywire.curate.entity_demonyms`): a language spoken mostly in one
country names that country's people, in every language and its inflections; the guards on
languages of many countries, on common words and on capital letters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policywire.curate.entities import country_names, extract_entities
from policywire.curate.entity_demonyms import demonym_spellings
from policywire.curate.story_scoring import GroupingParams, article_features, pair_score
from policywire.models import Item, MatchedItem, TopicHit


def _id_of(country: str) -> str:
    (found,) = extract_entities("Talks", f"The talks in {country} went on.", "en").all - {"talks"}
    return found


@pytest.mark.parametrize(
    ("texts", "country"),
    [
        (
            [
                ("Talks resume", "The Uzbek delegation arrived on Monday.", "en"),
                ("Riprendono i colloqui", "La delegazione uzbeca è arrivata lunedì.", "it"),
                ("Reprise des pourparlers", "Les négociateurs ouzbeks sont arrivés.", "fr"),
                ("Gespräche gehen weiter", "Die usbekische Delegation ist da.", "de"),
                ("Se reanudan las conversaciones", "La delegación uzbeka llegó.", "es"),
            ],
            "Uzbekistan",
        ),
        (
            [
                ("Coalition talks collapse", "The German government said no.", "en"),
                ("Crisi di governo", "Il governo tedesco ha detto no.", "it"),
                ("Crise politique", "Le gouvernement allemand a refusé.", "fr"),
                ("Koalition zerbricht", "Die deutsche Regierung lehnte ab.", "de"),
            ],
            "Germany",
        ),
        (
            [
                ("Vote counted", "On Sunday Estonian voters chose a new parliament.", "en"),
                ("Voto contato", "Gli elettori estoni hanno scelto.", "it"),
                ("Vote compté", "Les électeurs estoniens ont choisi.", "fr"),
            ],
            "Estonia",
        ),
        (
            [
                ("Brewer expands", "A Dutch brewer bought a rival.", "en"),
                ("Birrificio in crescita", "Un birrificio olandese ha comprato un rivale.", "it"),
            ],
            "the Netherlands",
        ),
    ],
)
def test_a_nationality_is_its_country_in_every_language_and_form(
    texts: list[tuple[str, str, str]], country: str
) -> None:
    expected = _id_of(country)
    for title, summary, language in texts:
        assert expected in extract_entities(title, summary, language).all, (summary, language)


@pytest.mark.parametrize(
    "language_name",
    # Spoken in many countries (English, French, Spanish, Arabic), or mostly outside the
    # country its name starts like (Portuguese: Brazil), or no people's name (Hindi).
    ["English", "French", "Spanish", "Arabic", "Portuguese", "Hindi"],
)
def test_a_language_of_many_countries_or_of_no_people_names_no_country(
    language_name: str,
) -> None:
    summary = f"The statement was published in {language_name} on Monday."
    assert not {k for k in extract_entities("Statement", summary, "en").all if "cldr:" in k}
    assert language_name.lower() not in demonym_spellings().ids


def test_english_forms_count_only_capitalized() -> None:
    poland = _id_of("Poland")
    assert (
        poland
        in extract_entities("Farmers protest", "Angry Polish farmers blocked roads.", "en").all
    )
    assert poland not in extract_entities("Shine", "They polish the trophies daily.", "en").all


def test_lower_case_forms_count_only_in_their_own_language() -> None:
    # Spanish "finés" (Finnish) folds to "fines": left out, it is "ends" in Spanish, and an
    # English article's fines are penalties anyway.
    finland = _id_of("Finland")
    assert finland not in extract_entities("GDPR", "Regulators issued fines to Meta.", "en").all
    assert finland not in extract_entities("Plazo", "A fines de mes se decidirá.", "es").all
    # Italian "ceci" (Czech, plural) is French "this".
    czechia = _id_of("Czechia")
    assert (
        czechia not in extract_entities("Réunion", "Ceci est un accord entre les deux.", "fr").all
    )
    assert czechia in extract_entities("Vertice", "I ministri cechi hanno firmato.", "it").all
    # French "malaise" (Malay, feminine) is "unease".
    malaysia = _id_of("Malaysia")
    assert malaysia not in extract_entities("Marchés", "Un malaise gagne les marchés.", "fr").all
    # An article of unknown language counts only the capitalized English forms.
    assert _id_of("Germany") not in extract_entities("Note", "governo tedesco", None).all


def test_a_nationality_wins_over_a_city_s_alternate_name() -> None:
    # GeoNames lists "Kazakh" among Petropavl's alternate names.
    found = extract_entities("Talks", "Two Kazakh officials met their neighbours.", "en").all
    assert _id_of("Kazakhstan") in found
    assert not {k for k in found if k.startswith("geo:")}


def test_a_nationality_is_no_country_in_a_title_for_the_place_conflict() -> None:
    # Two titles naming two countries lose `place_conflict`; "German" in a headline about
    # Ukraine says who speaks, not where it happens.
    assert country_names("German chancellor visits Ukraine") == country_names("Visit to Ukraine")


def _article(title: str, summary: str, language: str, feed: str) -> MatchedItem:
    item = Item(
        feed=feed,
        id=title,
        title=title,
        link=f"https://{feed}.example/story",
        summary=summary,
        published=datetime(2026, 2, 3, 9, tzinfo=UTC),
        language=language,
    )
    return MatchedItem(item, (TopicHit("news", ("x",)),))


def test_two_languages_share_the_country_their_adjectives_name() -> None:
    params = GroupingParams()
    italian = _article("Acqua, intesa tra kazaki e uzbeki", "Accordo uzbeco sul fiume.", "it", "a")
    english = _article("Uzbek and Kazakh envoys agree", "An Uzbek envoy signed.", "en", "b")
    a = article_features(italian, (), params)
    b = article_features(english, (), params)
    assert {_id_of("Uzbekistan"), _id_of("Kazakhstan")} <= set(pair_score(a, b, params).shared)
