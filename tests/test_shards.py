"""Discord's gateway shards spread over workers on one real PostgreSQL database.

First the leases alone (coordination/shards.py, time a clock the test moves): shares are fair,
a joining worker gets shards from the others, a dead worker's shards are taken over, and no
shard ever has two workers. Then the real discord.py client against the fake Discord, whose
gateway routes each server's events to the connection whose shard has it: two workers each run
one shard, and when one stops the other runs both and answers its servers too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord_bot import DiscordBot
from policywire.config.load import load_config
from policywire.coordination.shards import ShardBalancer, share
from policywire.coordination.workers import Workers
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.leases import SHARD
from policywire.storage.store import Store
from tests.databases import fresh_postgres_database
from tests.fakes.discord_api import MANAGE_CHANNELS, FakeChannel, FakeDiscord, FakeMember
from tests.helpers import NOW, config_file

TTL = timedelta(seconds=30)
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)
ADMIN = FakeMember(1_150_000_000_000_000_010, "alice", MANAGE_CHANNELS)


def guild_in_shard(shard: int, count: int, n: int) -> int:
    """A server id that Discord's formula, (id >> 22) % count, puts in `shard`."""
    return ((1_000_000 + n * count + shard) << 22) | n


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


def test_shares_add_up_and_differ_by_at_most_one() -> None:
    for count in range(1, 9):
        for n in range(1, 6):
            members = [f"w{i}" for i in range(n)]
            shares = [share(count, members, m) for m in members]
            assert sum(shares) == count and max(shares) - min(shares) <= 1


async def beat(balancer: ShardBalancer, now: datetime) -> tuple[int, ...]:
    """What a worker's heartbeat does: keep its leases, then balance the shards."""
    await balancer.store.renew_leases(balancer.worker, now + TTL)
    return await balancer.balance(now, TTL)


async def test_shards_follow_workers_joining_and_dying(pg_url: str) -> None:
    stores = [await Store.open(pg_url) for _ in range(3)]
    try:
        a, b, c = (ShardBalancer(s, f"w{i}", "discord", 4) for i, s in enumerate(stores))
        now = NOW
        assert await beat(a, now) == (0, 1, 2, 3)  # alone: every shard

        assert await beat(b, now) == ()  # joins: all taken for now
        assert await beat(a, now) == (0, 1)  # sheds its surplus...
        assert await beat(b, now) == (2, 3)  # ...which the newcomer takes

        await beat(c, now)
        for _ in range(2):  # a beat or two to settle: 2 + 1 + 1
            held = [await beat(w, now) for w in (a, b, c)]
        assert held == [(0, 1), (2,), (3,)]

        for _ in range(5):  # a dies: it beats no more, and after TTL its leases run out
            now += TTL / 3
            held = [await beat(w, now) for w in (b, c)]
        assert held == [(0, 2), (1, 3)]
        rows = [r for r in await stores[0].leases(SHARD) if r.expires_at > now]
        assert sorted(r.name for r in rows) == [f"discord/{s}" for s in range(4)]  # one each
    finally:
        for store in stores:
            await store.close()


@pytest.fixture(autouse=True)
def discord_endpoints() -> Iterator[None]:
    """Our configuration sets discord.py's endpoints for the process; put them back after."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


class Worker:
    """One worker's store, service, Discord bot and heartbeat, as `policywire run` has."""

    def __init__(self, tmp_path: Path, dc: FakeDiscord, url: str, name: str) -> None:
        (tmp_path / name).mkdir()
        path = config_file(
            tmp_path / name,
            database=url,
            settings={"embedding": {"backend": "none"}},
            discord={
                "api_base_url": dc.api_base_url,
                "gateway_url": dc.gateway_url,
                "shard_count": 2,
            },
            feeds=[],
            topics={"ai-act": {"name": "EU AI Act", "any": ["AI Act"]}},
        )
        self.config = load_config(path, env={})
        self.dc, self.url = dc, url

    async def start(self) -> None:
        self.store = await Store.open(self.url)
        self.service = Service(self.config, self.store, {}, parse_workers=0)
        settings = self.config.settings.discord
        self.bot = DiscordBot(
            self.dc.token, settings, self.service.subscriptions, self.service.send_digest,
            pacing=FAST, guild_ready_timeout=0.05, shard_ids=(),
        )  # fmt: skip
        self.workers = Workers(self.store, self.service.clock, ttl=timedelta(seconds=3))
        self.workers.add_shards("discord", 2, self.bot)
        await self.bot.start()
        await self.workers.start(lambda: self.config)

    async def stop(self) -> None:
        await self.workers.stop()
        await self.bot.stop()
        await self.store.close()


async def settled(workers: list[Worker]) -> None:
    """Until each worker's client runs the shards its leases say, all connected."""

    def done() -> bool:
        return all(w.bot.running_shards == w.bot.shard_ids != () for w in workers) and all(
            w.bot.ready.is_set() for w in workers
        )

    async with asyncio.timeout(30):
        while not done():  # noqa: ASYNC110 - the bots' state, no event for it
            await asyncio.sleep(0.05)


async def wait_for_shards(dc: FakeDiscord, expected: list[tuple[int, int]]) -> None:
    # discord.py waits 5 s between one client's identifies (dc.wait_timeout is 30 s)
    await dc.wait_for(lambda: sorted(s for s in dc.live_shards() if s is not None) == expected)


async def test_two_workers_run_one_shard_each_and_one_takes_over_both(
    tmp_path: Path, pg_url: str
) -> None:
    first, second = guild_in_shard(0, 2, 1), guild_in_shard(1, 2, 2)
    async with FakeDiscord(tls=False) as dc:
        dc.wait_timeout = 30
        for guild, channel in ((first, first + 1), (second, second + 1)):
            dc.add_guild(guild, f"Server {guild}", channels=[FakeChannel(channel, "news")],
                         members=[ADMIN])  # fmt: skip
        workers = [Worker(tmp_path, dc, pg_url, name) for name in ("a", "b")]
        for worker in workers:
            await worker.start()
        try:
            await settled(workers)
            await wait_for_shards(dc, [(0, 2), (1, 2)])
            holders = {w.workers.id: w.bot.shard_ids for w in workers}
            assert sorted(holders.values()) == [(0,), (1,)]
            for guild in (first, second):  # each server's command reaches its shard's worker
                await dc.dispatch_interaction(guild, guild + 1, ADMIN, "help")

            leaving = next(w for w in workers if w.bot.shard_ids == (0,))
            staying = next(w for w in workers if w is not leaving)
            identified = len(dc.identify_payloads)
            await leaving.stop()
            workers.remove(leaving)
            await dc.wait_for(lambda: len(dc.identify_payloads) >= identified + 2)  # both anew
            await settled(workers)
            await wait_for_shards(dc, [(0, 2), (1, 2)])
            assert staying.bot.shard_ids == (0, 1)
            callback = await dc.dispatch_interaction(first, first + 1, ADMIN, "help")
            assert callback.type in (4, 5)  # answered by the worker that stayed
        finally:
            for worker in workers:
                await worker.stop()
    await asyncio.sleep(0.1)
    left = [t.name for t in threading.enumerate() if t.name.startswith("keep-alive-handler")]
    assert not left, f"gateway connections left open: {left}"
