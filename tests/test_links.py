"""One article, one link (issue 13): tracking parameters and Google redirects leave the
canonical link, so an article reached through two feeds is one article. Every input is ours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policywire.curate.stories import merge_same_link
from policywire.ingest.links import (
    TRACKING_PARAMETERS,
    TRACKING_PREFIXES,
    canonical_link,
    extract_links,
)
from policywire.ingest.parse import parse_feed
from policywire.models import Item, MatchedItem, TopicHit

NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the parameters the review found on real links, each with the page's own kept
        (
            "https://www.dw.example/en/story/a-123?maca=en-rss-en-all-1573-rdf",
            "https://www.dw.example/en/story/a-123",
        ),
        (
            "https://heise.example/news/x.html?wt_mc=rss.red.ho.ho.atom.beitrag.beitrag",
            "https://heise.example/news/x.html",
        ),
        (
            "https://bbc.example/news/articles/c1?at_medium=RSS&at_campaign=rss&page=2",
            "https://bbc.example/news/articles/c1?page=2",
        ),
        ("https://news.example/p?_bhlid=abc&id=7", "https://news.example/p?id=7"),
        ("https://time.example/1/?itm_source=parsely-api&ITM_MEDIUM=x", "https://time.example/1/"),
        ("https://mac.example/a.html?scsonar=1", "https://mac.example/a.html"),
        (
            "https://yahoo.example/a?guccounter=1&guce_referrer=aHR0&guce_referrer_sig=AQ",
            "https://yahoo.example/a",
        ),
        (
            "https://ex.example/a?xtor=RSS-1&pk_campaign=feed&mtm_source=rss&q=ai",
            "https://ex.example/a?q=ai",
        ),
        ("https://ex.example/a?UTM_Source=x&fbclid=1&gclid=2&msclkid=3", "https://ex.example/a"),
        # kept: names a page uses for what it shows, order and spelling as written
        ("https://ex.example/a?ref=home&id=7&Page=2", "https://ex.example/a?ref=home&id=7&Page=2"),
        (
            "https://ex.example/a?source=feed&session=1",
            "https://ex.example/a?source=feed&session=1",
        ),
        ("https://ex.example/a?attitude=1&pkg=2", "https://ex.example/a?attitude=1&pkg=2"),
    ],
)
def test_canonical_link_drops_tracking_parameters(url: str, expected: str) -> None:
    assert canonical_link(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://outlet.example/2025/03/story/"
            "&ct=ga&cd=CAIy&usg=AFQj",
            "https://outlet.example/2025/03/story/",
        ),
        (
            "https://www.google.co.uk/url?q=https%3A%2F%2Foutlet.example%2Fa%3Fid%3D1%26utm_source%3Dx"
            "&sa=D",
            "https://outlet.example/a?id=1",
        ),
        ("https://google.de/url?url=https://outlet.example/c+d", "https://outlet.example/c+d"),
        # not a redirect to a page: left as it is
        (
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)",
        ),
        (
            "https://www.google.com/search?q=https://outlet.example/",
            "https://www.google.com/search?q=https://outlet.example/",
        ),
        (
            "https://notgoogle.example/url?url=https://outlet.example/",
            "https://notgoogle.example/url?url=https://outlet.example/",
        ),
    ],
)
def test_canonical_link_follows_google_redirects(url: str, expected: str) -> None:
    assert canonical_link(url) == expected


def test_canonical_link_is_idempotent() -> None:
    for url in (
        "https://www.google.com/url?url=https://outlet.example/a?maca=x%26b=1",
        "https://Ex.example:443/a?utm_source=x&b=2#f",
        "/rel?at_medium=rss",
    ):
        once = canonical_link(url, "https://outlet.example/feed")
        assert canonical_link(once) == once


def test_every_listed_name_is_lower_case() -> None:
    # Names compare case-blind by lower-casing the URL's: an upper-case entry could never match.
    assert all(name == name.lower() for name in (*TRACKING_PARAMETERS, *TRACKING_PREFIXES))


def test_links_in_bodies_are_canonical_too() -> None:
    markup = '<a href="https://other.example/p?maca=en-rss&amp;x=1">cited</a>'
    assert extract_links(markup, "https://outlet.example/") == ["https://other.example/p?x=1"]


def _feed(link: str, guid: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
        "<link>https://outlet.example/</link><item><title>Council adopts the text</title>"
        f"<link>{link}</link><guid>{guid}</guid>"
        "<description>The council adopted the text.</description></item></channel></rss>"
    ).encode()


def test_one_article_through_two_feeds_is_one_article() -> None:
    bodies = (
        _feed("https://outlet.example/a-1?maca=en-rss-en-all", "one"),
        _feed("https://outlet.example/a-1?utm_source=newsletter&amp;utm_medium=email", "two"),
    )
    items = [
        parse_feed(body, feed_url=f"https://feeds.example/{n}", now=NOW).items[0]
        for n, body in enumerate(bodies)
    ]
    assert {item.link for item in items} == {"https://outlet.example/a-1"}
    (article,) = merge_same_link(_matched(item) for item in items)
    assert len(article.copies) == 1


def test_an_item_stored_before_the_list_grew_folds_with_a_new_one() -> None:
    # Stored links were canonical by the list of their day: "maca" once stayed.
    stored = _item("https://outlet.example/a-1?maca=en-rss", "https://feeds.example/0")
    fresh = _item("https://outlet.example/a-1", "https://feeds.example/1")
    (article,) = merge_same_link([_matched(stored), _matched(fresh)])
    assert len(article.copies) == 1


def _item(link: str, feed: str) -> Item:
    return Item(
        feed=feed,
        id=link,
        link=link,
        title="Council adopts the text",
        summary="The council adopted the text.",
        published=NOW,
        language="en",
        source=feed,
    )


def _matched(item: Item) -> MatchedItem:
    return MatchedItem(item, (TopicHit("ai", ("council",)),), (item.source,), item.published)
