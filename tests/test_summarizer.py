"""The story summarizer: a model's headline and summary in the reader's language, against the
loopback FakeOpenAI (success, slow, 5xx, junk, wrong language, too long, budget, cache), its
configuration, and a real `run --once` and `preview` that use it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from policywire.config.load import load_config
from policywire.config.model import SummarizerSettings
from policywire.curate.summarizer import SummarizedStory
from policywire.curate.summary_digest import DigestSummarizer, story_key, summarizer_for
from policywire.curate.summary_language import language_of, reads_as
from policywire.curate.summary_text import (
    MAX_ARTICLES,
    AnswerRejected,
    messages_for,
    read_answer,
)
from policywire.deliver.discord_embeds import render_discord
from policywire.deliver.render import render_console, view_digest
from policywire.deliver.telegram_html import render_telegram
from policywire.errors import ConfigError
from policywire.models import Digest, Story
from policywire.preview import preview_json, run_preview
from tests.fakes.feed_server import FeedServer
from tests.fakes.openai_api import CHAT, FakeOpenAI
from tests.helpers import NOW, config_file, item, matched, rss

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-summary-SECRET-never-logged"
MODEL = "tiny-llm"
ENV = {"SUMMARY_KEY": KEY}

# Our own texts: one story told by three outlets in three languages, and a second story.
CODE_EN = item(
    1,
    title="Commission publishes the code of practice for general-purpose AI",
    summary="The European Commission published the final code of practice for providers of "
    "general-purpose AI models on Thursday. Signatories get more legal certainty.",
    link="https://wire.example/code-of-practice",
    source="Wire",
    feed="https://wire.example/feed.xml",
)
CODE_FR = item(
    2,
    title="La Commission publie le code de bonnes pratiques pour l'IA",
    summary="La Commission européenne a publié jeudi le code final pour les fournisseurs de "
    "modèles d'IA à usage général.",
    link="https://journal.example/code-ia",
    source="Le Journal",
    feed="https://journal.example/rss",
    language="fr",
)
CODE_DE = item(
    3,
    title="Kommission veröffentlicht Verhaltenskodex für KI-Modelle",
    summary="Die EU-Kommission hat am Donnerstag den endgültigen Verhaltenskodex vorgestellt.",
    link="https://zeitung.example/kodex",
    source="Die Zeitung",
    feed="https://zeitung.example/feed",
    language="de",
)
FINE_EN = item(
    4,
    title="Data protection authority fines a chatbot maker",
    summary="A national data protection authority fined a chatbot maker for training on "
    "personal data without a legal basis.",
    link="https://wire.example/fine",
    source="Wire",
    feed="https://wire.example/feed.xml",
)

ANSWERS = {
    "Italian": {
        "code": {
            "headline": "La Commissione pubblica il codice di condotta per l'IA generale",
            "summary": "La Commissione europea ha pubblicato giovedì la versione finale del "
            "codice di condotta per i fornitori di modelli di IA per finalità generali. Chi lo "
            "firma avrà più certezza giuridica. Le testate francesi e tedesche riportano gli "
            "stessi fatti.",
        },
        "fine": {
            "headline": "Il garante della privacy multa un produttore di chatbot",
            "summary": "Un'autorità nazionale per la protezione dei dati ha multato un "
            "produttore di chatbot che aveva addestrato il modello con dati personali senza "
            "una base giuridica. La sanzione è la prima di questo tipo nel paese.",
        },
    },
    "French": {
        "code": {
            "headline": "La Commission publie le code de bonnes pratiques pour l'IA",
            "summary": "La Commission européenne a publié jeudi la version finale du code de "
            "bonnes pratiques pour les fournisseurs de modèles d'IA à usage général. Les "
            "signataires auront plus de sécurité juridique.",
        },
    },
}


def story(*items: Any) -> Story:
    lead, *related = (matched(i) for i in items)
    return Story(lead=lead, related=tuple(related))


CODE_STORY = story(CODE_EN, CODE_FR, CODE_DE)
FINE_STORY = story(FINE_EN)


def digest(*stories: Story, language: str = "it", destination: str = "telegram:@ai_it") -> Digest:
    return Digest(
        destination=destination,
        language=language,
        topics=("AI Act",),
        stories=stories,
        generated_at=NOW,
        timezone="Europe/Rome",
    )


def answer_for(request: dict[str, Any]) -> str:
    """What a well-behaved model says: the story's text in the language the prompt asks for."""
    system, user = (message["content"] for message in request["messages"])
    language = next(name for name in ANSWERS if f"Write in {name} only" in system)
    story_id = "code" if "code of practice" in user else "fine"
    return json.dumps(ANSWERS[language][story_id], ensure_ascii=False)


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY, models=(MODEL,), reply=answer_for) as fake:
        yield fake


