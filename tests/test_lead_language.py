"""The headline is in the destination's language whenever the story has such an article.

Three outlets tell one story (names, a figure and a date in common, so names-only grouping
joins them); the Italian article is the shortest and the latest, so only its language can
make it the lead. Then the same through `preview` over feed files we wrote, and over the
shipped offline demo.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policywire.config.load import load_config
from policywire.config.model import Config, EmbeddingSettings
from policywire.curate.digest import build_digest
from policywire.deliver.render import view_digest
from policywire.deliver.telegram_html import render_telegram, visible_text
from policywire.models import Digest, Item, MatchedItem
from policywire.preview import run_preview
from tests.helpers import NOW, config_file, matched

ROOT = Path(__file__).resolve().parents[1]

ENGLISH = Item(
    feed="https://euwire.example/feed.xml",
    id="en-1",
    link="https://euwire.example/2026/03/mistral-microsoft",
    title="Microsoft takes a minority stake in Mistral AI as Mistral Large joins Azure",
    summary=(
        "Microsoft will invest 15 million euros in Mistral AI, the Paris start-up led by "
        "Arthur Mensch. Mistral Large becomes available to Azure customers. Members of the "
        "European Parliament asked the Commission to look at the deal."
    ),
    published=NOW - timedelta(hours=5),
    language="en",
    source="EU Wire",
)
FRENCH = Item(
    feed="https://lefil.example/feed.xml",
    id="fr-1",
    link="https://lefil.example/2026/03/mistral-microsoft",
    title="Mistral AI s'allie à Microsoft : Mistral Large arrive sur Azure",
    summary=(
        "Microsoft investit 15 millions d'euros dans Mistral AI, la jeune pousse parisienne "
        "d'Arthur Mensch. Mistral Large est proposé aux clients d'Azure."
    ),
    published=NOW - timedelta(hours=4),
    language="fr",
    source="Le Fil",
)
ITALIAN = Item(
    feed="https://dispaccio.example/feed.xml",
    id="it-1",
    link="https://dispaccio.example/2026/03/mistral-microsoft",
    title="Mistral AI apre a Microsoft: Mistral Large su Azure",
    summary=(
        "Microsoft investe 15 milioni di euro in Mistral AI, la startup parigina di Arthur Mensch."
    ),
    published=NOW - timedelta(hours=3),
    language="it",
    source="Il Dispaccio",
)
ARTICLES = (ENGLISH, FRENCH, ITALIAN)


def digest_in(language: str, candidates: list[MatchedItem], **options: object) -> Digest:
    return build_digest(
        candidates,
        destination="telegram:@news",
        language=language,
        topics=["Mistral AI"],
        max_stories=10,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def test_each_destination_gets_the_article_in_its_own_language_as_headline() -> None:
    candidates = [matched(a, "mistral") for a in ARTICLES]
    for language, lead in (("it", ITALIAN), ("fr", FRENCH), ("en", ENGLISH)):
        [story] = digest_in(language, candidates).stories
        assert story.lead.item == lead, language
        assert {m.item for m in story.related} == set(ARTICLES) - {lead}


def test_without_an_article_in_its_language_the_fullest_summary_leads() -> None:
    [story] = digest_in("de", [matched(a, "mistral") for a in ARTICLES]).stories
    assert story.lead.item == ENGLISH


def test_the_italian_telegram_message_leads_with_the_italian_article() -> None:
    digest = digest_in("it", [matched(a, "mistral") for a in reversed(ARTICLES)])
    [message] = render_telegram(view_digest(digest))
    text = visible_text(message)
    headline, _outlets, summary, further, *rest = text.split("\n\n", 1)[1].split("\n")
    assert headline == ITALIAN.title
    assert summary.startswith("Microsoft investe 15 milioni")
    assert further == "Per chi volesse approfondire:"
    assert f'<a href="{ITALIAN.link}">' in message
    assert any(ENGLISH.title in line for line in rest)


def test_an_update_to_a_story_sent_in_english_leads_with_the_new_italian_article() -> None:
    sent = [matched(ENGLISH, "mistral", pk=1)]
    new = [matched(FRENCH, "mistral", pk=2), matched(ITALIAN, "mistral", pk=3)]
    [story] = digest_in("it", new, delivered=sent).stories
    assert story.is_update
    assert story.lead.item == ITALIAN


# --- the whole path: parse (a regional language tag), match, group, choose the lead ----------


def _rss(item: Item, language: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{item.source}</title><link>https://{item.source}.example/</link>"
        f"<language>{language}</language><item><title>{item.title}</title>"
        f"<link>{item.link}</link><guid>{item.link}</guid>"
        f"<pubDate>{item.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        f"<description>{item.summary}</description></item></channel></rss>"
    )


def _names_only(config: Config) -> Config:
    """No embedding model: grouping by names, so the test loads no weights."""
    embedding = EmbeddingSettings(backend="none")
    return replace(config, settings=replace(config.settings, embedding=embedding))


def _preview(config: Config, now: datetime) -> tuple[Digest, ...]:
    result = asyncio.run(run_preview(config, clock=lambda: now, progress_stream=io.StringIO()))
    return result.digests


def test_preview_of_our_own_feeds_leads_with_the_italian_outlet(tmp_path: Path) -> None:
    feeds = []
    # The Italian feed says "it-IT" and the English one "en-GB": languages are compared by
    # their primary subtag, as destinations name them.
    for article, tag in ((ENGLISH, "en-GB"), (FRENCH, "fr"), (ITALIAN, "it-IT")):
        path = tmp_path / f"{article.id}.xml"
        path.write_text(_rss(article, tag), encoding="utf-8")
        feeds.append({"url": str(path), "name": article.source})
    path = config_file(
        tmp_path,
        database=tmp_path / "lead.db",
        feeds=feeds,
        topics={"mistral": {"name": "Mistral AI", "any": ["Mistral AI"]}},
        destinations=[
            {"console": "stdout", "language": "it"},
            {"console": "stderr", "language": "en"},
        ],
    )
    italian, english = _preview(_names_only(load_config(path, env={})), NOW)
    [story] = italian.stories
    assert story.lead.item.title == ITALIAN.title
    assert len(story.related) == 2
    [story] = english.stories
    assert story.lead.item.title == ENGLISH.title


def test_every_story_of_the_offline_demo_with_such_an_article_is_led_by_one() -> None:
    config = _names_only(load_config(ROOT / "examples" / "offline.yaml", env={}))
    digests = _preview(config, datetime(2024, 12, 1, tzinfo=UTC))
    assert {d.language for d in digests} == {"it", "en"}
    for digest in digests:
        for story in digest.stories:
            languages = {m.item.language for m in story.members}
            if digest.language in languages:
                assert story.lead.item.language == digest.language, story.lead.item.title
    italian = next(d for d in digests if d.language == "it")
    assert any(
        s.lead.item.language == "it" and len({m.item.language for m in s.members}) == 3
        for s in italian.stories
    )  # the Mistral–Microsoft story, told in three languages, leads in Italian
