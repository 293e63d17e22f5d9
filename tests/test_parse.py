"""parse_feed on hand-written fixtures (tests/data/feeds/), field by field; ParsePool modes."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from policywire.ingest.match import Matcher, match_items
from policywire.ingest.parse import ParseError, parse_feed
from policywire.ingest.parsepool import ParsedAndMatched, ParsePool, ParseRequest
from policywire.models import Item, ParsedFeed, TopicHit, TopicRule

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)


def parse(name: str, **kwargs: object) -> ParsedFeed:
    url = f"https://feeds.example/{name}"
    return parse_feed((FEEDS / name).read_bytes(), feed_url=url, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_rss2_first_item_field_by_field() -> None:
    feed = parse("rss2.xml")
    assert feed.title == "Policy Desk"
    assert feed.language == "en"
    assert feed.warning is None
    first = feed.items[0]
    assert first == Item(
        feed="https://feeds.example/rss2.xml",
        id="pd-1001",
        link="https://policydesk.example/2025/03/gpai-deal?id=7",
        title="Council & Parliament agree on GPAI duties",
        summary=(
            "Negotiators closed the file on general-purpose models late on Monday. "
            "The text now goes to a vote, see the council note and our background piece."
        ),
        published=datetime(2025, 3, 4, 8, 30, tzinfo=UTC),
        language="en",
        tags=("AI Act", "Mistral"),
        source="Policy Desk",
        links=(
            "https://council.example/press/gpai",
            "https://policydesk.example/2025/02/background",
        ),
    )


def test_rss2_other_items() -> None:
    items = parse("rss2.xml").items
    # The duplicate guid and the entry with neither title nor link are gone.
    assert [item.id for item in items] == [
        "pd-1001",
        "https://policydesk.example/2025/03/code-of-practice",
        "https://policydesk.example/2025/03/untitled",
        items[3].id,
    ]
    html_title = items[1]
    assert html_title.title == "Code of practice draft: what changes for model providers"
    # A relative RSS link is resolved against the channel's link, not the feed's address.
    assert html_title.link == "https://policydesk.example/2025/03/code-of-practice"
    assert html_title.summary == "The third draft trims the reporting duties."
    assert html_title.links == ("https://commission.example/cop-draft-3",)
    assert html_title.published == datetime(2025, 3, 3, 18, 0, tzinfo=UTC)

    untitled = items[2]
    assert untitled.title == "A short note without a title."
    assert untitled.summary == "A short note without a title. It has a second sentence."

    title_only = items[3]
    assert title_only.link == ""
    assert len(title_only.id) == 40 and int(title_only.id, 16) >= 0  # a sha1 hex digest
    assert title_only.title == "Title only, no link and no guid"


def test_rss2_hash_id_is_stable_across_polls() -> None:
    later = parse_feed(
        (FEEDS / "rss2.xml").read_bytes(),
        feed_url="https://feeds.example/rss2.xml",
        now=NOW + timedelta(days=1),
    )
    assert later.items[3].id == parse("rss2.xml").items[3].id


def test_overrides_for_source_and_language() -> None:
    feed = parse("rss2.xml", source="Desk (configured)", language="it-IT")
    assert feed.language == "it"
    assert {item.source for item in feed.items} == {"Desk (configured)"}
    assert {item.language for item in feed.items} == {"it"}


def test_atom() -> None:
    feed = parse("atom.xml")
    assert feed.title == "Osservatorio digitale"
    assert feed.language == "it"
    first, second = feed.items
    assert first == Item(
        feed="https://feeds.example/atom.xml",
        id="tag:osservatorio.example,2025:42",
        link="https://osservatorio.example/notizie/garante-istruttoria",
        title="Il Garante apre un’istruttoria sull’assistente vocale",
        summary=(
            "L’autorità chiede chiarimenti entro venti giorni, ecc. "
            "Il sig. Bianchi ha commentato la decisione."
        ),
        published=datetime(2025, 3, 5, 9, 15, tzinfo=UTC),
        language="it",
        tags=("Privacy", "garante"),
        source="Osservatorio digitale",
        links=("https://garante.example/provvedimento/123",),
    )
    # xml:lang on the entry wins over the feed's; content stands in for a missing summary.
    assert second.language == "en"
    assert second.summary == "Only full content here, no summary."
    assert second.published == datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def test_rdf() -> None:
    feed = parse("rdf.rdf")
    assert feed.title == "Netzpolitik Beispiel"
    dated, undated = feed.items
    assert dated.id == "https://netzpolitik.example/artikel/1"
    assert dated.link == "https://netzpolitik.example/artikel/1"
    assert dated.title == "Bundestag berät über KI-Aufsicht"
    assert dated.summary == "Die Bundesnetzagentur soll z.B. die Marktaufsicht übernehmen."
    assert dated.published == datetime(2025, 3, 3, 13, 0, tzinfo=UTC)
    assert dated.language == "de"
    assert dated.tags == ("KI-Verordnung",)
    assert undated.published == NOW


def test_json_feed() -> None:
    feed = parse("jsonfeed.json")
    assert feed.title == "Link Log"
    assert feed.language == "en"
    assert feed.warning is None
    assert [item.id for item in feed.items] == [
        "https://linklog.example/2025/03/sandbox",
        "2002",
        "2003",
    ]
    first, numeric, undated = feed.items
    assert first == Item(
        feed="https://feeds.example/jsonfeed.json",
        id="https://linklog.example/2025/03/sandbox",
        link="https://linklog.example/2025/03/sandbox",
        title="Regulatory sandbox opens for AI start-ups",
        summary="The regulator's sandbox takes its first cohort. Details in the FAQ.",
        published=datetime(2025, 3, 5, 11, 20, tzinfo=UTC),
        language="en",
        tags=("sandbox", "AI Act"),
        source="Link Log",
        links=("https://regulator.example/sandbox-faq", "https://regulator.example/sandbox-launch"),
    )
    assert numeric.link == "https://linklog.example/2025/03/plain"
    assert numeric.summary == "Plain text only: 3 < 4 & 5 > 4. Second sentence."
    assert numeric.title == "Plain text only: 3 < 4 & 5 > 4."
    assert numeric.published == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert undated.summary == "A summary field wins over content_html."
    assert undated.published == NOW


def test_json_feed_detected_by_content_type_and_bom() -> None:
    body = b"\xef\xbb\xbf  " + (FEEDS / "jsonfeed.json").read_bytes()
    feed = parse_feed(
        body,
        feed_url="https://feeds.example/f",
        headers={"Content-Type": "application/feed+json"},
        now=NOW,
    )
    assert len(feed.items) == 3


def test_json_feed_lone_surrogate_escapes_become_replacement_marks() -> None:
    # "\ud800" is valid JSON but no database (nor UTF-8) can hold the string it decodes to.
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "T\\udfff", "items": ['
        b'{"id": "1", "url": "https://x.example/1", "title": "AI Act \\ud800 fines",'
        b' "content_text": "Body \\udc00."}]}'
    )
    feed = parse_feed(body, feed_url="https://feeds.example/f.json", now=NOW)
    (item,) = feed.items
    assert item.title == "AI Act ? fines" and item.summary == "Body ?."
    for text in (feed.title, item.id, item.title, item.summary):
        text.encode("utf-8")  # would raise on a lone surrogate


def test_declared_latin1_encoding() -> None:
    feed = parse("latin1.xml")
    assert feed.title == "Cronache dell'Età Digitale"
    (item,) = feed.items
    assert item.title == "L'Autorità è più severa: multe per chi non rispetta le regole"
    assert item.summary == "Perché è così? Il sig. Müller non è d'accordo."
    assert item.language == "it"
    assert item.published == datetime(2025, 3, 5, 7, 0, tzinfo=UTC)
    assert feed.warning is None


def test_header_declaring_the_wrong_encoding() -> None:
    feed = parse("latin1-undeclared.xml", headers={"Content-Type": "text/xml; charset=utf-8"})
    (item,) = feed.items
    assert item.title == "L'Autorità è più severa: multe per chi non rispetta le regole"
    assert feed.warning is not None
    assert "\n" not in feed.warning
    assert feed.warning.startswith("wrong encoding (")
    assert feed.warning.endswith(", 1 entry used")


def test_header_encoding_is_honoured() -> None:
    body = (FEEDS / "latin1-undeclared.xml").read_bytes()
    feed = parse_feed(
        body,
        feed_url="https://feeds.example/x",
        headers={"content-type": "application/rss+xml; charset=iso-8859-1"},
        now=NOW,
    )
    assert feed.items[0].title.startswith("L'Autorità è più severa")
    assert feed.warning is None


def test_ill_formed_but_usable() -> None:
    feed = parse("illformed.xml")
    assert (
        feed.warning == "ill-formed XML (not well-formed (invalid token) at line 8), 2 entries used"
    )
    first, second = feed.items
    assert first.title == "Ministers & experts meet on compute thresholds"
    assert second.summary == "Second item text."


def test_dates() -> None:
    published = {item.title: item.published for item in parse("dates.xml").items}
    assert published == {
        "No date": NOW,
        "Garbage date": NOW,
        "Far future": NOW,
        "Five minutes ahead": NOW + timedelta(minutes=5),
        "An hour ahead": NOW,
        "Offset date": datetime(2025, 3, 5, 11, 0, tzinfo=UTC),
    }
    assert all(value.tzinfo is UTC for value in published.values())


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_feed(b"<rss/>", feed_url="u", now=datetime(2025, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((FEEDS / "page.html").read_bytes(), "not a feed: looks like an HTML page"),
        (b"", "not a feed: empty body"),
        (b" \n\t ", "not a feed: empty body"),
        (b"\xef\xbb\xbf", "not a feed: empty body"),
        (b"just some words", "not a feed: XML syntax error at line 1 (syntax error)"),
        (b"\x00\x01\x02 binary", "not a feed: XML syntax error at line 1"),
        (b"<foo>\n<bar>\n<baz>a & b</baz>", "not a feed: XML syntax error at line 3"),
        (b'<?xml version="1.0"?><root><child/></root>', "not a feed: no RSS, Atom or RDF"),
        (b'<?xml version="1.0"?>\n<html><body>x</body></html>', "not a feed: looks like an HTML"),
        (b"<rss version='2.0'><channel><title>cut", "broken feed: ill-formed XML (no element"),
        (b'{"title": "x"}', "not a feed: JSON without a JSON Feed items list"),
        (b'{"items": [', "not a feed: invalid JSON at line 1"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, feed_url="https://feeds.example/x", now=NOW)
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_valid_feed_without_entries_is_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, feed_url="https://feeds.example/quiet", now=NOW)
    assert feed == ParsedFeed(items=(), title="Quiet", language=None, warning=None)


def test_long_titles_and_summaries_are_capped() -> None:
    words = " ".join(["word"] * 2000)
    body = (
        "<rss version='2.0'><channel><title>Long</title><item>"
        f"<title>{words}</title><link>https://l.example/1</link>"
        f"<description>{words}</description></item></channel></rss>"
    ).encode()
    (item,) = parse_feed(body, feed_url="https://feeds.example/long", now=NOW).items
    assert len(item.title) <= 500 and item.title.endswith("…")
    assert len(item.summary) <= 4000 and item.summary.endswith("…")


def test_items_pickle_cleanly() -> None:
    feed = parse("rss2.xml")
    assert pickle.loads(pickle.dumps(feed)) == feed


async def matched_in(pool: ParsePool, body: bytes, **request: Any) -> ParsedAndMatched:
    return await pool.parse(ParseRequest(body, **request))


async def parsed_in(pool: ParsePool, body: bytes, **request: Any) -> ParsedFeed:
    return (await matched_in(pool, body, **request)).feed


async def test_pool_in_a_thread() -> None:
    async with ParsePool(workers=0) as pool:
        feed = await parsed_in(
            pool,
            (FEEDS / "atom.xml").read_bytes(),
            feed_url="https://feeds.example/atom.xml",
            now=NOW,
        )
        assert feed == parse("atom.xml")
        with pytest.raises(ParseError, match="not a feed: empty body"):
            await parsed_in(pool, b"", feed_url="https://feeds.example/e", now=NOW)


async def test_pool_in_processes_and_error_passthrough() -> None:
    with ParsePool(workers=1) as pool:
        feed = await parsed_in(
            pool,
            (FEEDS / "rss2.xml").read_bytes(),
            feed_url="https://feeds.example/rss2.xml",
            headers={"Content-Type": "application/rss+xml"},
            now=NOW,
        )
        assert feed == parse("rss2.xml", headers={"Content-Type": "application/rss+xml"})
        with pytest.raises(ParseError, match=r"^not a feed: looks like an HTML page$"):
            await parsed_in(pool, (FEEDS / "page.html").read_bytes(), feed_url="x", now=NOW)


def running(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie does not)."""
    try:
        return ") Z" not in Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False