def settings_for(server: FakeOpenAI, **changes: Any) -> SummarizerSettings:
    base = SummarizerSettings(
        backend="openai",
        url=server.base_url,
        model=MODEL,
        api_key_env="SUMMARY_KEY",
        timeout=timedelta(seconds=5),
    )
    return replace(base, **changes)


def written(result: Digest) -> list[bool]:
    return [isinstance(s, SummarizedStory) and s.written is not None for s in result.stories]


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("policywire")]


# --- success ---------------------------------------------------------------------------------


async def test_an_italian_destination_gets_an_italian_headline_and_summary_marked(
    server: FakeOpenAI,
) -> None:
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(CODE_STORY, FINE_STORY))
    assert written(result) == [True, True]
    first = result.stories[0]
    assert isinstance(first, SummarizedStory) and first.written is not None
    assert first.written.headline == ANSWERS["Italian"]["code"]["headline"]
    assert first.written.model == MODEL
    assert first.item_pks == CODE_STORY.item_pks and first.members == CODE_STORY.members

    view = view_digest(result)
    console = render_console(view)
    telegram = "\n".join(render_telegram(view))
    discord = json.dumps(render_discord(view), ensure_ascii=False)
    for rendered in (console, telegram, discord):
        assert "La Commissione pubblica il codice di condotta" in rendered
        assert "ha pubblicato giovedì la versione finale" in rendered
        assert "Riassunto automatico" in rendered
        assert "Commission publishes the code" not in rendered  # the English title is replaced
        for article in (CODE_EN, CODE_FR, CODE_DE, FINE_EN):  # every outlet's link is kept
            assert article.link in rendered
    assert console.count("Riassunto automatico") == 2


async def test_the_request_carries_every_article_the_language_and_the_key(
    server: FakeOpenAI,
) -> None:
    await DigestSummarizer(settings_for(server, max_tokens=300), ENV).apply(digest(CODE_STORY))
    [request] = server.requests_to(CHAT)
    body = request.json
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == MODEL and body["max_tokens"] == 300 and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    system, user = (m["content"] for m in body["messages"])
    assert "Write in Italian only" in system and "JSON" in system
    for article in (CODE_EN, CODE_FR, CODE_DE):
        assert article.title in user and article.source in user
    assert "language: fr" in user


async def test_json_mode_off_sends_no_response_format(server: FakeOpenAI) -> None:
    result = await DigestSummarizer(settings_for(server, json_mode=False), ENV).apply(
        digest(FINE_STORY)
    )
    assert written(result) == [True]
    assert "response_format" not in server.requests_to(CHAT)[0].json


async def test_a_code_fenced_answer_is_accepted(server: FakeOpenAI) -> None:
    server.reply_next("```json\n" + json.dumps(ANSWERS["Italian"]["fine"]) + "\n```")
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(FINE_STORY))
    assert written(result) == [True]


