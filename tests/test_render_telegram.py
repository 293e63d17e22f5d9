"""Telegram HTML: feed text inert, messages within 4096 UTF-16 units, split between stories."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from policywire.curate.digest import build_digest
from policywire.deliver.render import view_digest
from policywire.deliver.telegram_html import (
    TELEGRAM_LIMIT,
    render_telegram,
    utf16_len,
    visible_text,
)
from policywire.models import MatchedItem
from tests.helpers import NOW, item, matched

HOSTILE = '<b>bold</b> </a> & "quotes" <script>alert(1)</script> 😀 @everyone'
ALLOWED = {"b", "i", "a", "blockquote", "code"}


class TagChecker(HTMLParser):
    """Checks every tag is one of ours and properly nested (as Telegram requires)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag {tag}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"bad nesting at {tag}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(message: str) -> str:
    checker = TagChecker()
    checker.feed(message)
    checker.close()
    assert checker.problems == []
    assert checker.stack == []
    return "".join(checker.text)


def digest_of(stories: list[MatchedItem], language: str = "en", max_stories: int = 500):  # type: ignore[no-untyped-def]
    return build_digest(
        stories,
        destination="telegram:1",
        language=language,
        topics=["EU AI Act"],
        max_stories=max_stories,
        now=NOW,
        timezone="Europe/Rome",
    )


def test_hostile_titles_are_rendered_inert() -> None:
    story = matched(item(1, title=HOSTILE, summary=HOSTILE + ". More text here."))
    [message] = render_telegram(view_digest(digest_of([story])))
    visible = check(message)
    assert "<script>" in visible  # shown as text, not a tag
    assert "</a>" in visible
    assert "😀" in visible
    assert "<script>" not in message  # escaped in the source


def test_javascript_links_never_become_links() -> None:
    story = matched(item(1, link="javascript:alert(1)"))
    [message] = render_telegram(view_digest(digest_of([story])))
    assert "javascript:" not in message


def test_two_hundred_stories_split_into_valid_messages() -> None:
    stories = [
        matched(item(n, title=f"Story {n} " + "😀" * 40, summary="Sentence here. " * 30))
        for n in range(200)
    ]
    messages = render_telegram(view_digest(digest_of(stories)))
    assert len(messages) > 1
    for message in messages:
        assert utf16_len(visible_text(message)) <= TELEGRAM_LIMIT  # what Telegram counts
        check(message)
    joined = "\n".join(messages)
    assert all(f"Story {n} " in joined for n in range(200))  # nothing dropped
    assert messages[0].startswith("<b>EU AI Act")


def test_oversized_story_is_shortened_not_dropped() -> None:
    huge_title = "Mistral " + "😀" * 3000
    story = matched(item(1, title=huge_title, summary="Word " * 2000))
    messages = render_telegram(view_digest(digest_of([story])))
    assert len(messages) == 1
    assert utf16_len(visible_text(messages[0])) <= TELEGRAM_LIMIT
    assert "Mistral" in check(messages[0])


def test_emoji_are_counted_as_two_units() -> None:
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1


def test_italian_digest_wording_and_hashtags() -> None:
    story = matched(item(1, title="Il Parlamento approva l'AI Act"), "ai-act", "mistral")
    [message] = render_telegram(view_digest(digest_of([story], language="it")))
    text = check(message)
    assert "1 notizia" in text
    assert "10 marzo 2026" in text
    assert re.search(r"#ai_act #mistral", text)
