"""Parsing off the event loop: `ParsePool` runs `policywire.parse` in spawned worker processes.

Kept apart from the parser itself so that the service's process never imports feedparser,
lxml or the text helpers until it has a body to parse inline (`workers=0`): a cron run where
every feed answers 304 loads none of them. The workers import the parser when they start.

A hostile body can make one parse cost minutes of CPU and gigabytes (unclosed tags send
feedparser's loose parser quadratic), so every parse runs under limits (`ParseLimits`): a
worker that runs past the time limit is killed, one that reaches the memory limit stops
itself, and the next parse starts a fresh one. `concurrent.futures.ProcessPoolExecutor` cannot
kill one task without breaking every other task in the pool, hence this small pool of our own:
one process per parse in flight, each spoken to over its own pipe by one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from types import TracebackType
from typing import Literal, Self, TypeVar

from policywire.errors import ParseError
from policywire.ingest.match import Hits, Matcher, match_items
from policywire.models import ParsedFeed, TopicRule

__all__ = ["ParseLimits", "ParsePool", "ParseRequest", "ParsedAndMatched"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
MB = 1024 * 1024
# A worker imports feedparser and lxml before it says it is ready: generous, as a loaded
# machine can take seconds, and not counted against the parse's own time limit.
_START_SECONDS = 60.0


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


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """What one parse may cost in a worker process (`settings.parse_timeout`, `parse_memory`).

    `memory` is address space the parse may add to the worker's size at start-up (about
    40 MB with the parser loaded). `slow_after`: a parse still running after this long stops
    counting against the pool's `workers`, so the parses queued behind a slow one start in
    another process; at most `workers` slow parses run besides the others (so at most twice
    `workers` processes in all).
    """

    seconds: float = 20.0
    memory: int = 512 * MB
    slow_after: float = 1.0


_Kind = Literal["ready", "ok", "error", "bug", "memory", "timeout", "lost"]


@dataclass(frozen=True, slots=True)
class _Reply:
    """A worker's answer to one request, or what we concluded when it gave none."""

    kind: _Kind
    result: ParsedAndMatched | None = None
    message: str = ""
    detail: str = ""  # a bug's traceback, from the worker
    last: bool = False  # the worker ends after this answer


_READY = _Reply("ready")
_OUT_OF_MEMORY = _Reply("memory", last=True)  # made in advance: no memory may be left then
_TIMED_OUT = _Reply("timeout")


