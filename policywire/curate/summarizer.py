"""The summary under a story's headline: 1–3 clean sentences from the lead article, or a
model's headline and summary of the whole story in the reader's language.

The seam is `Summarizer`, one async method per article. Two implementations:

* `ExtractiveSummarizer` — the default, pure and offline: the lead's first sentences
  (`text.summarize`, which cuts at a sentence boundary in en/it/fr/de), after removing feed
  boilerplate (`text.strip_boilerplate`), a section kicker ("Competition & markets.",
  "Regole & Algoritmi —") and an aggregator's "Via Outlet:" prefix. `extractive_summary` is
  the same thing as a plain function, for synchronous callers such as the renderers.
* `OpenAICompatibleSummarizer` — opt-in: asks any OpenAI-compatible `/chat/completions`
  endpoint (a local llama.cpp / vLLM / Ollama server, or a hosted one) for a short summary in
  the destination's language. It needs an `aiohttp.ClientSession` from the caller, does no
  I/O until called, and falls back to the extractive summary on any error or timeout, so a
  digest never waits on or fails because of the model. What digests use is its `write`,
  which asks for a whole story: a headline and a 2–4 sentence summary from all its articles,
  as checked JSON (`summary_text`); `summary_digest` applies it to a digest within a budget,
  with a cache, as `settings.summarizer` configures it. (The per-article `summarize` is the
  older seam; only tests call it.)

A story with a model's text is a `SummarizedStory`: a `Story` that also carries `written`,
which the renderers show (marked as machine-written) instead of the lead's title and
extractive summary.

Nothing here runs at import time, and the default path never touches the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from policywire.curate.summary_text import (
    AnswerRejected,
    SummarizerUnavailable,
    WrittenSummary,
    messages_for,
    read_answer,
)
from policywire.ingest.boilerplate import strip_boilerplate
from policywire.ingest.sentences import summarize
from policywire.models import Item, Story

__all__ = [
    "ExtractiveSummarizer",
    "OpenAICompatibleSummarizer",
    "SummarizedStory",
    "Summarizer",
    "extractive_summary",
]

MAX_CHARS = 500
MAX_SENTENCES = 3
MAX_ANSWER_BYTES = 1024**2  # a chat answer is a few hundred bytes; more is not an answer


@dataclass(frozen=True, slots=True)
class SummarizedStory(Story):
    """A story whose headline and summary a model wrote (`written`), for the renderers."""

    written: WrittenSummary | None = None


class Summarizer(Protocol):
    async def summarize(
        self, item: Item, *, language: str | None = None, max_chars: int = MAX_CHARS
    ) -> str:
        """1–3 sentences about `item`, in `language` when the backend can translate."""
        ...


# "Competition & markets. Paris-based…", "Regole & Algoritmi — La startup…": a section label
# of a few words before the first real sentence. A dash always ends one; a full stop only
# when the label has "&" or "/" in it, so that "It's official. The…" stays.
_KICKER_DASH = re.compile(r"\A(?:[^\s.!?—–|]+\s){0,3}[^\s.!?—–|]+\s+[—–|]\s+(?=\S)")
_KICKER_DOT = re.compile(r"\A[^.!?]{0,40}?\s[&/]\s[^.!?]{0,40}?\.\s+(?=[A-ZÀ-Þ])")
_VIA = re.compile(r"\A(?:via|da|de|von|source)\s+[^:.]{2,60}:\s+(?=\S)", re.I)


def extractive_summary(item: Item, *, max_chars: int = MAX_CHARS) -> str:
    """The lead's first sentences, boilerplate removed; "" when it only repeats the title."""
    text = strip_boilerplate(" ".join(item.summary.split()))
    for pattern in (_VIA, _KICKER_DASH, _KICKER_DOT):
        text = pattern.sub("", text, count=1)
    text = summarize(text, max_chars=max_chars, max_sentences=MAX_SENTENCES, language=item.language)
    return "" if text.rstrip(".…") == item.title.rstrip(".…") else text


class ExtractiveSummarizer:
    """The default `Summarizer`: no model, no network."""

    async def summarize(
        self, item: Item, *, language: str | None = None, max_chars: int = MAX_CHARS
    ) -> str:
        return extractive_summary(item, max_chars=max_chars)


