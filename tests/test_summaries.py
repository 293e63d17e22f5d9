"""Summaries and titles cleaned of what a reader should not see (issue 13): aggregator lists,
outlet suffixes, bylines and wire datelines, image credits, newsletter and podcast footers,
link labels, and descriptions that say nothing while the content does. Every input is ours."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import review_text
from policywire.ingest.boilerplate import (
    html_to_clean_text,
    listed_outlet,
    strip_boilerplate,
    strip_outlet_suffix,
    summary_says_nothing,
    title_outlet,
)
from policywire.ingest.html_text import is_link_labels
from policywire.ingest.parse import CONTENT_SUMMARY_CHARS, parse_feed, parse_feed_with_feedparser
from policywire.models import Item

NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bylines of any length, then the wire dateline
        (
            "By Ann Lee, Bo Chan and Cy Diaz. WASHINGTON/GENEVA, Feb 17 (Reuters) - The fund "
            "cut its forecast.",
            "The fund cut its forecast.",
        ),
        (
            "By Ann Lee, Bo Chan, Cy Diaz and Di Eng. LONDON (Reuters) - The fund cut it.",
            "The fund cut it.",
        ),
        ("BRUSSELS (AP) — Ministers met on Monday.", "Ministers met on Monday."),
        ("MILANO, 3 MAR (ANSA) - Il governo ha deciso.", "Il governo ha deciso."),
        ("(ANSA) - ROMA, 17 FEB - Il governo ha deciso.", "Il governo ha deciso."),
        ("Berlin/Brüssel (dpa) - Die Regierung hat entschieden.", "Die Regierung hat entschieden."),
        ("PARIS, 3 mars 2025 (AFP) -- Le texte est adopté.", "Le texte est adopté."),
        # image credits at the start, in the middle and at the end
        ("Photo by Ann Lee / The Outlet. The court ruled on Friday.", "The court ruled on Friday."),
        ("Illustration by A. Lee for Example Wire | The court ruled.", "The court ruled."),
        ("Photo: Ann Lee/Example Images. The court ruled on Friday.", "The court ruled on Friday."),
        ("Image: Getty Images. The court ruled on Friday.", "The court ruled on Friday."),
        ("The court ruled (Image credit: Example Studio) on Friday.", "The court ruled on Friday."),
        (
            "A new phone. Image by Ann Lee/Example Wire. It has three cameras.",
            "A new phone. It has three cameras.",
        ),
        ("The court ruled on Friday. Photo by Ann Lee / The Outlet", "The court ruled on Friday."),
        (
            "The court ruled on Friday. Photograph: Ann Lee/Example Wire",
            "The court ruled on Friday.",
        ),
        # newsletters, podcasts, live blogs, "click here", forums, aggregators
        (
            "Ministers met. Sign up here to get our briefing every morning. Visit the shop too.",
            "Ministers met.",
        ),
        ("Ministers met. Iscriviti alla newsletter qui.", "Ministers met."),
        ("Daily news. See omny.example/listener for privacy information.", "Daily news."),
        (
            "Daily news. Hosted on Acast. See acast.example/privacy for more information.",
            "Daily news.",
        ),
        (
            "Daily news. Learn more about your ad choices. Visit pod.example/adchoices",
            "Daily news.",
        ),
        ("Ministers meet in Brussels today. Follow live.", "Ministers meet in Brussels today."),
        ("Ministers meet in Brussels today – follow live", "Ministers meet in Brussels today"),
        (
            "A new tablet is out. To read this article in full, please click here",
            "A new tablet is out.",
        ),
        ("A new tablet is out. submitted by /u/someone [link] [comments]", "A new tablet is out."),
        ("submitted by /u/someone [link] [comments]", ""),
        (
            "Deal agreed Example News. Other take Other Outlet. View Full Coverage on Google News",
            "Deal agreed Example News. Other take Other Outlet.",
        ),
    ],
)
def test_strip_boilerplate_removes(text: str, expected: str) -> None:
    assert strip_boilerplate(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "EU (European Union) - the bloc agreed on the text.",  # not a wire agency
        "Mistral AI (the start-up) - a French company - raised money.",
        "Photos: protesters gather outside the parliament in Brussels.",
        "Pictures by children show the war. The exhibition opens today.",
        "Photo by photo, the archive was rebuilt.",
        "The museum shows photos by local artists.",
        "Sign up for our newsletter",  # all a title has: never emptied
        "You can sign up for a trial if you are not a member. Deals change daily.",
        "The agency said it would follow the latest guidance. Ministers agreed.",
        "Von Der Leyen Visits Rome",
        "By the end of 2025 every provider must comply.",
        "See the annex for more information.",
        "The tool was first shown on Google News.",
    ],
)
def test_strip_boilerplate_keeps_real_content(text: str) -> None:
    assert strip_boilerplate(text) == text


def test_the_fast_route_gives_the_same_on_markup() -> None:
    markup = (
        "<p>Photo by Ann Lee / The Outlet</p><p>The court ruled on Friday.</p>"
        "<p>Sign up here for our newsletter.</p>"
    )
    assert html_to_clean_text(markup) == "The court ruled on Friday."


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Deal agreed on the AI Act - Example News", ("Deal agreed on the AI Act", "Example News")),
        ("Deal agreed | EXAMPLE-TV", ("Deal agreed", "EXAMPLE-TV")),
        ("A - B - Example News", ("A - B", "Example News")),
        ("Deal agreed on the AI Act", None),
        ("Deal - a long trailing segment that has far too many words to be a name", None),
        ("Deal - Example", None),  # a one-word headline: nothing would be left of it
    ],
)
def test_title_outlet(title: str, expected: tuple[str, str] | None) -> None:
    assert title_outlet(title) == expected


@pytest.mark.parametrize(
    ("title", "outlets", "link", "expected"),
    [
        # the feed's name, or a part of it
        (
            "Deal agreed on the AI Act - Example News",
            ["Example News"],
            "",
            "Deal agreed on the AI Act",
        ),
        (
            "Deal agreed on the AI Act | Example",
            ["World - Example.com"],
            "",
            "Deal agreed on the AI Act",
        ),
        ("Deal agreed – The Example Post", ["Example Post"], "", "Deal agreed"),
        ("Deal agreed - Example Post", ["The Example Post"], "", "Deal agreed"),
        ("Accordo raggiunto - Èsempio", ["Esempio Notizie - Èsempio"], "", "Accordo raggiunto"),
        # the site the link points to
        ("Deal agreed - EXAMPLENEWS", [], "https://www.examplenews.co.uk/a", "Deal agreed"),
        # an aggregator's listed outlet
        (
            "Deal agreed - Other Outlet",
            ["Top stories - Aggregator", "Other Outlet"],
            "",
            "Deal agreed",
        ),
        # anything else stays
        ("Deal agreed - Deal Alert", ["Example News"], "https://examplenews.example/a", None),
        ("We owe it to ourselves | Ann Lee", ["Example News"], "", None),
        ("The vote, explained – video", ["Example News"], "", None),
        ("Deal agreed - Example News", [""], "", None),
    ],
)
def test_strip_outlet_suffix(
    title: str, outlets: list[str], link: str, expected: str | None
) -> None:
    assert strip_outlet_suffix(title, outlets, link) == (expected or title)


def test_listed_outlet_and_summary_says_nothing() -> None:
    title = "Deal agreed on the AI Act - Example News"
    listing = "Deal agreed on the AI Act Example News. Other take on it Other Outlet."
    assert listed_outlet(listing, title) == "Example News"
    assert summary_says_nothing(listing, title)
    real = "Deal agreed on the AI Act, the council said. Fines follow in 2026."
    assert listed_outlet(real, title) is None
    assert not summary_says_nothing(real, title)
    assert listed_outlet(listing, "Deal agreed on the AI Act") is None  # no outlet in the title


@pytest.mark.parametrize(
    ("summary", "says_nothing"),
    [
        (
            "Article URL: https://a.example/x Comments URL: https://b.example/i?id=1 "
            "Points: 12 # Comments: 3",
            True,
        ),
        ("Comments URL: https://b.example/i?id=1 Points: 1 # Comments: 0", True),
        ("Por Ann Lee e Bo Chan", True),
        ("By Ann Lee and Bo Chan.", True),
        ("By Monday", False),
        ("Di Maio", False),
        ("The points made in the comments were heard.", False),
    ],
)
def test_summary_says_nothing(summary: str, says_nothing: bool) -> None:
    assert summary_says_nothing(summary, "Some headline here") is says_nothing


@pytest.mark.parametrize(
    ("markup", "labels_only"),
    [
        ('<a href="https://forum.example/item?id=1">Comments</a>', True),
        ('<a href="x">[link]</a> <a href="y">[comments]</a>', True),
        ('<p><a href="x">Permalink</a> | <a href="y">Discuss</a></p>', True),
        ('<a href="x">The council adopted the text on Monday</a>', False),
        ('Read <a href="x">the statement</a> of the council.', False),
        ('<a href="x"><img src="y"></a>', False),
        ("Plain text without links", False),
        ('<a href="x">Comments</a>' + "<p>" + "word " * 500 + "</p>", False),
    ],
)
def test_is_link_labels(markup: str, labels_only: bool) -> None:
    assert is_link_labels(markup) is labels_only


# --- through parse_feed, with both readers ------------------------------------------------

PARSERS = pytest.mark.parametrize(
    "parse", [parse_feed, parse_feed_with_feedparser], ids=["lxml", "feedparser"]
)


def _rss(items: str, title: str = "Example News") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>https://examplenews.example/</link>{items}"
        "</channel></rss>"
    ).encode()


def _items(body: bytes, parse: object) -> tuple[Item, ...]:
    return parse(body, feed_url="https://examplenews.example/feed", now=NOW).items  # type: ignore[operator,no-any-return]


@PARSERS
def test_an_aggregator_list_is_no_summary_and_its_outlet_leaves_the_title(parse: object) -> None:
    listing = (
        '&lt;ol&gt;&lt;li&gt;&lt;a href="https://agg.example/r/1"&gt;Deal agreed on the AI Act'
        '&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Example Wire&lt;/font&gt;'
        '&lt;/li&gt;&lt;li&gt;&lt;a href="https://agg.example/r/2"&gt;Ministers back the deal'
        '&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Other Outlet&lt;/font&gt;'
        '&lt;/li&gt;&lt;li&gt;&lt;strong&gt;&lt;a href="https://agg.example/s"&gt;View Full '
        "Coverage on Google News&lt;/a&gt;&lt;/strong&gt;&lt;/li&gt;&lt;/ol&gt;"
    )
    body = _rss(
        "<item><title>Deal agreed on the AI Act - Example Wire</title>"
        "<link>https://agg.example/r/1</link>"
        f"<description>{listing}</description></item>",
        title="Top stories - Aggregator",
    )
    (item,) = _items(body, parse)
    assert item.title == "Deal agreed on the AI Act"
    assert item.summary == ""


@PARSERS
def test_link_labels_give_way_to_the_content(parse: object) -> None:
    body = _rss(
        "<item><title>A tool for drawing</title><link>https://tool.example/</link>"
        '<description><![CDATA[<a href="https://forum.example/item?id=1">Comments</a>]]>'
        "</description></item>"
        "<item><title>Another tool</title><link>https://tool.example/2</link>"
        '<description><![CDATA[<a href="https://forum.example/item?id=2">Comments</a>]]>'
        "</description><content:encoded><![CDATA[<p>The tool draws programs. It runs in the "
        "browser. Its source is open. It was written in a week. It has no tests.</p>]]>"
        "</content:encoded></item>"
    )
    bare, with_content = _items(body, parse)
    assert bare.summary == ""
    # The content stands in: its first sentences, as long as a description would be.
    assert with_content.summary == (
        "The tool draws programs. It runs in the browser. Its source is open. "
        "It was written in a week."
    )


@PARSERS
def test_an_image_only_description_gives_way_to_the_content(parse: object) -> None:
    long_content = "<p>" + "The council adopted the text after a long night. " * 40 + "</p>"
    body = _rss(
        "<item><title>Council adopts the text</title><link>https://examplenews.example/a</link>"
        '<description><![CDATA[<img src="https://cdn.example/a.jpg"/>]]></description>'
        f"<content:encoded><![CDATA[{long_content}]]></content:encoded></item>"
    )
    (item,) = _items(body, parse)
    assert item.summary.startswith("The council adopted the text after a long night.")
    assert len(item.summary) <= CONTENT_SUMMARY_CHARS and item.summary.endswith(".")


@PARSERS
def test_wire_copy_and_credits_through_parse(parse: object) -> None:
    body = _rss(
        "<item><title>Fund cuts its forecast - Example News</title>"
        "<link>https://examplenews.example/fund</link>"
        "<description>By Ann Lee, Bo Chan and Cy Diaz. WASHINGTON/GENEVA, Feb 17 (Reuters) - "
        "The fund cut its forecast. Photo: Ann Lee/Example Images</description></item>"
        "<item><title>Daily briefing | Opinion</title><link>https://examplenews.example/pod</link>"
        "<description>Today in two minutes. See omny.example/listener for privacy information."
        "</description></item>"
        "<item><title>Relatório acusa militares</title>"
        "<link>https://examplenews.example/wire</link>"
        "<description>Por Ann Lee e Bo Chan</description></item>"
    )
    fund, podcast, byline_only = _items(body, parse)
    assert (fund.title, fund.summary) == ("Fund cuts its forecast", "The fund cut its forecast.")
    assert (podcast.title, podcast.summary) == ("Daily briefing | Opinion", "Today in two minutes.")
    assert byline_only.summary == ""


def test_json_feed_summaries_follow_the_same_rules() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Example News",'
        b' "home_page_url": "https://examplenews.example/", "items": ['
        b'{"id": "1", "url": "https://examplenews.example/1", "title": "Deal - Example News",'
        b' "summary": "<a href=\\"https://forum.example/1\\">Comments</a>",'
        b' "content_text": "The deal holds. Ministers agreed. It starts in May."}]}'
    )
    (item,) = parse_feed(body, feed_url="https://examplenews.example/feed.json", now=NOW).items
    assert item.summary == "The deal holds. Ministers agreed. It starts in May."
    assert item.title == "Deal - Example News"  # a one-word headline keeps its suffix


# --- bench/review_text.py: the yardstick the figures in the note come from ----------


def test_review_text_counts_each_kind_and_prints_no_feed_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dated = "<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>"
    (tmp_path / "ours.xml").write_bytes(
        _rss(
            f"<item><title>Secret headline one</title><link>https://x.example/1?maca=rss</link>"
            f"{dated}<description>Secret words. Follow live.</description></item>"
            f"<item><title>Secret headline two</title><link>https://x.example/2</link>{dated}"
            '<description><![CDATA[<a href="https://forum.example/2">Comments</a>]]>'
            "</description></item>"
            f"<item><title>Held-out headline</title><link>https://x.example/3</link>"
            "<pubDate>Mon, 16 Feb 2026 10:00:00 GMT</pubDate><description>Later.</description>"
            "</item>"
        )
    )
    found = list(review_text.entries(tmp_path))
    assert [entry.item.title for entry in found] == ["Secret headline one", "Secret headline two"]
    # What the detectors see on items as parsed today: clean, so each count is 0 but these.
    counts, _ = review_text.review(found)
    assert counts["newsletter/podcast"] == 0 and counts["empty summary"] == 1
    assert counts["item links with tracking parameters"] == 0
    # The detectors themselves, on junk as a feed would carry it.
    junk = Item(
        feed="f",
        id="1",
        link="https://x.example/1?at_medium=RSS",
        title="Deal agreed - Example News",
        summary="By Ann Lee and Bo Chan. LONDON (Reuters) - Deal. Photo by Ann Lee / X",
        published=NOW,
    )
    entry = review_text.Entry("ours.xml", "Example News", junk, "", False)
    counts, _ = review_text.review([entry])
    for kind in ("title outlet suffix", "byline", "image credit"):
        assert counts[kind] == 1, kind
    assert counts["item links with tracking parameters"] == 1
    assert review_text.main(["--realfeeds", str(tmp_path), "--show", "empty summary"]) == 0
    printed = capsys.readouterr().out
    assert "2 items dated before 2026-02-15" in printed
    assert "https://x.example/2" in printed  # --show names the item by its link
    assert "Secret" not in printed and "Comments" not in printed
