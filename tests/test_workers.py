"""Several `policywire run` processes on one PostgreSQL database (docs/scaling.md).

Real processes of `scheduler.py run` share a fresh database, a loopback feed server whose feeds
keep growing, and the fake Bot API. Workers are killed with SIGKILL at random moments, right
after a message arrived, choosing the worker that holds that chat's outbox lease (the one
sending), and replaced. Afterwards every chat has every item, no digest twice, its messages in
the outbox's order with at most one repeat per kill, and no feed was polled twice within its
interval. A second test kills the worker receiving Telegram's updates and waits for another
one to answer a command.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from policywire.storage.leases import OUTBOX, UPDATES
from policywire.storage.store import Store
from tests.databases import fresh_postgres_database
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import config_file, rss

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "987654:SECRET-token-never-logged"
CHATS = (7001, 7002, 7003)  # private chats: Telegram's 1 message/s each
INTERVAL = 5.0  # every feed's poll interval, seconds
LEASE_SECONDS = 3  # POLICYWIRE_LEASE_SECONDS: a killed worker's leases outlive it this long


def worker_config(tmp_path: Path, database: str, feeds: FeedServer, tg: FakeTelegram) -> Path:
    return config_file(
        tmp_path,
        database=database,
        settings={
            "poll_interval": f"{INTERVAL:g}s",
            "max_stories": 100,
            "allow_private_networks": True,
            "embedding": {"backend": "none"},  # look-alike test titles: each its own story
        },
        telegram={"api_base_url": tg.base_url},
        feeds=[feeds.url(path) for path in FEEDS],
        topics={"ai-act": ["AI Act"]},
        destinations=[
            {"telegram": str(chat), "topics": ["ai-act"], "schedule": "instant"} for chat in CHATS
        ],
    )


FEEDS = tuple(f"/feed{n}.xml" for n in range(4))


@dataclass
class Cluster:
    """The worker processes, each logging to its own file (a full pipe would block it)."""

    config: Path
    logs: Path
    env: dict[str, str]
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    started: int = 0
    log_of: dict[int, Path] = field(default_factory=dict)  # pid → its log file

    async def spawn(self) -> asyncio.subprocess.Process:
        self.started += 1
        path = self.logs / f"worker-{self.started}.log"
        log = path.open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scheduler.py"),
            "run",
            "--config",
            str(self.config),
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        self.processes.append(process)
        self.log_of[process.pid] = path
        return process

    async def kill(self, pid: int) -> None:
        process = next(p for p in self.processes if p.pid == pid)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.processes.remove(process)

    def failures(self) -> str:
        """The end of the log of each worker that exited with an error."""
        return "\n".join(
            f"--- pid {p.pid}, exit {p.returncode}:\n"
            + "\n".join(self.log_of[p.pid].read_text(errors="replace").splitlines()[-25:])
            for p in self.processes
            if p.returncode
        )

    async def stop_all(self) -> list[int]:
        for process in self.processes:
            if process.returncode is None:  # one that ended by itself says why in its code
                process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            return [await process.wait() for process in self.processes]

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.logs.iterdir()))

    def tails(self, lines: int = 12) -> str:
        """The end of every worker's log, the killed ones' too."""
        return "\n".join(
            f"--- {path.name}:\n"
            + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self.logs.iterdir(), key=lambda p: int(p.stem.split("-")[1]))
        )


@asynccontextmanager
async def cluster(
    tmp_path: Path, database: str, feeds: FeedServer, tg: FakeTelegram, workers: int
) -> AsyncIterator[Cluster]:
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWIRE_")}
    env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "POLICYWIRE_LEASE_SECONDS": str(LEASE_SECONDS)}
    running = Cluster(worker_config(tmp_path, database, feeds, tg), logs, env)
    try:
        for _ in range(workers):
            await running.spawn()
        try:
            yield running
        except TimeoutError as exc:  # say what the workers were doing
            logs = running.failures() or running.tails()
            raise AssertionError(f"{exc}\n{logs}") from exc
    finally:
        for process in running.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


@contextmanager
def poll_times(feeds: FeedServer) -> Iterator[dict[str, list[float]]]:
    """When each feed was fetched (sampled every 20 ms from the server's request log)."""
    seen: dict[str, list[float]] = {path: [] for path in FEEDS}
    loop = asyncio.get_running_loop()

    async def watch() -> None:
        while True:
            for path in FEEDS:
                seen[path] += [loop.time()] * (feeds.hits(path) - len(seen[path]))
            await asyncio.sleep(0.02)

    task = asyncio.ensure_future(watch())
    try:
        yield seen
    finally:
        task.cancel()


async def pid_of(store: Store, kind: str, name: str) -> int | None:
    """The pid of the live worker holding lease (kind, name), if any."""
    holders = {lease.name: lease.holder for lease in await store.leases(kind)}
    pids = {worker.id: worker.pid for worker in await store.workers()}
    holder = holders.get(name)
    return None if holder is None else pids.get(holder)


def title(n: int) -> str:
    return f"AI Act story {n}: one of the regulation's many consequences"


async def test_three_workers_deliver_every_digest_once_in_order_through_kills(
    tmp_path: Path,
) -> None:
    rng = random.Random(16)
    published: dict[str, list[str]] = {path: [] for path in FEEDS}
    kills = 0
    async with (
        fresh_postgres_database() as database,
        FakeTelegram() as tg,
        FeedServer() as feeds,
    ):
        for n, path in enumerate(FEEDS):
            published[path].append(title(n))
            feeds.add(path, rss(published[path]))
        store = await Store.open(database)
        try:
            with poll_times(feeds) as polls:
                async with cluster(tmp_path, database, feeds, tg, workers=3) as workers:
                    count = len(FEEDS)
                    for _round in range(3):
                        for _ in range(2):  # new stories while the workers poll
                            path = rng.choice(FEEDS)
                            published[path].insert(0, title(count))
                            feeds.add(path, rss(published[path]))
                            count += 1
                            await asyncio.sleep(rng.uniform(0.3, 1.2))
                        kills += await kill_a_sender(workers, store, tg, rng)
                        await workers.spawn()  # three again
                    await wait_until_delivered(store, tg, count)
                    codes = await workers.stop_all()
                    assert codes == [0] * len(codes), workers.failures()
            sent = await sent_per_chat(store)
        finally:
            await store.close()

    assert kills >= 3  # the kills really happened mid-delivery
    repeats = 0
    for chat in CHATS:
        expected = sent[chat]
        received = [message.text for message in tg.sent_to(chat)]
        assert set(received) == set(expected)  # every message arrived
        repeats += len(received) - len(set(received))
        assert list(dict.fromkeys(received)) == expected  # in the outbox's order
        for n in range(count):  # every story once: no digest was built twice
            holding = [text for text in expected if f"AI Act story {n}:" in text]
            assert len(holding) == 1, (chat, n, holding)
    assert repeats <= kills  # at most the one in flight per kill
    for path, times in polls.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert len(times) >= 3, (path, times)
        assert min(gaps) >= INTERVAL * 0.9 - 0.5, (path, gaps)  # once per interval


async def kill_a_sender(
    workers: Cluster, store: Store, tg: FakeTelegram, rng: random.Random
) -> int:
    """Right after a message arrives, SIGKILL the worker holding that chat's outbox lease:
    the one sending to it, mid-delivery. Returns 1 when it found one within 15 s."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 15
    while loop.time() < give_up:
        before = len(tg.sent)
        try:
            (*_, message) = await tg.wait_for_messages(before + 1, timeout=give_up - loop.time())
        except TimeoutError:
            return 0
        pid = await pid_of(store, OUTBOX, f"telegram:{message.chat_id}")
        if pid is not None and pid in {process.pid for process in workers.processes}:
            await asyncio.sleep(rng.uniform(0, 0.3))  # a random moment of its delivery
            await workers.kill(pid)
            return 1
    return 0


async def wait_until_delivered(store: Store, tg: FakeTelegram, count: int) -> None:
    """Until every chat has every story and nothing waits in the outbox; on timeout, says
    which stories each chat lacks and what the outbox holds."""
    missing: dict[int, list[int]] = {}
    outbox: dict[str, int] = {}
    try:
        async with asyncio.timeout(40):
            while True:
                texts = {chat: "\n".join(m.text for m in tg.sent_to(chat)) for chat in CHATS}
                missing = {
                    chat: [n for n in range(count) if f"AI Act story {n}:" not in texts[chat]]
                    for chat in CHATS
                }
                outbox = await store.outbox_counts()
                if not any(missing.values()) and outbox["pending"] == 0:
                    return
                await asyncio.sleep(0.2)
    except TimeoutError as exc:
        leases = {lease.name: lease.holder for lease in await store.leases(OUTBOX)}
        raise TimeoutError(f"missing {missing}, outbox {outbox}, leases {leases}") from exc


async def sent_per_chat(store: Store) -> dict[int, list[str]]:
    assert (await store.outbox_counts())["failed"] == 0
    sent: dict[int, list[str]] = {chat: [] for chat in CHATS}
    for row in await store.messages("sent"):  # in id order: each chat's queue order
        sent[int(row.destination.split(":", 1)[1])].append(str(row.payload["html"]))
    return sent


async def test_the_telegram_updates_lease_fails_over_when_its_holder_is_killed(
    tmp_path: Path,
) -> None:
    async with (
        fresh_postgres_database() as database,
        FakeTelegram() as tg,
        FeedServer() as feeds,
    ):
        for path in FEEDS:
            feeds.add(path, rss([]))
        user = tg.user(first_name="Ada")
        chat = tg.private_chat(user)
        store = await Store.open(database)
        try:
            async with cluster(tmp_path, database, feeds, tg, workers=2) as workers:
                async with asyncio.timeout(30):
                    while (holder := await pid_of(store, UPDATES, "telegram")) is None:  # noqa: ASYNC110
                        await asyncio.sleep(0.1)
                tg.push_message(chat, user, "/help")
                await tg.wait_for_messages(1, chat_id=chat["id"], timeout=20)
                await asyncio.sleep(1)
                assert len(tg.sent_to(chat["id"])) == 1  # one worker answered, not both

                await workers.kill(holder)
                loop = asyncio.get_running_loop()
                killed_at = loop.time()
                tg.push_message(chat, user, "/help")
                await tg.wait_for_messages(2, chat_id=chat["id"], timeout=60)
                took = loop.time() - killed_at
                assert took < 60  # within a minute (a few seconds with this short lease)
                assert await pid_of(store, UPDATES, "telegram") != holder
                await asyncio.sleep(1)
                assert len(tg.sent_to(chat["id"])) == 2
                codes = await workers.stop_all()
                assert codes == [0], workers.log_text()[-3000:]
        finally:
            await store.close()