async def ended(pid: int) -> None:
    async with asyncio.timeout(5):
        while running(pid):  # noqa: ASYNC110 - nothing to await but the process's end
            await asyncio.sleep(0.02)


async def test_a_worker_that_died_is_replaced() -> None:
    with ParsePool(workers=1) as pool:
        assert pool.worker_pids() == []  # started by the first parse
        await parsed_in(pool, (FEEDS / "rdf.rdf").read_bytes(), feed_url="x", now=NOW)
        [pid] = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would do it
        await ended(pid)
        feed = await parsed_in(pool, (FEEDS / "rdf.rdf").read_bytes(), feed_url="x", now=NOW)
        assert len(feed.items) == 2
        assert pool.worker_pids() not in ([], [pid])


async def test_closed_pool_refuses_work() -> None:
    pool = ParsePool(workers=0)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await parsed_in(pool, b"<rss/>", feed_url="x", now=NOW)


RULES = (
    TopicRule("gpai", "GPAI", any=("GPAI", "general-purpose")),
    TopicRule("mistral", "Mistral", any=("Mistral",)),
)


def expected(name: str, rules: tuple[TopicRule, ...] = RULES) -> ParsedAndMatched:
    feed = parse(name)
    return ParsedAndMatched(feed, match_items(Matcher.compile(rules), feed.items))


