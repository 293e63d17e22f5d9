"""Honest dates: localized dates read, untrusted ones marked, undated archives never sent as new,
and the digest saying "seen" where the feed gave no date."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.console import ConsoleTransport
from policywire.config.load import load_config
from policywire.config.model import Config, EmbeddingSettings
from policywire.deliver import i18n
from policywire.deliver.render import view_digest
from policywire.deliver.telegram_html import render_telegram
from policywire.ingest.dates import MAX_DATE_CHARS, MAX_LOOKUPS_PER_FEED, LocalizedDates
from policywire.ingest.parse import FUTURE_TOLERANCE, parse_feed, parse_feed_with_feedparser
from policywire.models import Digest, Item, MatchedItem, ParsedFeed, Story, TopicHit, Validators
from policywire.preview import run_preview
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_yaml, slug

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FEED = "https://news.example/feed.xml"


def rss(entries: Sequence[tuple[str, str | None]], language: str | None = None) -> str:
    """A feed of (title, pubDate text or None) entries; every title is about the AI Act."""
    items = "".join(
        f"<item><title>{title}</title><link>https://news.example/{slug(title)}</link>"
        f"<guid>https://news.example/{slug(title)}</guid>"
        + (f"<pubDate>{date}</pubDate>" if date is not None else "")
        + f"<description>{title}. A second sentence.</description></item>"
        for title, date in entries
    )
    lang = f"<language>{language}</language>" if language else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link>{lang}{items}</channel></rss>"
    )


def parse_both(body: str) -> ParsedFeed:
    """The fast path's result, checked against the feedparser path's (they must agree)."""
    fast = parse_feed(body.encode(), feed_url=FEED, now=NOW)
    slow = parse_feed_with_feedparser(body.encode(), feed_url=FEED, now=NOW)
    assert fast.items == slow.items
    return fast


# --- reading localized dates --------------------------------------------------------------------

LOCALIZED = [
    # (language tag of the feed, the date as such a feed writes it, the instant in UTC)
    ("it", "mar, 3 mar 2026 09:15:00 +0100", datetime(2026, 3, 3, 8, 15, tzinfo=UTC)),
    ("pt-BR", "Qua, 04 Mar 2026 18:30:00 -0300", datetime(2026, 3, 4, 21, 30, tzinfo=UTC)),
    ("fr", "jeu., 5 mars 2026 07:00:00 +0100", datetime(2026, 3, 5, 6, 0, tzinfo=UTC)),
    ("es", "vie, 06 mar 2026 10:45:00 +0100", datetime(2026, 3, 6, 9, 45, tzinfo=UTC)),
    ("de", "Sa, 07 Mär 2026 16:20:00 +0100", datetime(2026, 3, 7, 15, 20, tzinfo=UTC)),
]


@pytest.mark.parametrize(("language", "text", "expected"), LOCALIZED)
def test_a_localized_date_is_read(language: str, text: str, expected: datetime) -> None:
    [item] = parse_both(rss([("AI Act news", text)], language=language)).items
    assert item.dated
    assert item.published == expected


def test_localized_dates_are_read_without_a_declared_language() -> None:
    feed = parse_both(rss([(f"Story {n}", text) for n, (_, text, _) in enumerate(LOCALIZED)]))
    assert [item.published for item in feed.items] == [expected for _, _, expected in LOCALIZED]
    assert all(item.dated for item in feed.items)


def test_a_json_feed_date_that_is_not_rfc_3339_is_read_too() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "items": [
                {"id": "1", "url": "https://j.example/1", "title": "A", "date_published": "x"},
                {
                    "id": "2",
                    "url": "https://j.example/2",
                    "title": "B",
                    "date_published": "mer, 4 mar 2026 10:00:00 +0100",
                },
            ],
        }
    ).encode()
    first, second = parse_feed(body, feed_url=FEED, now=NOW).items
    assert not first.dated and first.published == NOW
    assert second.dated and second.published == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "yesterday",  # relative to what? never trusted
        "3 days ago",
        "24 Set",  # no year: it must not become this year's
        "mar, 3 mar 2026 09:15:00 +0100 " + "x" * MAX_DATE_CHARS,  # too long to try
        "Tue, 03 Mar 2026 25:61:00 GMT",
        "Seg, 24 Set 2018 " * 20_000,  # huge: no attempt, whatever it holds
        "abc1" * 30_000,
    ],
)
def test_an_unreadable_date_leaves_the_item_undated(text: str) -> None:
    [item] = parse_both(rss([("AI Act news", text)])).items
    assert not item.dated
    assert item.published == NOW  # the parse time: the store replaces it by the first-seen time


def test_a_missing_date_leaves_the_item_undated() -> None:
    [item] = parse_both(rss([("AI Act news", None)])).items
    assert not item.dated


def test_a_date_in_the_future_is_not_trusted() -> None:
    soon = NOW + FUTURE_TOLERANCE - timedelta(minutes=1)
    later = NOW + FUTURE_TOLERANCE + timedelta(minutes=1)
    body = rss(
        [
            ("Soon", f"{soon:%a, %d %b %Y %H:%M:%S +0000}"),
            ("Later", f"{later:%a, %d %b %Y %H:%M:%S +0000}"),
        ]
    )
    near, far = parse_both(body).items
    assert near.dated and near.published == soon  # clock drift is tolerated
    assert not far.dated and far.published == NOW


def test_a_localized_date_in_the_future_is_not_trusted_either() -> None:
    [item] = parse_both(rss([("AI Act news", "ven, 3 apr 2026 09:00:00 +0200")])).items
    assert not item.dated


def test_too_long_or_digitless_texts_cost_no_lookup() -> None:
    dates = LocalizedDates(budget=5)
    assert dates.read("x" * 1_000_000) is None
    assert dates.read("mar, 3 mar 2026 09:15:00 +0100".ljust(MAX_DATE_CHARS + 1, "z")) is None
    assert dates.read("martedì, tre marzo") is None
    assert dates.lookups_left == 5


def test_the_lookups_of_one_feed_are_capped() -> None:
    dates = LocalizedDates(budget=2)
    assert dates.read("mar, 3 mar 2026 09:15:00 +0100", "it") is not None
    assert dates.read("garbage 42") is None
    # The budget is spent: even a good date (cached, even) is not looked up any more.
    assert dates.read("mar, 3 mar 2026 09:15:00 +0100", "it") is None
    assert dates.lookups_left == 0


def test_a_huge_feed_of_localized_dates_dates_only_its_first_entries() -> None:
    day = datetime(2025, 1, 1, tzinfo=UTC)
    entries = [
        (f"Story {n}", f"{(day + timedelta(minutes=n)):%d/%m/%Y %H:%M}")
        for n in range(MAX_LOOKUPS_PER_FEED + 5)
    ]
    feed = parse_both(rss(entries, language="it"))
    dated = [item.dated for item in feed.items]
    assert dated == [True] * MAX_LOOKUPS_PER_FEED + [False] * 5
    assert feed.items[1].published == day + timedelta(minutes=1)


# --- storing: an undated archive is never new -----------------------------------------------------


def undated(n: int, feed: str = FEED) -> Item:
    return Item(
        feed=feed,
        id=f"u-{n}",
        link=f"https://news.example/u-{n}",
        title=f"AI Act story {n}",
        summary="A summary. Two sentences.",
        published=NOW,
        dated=False,
    )


HITS = TopicHit("ai-act", ("AI Act",))


async def open_store(tmp_path: Path) -> Store:
    return await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'dates.db'}")


async def candidates(store: Store, created: datetime) -> list[MatchedItem]:
    from policywire.storage.rows import DestinationRow

    row = DestinationRow(
        key="console:stdout",
        origin="config",
        platform="console",
        target="stdout",
        topics=("ai-act",),
        schedule="instant",
        timezone="UTC",
        language="en",
        active=True,
        created_at=created,
        last_digest_at=None,
        title="",
    )
    return await store.undelivered(row, timedelta(hours=24))


async def record(store: Store, when: datetime, *items: Item) -> None:
    hits = {(item.feed, item.id): [HITS] for item in items}
    await store.record_success(FEED, Validators(), when, items=items, hits=hits)


async def test_undated_items_of_a_first_read_are_stored_but_never_candidates(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path)
    try:
        await record(store, NOW, undated(1), undated(2))
        assert await store.count_items() == 2
        assert await candidates(store, NOW - timedelta(days=1)) == []
        # Polled again, the same items are known: still nothing.
        await record(store, NOW + timedelta(hours=1), undated(1), undated(2))
        assert await candidates(store, NOW - timedelta(days=1)) == []
    finally:
        await store.close()


async def test_an_undated_item_new_on_a_later_read_is_new_and_dated_when_first_seen(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path)
    try:
        await record(store, NOW)  # the feed was read (and was empty)
        later = NOW + timedelta(hours=2, microseconds=7)
        await record(store, later, undated(3))
        [found] = await candidates(store, NOW - timedelta(days=1))
        assert found.item.id == "u-3"
        assert not found.item.dated
        assert found.item.published == later == found.first_seen
    finally:
        await store.close()


async def test_a_failed_first_poll_does_not_count_as_a_read(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        await store.record_failure(FEED, "HTTP 500", NOW)  # the feed row exists, unread
        await record(store, NOW + timedelta(minutes=5), undated(4))
        assert await candidates(store, NOW - timedelta(days=1)) == []
    finally:
        await store.close()


async def test_unmatched_undated_items_are_stored_with_their_date_source(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        await record(store, NOW)
        plain = [undated(5), replace(undated(6), dated=True, id="d-6")]
        await store.record_success(FEED, Validators(), NOW + timedelta(hours=1), items=plain)
    finally:
        await store.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "dates.db") as raw:
        rows = raw.execute("SELECT item_id, date_source FROM items ORDER BY item_id").fetchall()
    assert rows == [("d-6", "feed"), ("u-5", "seen")]


# --- the acceptance test: `run --once` over a feed of old undated items ---------------------


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def _fresh(minutes: int) -> str:
    return f"{datetime.now(UTC) - timedelta(minutes=minutes):%a, %d %b %Y %H:%M:%S +0000}"


async def run_once(path: Path) -> tuple[int, str]:
    config = load_config(path, env={})
    store = await Store.open(config.settings.database)
    out = io.StringIO()
    service = Service(
        config, store, {"console": ConsoleTransport({"stdout": out})}, parse_workers=0
    )
    try:
        sent = await service.run_once()
    finally:
        await service.stop()
        await store.close()
    return sent, out.getvalue()


async def test_a_first_run_once_sends_nothing_from_a_feed_of_old_undated_items(
    tmp_path: Path, feeds: FeedServer
) -> None:
    old = [
        ("AI Act archive one", None),
        ("AI Act archive two", None),
        ("AI Act archive three", "Seg, 24 Set 2018 10:05:00 -0300"),  # read: 2018, too old
        ("AI Act archive four", "mer, 16 nov 2022 08:30:00 +0100"),
        ("AI Act archive five", "no date at all"),
    ]
    feeds.add("/archive.xml", rss(old))
    feeds.add(
        "/fresh.xml",
        rss([("AI Act fresh news", _fresh(5))]).replace("news.example", "fresh.example"),
    )
    path = tmp_path / "feeds.yaml"
    path.write_text(
        config_yaml(
            database=tmp_path / "run.db",
            settings={"timeout": "5s", "embedding": {"backend": "none"}},
            feeds=[
                {"url": feeds.url("/archive.xml"), "name": "Archive"},
                {"url": feeds.url("/fresh.xml"), "name": "Fresh"},
            ],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout"}],
        ),
        encoding="utf-8",
    )
    sent, out = await run_once(path)
    assert sent == 1  # the fresh feed's story: the digest itself works
    assert "AI Act fresh news" in out
    assert "archive" not in out

    # A later poll finds a new undated item: it is new to us, and its date is when we saw it.
    feeds.add("/archive.xml", rss([("AI Act undated but new", None), *old]))
    sent, out = await run_once(path)
    assert sent == 1
    assert "AI Act undated but new" in out
    assert "archive" not in out
    assert "undated, seen " in out


# --- preview applies the same rule -----------------------------------------------------------


def test_preview_leaves_out_undated_items(tmp_path: Path) -> None:
    feed = tmp_path / "undated.xml"
    feed.write_text(rss([("AI Act undated", None), ("AI Act dated", _fresh(10))]), encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text(
        config_yaml(
            database=tmp_path / "unused.db",
            feeds=[{"url": str(feed), "name": "Feed"}],
            topics={"ai-act": ["AI Act"]},
        ),
        encoding="utf-8",
    )
    config = _names_only(load_config(path, env={}))
    result = asyncio.run(run_preview(config, progress_stream=io.StringIO()))
    titles = [s.lead.item.title for d in result.digests for s in d.stories]
    assert titles == ["AI Act dated"]


def _names_only(config: Config) -> Config:
    embedding = EmbeddingSettings(backend="none")
    return replace(config, settings=replace(config.settings, embedding=embedding))


# --- rendering: "seen" instead of a made-up publication time --------------------------------

SEEN = {
    "en": "undated, seen Mar 10, 2026, 13:00",
    "it": "senza data, visto il 10 mar 2026, 13:00",
    "fr": "non daté, vu le 10 mars 2026, 13:00",
    "de": "ohne Datum, gesehen am 10.03.2026, 13:00",
}


@pytest.mark.parametrize("language", sorted(SEEN))
def test_an_undated_article_shows_when_it_was_seen(language: str) -> None:
    lead = MatchedItem(undated(7), (HITS,), ("News",), first_seen=NOW)
    dated = MatchedItem(replace(undated(8), dated=True), (HITS,), ("News",), first_seen=NOW)
    digest = Digest(
        destination="console:stdout",
        language=language,
        topics=("EU AI Act",),
        stories=(Story(lead), Story(dated)),
        generated_at=NOW,
        timezone="Europe/Rome",
    )
    view = view_digest(digest)
    assert view.stories[0].date == SEEN[language]
    assert view.stories[1].date == i18n.short_datetime(NOW, language, "Europe/Rome")
    assert not any(word in view.stories[1].date for word in ("seen", "visto", "vu", "gesehen"))
    assert any(SEEN[language] in message for message in render_telegram(view))


# --- cost: dateparser is loaded only when a date needs it ----------------------------------------


def test_dateparser_is_imported_only_for_a_date_feedparser_cannot_read() -> None:
    probe = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from policywire.ingest.parse import parse_feed\n"
        "from tests.test_dates import rss\n"
        "now = datetime(2026, 3, 10, tzinfo=UTC)\n"
        "body = rss([('A', 'Tue, 03 Mar 2026 09:15:00 GMT'), ('B', None), ('C', 'x')])\n"
        "parse_feed(body.encode(), feed_url='https://a.example/', now=now)\n"
        "print('dateparser' in sys.modules)\n"
        "body = rss([('D', 'mar, 3 mar 2026 09:15:00 +0100')])\n"
        "parse_feed(body.encode(), feed_url='https://a.example/', now=now)\n"
        "print('dateparser' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
