"""Ranking by independent coverage: outlets are owned domains, primary sources lead."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.curate.digest import build_digest
from policywire.curate.outlets import outlet_of, registrable_domain, story_outlets
from policywire.curate.ranking import primary_first, rank
from policywire.deliver.render import DigestView, view_card
from policywire.deliver.telegram_html import story_html
from policywire.errors import ConfigError
from policywire.models import MatchedItem, Story
from tests.helpers import NOW, config_yaml, item, matched

TITLE = "Commission opens AI Act probe into Acme Robotics over biometric cameras"
OTHER = "Parliament backs Lumen Labs deal on the GPAI code of practice"


def article(n: int, feed: str, link: str, source: str, *, hours: float = 0) -> MatchedItem:
    title = TITLE if n < 10 else OTHER
    base = item(
        n,
        title=title if n % 2 else title.replace(" o", "  o", 1),
        link=link,
        feed=feed,
        source=source,
        published=NOW - timedelta(hours=hours),
    )
    return matched(base, pk=n)


def independent() -> list[MatchedItem]:
    """One story told by three sites, a little older and hitting fewer keywords."""
    return [
        article(1, "https://alpha.example/feed", "https://alpha.example/a", "Alpha", hours=3),
        article(2, "https://beta.example/rss", "https://www.beta.example/b", "Beta", hours=3),
        article(3, "https://gamma.example/atom", "https://gamma.example/c", "Gamma", hours=3),
    ]


def one_site() -> list[MatchedItem]:
    """A story told by three feeds of one site, under three different feed names."""
    site = "https://www.site.example"
    feeds = ("https://feeds.site.example/politics", "https://feeds.site.example/tech", site)
    members = []
    for n, (feed, name) in enumerate(
        zip(feeds, ("Site Politics", "Site Tech", "Site"), strict=True), 11
    ):
        member = article(n, feed, f"{site}/story-{n}", name)
        hits = (*member.hits, *matched(member.item, "gdpr", "dsa").hits)  # more keywords hit
        members.append(MatchedItem(member.item, hits, member.sources, member.first_seen, n))
    return members


def test_three_independent_outlets_outrank_three_feeds_of_one_site() -> None:
    spread, single = Story(*_lead_and_rest(independent())), Story(*_lead_and_rest(one_site()))
    assert len(spread.outlets) == len(single.outlets) == 3  # three names either way
    assert story_outlets(spread) == ("alpha.example", "beta.example", "gamma.example")
    assert story_outlets(single) == ("site.example",)
    # The one-site story is newer and hits more keywords: only the outlets put it second.
    assert rank([single, spread]) == [spread, single]


def test_the_same_holds_through_build_digest() -> None:
    digest = build_digest(
        [*one_site(), *independent()],
        destination="console:stdout",
        language="en",
        topics=["AI"],
        max_stories=10,
        now=NOW,
    )
    assert [len(s.members) for s in digest.stories] == [3, 3]  # two stories of three
    first, second = digest.stories
    assert {m.pk for m in first.members} == {1, 2, 3}
    assert {m.pk for m in second.members} == {11, 12, 13}


def _lead_and_rest(members: list[MatchedItem]) -> tuple[MatchedItem, tuple[MatchedItem, ...]]:
    return members[0], tuple(members[1:])


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://news.bbc.co.uk/politics/1", "bbc.co.uk"),
        ("https://www.bbc.co.uk/news", "bbc.co.uk"),
        ("https://digital-strategy.ec.europa.eu/en/news", "europa.eu"),
        ("https://alice.github.io/feed.xml", "alice.github.io"),  # a private suffix: her own
        ("https://MISTRAL.AI./news", "mistral.ai"),
        ("http://127.0.0.1:8080/feed.xml", None),
        ("http://[::1]:8080/feed.xml", None),
        ("http://localhost/feed.xml", None),
        ("file:///srv/feeds/one.xml", None),
        ("http://[::1/broken", None),
    ],
)
def test_registrable_domains(url: str, domain: str | None) -> None:
    assert registrable_domain(url) == domain


def test_an_address_without_a_domain_is_its_own_outlet() -> None:
    one = matched(item(1, link="http://127.0.0.1:9/a", feed="http://127.0.0.1:9/feed"))
    two = matched(item(2, link="http://127.0.0.1:10/b", feed="http://127.0.0.1:10/feed"))
    files = [
        matched(item(n, link=f"urn:item:{n}", feed=f"file:///srv/feeds/{n}.xml")) for n in (3, 4)
    ]
    assert outlet_of(one) != outlet_of(two)
    assert outlet_of(files[0]) == "file:///srv/feeds/3.xml"
    assert outlet_of(files[0]) != outlet_of(files[1])
    # An aggregator's item whose link is on another site belongs to that site.
    via = matched(item(5, link="https://alpha.example/x", feed="https://aggregator.example/f"))
    assert outlet_of(via) == "alpha.example"


def test_a_primary_source_leads_its_story_and_breaks_a_tie() -> None:
    press = "https://ec.europa.eu/commission/presscorner/rss"
    official = matched(
        item(
            21,
            title=TITLE,
            summary="Short.",  # a shorter summary and another language: it still leads
            link="https://ec.europa.eu/commission/presscorner/detail/ip_1",
            feed=press,
            source="European Commission",
            language="fr",
            published=NOW - timedelta(hours=6),
        ),
        pk=21,
    )
    press_story = Story(independent()[0], (official,))
    led = primary_first(press_story, {press}, "en")
    assert led.lead is official
    assert [m.pk for m in led.related] == [1]
    assert primary_first(press_story, set(), "en") is press_story
    # Two outlets as well, no primary, and newer: only the primary source puts it second.
    newer = article(4, "https://delta.example/f", "https://delta.example/d", "Delta", hours=1)
    other = Story(independent()[1], (newer,))
    assert rank([other, press_story], {press}) == [press_story, other]
    assert rank([other, press_story]) == [other, press_story]
    digest = build_digest(
        [independent()[0], official],
        destination="console:stdout",
        language="en",
        topics=["AI"],
        max_stories=10,
        now=NOW,
        primary_feeds=frozenset({press}),
    )
    assert [s.lead.pk for s in digest.stories] == [21]


def test_the_card_says_how_many_outlets_told_the_story() -> None:
    story = Story(*_lead_and_rest(independent()))
    texts = {}
    for language in ("en", "it", "fr", "de"):
        view = DigestView(language, "", (), None, "")
        card = view_card(story, language, "UTC", updated=NOW)
        texts[language] = story_html(card, view)
    assert "3 outlets" in texts["en"] and "· updated 12:00" in texts["en"]
    assert "3 testate" in texts["it"]
    assert "3 médias" in texts["fr"]
    assert "3 Medien" in texts["de"]
    single = view_card(Story(independent()[0]), "en", "UTC", updated=None)
    assert single.outlets_line == "" and single.updated == ""  # one outlet: nothing to count
    one_site_card = view_card(Story(*_lead_and_rest(one_site())), "en", "UTC", None)
    assert one_site_card.outlets_line == ""  # three feeds of one site are one outlet


def test_primary_is_validated_with_its_line(tmp_path: Path) -> None:
    def load(primary: object) -> list[str]:
        text = config_yaml(
            database=tmp_path / "x.db",
            feeds=[{"url": "https://ec.europa.eu/rss", "primary": primary}],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout", "cards": "sometimes"}],
            settings={"card_edit_interval": "soon"},
        )
        path = tmp_path / "feeds.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            config = load_config(path, env={})
        except ConfigError as exc:
            return [line.removeprefix(f"{tmp_path}/") for line in exc.errors]
        return [f"primary={config.feeds[0].primary}"]

    errors = load("maybe")
    assert "feeds.yaml:4: settings.card_edit_interval: invalid duration 'soon'" in errors[0]
    assert errors[1] == "feeds.yaml:7: feeds[0].primary: must be true or false, got 'maybe'"
    assert errors[2].startswith("feeds.yaml:14: destinations[0].cards: must be true or false")
    good = config_yaml(
        database=tmp_path / "x.db",
        feeds=[{"url": "https://ec.europa.eu/rss", "primary": True}, "https://a.example/f"],
        topics={"ai-act": ["AI Act"]},
        destinations=[{"telegram": "@channel_x", "cards": False}],
        settings={"card_edit_interval": "2m"},
    )
    path = tmp_path / "feeds.yaml"
    path.write_text(good, encoding="utf-8")
    config = load_config(path, env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert [f.primary for f in config.feeds] == [True, False]
    assert config.destinations[0].cards is False
    assert config.settings.card_edit_interval == timedelta(minutes=2)