@pytest.mark.parametrize("workers", [0, 1])
async def test_parse_and_match_equals_parse_then_match(workers: int) -> None:
    async with ParsePool(workers=workers, rules=RULES) as pool:
        for name in ("rss2.xml", "atom.xml", "rdf.rdf"):
            result = await matched_in(
                pool, (FEEDS / name).read_bytes(), feed_url=f"https://feeds.example/{name}", now=NOW
            )
            assert result == expected(name)
        hits = (
            await matched_in(
                pool,
                (FEEDS / "rss2.xml").read_bytes(),
                feed_url="https://feeds.example/rss2.xml",
                now=NOW,
            )
        ).hits
        assert hits[("https://feeds.example/rss2.xml", "pd-1001")] == (
            TopicHit("gpai", ("GPAI", "general-purpose")),
            TopicHit("mistral", ("Mistral",)),
        )
        with pytest.raises(ParseError, match="not a feed: empty body"):
            await matched_in(pool, b"", feed_url="x", now=NOW)


async def test_pool_starts_no_process_before_the_first_parse() -> None:
    with ParsePool(workers=2, rules=RULES) as pool:
        assert pool.worker_pids() == []
        pool.set_rules(RULES[:1])  # nothing to replace yet
        assert pool.worker_pids() == []
    assert pool.worker_pids() == []