class ParsePool:
    """Runs `parse_feed` (and topic matching) in worker processes, or with `workers=0` a thread.

    Parsing a 1 MB feed takes a few hundred milliseconds of pure Python: in a process it
    neither blocks the event loop nor competes for its GIL. The processes start with the first
    parse, so a pass where every feed answers 304 starts none. Matching happens where parsing
    happens: each worker compiles the topic rules once and `parse` returns the hits along with
    the feed; `set_rules` (hot reload) replaces the workers, lazily, when the rules change.
    A worker that dies (out of memory, a crash in a C extension) or overruns `limits` fails
    only the feed it was parsing: that feed gets a ParseError and the next parse gets a new
    worker. The limits need processes: with `workers=0` (tests, previews) there are none.
    """

    def __init__(
        self,
        workers: int | None = None,
        rules: Iterable[TopicRule] = (),
        limits: ParseLimits | None = None,
    ) -> None:
        self._workers = (os.cpu_count() or 1) if workers is None else workers
        if self._workers < 0:
            raise ValueError("workers must be >= 0")
        self.limits = limits or ParseLimits()
        self._rules: tuple[TopicRule, ...] = ()
        self._matcher = Matcher.compile(())
        self._generation = 0  # bumped when the rules change; workers remember theirs
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._stopping: list[_Worker] = []
        self._threads: ThreadPoolExecutor | None = None
        self._places = asyncio.Semaphore(max(1, 2 * self._workers))  # processes in use
        self._not_slow = asyncio.Semaphore(max(1, self._workers))  # parses not yet slow
        self._context: SpawnContext = multiprocessing.get_context("spawn")
        self._closed = False
        self.set_rules(rules)

    @property
    def workers(self) -> int:
        return self._workers

    def worker_pids(self) -> list[int]:
        """The processes parsing now or waiting for the next parse (none before the first)."""
        return sorted(w.pid for w in [*self._idle, *self._busy] if w.pid is not None)

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
        self._generation += 1
        # The workers compiled the old rules at start-up: idle ones stop now, busy ones after
        # their parse, and the next parse starts a new one.
        for worker in self._idle:
            self._stop(worker)
        self._idle.clear()

    async def parse(self, request: ParseRequest) -> ParsedAndMatched:
        """`parse_feed`, then the topic rules on every Item, both off the event loop; every
        failure comes back as a ParseError."""
        if self._closed:
            raise RuntimeError("ParsePool is closed")
        if self._workers == 0:
            return await self._parse_in_thread(partial(_parse_and_match, self._matcher, request))
        reply = await self._parse_in_worker(request)
        return self._result(reply, request.feed_url)

    async def _parse_in_thread(self, job: Callable[[], _T]) -> _T:
        try:
            return await asyncio.to_thread(job)
        except ParseError:
            raise
        except Exception as error:
            # A bug in the parser must not stop the poll of every other feed; log it fully.
            log.exception("parser failed")
            raise ParseError(f"parser failed: {type(error).__name__}: {error}") from error

    async def _parse_in_worker(self, request: ParseRequest) -> _Reply:
        loop = asyncio.get_running_loop()
        async with self._places:
            await self._not_slow.acquire()
            not_slow = _ReleaseOnce(self._not_slow)
            # Past `slow_after` this parse no longer holds up the queue (see ParseLimits).
            timer = loop.call_later(self.limits.slow_after, not_slow.release)
            try:
                worker = self._take_worker()
            except OSError as error:  # no process to be had (the process table or memory)
                timer.cancel()
                not_slow.release()
                raise ParseError(f"could not start a parser process: {error}") from error
            try:
                reply = await loop.run_in_executor(
                    self._thread_pool(), worker.run, request, self.limits.seconds
                )
            except asyncio.CancelledError:
                self._busy.discard(worker)
                worker.kill()  # nobody waits for its answer; its thread sees the pipe close
                raise
            finally:
                timer.cancel()
                not_slow.release()
        self._give_back(worker, reply)
        return reply

    def _result(self, reply: _Reply, feed_url: str) -> ParsedAndMatched:
        if reply.kind == "ok" and reply.result is not None:
            return reply.result
        if self._closed:
            raise ParseError("parse stopped: the parser was shut down")
        if reply.kind == "error":
            raise ParseError(reply.message)
        if reply.kind == "bug":
            log.error("%s: parser failed:\n%s", feed_url, reply.detail.rstrip())
            raise ParseError(f"parser failed: {reply.message}")
        if reply.kind == "memory":
            raise ParseError(
                f"parsing needed more than {_megabytes(self.limits.memory)} of memory "
                "and was stopped"
            )
        if reply.kind == "timeout":
            raise ParseError(f"parsing took longer than {self.limits.seconds:g}s and was stopped")
        raise ParseError(f"parser process crashed while parsing this feed{reply.message}")

    def _take_worker(self) -> _Worker:
        self._reap()
        while self._idle:
            worker = self._idle.pop()
            if worker.alive():  # one killed while idle (the OOM killer) fails no feed
                break
            worker.join()
        else:
            worker = self._start_worker()
        self._busy.add(worker)
        return worker

    def _start_worker(self) -> _Worker:
        return _Worker(self._context, self._rules, self.limits.memory, generation=self._generation)

    def _give_back(self, worker: _Worker, reply: _Reply) -> None:
        """Keep a worker that answered normally for the next parse; retire the others."""
        self._busy.discard(worker)
        reusable = reply.kind in ("ok", "error") and not reply.last
        current = worker.generation == self._generation and not self._closed
        if reusable and current and len(self._idle) < self._workers:
            self._idle.append(worker)
        else:  # a killed one is gone already; stopping it again costs nothing
            self._stop(worker)

    def _stop(self, worker: _Worker) -> None:
        worker.stop()
        self._stopping.append(worker)

    def _reap(self) -> None:
        """Collect the exit status of workers told to stop (no zombies)."""
        self._stopping = [worker for worker in self._stopping if worker.alive()]

    def _thread_pool(self) -> ThreadPoolExecutor:
        # Our own threads: the default executor is shared with file reads and digest builds,
        # which must not wait behind parses that may take `limits.seconds` each.
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                max_workers=2 * self._workers, thread_name_prefix="policywire-parse"
            )
        return self._threads

    def close(self) -> None:
        """Stop the workers; parses still running fail with a ParseError."""
        self._closed = True
        for worker in self._busy:
            worker.kill()
        for worker in self._idle:
            worker.stop()
        leaving, self._idle, self._stopping = [*self._idle, *self._stopping], [], []
        for worker in leaving:
            worker.join()
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

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
        # Joining processes blocks: do that off the loop.
        await asyncio.to_thread(self.close)


