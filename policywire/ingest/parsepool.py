"""Parsing off the event loop: `ParsePool` runs `policywire.parse` in spawned worker processes.

Kept apart from the parser itself so that the service's process never imports feedparser,
lxml or the text helpers until it has a body to parse inline (`workers=0`): a cron run where
every feed answers 304 loads none of them. The workers import the parser when they start.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Self, TypeVar

from policywire.errors import ParseError
from policywire.ingest.match import Hits, Matcher, match_items
from policywire.models import ParsedFeed, TopicRule

__all__ = ["ParsePool", "ParseRequest", "ParsedAndMatched"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ParseRequest:
    """One response body to parse, with what the feed's configuration says about it."""

    body: bytes
    feed_url: str
    now: datetime  # "first seen" for the body's items
    source: str = ""  # the outlet's name, overriding the feed's own title
    language: str | None = None  # overrides what the feed says it is written in
    headers: dict[str, str] = field(default_factory=dict)  # a plain dict, so it pickles

    def parse(self) -> ParsedFeed:
        from policywire.ingest.parse import parse_feed  # see the module docstring

        return parse_feed(
            self.body,
            feed_url=self.feed_url,
            source=self.source,
            language=self.language,
            headers=self.headers,
            now=self.now,
        )


@dataclass(frozen=True, slots=True)
class ParsedAndMatched:
    """A parsed body and the topic hits of its Items (only the items that hit something)."""

    feed: ParsedFeed
    hits: Hits


class ParsePool:
    """Runs `parse_feed` (and topic matching) in worker processes, or with `workers=0` a thread.

    Parsing a 1 MB feed takes a few hundred milliseconds of pure Python: in a process it
    neither blocks the event loop nor competes for its GIL. The processes start with the first
    parse, so a pass where every feed answers 304 starts none. Matching happens where parsing
    happens: each worker compiles the topic rules once and `parse` returns the hits along with
    the feed; `set_rules` (hot reload) replaces the workers, lazily, when the rules change.
    A worker that dies (out of memory, a crash in a C extension) fails only the feed it was
    parsing: that feed gets a ParseError and the pool is rebuilt for the next one.
    """

    def __init__(self, workers: int | None = None, rules: Iterable[TopicRule] = ()) -> None:
        self._workers = (os.cpu_count() or 1) if workers is None else workers
        if self._workers < 0:
            raise ValueError("workers must be >= 0")
        self._executor: ProcessPoolExecutor | None = None
        self._retired: list[ProcessPoolExecutor] = []
        self._rules: tuple[TopicRule, ...] = ()
        self._matcher = Matcher.compile(())
        self._closed = False
        self.set_rules(rules)

    @property
    def workers(self) -> int:
        return self._workers

    def set_rules(self, rules: Iterable[TopicRule]) -> None:
        """Match the next parses against these rules: the one place hot reload swaps them.

        Raises ValueError for a rule that does not compile (before anything changes). Parses
        already running finish with the rules they started with.
        """
        new = tuple(rules)
        if new == self._rules:
            return
        # Compiled here too: a bad keyword fails now, not in every worker's initializer.
        matcher = Matcher.compile(new)
        self._rules, self._matcher = new, matcher
        if self._executor is not None:
            # The workers compiled the old rules at start-up; the next parse starts new ones.
            self._retired.append(self._executor)
            self._executor.shutdown(wait=False, cancel_futures=False)
            self._executor = None

    async def parse(self, request: ParseRequest) -> ParsedAndMatched:
        """`parse_feed`, then the topic rules on every Item, both off the event loop; every
        failure comes back as a ParseError."""
        if self._workers == 0:
            job = partial(_parse_and_match, self._matcher, request)
        else:
            job = partial(_parse_and_match_in_worker, request)
        return await self._run(job, request.feed_url)

    async def _run(self, job: Callable[[], _T], feed_url: str) -> _T:
        if self._closed:
            raise RuntimeError("ParsePool is closed")
        executor = None
        try:
            if self._workers == 0:
                return await asyncio.to_thread(job)
            executor = self._executor or self._start_executor()
            return await asyncio.get_running_loop().run_in_executor(executor, job)
        except ParseError:
            raise
        except BrokenProcessPool:
            self._replace_broken(executor)
            raise ParseError("parser process crashed while parsing this feed") from None
        except Exception as error:
            # A bug in the parser must not stop the poll of every other feed; log it fully.
            log.exception("%s: parser failed", feed_url)
            raise ParseError(f"parser failed: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        """Stop the workers; parses still queued are cancelled."""
        self._closed = True
        executors, self._retired = [*self._retired, self._executor], []
        self._executor = None
        for executor in executors:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # shutdown(wait=True) joins processes: do that off the loop.
        await asyncio.to_thread(self.close)

    def _start_executor(self) -> ProcessPoolExecutor:
        self._executor = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self._rules),
        )
        return self._executor

    def _replace_broken(self, broken: ProcessPoolExecutor | None) -> None:
        # Several parses fail together when a pool breaks; only the first one drops it. The
        # next parse starts a new one.
        if self._closed or broken is None or broken is not self._executor:
            return
        log.warning("parser pool broke; starting a new one")
        self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


# In a worker process: the Matcher compiled from the rules the pool started it with.
_worker_matcher: Matcher | None = None


def _start_worker(parent_pid: int, rules: tuple[TopicRule, ...]) -> None:
    """Worker initializer: tie the worker's life to the service's, compile the rules once."""
    global _worker_matcher  # one per worker process, set once when it starts
    _die_with_parent(parent_pid)
    _worker_matcher = Matcher.compile(rules)
    import policywire.ingest.parse  # noqa: F401 - loaded now, not during the first feed's parse


def _parse_and_match_in_worker(request: ParseRequest) -> ParsedAndMatched:
    if _worker_matcher is None:
        raise RuntimeError("this parse worker was not started by a ParsePool")
    return _parse_and_match(_worker_matcher, request)


def _parse_and_match(matcher: Matcher, request: ParseRequest) -> ParsedAndMatched:
    feed = request.parse()
    return ParsedAndMatched(feed, match_items(matcher, feed.items))


# Workers are spawned, not forked: the service runs threads (asyncio.to_thread, aiosqlite) and a
# forked child can inherit a lock some thread was holding. Not "forkserver" either: after a
# kill -9 of the service its server process and workers outlive it, holding its stdout open.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the service dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