async def test_set_rules_applies_to_the_next_parses() -> None:
    body = (FEEDS / "rss2.xml").read_bytes()
    url = "https://feeds.example/rss2.xml"
    with ParsePool(workers=1, rules=RULES) as pool:
        assert (await matched_in(pool, body, feed_url=url, now=NOW)) == expected("rss2.xml")
        first = pool.worker_pids()
        pool.set_rules(list(RULES))  # the same rules: the workers stay
        assert pool.worker_pids() == first
        new_rules = (TopicRule("council", "Council", any=("Council",)),)
        pool.set_rules(new_rules)
        result = await matched_in(pool, body, feed_url=url, now=NOW)
        assert result == expected("rss2.xml", new_rules)
        assert result.hits and all(h[0].topic == "council" for h in result.hits.values())
        assert pool.worker_pids() != first


async def test_rules_that_do_not_compile_are_refused_and_change_nothing() -> None:
    with ParsePool(workers=0, rules=RULES) as pool:
        with pytest.raises(ValueError, match="topic 'bad'"):
            pool.set_rules([TopicRule("bad", "Bad", any=("re:(",))])
        result = await matched_in(
            pool,
            (FEEDS / "rss2.xml").read_bytes(),
            feed_url="https://feeds.example/rss2.xml",
            now=NOW,
        )
        assert result == expected("rss2.xml")


def test_parse_and_match_results_pickle() -> None:
    result = expected("rss2.xml")
    assert result.hits
    assert pickle.loads(pickle.dumps(result)) == result
