"""Telegram messages are filled by what Telegram counts: visible text in UTF-16 units.

Every message is judged by the fake Bot API's parser (tdlib's HTML rules, tests/fakes/), and
the last test sends a digest through the real python-telegram-bot client to the fake, which
refuses anything over 4096 visible units.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import telegram

from policywire.deliver.render import DigestView, view_digest
from policywire.deliver.telegram_html import (
    MAX_ENTITIES,
    MAX_LINKS,
    TELEGRAM_LIMIT,
    Limits,
    measure,
    render_telegram,
    utf16_len,
)
from policywire.models import Digest, Item, MatchedItem, Story, TopicHit
from tests.fakes.telegram_api import FakeTelegram, parse_html, trim
from tests.helpers import NOW

TOKEN = "123456:TEST-token"
SUMMARY = (
    "Lawmakers agreed on a compromise text on Tuesday, keeping the risk-based approach. "
    "National authorities get another year to prepare, officials said."
)


def telegram_units(message: str) -> int:
    """What Telegram counts: the text after entity parsing and trimming, in UTF-16 units."""
    return utf16_len(trim(parse_html(message)).text)


def entity_count(message: str) -> int:
    """Formatting entities, plus the hashtags Telegram detects by itself."""
    parsed = trim(parse_html(message))
    return len(parsed.entities) + parsed.text.count("#")


def article(n: int, outlet: int, *, title: str | None = None, link: str = "") -> MatchedItem:
    """One outlet's article on story `n`; its link is an aggregator's long redirect URL."""
    token = hashlib.sha256(f"{n}-{outlet}".encode()).hexdigest() * 3
    base = Item(
        feed=f"https://aggregator{outlet}.example/feed.xml",
        id=f"{n}-{outlet}",
        link=link or f"https://aggregator.example/rss/articles/{token}?oc=5&hl=en-US",
        title=title or f"Regulators weigh the next step on rule {n}: what outlet {outlet} heard",
        summary=SUMMARY,
        published=NOW - timedelta(hours=6 * n, minutes=outlet),
        language="en",
        source=f"Outlet {outlet}",
    )
    return MatchedItem(base, (TopicHit("ai-act", ("AI Act",)),), (base.source,), base.published)


def story(n: int, outlets: int = 3, *, title: str | None = None, link: str = "") -> Story:
    """Story `n` as several outlets told it: the first leads, the others are further reading."""
    told = [
        article(n, k, title=title, link=f"{link}{n}-{k}" if link else "") for k in range(outlets)
    ]
    return Story(lead=told[0], related=tuple(told[1:]))


def view_of(stories: list[Story]) -> DigestView:
    digest = Digest(
        destination="telegram:@news",
        language="en",
        topics=("EU AI Act",),
        stories=tuple(stories),
        generated_at=NOW,
        timezone="Europe/Rome",
    )
    return view_digest(digest)


def ten_stories(outlets: int = 3) -> list[Story]:
    return [story(n, outlets) for n in range(10)]


def old_message_count(messages: list[str]) -> int:
    """How many messages the HTML source measure needed at least (the renderer before)."""
    return -(-sum(utf16_len(m) for m in messages) // TELEGRAM_LIMIT)


def test_ten_stories_told_by_two_outlets_fit_in_one_message() -> None:
    view = view_of(ten_stories(outlets=2))
    [message] = render_telegram(view)
    assert old_message_count([message]) == 3
    assert telegram_units(message) > 0.8 * TELEGRAM_LIMIT
    assert all(f"rule {n}:" in message for n in range(10))


def test_ten_stories_told_by_three_outlets_take_two_messages_not_four() -> None:
    messages = render_telegram(view_of(ten_stories(outlets=3)))
    units = [telegram_units(m) for m in messages]
    # The visible text alone is over one message: two is the fewest possible.
    assert len(messages) == 2 < sum(units) / TELEGRAM_LIMIT + 1
    assert old_message_count(messages) == 4
    assert units[0] > 0.8 * TELEGRAM_LIMIT
    assert all(u <= TELEGRAM_LIMIT for u in units)
    joined = "".join(messages)
    assert all(f"rule {n}:" in joined for n in range(10))


def test_emoji_and_astral_characters_are_counted_as_telegram_counts_them() -> None:
    title = "Rule {n}: 🇪🇺 🤖 𝐀𝐈 𝐀𝐜𝐭 𝓇𝑒𝓋𝒾𝑒𝓌 " + "😀" * 60
    messages = render_telegram(view_of([story(n, 1, title=title.format(n=n)) for n in range(40)]))
    units = [telegram_units(m) for m in messages]
    assert all(u <= TELEGRAM_LIMIT for u in units)
    assert sum(units) / len(units) > 0.8 * TELEGRAM_LIMIT  # full, not half empty
    text = "\n".join(trim(parse_html(m)).text for m in messages)
    assert all(f"Rule {n}: 🇪🇺" in text for n in range(40))  # nothing dropped, nothing cut


def test_the_split_falls_exactly_at_the_limit() -> None:
    view = view_of([story(n, 1, title=f"Rule {n} 😀𝐀") for n in range(3)])
    [whole] = render_telegram(view, Limits(visible=10_000))
    units = telegram_units(whole)
    assert measure(whole).visible == units  # our count is the fake's (tdlib's)
    assert render_telegram(view, Limits(visible=units)) == [whole]
    parts = render_telegram(view, Limits(visible=units - 1))
    assert len(parts) == 2
    assert all(telegram_units(p) <= units - 1 for p in parts)
    assert "\n\n".join(parts) == whole  # split between stories, nothing else changed


def test_no_message_carries_more_entities_than_telegram_formats() -> None:
    # Eight further-reading links a story: more than a hundred entities in a few stories.
    stories = [story(n, 9, link="https://outlet.example/") for n in range(12)]
    messages = render_telegram(view_of(stories))
    assert len(messages) > 1
    assert all(entity_count(m) <= MAX_ENTITIES for m in messages)
    assert all(measure(m).entities >= entity_count(m) for m in messages)  # never under


def link_units(message: str) -> int:
    """The link targets' total, as the fake's parser hands them to Telegram."""
    entities = trim(parse_html(message)).entities
    return sum(utf16_len(e["url"]) for e in entities if e["type"] == "text_link")


def test_long_links_keep_the_entities_within_their_total_size() -> None:
    long_link = "https://aggregator.example/rss/articles/" + "A" * 200
    messages = render_telegram(view_of([story(n, link=long_link) for n in range(10)]))
    assert len(messages) > 1
    assert all(link_units(m) <= MAX_LINKS for m in messages)
    assert all(measure(m).links == link_units(m) for m in messages)
    assert all(telegram_units(m) <= TELEGRAM_LIMIT for m in messages)
    joined = "".join(messages)
    assert all(f"rule {n}:" in joined for n in range(10))


def test_a_story_whose_link_alone_is_too_large_keeps_its_headline_without_it() -> None:
    absurd = "https://aggregator.example/" + "x" * MAX_LINKS
    [message] = render_telegram(view_of([story(1, 1, link=absurd)]))
    assert absurd not in message
    assert "Regulators weigh the next step on rule 1:" in trim(parse_html(message)).text
    assert link_units(message) == 0
    # With a summary far over the limit as well, the story is shortened and still sent.
    long = story(2, 3, link=absurd)
    lead = replace(long.lead, item=replace(long.lead.item, summary="Word 😀 " * 3000))
    [message] = render_telegram(view_of([replace(long, lead=lead)]))
    assert link_units(message) == 0
    assert telegram_units(message) <= TELEGRAM_LIMIT
    assert "rule 2:" in trim(parse_html(message)).text


async def test_the_fake_bot_api_accepts_every_message_of_a_full_digest() -> None:
    title = "Rule {n}: 🇪🇺 𝐀𝐈 " + "😀" * 50
    messages = render_telegram(view_of([story(n, 2, title=title.format(n=n)) for n in range(30)]))
    async with FakeTelegram() as tg, telegram.Bot(TOKEN, base_url=tg.base_url) as bot:
        for message in messages:
            await bot.send_message(1, message, parse_mode="HTML")
        sent = tg.sent
    assert len(sent) == len(messages)
    assert all(utf16_len(m.plain_text) <= TELEGRAM_LIMIT for m in sent)
    assert max(utf16_len(m.plain_text) for m in sent) > 0.9 * TELEGRAM_LIMIT
