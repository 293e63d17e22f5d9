"""Two titles naming two different countries: the same kind of event in two places."""

from __future__ import annotations

import dataclasses

import numpy as np

from policywire.curate.entities import country_names
from policywire.curate.stories import (
    GroupingParams,
    explain_pair,
    group_articles,
    merge_same_link,
)
from policywire.curate.story_scoring import article_features, pair_value, places_conflict
from policywire.models import MatchedItem
from tests.helpers import item, matched

# A cosine of 0.51: a score of 0.8 from similarity alone, 0.5 with the penalty.
_ALIKE = (np.array([1.0, 0.0], dtype=np.float32), np.array([0.51, 0.86], dtype=np.float32))


def test_country_names_count_a_headlines_first_word_but_no_city_or_lower_case() -> None:
    # A headline's first word counts here (`extract_entities` asks the summary to confirm it).
    assert country_names("Thailand’s conservatives win a shock big victory") == {"cldr:TH"}
    assert country_names("Stati Uniti e Giappone firmano") == {"us", "cldr:JP"}
    assert country_names("What the Bondi Beach attack tells us") == set()  # not the US
    assert country_names("Tamm claims victory in Tallinn") == set()  # a city, not a country
    assert country_names("UN envoy meets both sides") == set()  # an institution


def test_a_country_spelled_alike_in_every_language_is_a_country_too() -> None:
    # "Iran" and "Nigeria" are no entries of the place table (a capitalized name already
    # matches them across languages), yet a title that names them names a country.
    assert country_names("Iran's president visits Nigeria") == {"cldr:IR", "cldr:NG"}
    assert country_names("US-Iran talks resume in Geneva") == {"us", "cldr:IR"}
    assert country_names("Irán y Estados Unidos vuelven a negociar") == {"cldr:IR", "us"}
    assert country_names("Talks With Iran Resume") == {"cldr:IR"}  # Title Case too
    assert country_names("the iran file") == set()  # lower case is no name
    assert country_names("New Jersey votes on Tuesday") == set()  # not the island of Jersey
    params = GroupingParams()
    iran = article_features(
        _votes(5, "Iran votes for a new parliament", "Turnout was low."), (), params
    )
    iraq = article_features(
        _votes(6, "Iraq votes for a new parliament", "Turnout was low."), (), params
    )
    assert places_conflict(iran, iraq)


def _votes(
    n: int, title: str, summary: str, feed: str = "https://news.example/feed.xml"
) -> MatchedItem:
    return matched(item(n, title=title, summary=summary, feed=feed))


def _japan() -> MatchedItem:
    return _votes(1, "Japan’s ruling party wins a landslide", "Takaichi wins a snap vote.")


def _thailand() -> MatchedItem:
    return _votes(
        2,
        "Thailand’s conservatives win a landslide",
        "Anutin wins the vote.",
        feed="https://other.example/rss",
    )


def test_two_titles_naming_two_countries_neither_article_names_conflict() -> None:
    params = GroupingParams()
    japan, thailand = (article_features(m, (), params) for m in (_japan(), _thailand()))
    assert places_conflict(japan, thailand)
    # One story seen from two countries names the other's somewhere: no conflict.
    reply = _votes(3, "Denmark answers Trump", "Copenhagen says Greenland is not for sale.")
    greenland = _votes(4, "Greenland rejects the offer", "Nuuk and Denmark say no.")
    assert not places_conflict(*(article_features(m, (), params) for m in (reply, greenland)))
    # A title without a country conflicts with none.
    plain = _votes(5, "Ruling party wins a landslide", "Takaichi wins a snap vote.")
    assert not places_conflict(article_features(plain, (), params), thailand)


def test_the_conflict_takes_its_penalty_off_the_score_with_and_without_vectors() -> None:
    params = GroupingParams()
    off = dataclasses.replace(params, place_conflict=0.0)
    window = params.window.total_seconds()
    for vectors in ((None, None), _ALIKE):
        a, b = (
            article_features(m, (), params, v)
            for m, v in zip((_japan(), _thailand()), vectors, strict=True)
        )
        before = pair_value(a, b, off, window)
        after = pair_value(a, b, params, window)
        assert after == max(0.0, before - params.place_conflict)


def test_grouping_keeps_two_countries_votes_apart_and_says_why() -> None:
    params = GroupingParams()
    articles = merge_same_link([_japan(), _thailand()])
    keys = [(a.item.item.feed, a.item.item.id) for a in articles]
    vectors = dict(zip(keys, _ALIKE, strict=True))
    assert len(group_articles(articles, params, vectors)) == 2
    off = dataclasses.replace(params, place_conflict=0.0)
    assert len(group_articles(articles, off, vectors)) == 1
    explained = explain_pair(_japan(), _thailand(), vectors=_ALIKE)
    assert not explained.same_story
    assert f"the titles name two countries −{params.place_conflict:.2f}" in explained.summary
