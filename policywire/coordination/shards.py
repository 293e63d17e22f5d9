"""Gateway shards spread over the workers that run a chat platform's client (Discord).

Each such worker keeps a `shard-member` lease (so the others know who shares the shards) and
runs its share of `shard` leases: shards // members each, one more for the first
shards % members members in worker-id order, so all agree on who runs how many. On every
heartbeat a worker gives up shards above its share (the highest first) and takes free ones up
to it: when a worker joins, the others shed shards it then takes; when one dies, its leases
run out after the lease time and the survivors take them. A shard is unowned for about one
heartbeat while it changes hands; two workers never hold it at once (one row per shard).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from policywire.storage.leases import SHARD, SHARD_MEMBER
from policywire.storage.store import Store

log = logging.getLogger(__name__)


class ShardRunner(Protocol):
    """A client that runs the gateway shards it is told to (bots/discord_bot.py)."""

    async def set_shards(self, shard_ids: tuple[int, ...]) -> None: ...


def share(count: int, members: list[str], worker: str) -> int:
    """How many of `count` shards `worker` runs among `members` (sorted worker ids)."""
    rank = members.index(worker)
    return count // len(members) + (1 if rank < count % len(members) else 0)


class ShardBalancer:
    """This worker's share of one platform's `count` shards (see the module doc)."""

    def __init__(self, store: Store, worker: str, platform: str, count: int) -> None:
        self.store = store
        self.worker = worker
        self.platform = platform
        self.count = count
        self.held: tuple[int, ...] = ()

    def _name(self, shard: int) -> str:
        return f"{self.platform}/{shard}"

    async def balance(self, now: datetime, ttl: timedelta) -> tuple[int, ...]:
        """Keep, shed and take shard leases; the shards this worker holds afterwards."""
        until = now + ttl
        prefix = f"{self.platform}/"
        member = prefix + self.worker
        await self.store.claim_lease(SHARD_MEMBER, member, self.worker, now, until)
        members = {
            row.holder
            for row in await self.store.leases(SHARD_MEMBER)
            if row.name.startswith(prefix) and row.expires_at > now
        }
        fair = share(self.count, sorted(members | {self.worker}), self.worker)
        owners = {
            row.name: row.holder
            for row in await self.store.leases(SHARD)
            if row.name.startswith(prefix) and row.expires_at > now
        }
        mine = [s for s in range(self.count) if owners.get(self._name(s)) == self.worker]
        for shard in mine[fair:]:
            await self.store.release_lease(SHARD, self._name(shard), self.worker)
        mine = mine[:fair]
        for shard in range(self.count):
            if len(mine) >= fair:
                break
            if self._name(shard) not in owners and await self.store.claim_lease(
                SHARD, self._name(shard), self.worker, now, until
            ):
                mine.append(shard)
        return self._settle(tuple(sorted(mine)), fair, len(members | {self.worker}))

    def _settle(self, held: tuple[int, ...], fair: int, members: int) -> tuple[int, ...]:
        if held != self.held:
            log.info(
                "worker %s runs %s shards %s of %d (%d workers share them, this one %d)",
                self.worker,
                self.platform,
                ", ".join(map(str, held)) or "none",
                self.count,
                members,
                fair,
            )
        self.held = held
        return held
