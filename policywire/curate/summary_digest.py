"""A model's headlines and summaries for one digest's stories, as `settings.summarizer` says.

`DigestSummarizer.apply(digest)` asks the configured OpenAI-compatible endpoint for each
story's headline and summary in the digest's language, and returns the digest with those
stories as `SummarizedStory`. It never makes a digest late or lost:

* every request has `timeout`, and the digest's requests together `budget_requests` and
  `budget_time`; stories past the budget keep their extractive summary;
* an endpoint that fails (down, slow, an HTTP error) is not asked again for that digest,
  and an answer that fails the checks in `summary_text` costs only its own story;
* each of these is one log line, which names the destination and never the key.

Answers are cached in memory per story (the set of its articles), language and model, so a
story seen again (another destination in the same language, the next `preview`, a retried
digest) costs no request. The cache is lost on restart; see docs/configuration.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import aiohttp

from policywire.config.model import SummarizerSettings
from policywire.curate.summarizer import OpenAICompatibleSummarizer, SummarizedStory
from policywire.curate.summary_text import AnswerRejected, SummarizerUnavailable, WrittenSummary
from policywire.models import Digest, Story

__all__ = ["CACHE_SIZE", "DigestSummarizer", "story_key", "summarize_digests", "summarizer_for"]

log = logging.getLogger(__name__)

CACHE_SIZE = 2048  # stories; a few hundred bytes each

_CacheKey = tuple[str, str, str]  # (story_key, language, model)


def story_key(story: Story) -> str:
    """The story's article set, as a hash of its articles' (feed, id) keys in sorted order."""
    keys = sorted(f"{m.item.feed}\x00{m.item.id}" for m in story.members)
    return hashlib.sha256("\x01".join(keys).encode()).hexdigest()


def with_summary(story: Story, written: WrittenSummary) -> SummarizedStory:
    values = {field.name: getattr(story, field.name) for field in fields(Story)}
    return SummarizedStory(**values, written=written)


@dataclass(slots=True)
class _Run:
    """One digest's budget and what it did, for the closing log line."""

    destination: str
    deadline: float  # event-loop time
    started: float
    requests: int = 0
    written: int = 0
    cached: int = 0


class DigestSummarizer:
    """Applies `settings` (backend "openai") to digests; keeps its cache between them."""

    def __init__(self, settings: SummarizerSettings, env: Mapping[str, str]) -> None:
        self.settings = settings
        self._api_key = _api_key(settings, env)
        self._cache: OrderedDict[_CacheKey, WrittenSummary] = OrderedDict()
        self.requests = 0  # asked over this summarizer's life

    async def apply(self, digest: Digest) -> Digest:
        """`digest` with the model's text on every story it could write within the budget."""
        if not digest.stories:
            return digest
        stories = list(digest.stories)
        try:
            await self._fill(stories, digest)
        except Exception:  # a bug here may cost the summaries, never the digest
            log.exception("summarizer failed for %s; extractive summaries kept", digest.destination)
        return replace(digest, stories=tuple(stories))

    async def _fill(self, stories: list[Story], digest: Digest) -> None:
        language = digest.language
        missing = []
        for index, story in enumerate(stories):
            cached = self._cached(story, language)
            if cached is None:
                missing.append(index)
            else:
                stories[index] = with_summary(story, cached)
        loop = asyncio.get_running_loop()
        now = loop.time()
        run = _Run(digest.destination, now + self.settings.budget_time.total_seconds(), now)
        run.cached = len(stories) - len(missing)
        if missing:
            async with aiohttp.ClientSession() as session:
                await self._ask(self._client(session), stories, missing, language, run)
        if run.requests:
            log.info(
                "summarizer: %d of %d stories of %s machine-written (%d from the cache, "
                "%d asked of the model in %.1fs)",
                run.written + run.cached,
                len(stories),
                run.destination,
                run.cached,
                run.requests,
                loop.time() - run.started,
            )

    async def _ask(
        self,
        client: OpenAICompatibleSummarizer,
        stories: list[Story],
        missing: Sequence[int],
        language: str,
        run: _Run,
    ) -> None:
        loop = asyncio.get_running_loop()
        settings = self.settings
        for position, index in enumerate(missing):
            left = len(missing) - position
            remaining = run.deadline - loop.time()
            if run.requests >= settings.budget_requests or remaining <= 0:
                self._log_budget_spent(run, loop.time(), left)
                return
            run.requests += 1
            self.requests += 1
            story = stories[index]
            within = min(settings.timeout.total_seconds(), remaining)
            try:
                written = await client.write(
                    story, language, max_chars=settings.max_chars, within=within
                )
            except SummarizerUnavailable as exc:
                if loop.time() >= run.deadline:
                    self._log_budget_spent(run, loop.time(), left)
                else:
                    log.warning(
                        "summarizer unavailable for %s: %s; %d stories keep the extractive summary",
                        run.destination,
                        exc,
                        left,
                    )
                return
            except AnswerRejected as exc:
                log.warning(
                    "summarizer answer for %s in %s refused: %s; extractive summary kept",
                    story.lead.item.link,
                    run.destination,
                    exc,
                )
                continue
            self._remember(story, language, written)
            stories[index] = with_summary(story, written)
            run.written += 1

    def _log_budget_spent(self, run: _Run, now: float, left: int) -> None:
        log.warning(
            "summarizer budget for %s spent (%d requests, %.1fs): %d stories keep the "
            "extractive summary",
            run.destination,
            run.requests,
            now - run.started,
            left,
        )

    def _client(self, session: aiohttp.ClientSession) -> OpenAICompatibleSummarizer:
        settings = self.settings
        return OpenAICompatibleSummarizer(
            session,
            base_url=settings.url or "",
            model=settings.model or "",
            api_key=self._api_key,
            timeout=settings.timeout.total_seconds(),
            max_tokens=settings.max_tokens,
            json_mode=settings.json_mode,
        )

    def _cache_key(self, story: Story, language: str) -> _CacheKey:
        return (story_key(story), language, self.settings.model or "")

    def _cached(self, story: Story, language: str) -> WrittenSummary | None:
        key = self._cache_key(story, language)
        written = self._cache.get(key)
        if written is not None:
            self._cache.move_to_end(key)
        return written

    def _remember(self, story: Story, language: str, written: WrittenSummary) -> None:
        self._cache[self._cache_key(story, language)] = written
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _api_key(settings: SummarizerSettings, env: Mapping[str, str]) -> str | None:
    if not settings.api_key_env:
        return None
    key = env.get(settings.api_key_env, "").strip()
    if not key:
        log.warning(
            "settings.summarizer.api_key_env: %s is not set; asking without a key",
            settings.api_key_env,
        )
    return key or None


def summarizer_for(
    settings: SummarizerSettings, env: Mapping[str, str], current: DigestSummarizer | None
) -> DigestSummarizer:
    """`current` while `settings` are unchanged (its cache stays), else a new summarizer."""
    if current is not None and current.settings == settings:
        return current
    return DigestSummarizer(settings, env)


async def summarize_digests(
    settings: SummarizerSettings, env: Mapping[str, str], digests: Sequence[Digest]
) -> tuple[Digest, ...]:
    """For `preview`: every digest through one summarizer (destinations share its cache)."""
    if settings.backend == "none":
        return tuple(digests)
    summarizer = DigestSummarizer(settings, env)
    return tuple([await summarizer.apply(digest) for digest in digests])
