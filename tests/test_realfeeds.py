"""Robustness on real captured feeds (../shared/realfeeds, read by path, never copied).

Every file must either parse or fail with a one-line ParseError; the files MANIFEST.tsv marks
as broken must say so in one line (an error, or a warning next to the entries still read).
"""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policywire.ingest.parse import ParseError
from policywire.ingest.parsepool import ParsePool, ParseRequest
from policywire.models import ParsedFeed

REALFEEDS = Path(__file__).parents[1].parent / "shared" / "realfeeds"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every capture, so real dates stay real

Outcome = ParsedFeed | ParseError


def _manifest() -> dict[str, dict[str, str]]:
    with (REALFEEDS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        return {row["local_file"]: row for row in csv.DictReader(handle, delimiter="\t")}


async def _parse_all(bodies: dict[str, bytes]) -> dict[str, Outcome]:
    async def one(pool: ParsePool, name: str, body: bytes) -> Outcome:
        try:
            request = ParseRequest(body, feed_url=f"https://feeds.example/{name}", now=NOW)
            return (await pool.parse(request)).feed
        except ParseError as error:
            return error

    # Both cores: the two 1 MB+ files dominate, and they land in different workers.
    async with ParsePool() as pool:
        outcomes = await asyncio.gather(*(one(pool, *pair) for pair in bodies.items()))
    return dict(zip(bodies, outcomes, strict=True))


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    if not REALFEEDS.is_dir():
        pytest.skip(f"{REALFEEDS} is not there")
    paths = sorted(p for p in REALFEEDS.iterdir() if p.suffix in {".xml", ".atom", ".rdf", ".json"})
    return asyncio.run(_parse_all({path.name: path.read_bytes() for path in paths}))


def test_every_file_parses_or_fails_in_one_line(outcomes: dict[str, Outcome]) -> None:
    assert len(outcomes) >= 50
    for name, outcome in outcomes.items():
        message = str(outcome) if isinstance(outcome, ParseError) else outcome.warning
        if message is not None:
            assert message.strip() and "\n" not in message, name
        if isinstance(outcome, ParseError):
            # Not the pool's catch-all for parser bugs: a real verdict on the body.
            assert str(outcome).startswith(("not a feed:", "broken feed:")), (name, outcome)


def test_known_broken_feeds_say_so(outcomes: dict[str, Outcome]) -> None:
    manifest = _manifest()
    for name, row in manifest.items():
        if name not in outcomes or row["format"].startswith("JSON"):
            continue  # the JSON Feed only confuses feedparser; we read it with json
        outcome = outcomes[name]
        broken = row["fp_bozo"] != "0" or "NOT-well-formed" in row["quirks"]
        if row["items_raw"] == "0":
            assert isinstance(outcome, ParseError), name
        elif broken:
            assert isinstance(outcome, ParsedFeed) and outcome.warning, name
            assert outcome.items, name


def test_good_feeds_give_items_with_titles_and_utc_dates(outcomes: dict[str, Outcome]) -> None:
    manifest = _manifest()
    feeds = [outcome for outcome in outcomes.values() if isinstance(outcome, ParsedFeed)]
    assert len(feeds) >= 0.9 * len(outcomes)
    with_items = [feed for feed in feeds if feed.items]
    assert len(with_items) == len(feeds)
    items = [item for feed in feeds for item in feed.items]
    titled = [item for item in items if item.title]
    assert len(titled) >= 0.98 * len(items)
    assert all(item.published.tzinfo is UTC for item in items)
    assert all(item.published <= NOW + timedelta(minutes=10) for item in items)
    # Real dates come through (the heise RDF and a few others carry none, hence "most").
    dated = [item for item in items if item.published != NOW]
    assert len(dated) >= 0.8 * len(items)
    for name, outcome in outcomes.items():
        if isinstance(outcome, ParsedFeed) and name in manifest:
            # Only repeated ids and entries with neither title nor link may be dropped.
            assert 0.5 * int(manifest[name]["fp_entries"] or 0) <= len(outcome.items), name


def test_json_feed_and_encodings(outcomes: dict[str, Outcome]) -> None:
    json_feed = outcomes.get("feedrs__daringfireball.json")
    assert isinstance(json_feed, ParsedFeed) and len(json_feed.items) == 2
    for name in ("miniflux__golem-iso8859-1.xml", "rssparser__jn-pt-encoding.xml"):
        feed = outcomes.get(name)
        assert isinstance(feed, ParsedFeed), name
        text = " ".join(item.title + item.summary for item in feed.items)
        assert "Ã" not in text and "\ufffd" not in text, name  # no mojibake