_LANGUAGE_NAMES = {"en": "English", "it": "Italian", "fr": "French", "de": "German"}


class OpenAICompatibleSummarizer:
    """Summaries from an OpenAI-compatible chat endpoint; extractive when it fails.

    `base_url` is the API root, e.g. ``http://127.0.0.1:8080/v1``; the request goes to
    ``{base_url}/chat/completions`` with `model`, and an ``Authorization: Bearer`` header when
    `api_key` is set. The answer is trimmed to `max_chars` at a sentence boundary.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        fallback: Summarizer | None = None,
        max_tokens: int = 400,
        json_mode: bool = True,
    ) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.fallback: Summarizer = fallback or ExtractiveSummarizer()
        self.failures = 0  # how many times the fallback was used (for logs and tests)
        self.max_tokens = max_tokens
        self.json_mode = json_mode

    async def summarize(
        self, item: Item, *, language: str | None = None, max_chars: int = MAX_CHARS
    ) -> str:
        try:
            answer = await self._ask(item, language or item.language or "en", max_chars)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
            answer = ""
        if not answer:
            self.failures += 1
            return await self.fallback.summarize(item, language=language, max_chars=max_chars)
        return summarize(answer, max_chars=max_chars, max_sentences=MAX_SENTENCES)

    async def _ask(self, item: Item, language: str, max_chars: int) -> str:
        source = strip_boilerplate(item.summary)[:4000]
        target = _LANGUAGE_NAMES.get(language, language)
        payload: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {
                    "role": "system",
                    "content": (
                        f"Summarize the news article in 1 to 3 sentences in {target}, at most "
                        f"{max_chars} characters. Facts from the article only; no preamble."
                    ),
                },
                {"role": "user", "content": f"{item.title}\n\n{source}"},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with self.session.post(
            self.url, json=payload, headers=headers, timeout=self.timeout
        ) as response:
            response.raise_for_status()
            body = await response.json()
        content = body["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise ValueError("no text in the answer")
        return " ".join(content.split())

    async def write(
        self, story: Story, language: str, *, max_chars: int, within: float
    ) -> WrittenSummary:
        """A checked headline and summary of `story` in `language`, within `within` seconds.

        Raises `SummarizerUnavailable` when the endpoint fails (unreachable, too slow, an HTTP
        error) and `AnswerRejected` when its answer is unusable; both carry one loggable line
        that never contains the key or the model's text.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages_for(story, language, max_chars),
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": False,
        }
        if self.json_mode:
            payload["response_format"] = {"type": "json_object"}
        body = await self._post(payload, within)
        try:
            choice = body["choices"][0]
            content, finish = choice["message"].get("content"), choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise AnswerRejected("the answer is not a chat completion") from None
        return read_answer(
            content, language=language, max_chars=max_chars, model=self.model, finish_reason=finish
        )

    async def _post(self, payload: dict[str, Any], within: float) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with self.session.post(
                self.url,
                json=payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=within),
            ) as response:
                if response.status >= 400:
                    raise SummarizerUnavailable(_http_problem(response.status))
                raw = await response.content.read(MAX_ANSWER_BYTES + 1)
                # read(n) may stop short of n; the loop ends at the body's end or the cap.
                while len(raw) <= MAX_ANSWER_BYTES and not response.content.at_eof():
                    raw += await response.content.read(MAX_ANSWER_BYTES + 1 - len(raw))
        except TimeoutError:
            raise SummarizerUnavailable(f"no answer within {within:.1f}s") from None
        except aiohttp.ClientError as exc:
            raise SummarizerUnavailable(f"unreachable ({type(exc).__name__})") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise AnswerRejected("the answer is larger than 1 MB")
        try:
            return json.loads(raw)
        except ValueError:
            raise AnswerRejected("the answer is not JSON") from None


def _http_problem(status: int) -> str:
    if status == 400:
        # The usual cause with local servers: no support for response_format.
        return "HTTP 400 (if the server refuses response_format, set json_mode: false)"
    if status in (401, 403):
        return f"HTTP {status} (check the key in api_key_env)"
    if status == 404:
        return "HTTP 404 (check url and model)"
    return f"HTTP {status}"