class _ReleaseOnce:
    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore: asyncio.Semaphore | None = semaphore

    def release(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()
            self._semaphore = None


class _Worker:
    """One spawned parser process and our end of its pipe; serves one parse at a time.

    `run` happens in a pool thread and is the only user of the pipe while the worker is busy;
    the event loop only ever kills the process, which the thread then sees as a closed pipe.
    """

    def __init__(
        self,
        context: SpawnContext,
        rules: tuple[TopicRule, ...],
        memory: int,
        *,
        generation: int,
    ) -> None:
        ours, theirs = context.Pipe(duplex=True)
        self.process: SpawnProcess = context.Process(
            target=_serve,
            args=(theirs, os.getpid(), rules, memory),
            name="policywire-parser",
            daemon=True,
        )
        self.process.start()
        theirs.close()
        self.generation = generation
        self._pipe = ours
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def run(self, request: ParseRequest, seconds: float) -> _Reply:
        """Send one request and wait up to `seconds` for its answer (in a pool thread)."""
        try:
            if not self._ready:
                if not self._pipe.poll(_START_SECONDS):
                    return self._lost(" (it did not start)")
                self._pipe.recv()  # the worker's ready signal
                self._ready = True
            self._pipe.send(request)
            if not self._pipe.poll(seconds):
                self.kill()
                self.join()
                return _TIMED_OUT
            reply: _Reply = self._pipe.recv()
        except (EOFError, OSError):
            return self._lost("")
        return reply

    def _lost(self, why: str) -> _Reply:
        self.kill()
        self.join()
        code = self.process.exitcode
        if not why and code is not None and code < 0:
            why = f" ({signal.Signals(-code).name})"
        return _Reply("lost", message=why)

    def alive(self) -> bool:
        return self.process.is_alive()  # also collects the exit status of one that ended

    def stop(self) -> None:
        """Let the worker end itself: it exits when it reads the end of the pipe."""
        self._pipe.close()

    def kill(self) -> None:
        # No exit-status check here: the loop calls this while a pool thread may be joining,
        # and two threads reaping one child race. kill() is a no-op once it is reaped.
        self.process.kill()

    def join(self) -> None:
        self.process.join(5)
        if self.process.exitcode is None:  # did not leave after `stop`: no more waiting
            self.process.kill()
            self.process.join()
        self._pipe.close()


# --- in the worker process -----------------------------------------------------------------


def _serve(pipe: Connection, parent_pid: int, rules: tuple[TopicRule, ...], memory: int) -> None:
    """A worker's life: start up, then answer one request after another until the pipe ends."""
    _die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group; stopping is the service's decision.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    matcher = Matcher.compile(rules)
    import policywire.ingest.parse  # noqa: F401 - loaded now, not during the first feed's parse

    _warm_up()
    limit = _limit_memory(memory)
    pipe.send(_READY)
    while True:
        try:
            request = pipe.recv()
        except EOFError:
            return
        except MemoryError:  # the request alone was too big for the limit
            pipe.send(_OUT_OF_MEMORY)
            return
        reply = _after_parse(_answer(matcher, request), limit)
        _send(pipe, reply)
        if reply.last:
            return


def _warm_up() -> None:
    """Parse two tiny feeds, so that what the parser imports lazily (xml.sax's expat reader,
    feedparser's loose parser) is loaded before the memory limit, not under it: an import
    that fails for lack of memory leaves the process half broken."""
    from policywire.ingest.parse import parse_feed

    now = datetime.now(UTC)
    for body in (_WELL_FORMED, _ILL_FORMED):
        with contextlib.suppress(ParseError):
            parse_feed(body, feed_url="https://warm-up.invalid/", now=now)


_WELL_FORMED = (
    b"<rss version='2.0'><channel><title>t</title><item><title>x</title></item></channel></rss>"
)
_ILL_FORMED = b"<rss version='2.0'><channel><title>t</title><item><title>x<b></item>"


def _after_parse(reply: _Reply, limit: int | None) -> _Reply:
    """A parse that came close to the memory limit may have failed for lack of memory where
    a library caught the MemoryError and said something else (xml.sax: "No parsers found"),
    so it counts as out of memory unless it succeeded; either way this worker then ends, and
    one that met a bug of ours ends too: neither is to be trusted with the next feed."""
    near_limit = limit is not None and _peak_size() >= limit - limit // 10
    if near_limit and reply.kind != "ok":
        return _OUT_OF_MEMORY
    if near_limit or reply.kind == "bug":
        return replace(reply, last=True)
    return reply


def _answer(matcher: Matcher, request: ParseRequest) -> _Reply:
    try:
        return _Reply("ok", _parse_and_match(matcher, request))
    except ParseError as error:
        return _Reply("error", message=str(error))
    except MemoryError:
        pass  # answered below, once this frame no longer holds what filled the memory
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        return _Reply("bug", message=message, detail=traceback.format_exc())
    return _OUT_OF_MEMORY


def _send(pipe: Connection, reply: _Reply) -> None:
    try:
        pipe.send(reply)
    except MemoryError:  # pickling a large result needs memory too
        pipe.send(_OUT_OF_MEMORY)
    except Exception as error:  # a result that does not pickle is a bug of ours
        message = f"{type(error).__name__}: {error}"
        pipe.send(_Reply("bug", message=message, detail=traceback.format_exc()))


def _limit_memory(extra: int) -> int | None:
    """Let this process grow by `extra` bytes of address space beyond its size now.

    The worker is single-threaded, so its address space is close to the memory it uses; past
    the limit an allocation fails and Python raises MemoryError instead of the machine
    swapping. Linux only (macOS does not enforce RLIMIT_AS); elsewhere only the time limit.
    """
    if not sys.platform.startswith("linux"):
        return None
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _status_bytes("VmSize") + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def _peak_size() -> int:
    return _status_bytes("VmPeak")


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status ("VmSize:  41234 kB"), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def _parse_and_match(matcher: Matcher, request: ParseRequest) -> ParsedAndMatched:
    feed = request.parse()
    return ParsedAndMatched(feed, match_items(matcher, feed.items))


def _megabytes(size: int) -> str:
    return f"{size / MB:g} MB"


# Workers are spawned, not forked: the service runs threads (asyncio.to_thread, aiosqlite) and a
# forked child can inherit a lock some thread was holding. Not "forkserver" either: after a
# kill -9 of the service its server process and workers outlive it, holding its stdout open.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """In a worker: end this worker when the service dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
