"""Topic display names per language: `name:` as one text or as {language: text}.

The loader checks the mapping with line-precise errors like every other key; a destination's
digest header shows the name in its own language, else the default language's, else the
first one given.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from policywire.config.load import load_config
from policywire.config.model import Config, EmbeddingSettings
from policywire.curate.digest import build_digest
from policywire.deliver.discord_embeds import render_discord
from policywire.deliver.render import render_console, view_digest
from policywire.deliver.telegram_html import render_telegram, visible_text
from policywire.errors import ConfigError
from policywire.preview import run_preview
from tests.helpers import NOW, config_file, item, matched, rss

CONFIG = """\
settings:
  language: {default}
topics:
  ai-act:
    name:
      en: EU AI Act
      it: "Regolamento UE sull'IA"
      fr: "Règlement européen sur l'IA"
    any: [AI Act]
  mistral:
    name: Mistral AI
    any: [Mistral AI]
  gdpr:
    name: {{it: Protezione dei dati, de: Datenschutz}}
    any: [GDPR]
  plain:
    any: [noyb]
destinations:
  - console: stdout
    language: it
"""


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "feeds.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, env={})


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    prefix = f"{tmp_path / 'feeds.yaml'}:"
    return [error.removeprefix(prefix) for error in caught.value.errors]


def test_a_name_per_language_and_one_name_for_all(tmp_path: Path) -> None:
    topics = load(tmp_path, CONFIG.format(default="en")).topics
    ai_act, mistral, gdpr, plain = (topics[t] for t in ("ai-act", "mistral", "gdpr", "plain"))
    assert [ai_act.display_name(lang) for lang in ("en", "it", "fr", "de")] == [
        "EU AI Act",
        "Regolamento UE sull'IA",
        "Règlement européen sur l'IA",
        "EU AI Act",  # no German name: the default language's
    ]
    assert ai_act.name == "EU AI Act"  # what matching, logs and chat lists use
    assert {mistral.display_name(lang) for lang in ("en", "it", "fr", "de")} == {"Mistral AI"}
    # No name in the default language (en): the first one given stands in.
    assert gdpr.name == "Protezione dei dati"
    assert gdpr.display_name("de") == "Datenschutz"
    assert gdpr.display_name("fr") == "Protezione dei dati"
    assert plain.display_name("it") == "plain"  # no name at all: the topic id, as before
    assert ai_act.to_rule().name == "EU AI Act"


def test_the_fallback_follows_the_default_language(tmp_path: Path) -> None:
    topics = load(tmp_path, CONFIG.format(default="fr")).topics
    assert topics["ai-act"].display_name("de") == "Règlement européen sur l'IA"


def test_language_codes_are_read_like_the_other_language_keys(tmp_path: Path) -> None:
    text = CONFIG.format(default="en").replace("      it: ", "      IT: ")
    assert load(tmp_path, text).topics["ai-act"].display_name("it") == "Regolamento UE sull'IA"


def test_every_mistake_in_a_name_mapping_is_reported_on_its_line(tmp_path: Path) -> None:
    text = """\
    topics:
      ai-act:
        name:
          en: EU AI Act
          es: Ley de IA
          it: ""
          EN: Again
          fr: {short: IA}
        any: [AI Act]
      empty:
        name: {}
        any: [x]
      listed:
        name: [EU AI Act, Regolamento]
        any: [y]
    """
    assert errors_of(tmp_path, text) == [
        "5: topics.ai-act.name.es: unsupported language 'es' (choose one of: en, it, fr, de)",
        "6: topics.ai-act.name.it: must not be empty",
        "7: topics.ai-act.name.EN: duplicate language (first given at line 4)",
        "8: topics.ai-act.name.fr: expected a single value, got a mapping",
        "11: topics.empty.name: needs a name, e.g. en: AI Act",
        "14: topics.listed.name: expected a name, or one per language "
        "(en: AI Act, it: Legge sull'IA)",
    ]


def test_a_plain_name_is_still_checked_as_before(tmp_path: Path) -> None:
    text = """\
    topics:
      ai-act:
        name: ""
        any: [AI Act]
    """
    assert errors_of(tmp_path, text) == ["3: topics.ai-act.name: must not be empty"]


def test_the_shipped_feeds_yaml_names_the_ai_act_in_four_languages() -> None:
    root = Path(__file__).resolve().parents[1]
    env = {"TELEGRAM_BOT_TOKEN": "x", "DISCORD_BOT_TOKEN": "x"}
    ai_act = load_config(root / "feeds.yaml", env=env).topics["ai-act"]
    assert {language for language, _ in ai_act.names} == {"en", "it", "fr", "de"}


# --- rendering --------------------------------------------------------------------------------


def header_names(config: Config, language: str) -> list[str]:
    """The names a destination in `language` following these topics reads in its header."""
    return [config.topics[t].display_name(language) for t in ("ai-act", "mistral", "gdpr")]


@pytest.mark.parametrize(
    ("language", "header"),
    [
        ("it", "Regolamento UE sull'IA, Mistral AI, Protezione dei dati · 10 marzo 2026"),
        ("de", "EU AI Act, Mistral AI, Datenschutz · 10. März 2026"),
        ("en", "EU AI Act, Mistral AI, Protezione dei dati · March 10, 2026"),
    ],
)
def test_every_platform_shows_the_destinations_names_in_the_header(
    tmp_path: Path, language: str, header: str
) -> None:
    config = load(tmp_path, CONFIG.format(default="en"))
    digest = build_digest(
        [matched(item(1, title="The AI Act applies"), "ai-act")],
        destination="telegram:@news",
        language=language,
        topics=header_names(config, language),
        max_stories=10,
        now=NOW,
        timezone="Europe/Rome",
    )
    view = view_digest(digest)
    assert view.header.startswith(header)
    [telegram] = render_telegram(view)
    assert visible_text(telegram).startswith(header)
    assert render_console(view).startswith(header)
    [discord] = render_discord(view)
    assert str(discord["content"]).startswith(f"**{header}")
    # Hashtags stay the topic ids, the same in every language.
    assert "#ai_act" in visible_text(telegram)


def test_preview_headers_use_the_destinations_topic_names(tmp_path: Path) -> None:
    feed = tmp_path / "news.xml"
    feed.write_text(rss(["The AI Act applies"]), encoding="utf-8")
    names = {"en": "EU AI Act", "it": "Regolamento UE sull'IA"}
    path = config_file(
        tmp_path,
        database=tmp_path / "names.db",
        feeds=[str(feed)],
        topics={"ai-act": {"name": names, "any": ["AI Act"]}},
        destinations=[
            {"console": "stdout", "language": "it"},
            {"console": "stderr", "language": "de"},
        ],
    )
    config = load_config(path, env={})
    names_only = replace(config.settings, embedding=EmbeddingSettings(backend="none"))
    config = replace(config, settings=names_only)
    result = asyncio.run(run_preview(config, progress_stream=io.StringIO()))
    assert [d.topics for d in result.digests] == [("Regolamento UE sull'IA",), ("EU AI Act",)]


async def test_chat_replies_name_topics_in_the_chats_language(tmp_path: Path) -> None:
    from policywire.service import Service
    from policywire.storage.store import Store

    names = {"en": "EU AI Act", "it": "Regolamento UE sull'IA"}
    path = config_file(
        tmp_path,
        database=tmp_path / "chat-names.db",
        feeds=[],
        topics={"ai-act": {"name": names, "any": ["AI Act"]}},
    )
    config = load_config(path, env={})
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, parse_workers=0)
    try:
        # Typed in Italian by an Italian chat: found, and echoed back in Italian.
        row = await service.subscriptions.subscribe(
            "telegram", "42", ["Regolamento", "UE", "sull'IA"], language="it"
        )
        assert row.topics == ("ai-act",)
        assert "Regolamento UE sull'IA" in str(service.subscriptions.describe(row))
        english = await service.subscriptions.subscribe("telegram", "43", ["EU AI Act"])
        assert "EU AI Act" in str(service.subscriptions.describe(english))
    finally:
        await store.close()
