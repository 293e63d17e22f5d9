"""The lxml fast path gives exactly the Items feedparser gives, body by body.

For every body `parse_fast` accepts (RSS 2.0 and Atom 1.0) — the fixtures, a synthetic corpus,
../shared/realfeeds (read by path, skipped when absent) and the constructs below —
`parse_feed` (fast path) and `parse_feed_with_feedparser` must return equal ParsedFeeds: every
Item field, the title, the language and the warning. For Atom the fast path's own mappings are
also compared with feedparser's, key by key, for every key parse.py reads. The acceptance
counts are asserted as floors so that a change that silently sends everything to feedparser
fails too.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from lxml import etree  # type: ignore[import-untyped]

from bench.corpus import feed_body, feed_spec
from policywire.ingest import fastparse, fastparse_elements, fastparse_values
from policywire.ingest.fastparse import FastFeed, parse_atom, parse_fast, parse_rdf, parse_rss
from policywire.ingest.parse import ParseError, parse_feed, parse_feed_with_feedparser
from policywire.models import ParsedFeed

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


# What parse.py reads of feedparser's mappings (_feed_from_entries, _entry_to_item and the
# helpers they call): compared key by key for Atom, where the fast path builds the details.
_FEED_KEYS = ("title", "link", "language")
_ENTRY_KEYS = (
    *("title", "link", "id", "summary", "language"),
    *("published", "published_parsed", "updated", "updated_parsed"),
    *("created", "created_parsed"),
)
_ABSENT = "<absent>"


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    # dict.get: FeedParserDict.get maps some missing keys to others (updated -> published).
    return dict.get(mapping, key, _ABSENT) if isinstance(mapping, dict) else _ABSENT


def _detail(mapping: Mapping[str, Any], key: str) -> Any:
    detail = _get(mapping, key)
    return detail if detail is _ABSENT else _get(detail, "language")


def _view(feed: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> object:
    def entry_view(entry: Mapping[str, Any]) -> object:
        tags = _get(entry, "tags")
        content = _get(entry, "content")
        return (
            [(key, _get(entry, key)) for key in _ENTRY_KEYS],
            _detail(entry, "title_detail"),
            _detail(entry, "summary_detail"),
            tags if tags is _ABSENT else [(t["term"], t["scheme"], t["label"]) for t in tags],
            content if content is _ABSENT else [c["value"] for c in content],
            _get(_get(entry, "source"), "title"),  # an aggregator's outlet
        )

    return (
        [(key, _get(feed, key)) for key in _FEED_KEYS],
        _detail(feed, "title_detail"),
        [entry_view(entry) for entry in entries],
    )


def _same_mappings_as_feedparser(name: str, body: bytes, fast: FastFeed) -> None:
    result = feedparser.parse(
        body, response_headers=HEADERS, sanitize_html=False, resolve_relative_uris=False
    )
    assert not result.get("bozo"), name
    assert fast.version == result["version"], name
    assert _view(fast.feed, fast.entries) == _view(result["feed"], result["entries"]), name


def _same_rdf_mappings_as_feedparser(name: str, body: bytes, fast: FastFeed) -> None:
    """RSS 1.0: the mappings compared as for Atom, less the text constructs' details (the
    fast path leaves them out for RSS: parse.py then takes the feed's language, which is the
    one feedparser records there)."""
    result = feedparser.parse(
        body, response_headers=HEADERS, sanitize_html=False, resolve_relative_uris=False
    )
    assert not result.get("bozo"), name
    assert fast.version == result["version"] == "rss10", name

    def without_details(view: Any) -> object:
        feed_keys, _feed_detail, entries = view
        return feed_keys, [(keys, *rest) for keys, _t, _s, *rest in entries]

    mine = without_details(_view(fast.feed, fast.entries))
    theirs = without_details(_view(result["feed"], result["entries"]))
    assert mine == theirs, name


def _check(bodies: dict[str, bytes]) -> list[str]:
    """Names of the bodies the fast path accepted; fails on any difference."""
    accepted = []
    for name, body in bodies.items():
        quick = parse_fast(body, HEADERS)
        if quick is None:
            continue
        accepted.append(name)
        if quick.version.startswith("atom"):
            _same_mappings_as_feedparser(name, body, quick)
        if quick.version == "rss10":
            _same_rdf_mappings_as_feedparser(name, body, quick)
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
    # rss2.xml and atom.xml carry most of the quirks the fast path reproduces; the others
    # must fall back.
    assert "rss2.xml" in accepted
    assert "atom.xml" in accepted
    assert "rdf.rdf" in accepted
    for name in ("illformed.xml", "latin1-undeclared.xml", "page.html"):
        assert name not in accepted


def test_synthetic_corpus() -> None:
    bodies = {str(index): feed_body(index, 30) for index in range(60)}
    accepted = _check(bodies)
    assert accepted == list(bodies)  # every synthetic feed: RSS 2.0, Atom and RSS 1.0
    atom = [name for name in accepted if feed_spec(int(name)).format == "atom"]
    assert len(atom) == 24
    assert all(parse_atom(bodies[name], HEADERS) for name in atom)
    rdf = [name for name in accepted if feed_spec(int(name)).format == "rdf"]
    assert len(rdf) >= 3
    assert all(parse_rdf(bodies[name], HEADERS) for name in rdf)


def test_real_feeds() -> None:
    if not REALFEEDS.is_dir():
        pytest.skip(f"{REALFEEDS} is not there")
    paths = sorted(p for p in REALFEEDS.iterdir() if p.suffix in {".xml", ".atom", ".rdf"})
    bodies = {path.name: path.read_bytes() for path in paths}
    accepted = _check(bodies)
    assert len(accepted) >= 40, accepted  # 42 of 60 at the time of writing: 37 RSS, 5 Atom
    atom = [name for name in accepted if parse_atom(bodies[name], HEADERS) is not None]
    assert len(atom) >= 5, atom  # every Atom feed there


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
    # an aggregator's item names its outlet: the outlet, and the title without " - Outlet"
    "aggregator source": _rss(
        "<item><title>Rules agreed - The Daily Example</title><link>https://agg.example/r/1</link>"
        '<source url="https://daily.example">The Daily Example</source></item>'
    ),
    "source with entities and mojibake": _rss(
        '<item><title>A</title><source url="https://m.example/">M&amp;M CafÃ©</source></item>'
    ),
    "empty source": _rss('<item><title>A - B</title><source url="https://b.example/"/></item>'),
    "two sources, the last wins": _rss(
        "<item><title>A - One</title><source>One</source><source>Two</source></item>"
    ),
    "source before title": _rss("<item><source>Outlet</source><title>A - Outlet</title></item>"),
    "item language": _rss("<item><title>A</title><language>it-IT</language></item>"),
    "no title": _rss(
        "<item><link>https://a.example/n</link><description>Só. Two.</description></item>"
    ),
    "empty": _rss(""),
    # feedparser takes a channel guid for the channel's link when none came before it
    "channel guid as link": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<guid>https://g.example/site/</guid><item><title>A</title><link>rel/1</link></item>"
        b"</channel></rss>"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_constructs(name: str) -> None:
    body = CASES[name]
    assert parse_rss(body, HEADERS) is not None, name
    assert _check({name: body}) == [name]


_RDF_ROOT = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def _rdf(items: str, channel: str = "", root: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{_RDF_ROOT}{root}>'
        f'<channel rdf:about="https://site.example/"><title>T</title>'
        f"<link>https://site.example/</link><description>D</description>{channel}</channel>"
        f"{items}</rdf:RDF>"
    ).encode()


_RDF_ITEM = (
    '<item rdf:about="https://a.example/1"><title>A</title><link>https://a.example/1</link>'
    "<description>&lt;p&gt;S&lt;/p&gt;</description><dc:date>2025-03-03T14:00:00+01:00</dc:date>"
    "</item>"
)

RDF_CASES = {
    "plain": _rdf(_RDF_ITEM),
    "empty": _rdf(""),
    "channel only, no description": (
        f"{_RDF_ROOT}><channel><title>T</title></channel></rdf:RDF>".encode()
    ),
    "channel seq, image and textinput": _rdf(
        f"{_RDF_ITEM}<image rdf:about='https://i.example/l.png'><title>I</title>"
        "<url>https://i.example/l.png</url><link>https://site.example/</link></image>"
        "<textinput rdf:about='https://s.example/'><title>S</title><name>q</name>"
        "<link>https://s.example/</link><description>Search</description></textinput>",
        channel="<dc:language>de-DE</dc:language><items><rdf:Seq>"
        '<rdf:li rdf:resource="https://a.example/1"/></rdf:Seq></items>'
        '<image rdf:resource="https://i.example/l.png"/>',
    ),
    "about with an escaped ampersand": _rdf(
        '<item rdf:about="https://a.example/?a=1&amp;amp;b=2"><title>A</title></item>'
    ),
    "about but no link": _rdf('<item rdf:about="urn:x:1"><title>A</title></item>'),
    "empty about": _rdf('<item rdf:about=""><title>A</title><link>/rel/1</link></item>'),
    "no about": _rdf("<item><title>A</title><link>https://a.example/2</link></item>"),
    "about and guid": _rdf(
        '<item rdf:about="urn:x:1"><title>A</title><guid isPermaLink="false">g</guid></item>'
    ),
    "subjects and dates": _rdf(
        '<item rdf:about="urn:x:1"><title>A</title><dc:subject>One</dc:subject>'
        "<dc:subject>one</dc:subject><dc:date>Sun, 01 Jun 2025 11:59:00 GMT</dc:date></item>"
    ),
    "content module": _rdf(
        '<item rdf:about="urn:x:1" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<title>A</title><content:encoded>&lt;p&gt;Full &lt;a href='https://b.example/x'&gt;"
        "x&lt;/a&gt;&lt;/p&gt;</content:encoded><description>Short.</description></item>"
    ),
    "mojibake": _rdf('<item rdf:about="urn:Ã©"><title>CafÃ© \u0093q\u0094</title></item>'),
    "aggregator source": _rdf(
        '<item rdf:about="urn:x:1"><title>A - Outlet</title>'
        '<source url="https://o.example/">Outlet</source></item>'
    ),
}


@pytest.mark.parametrize("name", sorted(RDF_CASES))
def test_rdf_constructs(name: str) -> None:
    body = RDF_CASES[name]
    assert parse_rdf(body, HEADERS) is not None, name
    assert _check({name: body}) == [name]


RDF_FALLBACKS = {
    "rss 0.90": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>T</title></channel>'
        b"<item><title>A</title></item></rdf:RDF>"
    ),
    "atom namespace declared": _rdf(_RDF_ITEM, root=' xmlns:atom="http://www.w3.org/2005/Atom"'),
    "rss 1.0 namespace only in text": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><channel>'
        b"<title>xmlns=&quot;http://purl.org/rss/1.0/&quot;</title></channel></rdf:RDF>"
    ),
    "item before channel": _rdf("").replace(b"<channel", _RDF_ITEM.encode() + b"<channel", 1),
    "unknown element at the root": _rdf("<foo>x</foo>"),
    "item attribute": _rdf(
        '<item rdf:about="urn:x" href="https://h.example/"><title>A</title></item>'
    ),
    "xml:lang": _rdf('<item xml:lang="fr"><title>A</title></item>'),
    "xml:base": _rdf(_RDF_ITEM, root=' xml:base="https://b.example/"'),
}


@pytest.mark.parametrize("name", sorted(RDF_FALLBACKS))
def test_rdf_fallbacks(name: str) -> None:
    assert parse_fast(RDF_FALLBACKS[name], HEADERS) is None


FALLBACKS = {
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
    assert parse_fast(FALLBACKS[name], HEADERS) is None


def test_each_reader_takes_only_its_format() -> None:
    assert parse_rss(ATOM_CASES["plain"], HEADERS) is None
    assert parse_atom(CASES["plain"], HEADERS) is None
    assert parse_rss(RDF_CASES["plain"], HEADERS) is None
    assert parse_atom(RDF_CASES["plain"], HEADERS) is None
    assert parse_rdf(CASES["plain"], HEADERS) is None
    assert parse_rdf(ATOM_CASES["plain"], HEADERS) is None


ATOM_NS = 'xmlns="http://www.w3.org/2005/Atom"'


def _atom(entries: str, feed: str = "", root: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed {ATOM_NS}{root}>'
        f'<title>T</title><id>urn:t</id><link href="https://site.example/"/>{feed}{entries}'
        "</feed>"
    ).encode()


def _entry(inner: str, attributes: str = "") -> str:
    return f"<entry{attributes}>{inner}</entry>"


_PLAIN = '<title>A</title><link href="https://a.example/1"/><id>urn:a:1</id>'
ATOM_CASES = {
    "plain": _atom(_entry(_PLAIN)),
    "empty": _atom(""),
    "no namespace prefix declared first": (
        b'<?xml version="1.0"?><feed xmlns:dc="http://purl.org/dc/elements/1.1/" '
        + ATOM_NS.encode()
        + b"><title>T</title><entry><dc:title>A</dc:title><dc:date>2024-01-02</dc:date>"
        b"</entry></feed>"
    ),
    "text constructs": _atom(
        _entry(
            '<title type="html">A &lt;b&gt;bold&lt;/b&gt; &amp;amp; co</title>'
            '<summary type="text">1 &lt; 2 &amp; so</summary><id>urn:a:2</id>'
        ),
        feed="",
    ).replace(b"<title>T</title>", b'<title type="html">T &lt;i&gt;x&lt;/i&gt;</title>'),
    "summary and content": _atom(
        _entry(
            _PLAIN + "<summary>Short.</summary>"
            '<content type="html">&lt;p&gt;Full, see &lt;a href="https://b.example/x/1"&gt;'
            "x&lt;/a&gt;.&lt;/p&gt;</content>"
        )
    ),
    "content only": _atom(_entry(_PLAIN + '<content type="html">&lt;p&gt;Only.</content>')),
    "content then summary": _atom(
        _entry(_PLAIN + "<content>Body text.</content><summary>Later summary.</summary>")
    ),
    "two summaries": _atom(_entry(_PLAIN + "<summary>One.</summary><summary>Two.</summary>")),
    "content not copied": _atom(_entry(_PLAIN + '<content type="text/csv">a,b</content>')),
    "content by reference": _atom(
        _entry(_PLAIN + '<content type="text/html" src="https://a.example/full"/>')
    ),
    "xml:lang": _atom(
        _entry(_PLAIN + "<summary>S.</summary>")
        + _entry(_PLAIN.replace("1", "2") + "<summary>S.</summary>", ' xml:lang="fr_CA"')
        + _entry('<title xml:lang="de">B</title><summary xml:lang="">S.</summary>')
        + _entry('<title xml:lang="">C</title><content xml:lang="es">S.</content>'),
        root=' xml:lang="it"',
    ),
    "xml:lang on the feed title only": _atom(_entry(_PLAIN)).replace(
        b"<title>T</title>", b'<title xml:lang="pt_BR">T</title>'
    ),
    "empty xml:lang on the feed": _atom(_entry(_PLAIN), root=' xml:lang=""'),
    "links": _atom(
        _entry(
            '<title>A</title><link rel="self" href="https://a.example/self"/>'
            '<link rel="enclosure" type="audio/mpeg" href="https://a.example/a.mp3"/>'
            '<link rel="alternate" type="application/pdf" href="https://a.example/a.pdf"/>'
            '<link rel="alternate" type="text/html" href="/relative?a=1&amp;b=2"/>'
        )
        + _entry('<title>B</title><link rel="ALTERNATE" href="https://a.example/b"/>')
        + _entry(
            '<title>C</title><link href="https://a.example/c1"/><link href="https://a.example/c2"/>'
        )
    ),
    "id as link": _atom(
        _entry("<id>https://a.example/from-id</id><title>A</title>")
        + _entry('<id>https://a.example/id</id><link href="https://a.example/link"/>')
        + _entry('<link href="https://a.example/l2"/><id>tag:a.example,2024:2</id>')
        + _entry("<id>tag:a.example,2024:3</id><title>D</title>")
    ),
    "categories": _atom(
        _entry(
            _PLAIN + '<category term="one" label="One"/><category term="two" scheme="s"/>'
            '<category term="one" label="One"/><category label="only label"/><category/>'
        )
    ),
    "dates": _atom(
        _entry(
            _PLAIN + "<published>nonsense</published><updated>2024-02-03T04:05:06+01:00</updated>"
        )
        + _entry("<title>B</title><updated>2024-02-03</updated>")
    ),
    "authors and extensions": _atom(
        _entry(
            _PLAIN + "<author><name>N</name><email>n@example.org</email>"
            "<uri>https://n.example/</uri></author><contributor><name>C</name></contributor>"
            '<rights>R</rights><x:rank xmlns:x="urn:x">3</x:rank><!-- c --><?pi x?>'
        ),
        feed="<subtitle>S</subtitle><updated>2024-01-01T00:00:00Z</updated><rights>R</rights>"
        "<author><name>F</name></author><icon>/i.png</icon><logo>/l.png</logo>"
        '<generator uri="https://g.example/" version="1">G</generator><category term="f"/>',
    ),
    "media group": _atom(
        _entry(
            _PLAIN + '<media:group xmlns:media="http://search.yahoo.com/mrss/">'
            "<media:title>M</media:title><media:description>Caption</media:description>"
            "</media:group>"
        )
    ),
    "entry language element": _atom(
        _entry(_PLAIN + '<dc:language xmlns:dc="http://purl.org/dc/elements/1.1/">el</dc:language>')
    ),
    "no title": _atom(_entry('<link href="https://a.example/n"/><summary>Só. Two.</summary>')),
    "mojibake and cp1252": _atom(_entry("<title>CafÃ© \u0093quoted\u0094</title>")),
    "xml:base on the feed": _atom(
        _entry('<title>A</title><link href="a/1"/><id>b/1</id>')
        + _entry('<title>B</title><link href="//other.example/x"/><id>urn:b:2</id>'),
        root=' xml:base="https://B.example/dir/"',
    ),
    # feedparser's base outlives the element that sets it when its parents had none
    "sticky xml:base": _atom(
        _entry('<title>A</title><link href="a/1"/><id>a/1</id>')
        + _entry(_PLAIN + '<summary xml:base="https://b.example/s/">S</summary>')
        + _entry('<title>C</title><link href="c/3"/><id>c/3</id>')
        + _entry('<title>D</title><link xml:base="https://d.example/" href="d/4"/>')
        + _entry('<title>E</title><link href="e/5"/>')
    ),
    "nested and relative xml:base": _atom(
        _entry('<title>A</title><link href="a/1"/>', ' xml:base="sub/"')
        + _entry('<title>B</title><link href="../b/2"/>', ' xml:base="https://e.example/x/y/"')
        + _entry('<title>C</title><link href="c"/>', ' xml:base=""')
        + _entry('<title>D</title><link href=""/><id>d</id>'),
        root=' xml:base="https://root.example/feeds/"',
    ),
    "unsafe xml:base": _atom(
        _entry('<title>A</title><link href="a/1"/>', ' xml:base="javascript:alert(1)"')
        + _entry('<title>B</title><link href="b/2"/>', ' xml:base="https://ok.example/"')
        + _entry('<title>C</title><link href="c/3"/>', ' xml:base="data:text/html,x"')
    ),
    "xml:base with text links": _atom(
        _entry("<title>A</title><link>rel/path?a=1&amp;amp;b=2</link>")
        + _entry("<title>B</title><id>https://x.example/abs</id>"),
        root=' xml:base="https://t.example/"',
    ),
    "feed id before link": (
        f"<feed {ATOM_NS}><id>https://site.example/id</id><title>T</title>"
        '<link rel="alternate" href="https://site.example/"/>'
        f"{_entry(_PLAIN)}</feed>"
    ).encode(),
    "feed without alternate link": (
        f"<feed {ATOM_NS}><id>tag:site.example,2024:feed</id><title>T</title>"
        f'<link rel="self" href="https://site.example/feed"/>{_entry(_PLAIN)}</feed>'
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(ATOM_CASES))
def test_atom_constructs(name: str) -> None:
    body = ATOM_CASES[name]
    assert parse_atom(body, HEADERS) is not None, name
    assert _check({name: body}) == [name]


ATOM_FALLBACKS = {
    "base attribute": _atom(_entry(_PLAIN + '<link base="https://b.example/" href="x"/>')),
    "lang attribute": _atom(_entry(_PLAIN + '<summary lang="fr">S</summary>')),
    "foreign lang attribute": _atom(
        _entry(_PLAIN + '<summary xmlns:x="urn:x" x:lang="fr">S</summary>')
    ),
    "xml:lang on a link": _atom(
        _entry('<title>A</title><link xml:lang="fr" href="https://a.example/"/>')
    ),
    "xml:lang deeper": _atom(_entry(_PLAIN + '<author xml:lang="fr"><name>N</name></author>')),
    "xhtml title": _atom(
        _entry('<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A</div></title>')
    ),
    "xhtml text only": _atom(_entry('<title type="xhtml">A &amp; B</title>')),
    "xhtml content": _atom(
        _entry(
            _PLAIN + '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            "<p>x</p></div></content>"
        )
    ),
    "base64 content": _atom(_entry(_PLAIN + '<content type="image/png">aGVsbG8=</content>')),
    "mode": _atom(_entry(_PLAIN + '<summary mode="escaped">S</summary>')),
    "html as elements": _atom(_entry(_PLAIN + '<summary type="html"><p>x</p></summary>')),
    "two titles": _atom(_entry("<title>A</title><title>B</title>")),
    "two feed titles": _atom("", feed="<title>U</title>"),
    "entry attribute": _atom(_entry(_PLAIN, ' xmlns:x="urn:x" x:foo="1"')),
    "source": _atom(_entry(_PLAIN + "<source><title>S</title></source>")),
    "content in feed": _atom("", feed="<content>C</content>"),
    "nested id in feed": _atom("", feed="<author><id>x</id></author>"),
    "rss 1.0 namespace declared": _atom(_entry(_PLAIN), root=' xmlns:r="http://purl.org/rss/1.0/"'),
    "atom 0.3": b'<feed xmlns="http://purl.org/atom/ns#" version="0.3"><title>T</title></feed>',
    "doctype": (
        f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x "y">]><feed {ATOM_NS}>'
        "<title>&x;</title></feed>"
    ).encode(),
    "ill-formed": _atom("<entry><title>A</entry>"),
}


@pytest.mark.parametrize("name", sorted(ATOM_FALLBACKS))
def test_atom_fallbacks(name: str) -> None:
    assert parse_fast(ATOM_FALLBACKS[name], HEADERS) is None


def test_headers_that_change_feedparser_fall_back() -> None:
    body = CASES["plain"]
    assert parse_rss(body, {**HEADERS, "content-location": "https://x.example/"}) is None
    assert parse_rss(body, {**HEADERS, "content-language": "it"}) is None
    assert parse_rss(body, {"content-type": "text/html"}) is None  # feedparser flags it


# --- the shortcuts the fast path takes, each against what it replaces ------------------------


def _date_samples() -> list[str]:
    rng = random.Random(20250601)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    samples = [
        # fields a datetime refuses, offsets that cross a day, a year or the calendar's ends
        "2025-02-30T10:00:00Z",
        "2025-06-01T24:00:00Z",
        "2025-06-01T23:59:60Z",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:30:00-01:00",
        "2024-02-29T23:59:59-12:59",
        "Sun, 30 Feb 2025 10:00:00 GMT",
        "Sat, 1 Jan 0001 00:00:00 +0100",
        "Fri, 31 Dec 9999 23:59:59 -0100",
        "Tue, 01 Oct 2024 11:59:00 +0530",
        "Thu, 7 Aug 2025 00:00:00 -0000",
        # near misses the shortcut must leave to feedparser's chain
        "2025-06-01t11:58:00z",
        "2025-06-01T11:58:00.5+02:00",
        "2025-06-01T11:58Z",
        "2025-06-01 11:58:00Z",
        "sun, 01 jun 2025 11:59:00 gmt",
        "Sun, 01 Jun 2025 11:59:00 EST",
        "Sun, 01 Jun 25 11:59:00 GMT",
        "01 Jun 2025 11:59:00 GMT",
        "Sun, 01 Jun 2025 11:59 GMT",
        "Sun, 01 Jun 2025 11:59:00 +05:30",
    ]
    for _ in range(400):
        year = rng.choice((1, 1969, 1970, 2000, 2024, 2025, 9999))
        month, day = rng.randint(1, 13), rng.randint(0, 32)
        hour, minute, second = rng.randint(0, 24), rng.randint(0, 60), rng.randint(0, 60)
        sign = rng.choice("+-")
        tz_hours, tz_minutes = rng.randint(0, 14), rng.choice((0, 30, 45, 59))
        zone = rng.choice(("Z", f"{sign}{tz_hours:02}:{tz_minutes:02}"))
        samples.append(f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{zone}")
        name = months[(month - 1) % 12]
        zone = rng.choice(("GMT", f"{sign}{tz_hours:02}{tz_minutes:02}"))
        samples.append(
            f"{rng.choice(days)}, {day:0{rng.choice((1, 2))}} {name} {year:04} "
            f"{hour:02}:{minute:02}:{second:02} {zone}"
        )
    return samples


def test_common_dates_read_as_feedparser_reads_them() -> None:
    samples = _date_samples()
    taken = 0
    for value in samples:
        assert fastparse_values.parsed_date(value) == _parse_date(value), value
        assert fastparse_values.parsed_date(value) == _parse_date(value), value  # the cached answer
        common = fastparse_values._common_date(value)
        if common is not None:
            taken += 1
            assert common == _parse_date(value), value
    assert taken > len(samples) // 3  # the shortcut is really taken


def _repair_as_before(text: str) -> str:
    """fastparse_values.finish as first written: the repair tried on every non-ASCII text."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252) if re.search("[\x80-\x9f]", text) else text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        "Café déjà",
        "CafÃ© dÃ©jÃ\xa0",  # UTF-8 read as Latin-1: repaired
        "Ã",  # a lead byte alone
        "\x93quoted\x94",  # C1 controls: cp1252
        "Ã© \x93q\x94",
        "¿Qué? ¡Sí! £5 ±1 ·",  # U+00A0-U+00BF without a lead byte before them
        "Â\xa0nbsp",
        "â€™ curly",  # UTF-8 of U+2019 read as cp1252: not Latin-1, stays
        "Zölle für Märkte – “quoted” …",
        "日本語",
        "\u00bf" * 3000 + "Ã©",
    ],
)
def test_finish_matches_the_repair_it_skips(text: str) -> None:
    assert fastparse_values.finish(text) == _repair_as_before(text)