def test_the_prompt_is_bounded_and_names_every_outlet() -> None:
    many = story(*(item(n, source=f"Outlet {n}", summary="Word. " * 500) for n in range(12)))
    system, user = (m["content"] for m in messages_for(many, "de", 400))
    assert "Write in German only" in system and "at most 400 characters" in system
    assert [f"Outlet {n}" in user for n in range(12)] == [n < MAX_ARTICLES for n in range(12)]
    assert len(user) < MAX_ARTICLES * 1000


async def test_the_event_loop_keeps_running_while_the_model_thinks(server: FakeOpenAI) -> None:
    server.fail_next(CHAT, delay=0.3)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        result = await DigestSummarizer(settings_for(server), ENV).apply(digest(FINE_STORY))
    finally:
        ticker.cancel()
    assert written(result) == [True]
    assert ticks >= 10


# --- failures: extractive, on time, one log line -----------------------------------------------


async def test_a_slow_endpoint_times_out_and_the_digest_is_on_time(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    server.fail_next(CHAT, delay=30, times=None)
    summarizer = DigestSummarizer(settings_for(server, timeout=timedelta(seconds=0.3)), ENV)
    started = time.monotonic()
    result = await summarizer.apply(digest(CODE_STORY, FINE_STORY))
    assert time.monotonic() - started < 2
    assert written(result) == [False, False]
    assert server.hits(CHAT) == 1  # a failing endpoint is not asked again for this digest
    view = view_digest(result)
    assert view.stories[0].headline == CODE_EN.title
    assert view.stories[0].summary.startswith("The European Commission published")
    assert "Riassunto automatico" not in render_console(view)
    [line] = [m for m in messages(caplog) if "summarizer" in m]
    assert "no answer within 0.3s" in line and "2 stories keep the extractive" in line


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_fall_back(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    server.fail_next(CHAT, status=status, times=None)
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(CODE_STORY, FINE_STORY))
    assert written(result) == [False, False]
    assert server.hits(CHAT) == 1
    [line] = [m for m in messages(caplog) if "summarizer" in m]
    assert f"HTTP {status}" in line and "telegram:@ai_it" in line


async def test_an_endpoint_that_is_down_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeOpenAI() as gone:
        url = gone.base_url  # a port nobody listens on once the fake has closed
    settings = replace(settings_for(gone), url=url)
    result = await DigestSummarizer(settings, ENV).apply(digest(FINE_STORY))
    assert written(result) == [False]
    [line] = [m for m in messages(caplog) if "summarizer" in m]
    assert "unreachable" in line


JUNK = {
    "not json": ("Ecco il riassunto: la Commissione ha pubblicato il codice.", "not JSON"),
    "a list": ('["titolo", "riassunto"]', "not a JSON object"),
    "no summary": ('{"headline": "Titolo della notizia"}', "no summary"),
    "html": (
        json.dumps({**ANSWERS["Italian"]["fine"], "headline": "<b>Multa</b> al chatbot"}),
        "markup",
    ),
    "markdown": (
        json.dumps({**ANSWERS["Italian"]["fine"], "summary": "**Multa** " * 3 + "per la IA."}),
        "markup",
    ),
    "link": (
        json.dumps(
            {**ANSWERS["Italian"]["fine"], "summary": "Leggi tutto su https://spam.example/ ora."}
        ),
        "link",
    ),
    "mention": (
        json.dumps({**ANSWERS["Italian"]["fine"], "headline": "@everyone la multa al chatbot"}),
        "@everyone",
    ),
}


@pytest.mark.parametrize("junk", list(JUNK), ids=list(JUNK))
async def test_junk_answers_cost_only_their_story(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture, junk: str
) -> None:
    content, reason = JUNK[junk]
    server.reply_next(content)  # the first story's answer; the second one is fine
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(FINE_STORY, CODE_STORY))
    assert written(result) == [False, True]
    assert server.hits(CHAT) == 2
    [line] = [m for m in messages(caplog) if "refused" in m]
    assert reason in line and FINE_EN.link in line
    assert content not in line  # the model's text is never logged


