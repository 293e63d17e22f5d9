"""An aggregator's item names its real outlet.

Google News and similar feeds put every item's outlet in RSS 2.0's
`<source url="https://outlet.example">Outlet</source>`; the item's `source` is that outlet,
not the aggregator's feed title or host, and its title loses the " - Outlet" the aggregator
appends. An operator's own `name:` for the feed still wins: it is deliberate. Both parse
paths (the lxml fast path and feedparser) give the same Items.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.config.values import default_feed_name
from policywire.ingest.fastparse import parse_fast
from policywire.ingest.parse import _default_name, parse_feed, parse_feed_with_feedparser
from policywire.models import Item

NOW = datetime(2030, 1, 1, tzinfo=UTC)
FEED_URL = "https://news.aggregator.example/rss?hl=en"
Parse = Callable[..., object]
PARSERS = pytest.mark.parametrize(
    "parse", [parse_feed, parse_feed_with_feedparser], ids=["fast", "feedparser"]
)

# Written for this test: the shape of an aggregator's topic feed (no real feed text).
AGGREGATOR = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Top stories - Example Aggregator</title>
<link>https://news.aggregator.example/</link>
<item>
  <title>Regulators agree on model rules - The Daily Example</title>
  <link>https://news.aggregator.example/articles/abc1</link>
  <guid isPermaLink="false">abc1</guid>
  <pubDate>Mon, 02 Dec 2029 10:00:00 GMT</pubDate>
  <description>Regulators agree on model rules</description>
  <source url="https://daily.example">The Daily Example</source>
</item>
<item>
  <title>Parliament votes on data bill - Example Wire &amp; Co</title>
  <link>https://news.aggregator.example/articles/abc2</link>
  <guid isPermaLink="false">abc2</guid>
  <source url="https://wire.example">Example Wire &amp; Co</source>
</item>
<item>
  <title>An item without a source - Somewhere</title>
  <link>https://news.aggregator.example/articles/abc3</link>
  <guid isPermaLink="false">abc3</guid>
</item>
<item>
  <title>A source that names nobody - Nobody</title>
  <link>https://news.aggregator.example/articles/abc4</link>
  <guid isPermaLink="false">abc4</guid>
  <source url="https://nobody.example/"></source>
</item>
</channel></rss>
"""

ATOM_WITH_SOURCE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Planet Example</title><id>urn:planet</id><link href="https://planet.example/"/>
<entry>
  <title>A post - Alice's Notes</title><id>urn:p1</id>
  <link href="https://alice.example/p1"/><updated>2029-12-01T00:00:00Z</updated>
  <source><id>urn:alice</id><title>Alice's Notes</title></source>
</entry>
</feed>
"""


def _items(parse: Parse, body: bytes = AGGREGATOR, **options: str) -> list[Item]:
    feed = parse(body, feed_url=FEED_URL, now=NOW, **options)
    return list(feed.items)  # type: ignore[attr-defined]


@PARSERS
def test_the_item_names_its_outlet_and_the_title_loses_it(parse: Parse) -> None:
    first, second, *_ = _items(parse)
    assert (first.source, first.title) == ("The Daily Example", "Regulators agree on model rules")
    assert (second.source, second.title) == (
        "Example Wire & Co",
        "Parliament votes on data bill",
    )


@PARSERS
def test_items_without_an_outlet_keep_the_feed_title(parse: Parse) -> None:
    *_, unnamed, empty = _items(parse)
    assert unnamed.source == empty.source == "Top stories - Example Aggregator"
    # The " - Somewhere" segment names no known outlet: it stays.
    assert unnamed.title == "An item without a source - Somewhere"
    assert empty.title == "A source that names nobody - Nobody"


@PARSERS
def test_the_outlet_beats_the_default_feed_name(parse: Parse) -> None:
    """feeds.yaml names a feed without `name:` after its host: that is no deliberate choice."""
    items = _items(parse, source="news.aggregator.example")
    assert [item.source for item in items] == [
        "The Daily Example",
        "Example Wire & Co",
        "news.aggregator.example",
        "news.aggregator.example",
    ]


@PARSERS
def test_an_operator_written_name_wins(parse: Parse) -> None:
    items = _items(parse, source="AI policy via the aggregator")
    assert {item.source for item in items} == {"AI policy via the aggregator"}
    # The outlet still comes off the title.
    assert items[0].title == "Regulators agree on model rules"


def test_a_config_without_name_lets_the_item_name_its_outlet(tmp_path: Path) -> None:
    """End to end from feeds.yaml: the default name config gives is recognized as one."""
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        f'feeds:\n  - "{FEED_URL}"\n  - url: "{FEED_URL}&x=1"\n    name: My aggregator\n'
        "topics:\n  all:\n    any: ['rules']\n"
        "destinations:\n  - console: stdout\n    topics: [all]\n",
        encoding="utf-8",
    )
    unnamed, named = load_config(config_file, env={}).feeds
    for feed, expected in ((unnamed, "The Daily Example"), (named, "My aggregator")):
        item = parse_feed(AGGREGATOR, feed_url=feed.url, source=feed.name, now=NOW).items[0]
        assert item.source == expected


@pytest.mark.parametrize(
    "url",
    [
        FEED_URL,
        "http://Example.ORG:8080/feed",
        "https://user@host.example/x",
        "file:///srv/feeds/local%20news.xml",
        "file:///",
    ],
)
def test_the_default_name_is_the_one_config_gives(url: str) -> None:
    assert _default_name(url) == default_feed_name(url)


@PARSERS
def test_an_atom_entry_source_names_its_feed(parse: Parse) -> None:
    (item,) = _items(parse, ATOM_WITH_SOURCE)
    assert (item.source, item.title) == ("Alice's Notes", "A post")


def test_the_aggregator_feed_takes_the_fast_path() -> None:
    """The outlet comes from lxml too, not only after a fall back to feedparser."""
    quick = parse_fast(AGGREGATOR, {"content-type": "application/xml"})
    assert quick is not None
    assert quick.entries[0]["source"] == {
        "href": "https://daily.example",
        "title": "The Daily Example",
    }


@PARSERS
def test_a_long_outlet_name_is_bounded(parse: Parse) -> None:
    body = AGGREGATOR.replace(b"The Daily Example</source>", b"Example " * 100 + b"</source>")
    assert len(_items(parse, body)[0].source) <= 200