@pytest.mark.parametrize(
    "attributes",
    [
        "",
        ' xml:lang="en"',
        ' xml:lang = "en"',
        ' xml:lang\n\t=\n"en"',
        ' xml:LANG="en"',
        ' LaNg="en"',
        ' xml:base="https://b.example/"',
        ' x:Base  =  "https://b.example/"',
        ' xml:lang="en" xml:base="https://b.example/"',
        ' data-lang="en"',
        " xml:lang" + " " * 100 + '="en"',
    ],
)
def test_lang_or_base_candidates_cover_the_xpath(attributes: str) -> None:
    # The attributes on the root, on an entry and on a nested element; "lang=" also in text.
    for where in ("root", "entry", "nested"):
        on = {name: attributes if name == where else "" for name in ("root", "entry", "nested")}
        body = (
            f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x"{on["root"]}>'
            f"<entry{on['entry']}><title>lang= base =</title>"
            f"<x:n{on['nested']}/></entry></feed>"
        ).encode()
        root = etree.fromstring(body)
        found = len(fastparse_elements.LANG_OR_BASE(root))
        assert fastparse._lang_or_base_candidates(body) >= found, (where, attributes)
        # Without the "lang=" text the count is exact for these documents, but for
        # data-lang (a name ending in "lang": counted, though XPath does not select it).
        bare = body.replace(b"lang= base =", b"t")
        extra = 1 if "data-lang" in attributes else 0
        assert fastparse._lang_or_base_candidates(bare) == found + extra, (where, attributes)


def test_atom_root_lang_with_lang_in_the_text_still_checks_everything() -> None:
    body = _atom(
        _entry(_PLAIN + '<summary type="html">&lt;p lang="fr"&gt;x&lt;/p&gt;</summary>'),
        root=' xml:lang="en"',
    )
    assert parse_atom(body, HEADERS) is not None
    assert _check({"lang in text": body}) == ["lang in text"]
    nested = _atom(_entry(_PLAIN + '<author xml:lang="fr"><name>N</name></author>'))
    assert parse_atom(nested.replace(b"<feed ", b'<feed xml:lang="en" '), HEADERS) is None
