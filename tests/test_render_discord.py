"""Digest → Discord payloads: embeds within Discord's limits, feed text inert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policywire.deliver.discord_embeds import (
    MAX_TOTAL,
    ZWSP,
    colour,
    embed_length,
    escape,
    fit,
    render_discord,
    utf16_len,
)
from policywire.deliver.render import view_digest
from policywire.models import Digest, Story
from tests.fakes.discord_api import validate_message
from tests.helpers import NOW, item, matched


def digest(*stories: Story, language: str = "en", more: int = 0) -> Digest:
    return Digest(
        destination="discord:1",
        language=language,
        topics=("EU AI Act",),
        stories=stories,
        generated_at=NOW,
        timezone="Europe/Rome",
        more=more,
    )


def story(n: int, *, related: int = 0, topic: str = "ai-act", **fields: Any) -> Story:
    lead = matched(item(n, **fields), topic)
    others = tuple(
        matched(item(1000 * n + k, source=f"Outlet {k}", title=f"Related {k} of {n}"), topic)
        for k in range(related)
    )
    return Story(lead, others)


def render(d: Digest) -> list[dict[str, Any]]:
    payloads = render_discord(view_digest(d))
    for payload in payloads:
        json.dumps(payload)  # the outbox stores it as JSON
        validate_message(payload)  # the fake's independent copy of Discord's checks
        assert payload["allowed_mentions"] == {"parse": []}
        assert len(payload["embeds"]) <= 10
        assert sum(embed_length(e) for e in payload["embeds"]) <= MAX_TOTAL
    return payloads


def test_one_embed_per_story_with_link_summary_reading_footer_and_colour() -> None:
    [payload] = render(digest(story(1, related=2, summary="First. Second."), story(2)))
    first, second = payload["embeds"]
    assert payload["content"] == "**EU AI Act · March 10, 2026 · 2 stories**"
    assert first["title"] == "Story number 1"
    assert first["url"] == "https://news.example/1"
    assert first["description"] == "First. Second."
    assert first["fields"] == [
        {
            "name": "Further reading:",
            "value": "• [Related 0 of 1](https://news.example/1000) — Outlet 0\n"
            "• [Related 1 of 1](https://news.example/1001) — Outlet 1",
            "inline": False,
        }
    ]
    assert first["footer"] == {"text": "News · Mar 10, 2026, 13:00"}  # Rome time
    assert first["color"] == second["color"] == colour(("ai-act",))
    assert "fields" not in second


def test_dates_and_wording_follow_the_language() -> None:
    [payload] = render(digest(story(1, related=1), language="it"))
    embed = payload["embeds"][0]
    assert "1 notizia" in payload["content"]
    assert embed["footer"]["text"] == "News · 10 mar 2026, 13:00"
    assert embed["fields"][0]["name"] == "Per chi volesse approfondire:"


def test_colour_is_stable_per_topic() -> None:
    assert colour(("ai-act",)) == colour(("ai-act", "mistral"))
    assert len({colour((t,)) for t in ("ai-act", "mistral", "gpai", "dsa", "chips")}) > 1
    assert isinstance(colour(()), int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** _it_ ~~s~~ `c` ||spoiler||",
         r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\` \|\|spoiler\|\|"),
        ("# Heading > quote - item", r"\# Heading \> quote \- item"),
        ("[label](https://x.example)", r"\[label\]\(https://x.example\)"),
        ("1. first", r"1\. first"),
        ("back\\slash", r"back\\slash"),
        ("see https://x.example/a_b*c ok_", r"see https://x.example/a_b\*c ok\_"),
        ("@everyone and @here", f"@{ZWSP}everyone and @{ZWSP}here"),
        ("<@123> <@!5> <@&9> <#7> <t:1:R>", f"<{ZWSP}@123\\> <{ZWSP}@!5\\> <{ZWSP}@&9\\> "
         f"<{ZWSP}\\#7\\> <{ZWSP}t:1:R\\>"),
    ],
)  # fmt: skip
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_mentions_in_feed_text_never_survive_anywhere() -> None:
    hostile = "@everyone <@&42> **x**"
    s = story(1, related=1, title=hostile, summary=hostile, source=hostile)
    [payload] = render(digest(s))
    flat = json.dumps(payload, ensure_ascii=False)
    assert "@everyone" not in flat and "<@&" not in flat
    assert payload["embeds"][0]["title"] == f"@{ZWSP}everyone <{ZWSP}@&42\\> \\*\\*x\\*\\*"


def test_non_web_links_are_not_links() -> None:
    [payload] = render(digest(story(1, link="javascript:alert(1)")))
    assert "url" not in payload["embeds"][0]


def test_parentheses_in_urls_do_not_break_markdown_links() -> None:
    s = story(1)
    related = matched(item(2, link="https://x.example/a_(b)", title="R"), "ai-act")
    [payload] = render(digest(Story(s.lead, (related,))))
    assert "[R](https://x.example/a_%28b%29)" in payload["embeds"][0]["fields"][0]["value"]


def test_long_title_and_summary_are_cut_to_the_embed_limits() -> None:
    s = story(1, title="Word " * 200 + "😀" * 200, summary="Sentence. " * 2000)
    [payload] = render(digest(s))
    embed = payload["embeds"][0]
    assert utf16_len(embed["title"]) <= 256 and embed["title"].endswith("…")
    assert len(embed["description"]) <= 4096


def test_an_update_is_marked() -> None:
    s = story(1)
    [payload] = render(digest(Story(s.lead, is_update=True)))
    assert payload["embeds"][0]["author"] == {"name": "New on this story"}


def test_many_stories_are_split_at_ten_embeds_header_first_footer_last() -> None:
    payloads = render(digest(*(story(n) for n in range(25)), more=3))
    assert [len(p["embeds"]) for p in payloads] == [10, 10, 6]
    assert payloads[0]["content"].startswith("**EU AI Act")
    assert all(p["content"] == "" for p in payloads[1:])
    assert "3 more matching stories" in payloads[-1]["embeds"][-1]["description"]
    titles = [e.get("title") for p in payloads for e in p["embeds"]][:-1]
    assert titles == [f"Story number {n}" for n in range(25)]


def test_big_stories_are_split_by_the_6000_character_budget() -> None:
    long = "A long sentence that goes on and on about the regulation. " * 8
    stories = [story(n, title=f"Story {n} " + "x" * 240, summary=long, related=8) for n in range(8)]
    payloads = render(digest(*stories))
    assert len(payloads) > 1
    assert all(len(p["embeds"]) < 10 for p in payloads)  # the budget split them, not the count
    assert sum(len(p["embeds"]) for p in payloads) == 8


def test_a_story_larger_than_a_message_loses_reading_first_never_the_story() -> None:
    titles = "T" * 300
    s = story(1, title=titles, summary="S" * 5000)
    link = "https://x.example/" + "p" * 800
    related = tuple(
        matched(item(100 + k, title=f"{k} " + "R" * 290, link=link + str(k)), "x") for k in range(8)
    )
    [payload] = render(digest(Story(s.lead, related)))
    [embed] = payload["embeds"]
    assert embed["title"].startswith("TTT")
    assert embed_length(embed) <= MAX_TOTAL


def test_an_empty_digest_says_so() -> None:
    [payload] = render(digest())
    assert payload["embeds"] == []
    assert payload["content"].endswith("Nothing new on these topics.")


def test_fit_cuts_on_words_and_measures_utf16() -> None:
    assert fit("short", 10) == "short"
    assert fit("one two three four", 12) == "one two…"
    assert utf16_len(fit("😀" * 10, 9)) <= 9
