"""The lxml fast path gives exactly the Items feedparser gives, body by body.

For every body `parse_rss` accepts — the fixtures, a synthetic corpus and ../shared/realfeeds
(read by path, skipped when absent) — `parse_feed` (fast path) and
`parse_feed_with_feedparser` must return equal ParsedFeeds: every Item field, the title, the
language and the warning. The acceptance counts are asserted as floors so that a change that
silently sends everything to feedparser fails too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.corpus import feed_body, feed_spec
from policywire.fastparse import parse_rss
from policywire.models import ParsedFeed
from policywire.parse import ParseError, parse_feed, parse_feed_with_feedparser

FEEDS = Path(__file__).parent / "data" / "feeds"
REALFEEDS = Path(__file__).parents[1].parent / "shared" / "realfeeds"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
HEADERS = {"content-type": "application/xml"}

Outcome = ParsedFeed | str


def _outcome(body: bytes, url: str, *, fast: bool) -> Outcome:
    parse = parse_feed if fast else parse_feed_with_feedparser
    try:
        return parse(body, feed_url=url, now=NOW)
    except ParseError as error:
        return f"ParseError: {error}"


def _check(bodies: dict[str, bytes]) -> list[str]:
    """Names of the bodies the fast path accepted; fails on any difference."""
    accepted = []
    for name, body in bodies.items():
        if parse_rss(body, HEADERS) is None:
            continue
        accepted.append(name)
        url = f"https://feeds.example/{name}"
        fast, slow = _outcome(body, url, fast=True), _outcome(body, url, fast=False)
        assert isinstance(slow, ParsedFeed), (name, slow)
        assert isinstance(fast, ParsedFeed), (name, fast)
        assert (fast.title, fast.language, fast.warning) == (
            slow.title,
            slow.language,
            slow.warning,
        )
        assert len(fast.items) == len(slow.items), name
        for mine, theirs in zip(fast.items, slow.items, strict=True):
            assert mine == theirs, name
    return accepted


def test_fixtures() -> None:
    bodies = {path.name: path.read_bytes() for path in sorted(FEEDS.iterdir())}
    accepted = _check(bodies)
    # rss2.xml carries most of the quirks the fast path reproduces; the others must fall back.
    assert "rss2.xml" in accepted
    for name in ("atom.xml", "rdf.rdf", "illformed.xml", "latin1-undeclared.xml", "page.html"):
        assert name not in accepted


def test_synthetic_corpus() -> None:
    bodies = {str(index): feed_body(index, 30) for index in range(60)}
    accepted = _check(bodies)
    rss = [str(index) for index in range(60) if feed_spec(index).format == "rss"]
    assert accepted == rss  # every synthetic RSS feed, and only those


def test_real_feeds() -> None:
    if not REALFEEDS.is_dir():
        pytest.skip(f"{REALFEEDS} is not there")
    paths = sorted(p for p in REALFEEDS.iterdir() if p.suffix in {".xml", ".atom", ".rdf"})
    accepted = _check({path.name: path.read_bytes() for path in paths})
    assert len(accepted) >= 35, accepted  # 37 of 60 at the time of writing


def _rss(items: str, channel: str = "", root: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"{root}><channel>'
        f"<title>T</title><link>https://site.example/</link>{channel}{items}</channel></rss>"
    ).encode()


CASES = {
    "plain": _rss("<item><title>A</title><link>https://a.example/1</link></item>"),
    "guid as link": _rss("<item><title>A</title><guid>https://a.example/g</guid></item>"),
    "guid not a link": _rss('<item><title>A</title><guid isPermaLink="false">x1</guid></item>'),
    "link after guid": _rss(
        "<item><guid>https://a.example/g</guid><link>/rel?a=1&amp;amp;b=2</link></item>"
    ),
    "atom link in item": _rss(
        '<item xmlns:atom="http://www.w3.org/2005/Atom"><title>A</title>'
        '<atom:link rel="alternate" type="text/html" href="https://a.example/h"/></item>'
    ),
    "content then description": _rss(
        '<item xmlns:content="http://purl.org/rss/1.0/modules/content/"><title>A</title>'
        "<content:encoded>&lt;p&gt;Full &lt;a href='https://b.example/x'&gt;x&lt;/a&gt;"
        "&lt;/p&gt;</content:encoded><description>Short.</description></item>"
    ),
    "two descriptions": _rss(
        "<item><title>A</title><description>One.</description>"
        "<description>&lt;a href='https://c.example/y'&gt;Two&lt;/a&gt;</description></item>"
    ),
    "media description": _rss(
        '<item xmlns:media="http://search.yahoo.com/mrss/"><title>A</title>'
        "<media:content url='https://i.example/p.jpg'><media:title>M</media:title>"
        "<media:description>Caption</media:description></media:content></item>"
    ),
    "categories": _rss(
        '<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>A</title>'
        '<category domain="x">One</category><category>one</category><dc:subject>Two'
        "</dc:subject><category></category></item>"
    ),
    "dates": _rss(
        '<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>A</title>'
        "<dc:date>2024-02-03T04:05:06+01:00</dc:date><pubDate>nonsense</pubDate></item>"
    ),
    "mojibake and cp1252": _rss("<item><title>CafÃ© \u0093quoted\u0094</title></item>"),
    "item language": _rss("<item><title>A</title><language>it-IT</language></item>"),
    "no title": _rss(
        "<item><link>https://a.example/n</link><description>Só. Two.</description></item>"
    ),
    "empty": _rss(""),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_constructs(name: str) -> None:
    body = CASES[name]
    assert parse_rss(body, HEADERS) is not None, name
    assert _check({name: body}) == [name]


FALLBACKS = {
    "atom": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>',
    "doctype": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0">'
    b"<channel><item><title>&x;</title></item></channel></rss>",
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<rss><channel><title>&lol2;</title></channel></rss>",
    "xxe": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<rss><channel><title>&x;</title></channel></rss>",
    "ill-formed": _rss("<item><title>A</item>"),
    "xml:lang": _rss('<item xml:lang="fr"><title>A</title></item>'),
    "xml:base": _rss("<item><title>A</title></item>", root=' xml:base="https://b.example/"'),
    "two titles": _rss("<item><title>A</title><title>B</title></item>"),
    "html as elements": _rss("<item><title>A</title><description><p>x</p></description></item>"),
    "itunes summary in channel": _rss(
        "",
        channel='<itunes:summary xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "S</itunes:summary>",
    ),
    "undeclared encoding bytes": b'<?xml version="1.0" encoding="utf-8"?><rss><channel>'
    b"<title>\xe9</title></channel></rss>",
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_fallbacks(name: str) -> None:
    assert parse_rss(FALLBACKS[name], HEADERS) is None


def test_headers_that_change_feedparser_fall_back() -> None:
    body = CASES["plain"]
    assert parse_rss(body, {**HEADERS, "content-location": "https://x.example/"}) is None
    assert parse_rss(body, {**HEADERS, "content-language": "it"}) is None
    assert parse_rss(body, {"content-type": "text/html"}) is None  # feedparser flags it
