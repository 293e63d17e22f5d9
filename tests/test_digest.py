"""Digest building and console rendering: dedup, order, cap, localized wording."""

from __future__ import annotations

from datetime import timedelta

from policywire.curate.digest import build_digest
from policywire.deliver.render import render_console, view_digest
from tests.helpers import NOW, item, matched


def test_same_article_through_two_feeds_is_one_entry_naming_both() -> None:
    first = item(1, link="https://eu.example/a", source="EU Brief", feed="https://eu.example/f")
    copy = item(2, link="https://eu.example/a", source="Roundup", feed="https://roundup.example/f")
    digest = build_digest(
        [matched(first, pk=1), matched(copy, pk=2)],
        destination="console:stdout",
        language="en",
        topics=["EU AI Act"],
        max_stories=10,
        now=NOW,
    )
    assert len(digest.stories) == 1
    story = digest.stories[0]
    assert story.lead.sources == ("EU Brief", "Roundup")
    assert sorted(story.item_pks) == [1, 2]
    text = render_console(view_digest(digest))
    assert "EU Brief, Roundup" in text
    assert text.count("https://eu.example/a") == 1


def test_newest_first_and_capped_with_a_footer() -> None:
    stories = [matched(item(n, published=NOW - timedelta(hours=n))) for n in range(5)]
    digest = build_digest(
        list(reversed(stories)),
        destination="console:stdout",
        language="en",
        topics=["EU AI Act"],
        max_stories=3,
        now=NOW,
    )
    assert [s.lead.item.id for s in digest.stories] == ["id-0", "id-1", "id-2"]
    assert digest.more == 2
    text = render_console(view_digest(digest))
    assert "2 more matching stories did not fit" in text
    assert "3 stories" in text


def test_console_text_in_italian_and_german() -> None:
    story = matched(item(1, title="KI-Verordnung tritt in Kraft", language="de"))
    for language, words in (
        ("it", ["1 notizia", "10 marzo 2026"]),
        ("de", ["1 Meldung", "10. März 2026"]),
        ("fr", ["1 article", "10 mars 2026"]),
    ):
        digest = build_digest(
            [story],
            destination="console:stdout",
            language=language,
            topics=["EU AI Act"],
            max_stories=10,
            now=NOW,
            timezone="Europe/Berlin",
        )
        text = render_console(view_digest(digest))
        for word in words:
            assert word in text, (language, word, text)


def test_empty_digest_says_so() -> None:
    digest = build_digest(
        [], destination="console:stdout", language="it", topics=["AI"], max_stories=5, now=NOW
    )
    assert "Nessuna novità" in render_console(view_digest(digest))


def test_control_characters_never_reach_the_terminal() -> None:
    story = matched(item(1, title="Evil \x1b[31mred\x1b[0m title", summary="Clean \x07bell."))
    digest = build_digest(
        [story], destination="console:stdout", language="en", topics=[], max_stories=5, now=NOW
    )
    text = render_console(view_digest(digest))
    assert "\x1b" not in text
    assert "\x07" not in text