@pytest.mark.parametrize(
    "fault",
    [
        {"body": "<<<not json"},
        {"omit": ["choices"]},
        {"transform": lambda answer: {**answer, "choices": []}},
    ],
    ids=["junk body", "no choices", "empty choices"],
)
async def test_bodies_that_are_not_chat_completions_fall_back(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture, fault: dict[str, Any]
) -> None:
    server.fail_next(CHAT, **fault)
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(FINE_STORY))
    assert written(result) == [False]
    assert any("refused" in m for m in messages(caplog))


async def test_an_answer_in_the_wrong_language_is_refused(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    english = {
        "headline": "Data protection authority fines a chatbot maker",
        "summary": "A national data protection authority fined a chatbot maker for training "
        "its model on personal data without a legal basis. It is the first such fine.",
    }
    server.reply_next(json.dumps(english))
    result = await DigestSummarizer(settings_for(server), ENV).apply(digest(FINE_STORY))
    assert written(result) == [False]
    [line] = [m for m in messages(caplog) if "refused" in m]
    assert "the answer is in en, not it" in line


async def test_too_long_or_cut_off_answers_are_refused(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    sentence = "La Commissione europea ha pubblicato il codice di condotta per i fornitori. "
    long = {"headline": "Il codice di condotta per l'IA", "summary": sentence * 12}
    server.reply_next(json.dumps(long))
    summarizer = DigestSummarizer(settings_for(server, max_chars=400, max_tokens=2000), ENV)
    assert written(await summarizer.apply(digest(FINE_STORY))) == [False]
    # The same answer with a small max_tokens: the model stops mid-JSON ("length").
    server.reply_next(json.dumps(long))
    cut = DigestSummarizer(settings_for(server, max_tokens=40), ENV)
    assert written(await cut.apply(digest(FINE_STORY))) == [False]
    refused = [m for m in messages(caplog) if "refused" in m]
    assert "the summary is too long (" in refused[0]
    assert "cut off at max_tokens" in refused[1]


async def test_a_wrong_key_or_missing_key_falls_back_with_a_hint(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = await DigestSummarizer(settings_for(server), {"SUMMARY_KEY": "sk-wrong"}).apply(
        digest(FINE_STORY)
    )
    missing = await DigestSummarizer(settings_for(server), {}).apply(digest(FINE_STORY))
    assert written(wrong) == written(missing) == [False]
    assert "Authorization" not in server.requests[-1].headers
    lines = messages(caplog)
    assert any("HTTP 401 (check the key in api_key_env)" in m for m in lines)
    assert any("SUMMARY_KEY is not set" in m for m in lines)


async def test_the_key_never_reaches_the_logs(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    summarizer = DigestSummarizer(settings_for(server), ENV)
    await summarizer.apply(digest(CODE_STORY))  # success
    server.fail_next(CHAT, status=500)
    await summarizer.apply(digest(FINE_STORY))  # an HTTP error
    server.fail_next(CHAT, drop=True)
    await summarizer.apply(digest(FINE_STORY, destination="discord:1"))  # a dropped connection
    await DigestSummarizer(settings_for(server), {"SUMMARY_KEY": KEY + "x"}).apply(
        digest(FINE_STORY)
    )  # refused key
    assert server.hits(CHAT) == 4
    text = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    assert "summarizer" in text
    assert KEY not in text and "SECRET" not in text


# --- budget and cache ------------------------------------------------------------------------


def many_stories(count: int) -> list[Story]:
    return [
        story(
            item(
                100 + n,
                title=f"Data protection authority fines chatbot maker number {n}",
                feed=f"https://outlet{n}.example/feed",
            )
        )
        for n in range(count)
    ]


async def test_the_request_budget_leaves_later_stories_extractive(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    summarizer = DigestSummarizer(settings_for(server, budget_requests=2), ENV)
    result = await summarizer.apply(digest(*many_stories(4)))
    assert written(result) == [True, True, False, False]
    assert server.hits(CHAT) == 2
    [line] = [m for m in messages(caplog) if "budget" in m]
    assert "spent (2 requests" in line and "2 stories keep the extractive summary" in line


async def test_the_time_budget_bounds_the_whole_digest(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    server.fail_next(CHAT, delay=30, times=None, after=1)  # the first answer is quick
    settings = settings_for(server, budget_time=timedelta(seconds=0.5))
    started = time.monotonic()
    result = await DigestSummarizer(settings, ENV).apply(digest(*many_stories(4)))
    assert time.monotonic() - started < 2
    assert written(result) == [True, False, False, False]
    assert server.hits(CHAT) == 2
    [line] = [m for m in messages(caplog) if "summarizer" in m and "budget" in m]
    assert "3 stories keep the extractive summary" in line


async def test_a_story_seen_again_is_answered_from_the_cache(server: FakeOpenAI) -> None:
    summarizer = DigestSummarizer(settings_for(server), ENV)
    first = await summarizer.apply(digest(CODE_STORY, FINE_STORY))
    again = await summarizer.apply(digest(FINE_STORY, CODE_STORY, destination="discord:42"))
    assert server.hits(CHAT) == 2  # the second digest asked nothing
    assert written(again) == [True, True]
    assert view_digest(again).stories[1].headline == view_digest(first).stories[0].headline
    # Another language, or another article joining the story, is a new request.
    await summarizer.apply(digest(CODE_STORY, language="fr"))
    grown = replace(FINE_STORY, related=(matched(CODE_DE),))
    await summarizer.apply(digest(grown))
    assert server.hits(CHAT) == 4
    assert story_key(grown) != story_key(FINE_STORY)
    # The key is the article set: order and the lead do not matter.
    assert story_key(story(CODE_FR, CODE_EN, CODE_DE)) == story_key(CODE_STORY)


async def test_a_failure_is_not_cached(server: FakeOpenAI) -> None:
    summarizer = DigestSummarizer(settings_for(server), ENV)
    server.fail_next(CHAT, status=503)
    assert written(await summarizer.apply(digest(FINE_STORY))) == [False]
    assert written(await summarizer.apply(digest(FINE_STORY))) == [True]


def test_the_service_keeps_its_summarizer_while_the_settings_hold() -> None:
    settings = SummarizerSettings(backend="openai", url="http://127.0.0.1:1/v1", model=MODEL)
    first = summarizer_for(settings, {}, None)
    assert summarizer_for(replace(settings), {}, first) is first
    assert summarizer_for(replace(settings, model="other"), {}, first) is not first


# --- the checks, one by one ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("La Commissione europea ha pubblicato le linee guida sul codice di condotta per i "
         "modelli di IA, che entreranno in vigore ad agosto.", "it"),
        ("The European Commission published its guidelines on the code of practice for AI "
         "models, which take effect in August.", "en"),
        ("La Commission européenne a publié ses lignes directrices sur le code de bonnes "
         "pratiques pour les modèles d'IA, qui entrent en vigueur en août.", "fr"),
        ("Die Europäische Kommission hat ihre Leitlinien zum Verhaltenskodex für KI-Modelle "
         "veröffentlicht, die im August in Kraft treten.", "de"),
        ("La Comisión Europea publicó sus directrices sobre el código de buenas prácticas para "
         "los modelos de IA, que entran en vigor en agosto.", "es"),
        ("De Europese Commissie heeft haar richtsnoeren voor de gedragscode voor AI-modellen "
         "gepubliceerd, die in augustus in werking treden.", "nl"),
    ],
)  # fmt: skip
def test_the_language_check_tells_our_languages_and_their_neighbours_apart(
    text: str, language: str
) -> None:
    assert language_of(text) == language
    assert reads_as(text, language)
    assert not reads_as(text, "fr" if language != "fr" else "it")


def test_the_language_check_gives_short_texts_the_benefit() -> None:
    assert reads_as("Mistral AI, nuovo modello", "it")
    assert reads_as("Mistral AI, new model", "it")
    assert language_of("1234 5678 " * 10) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no text"),
        ("   ", "no text"),
        ('{"headline": 3, "summary": "x"}', "no headline"),
        ('{"headline": "Un titolo", "summary": "  "}', "no summary"),
        (json.dumps({"headline": "Titolo " * 40, "summary": "Breve."}), "headline is too long"),
        (json.dumps({"headline": "Un titolo", "summary": "Vedi `codice` qui."}), "markup"),
        (json.dumps({"headline": "Un titolo", "summary": "Vedi [qui](x) il testo."}), "markup"),
        (json.dumps({"headline": "# Un titolo", "summary": "Il testo."}), "markup"),
        (json.dumps({"headline": "Un titolo", "summary": "- punto uno - due"}), "markup"),
        (json.dumps({"headline": "Un titolo", "summary": "Ping <@123> ora."}), "markup"),
        (json.dumps({"headline": "Un titolo", "summary": "Ciao @here a tutti."}), "@everyone"),
        (json.dumps({"headline": "Un titolo", "summary": "Su www.spam.example ora."}), "link"),
    ],
)
def test_answers_that_are_refused(content: Any, reason: str) -> None:
    with pytest.raises(AnswerRejected, match=reason):
        read_answer(content, language="it", max_chars=600, model=MODEL)


def test_an_accepted_answer_has_its_whitespace_collapsed() -> None:
    answer = json.dumps({"headline": " Un  titolo\n", "summary": "Una frase.\n\nUn'altra."})
    written = read_answer(answer, language="it", max_chars=600, model=MODEL)
    assert (written.headline, written.summary) == ("Un titolo", "Una frase. Un'altra.")


# --- configuration ---------------------------------------------------------------------------


def write_config(tmp_path: Path, summarizer: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "settings:\n  database: sqlite+aiosqlite:///pw.db\n  summarizer:\n"
        + textwrap.indent(textwrap.dedent(summarizer), "    ")
        + "topics:\n  t:\n    any: [AI]\n",
        encoding="utf-8",
    )
    return path


def test_the_summarizer_settings_load_with_typed_values(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """\
        backend: openai
        url: http://127.0.0.1:11434/v1
        model: qwen2.5:3b
        api_key_env: OLLAMA_KEY
        timeout: 45s
        budget_requests: 5
        budget_time: 3m
        max_tokens: 300
        max_chars: 500
        json_mode: false
        """,
    )
    settings = load_config(path, env={}).settings.summarizer
    assert settings == SummarizerSettings(
        backend="openai",
        url="http://127.0.0.1:11434/v1",
        model="qwen2.5:3b",
        api_key_env="OLLAMA_KEY",
        timeout=timedelta(seconds=45),
        budget_requests=5,
        budget_time=timedelta(minutes=3),
        max_tokens=300,
        max_chars=500,
        json_mode=False,
    )


def test_the_default_is_no_summarizer(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("topics:\n  t:\n    any: [AI]\n", encoding="utf-8")
    assert load_config(path, env={}).settings.summarizer.backend == "none"


@pytest.mark.parametrize(
    ("summarizer", "expected"),
    [
        (
            "backend: ollama\n",
            "feeds.yaml:4: settings.summarizer.backend: must be one of 'openai', 'none', "
            "got 'ollama'",
        ),
        (
            "backend: openai\nmodel: m\n",
            "feeds.yaml:4: settings.summarizer.url: required with backend 'openai'",
        ),
        (
            "backend: openai\nurl: http://h/v1\n",
            "feeds.yaml:4: settings.summarizer.model: required with backend 'openai'",
        ),
        (
            "backend: none\nurl: ftp://h/v1\n",
            "feeds.yaml:5: settings.summarizer.url: expected a http or https URL with a host name",
        ),
        (
            "api_key_env: sk-abc123\n",
            "feeds.yaml:4: settings.summarizer.api_key_env: must be the name of an environment "
            "variable (e.g. MY_BOT_TOKEN), not the secret itself",
        ),
        (
            "budget_requests: 0\n",
            "feeds.yaml:4: settings.summarizer.budget_requests: must be at least 1, got 0",
        ),
        (
            "budget_time: soon\n",
            "feeds.yaml:4: settings.summarizer.budget_time: invalid duration 'soon': "
            "use a number and a unit s, m, h, d or w, e.g. 30s, 15m, 1h30m, 7d",
        ),
        (
            "json_mode: maybe\n",
            "feeds.yaml:4: settings.summarizer.json_mode: must be true or false, got 'maybe'",
        ),
        (
            "max_chars: 10\n",
            "feeds.yaml:4: settings.summarizer.max_chars: must be at least 80, got 10",
        ),
        (
            "modle: m\n",
            "feeds.yaml:4: settings.summarizer.modle: unknown key 'modle' (did you mean 'model'?)",
        ),
    ],
)
def test_summarizer_errors_name_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summarizer: str, expected: str
) -> None:
    write_config(tmp_path, summarizer)
    monkeypatch.chdir(tmp_path)  # the file named as a user names it
    with pytest.raises(ConfigError) as caught:
        load_config("feeds.yaml", env={})
    assert caught.value.errors == [expected]
    assert "abc123" not in str(caught.value)


# --- a real run and a real preview -----------------------------------------------------------


def rss_about_a_fine() -> str:
    return rss(["Data protection authority fines a chatbot maker"])


def run_config(tmp_path: Path, feeds: FeedServer, server: FakeOpenAI) -> Path:
    return config_file(
        tmp_path,
        database=tmp_path / "run.db",
        settings={
            "language": "it",
            "embedding": {"backend": "none"},
            "summarizer": {
                "backend": "openai",
                "url": server.base_url,
                "model": MODEL,
                "api_key_env": "SUMMARY_KEY",
                "timeout": "10s",
            },
        },
        feeds=[{"url": feeds.url("/news.xml"), "name": "Wire"}],
        topics={"privacy": ["data protection"]},
        destinations=[{"console": "stdout", "language": "it"}],
    )


async def test_a_real_run_once_uses_the_configured_summarizer(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss_about_a_fine())
        config = run_config(tmp_path, feeds, server)
        env = {**os.environ, "SUMMARY_KEY": KEY}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scheduler.py"),
            "run",
            "--once",
            "--config",
            str(config),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            stdout, stderr = await process.communicate()
    out, err = stdout.decode(), stderr.decode()
    assert process.returncode == 0, err
    assert server.hits(CHAT) == 1
    assert "Il garante della privacy multa un produttore di chatbot" in out
    assert "Riassunto automatico" in out
    assert "https://news.example/data-protection-authority-fines-a-chatbot-maker" in out
    assert "machine-written" in err  # the summarizer's line for the digest
    assert KEY not in err and KEY not in out and "SECRET" not in err


async def test_preview_shows_the_machine_summary(
    tmp_path: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARY_KEY", KEY)  # preview reads the key where the service does
    async with FeedServer() as feeds:
        feeds.add("/news.xml", rss_about_a_fine())
        config = load_config(run_config(tmp_path, feeds, server), env=ENV)
        result = await run_preview(config, progress_stream=io.StringIO())
    [shown] = preview_json(result)["digests"][0]["stories"]
    assert shown["machine_summary"] == {**ANSWERS["Italian"]["fine"], "model": MODEL}
    assert server.hits(CHAT) == 1


def test_no_summarizer_means_no_machine_summary_in_preview_json() -> None:
    plain = digest(FINE_STORY)
    assert "machine_summary" not in preview_json_of(plain)


def preview_json_of(shown: Digest) -> dict[str, Any]:
    from policywire.preview import PreviewResult

    return dict(preview_json(PreviewResult((shown,), ()))["digests"][0]["stories"][0])
