"""GroupCommit: concurrent writes share transactions, yet each caller gets its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from policywire.storage.groupcommit import GroupCommit


class Ledger:
    """A batch writer that records its batches and refuses writes named "bad"."""

    def __init__(self, pause: float = 0.01) -> None:
        self.batches: list[list[str]] = []
        self.pause = pause

    async def write(self, batch: Sequence[str]) -> list[str]:
        await asyncio.sleep(self.pause)  # a transaction's round trip, during which others queue
        if "bad" in batch:
            raise ValueError("bad row")
        self.batches.append(list(batch))
        return [f"ok:{write}" for write in batch]


async def test_writes_queued_during_a_commit_share_the_next_one() -> None:
    ledger = Ledger()
    commit: GroupCommit[str, str] = GroupCommit(ledger.write)
    first = asyncio.create_task(commit.submit("w0"))
    await asyncio.sleep(0.001)  # its commit is running (no timer held it back)
    results = await asyncio.gather(*(commit.submit(f"w{n}") for n in range(1, 100)))
    assert await first == "ok:w0"
    assert results == [f"ok:w{n}" for n in range(1, 100)]
    assert ledger.batches == [["w0"], [f"w{n}" for n in range(1, 100)]]


async def test_a_bad_write_fails_alone_and_its_neighbours_are_committed() -> None:
    ledger = Ledger()
    commit: GroupCommit[str, str] = GroupCommit(ledger.write)
    outcomes = await asyncio.gather(
        *(commit.submit(w) for w in ("first", "a", "bad", "b")), return_exceptions=True
    )
    assert outcomes[0] == "ok:first" and outcomes[1] == "ok:a" and outcomes[3] == "ok:b"
    assert isinstance(outcomes[2], ValueError)
    assert ["a"] in ledger.batches and ["b"] in ledger.batches  # retried one by one


async def test_batches_stop_growing_at_max_weight() -> None:
    ledger = Ledger()
    commit: GroupCommit[str, str] = GroupCommit(ledger.write, weight=len, max_weight=6)
    await asyncio.gather(*(commit.submit(w) for w in ("x", "aaa", "bbb", "ccc", "dddddddd")))
    assert ledger.batches == [["x", "aaa"], ["bbb", "ccc"], ["dddddddd"]]  # alone if too big


async def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    ledger = Ledger(pause=0.05)
    commit: GroupCommit[str, str] = GroupCommit(ledger.write)
    first = asyncio.create_task(commit.submit("first"))
    await asyncio.sleep(0)
    quitter = asyncio.create_task(commit.submit("quitter"))
    stayer = asyncio.create_task(commit.submit("stayer"))
    await asyncio.sleep(0.01)
    quitter.cancel()
    assert await stayer == "ok:stayer" and await first == "ok:first"
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert ["quitter", "stayer"] in ledger.batches  # its write still happened


async def test_drain_waits_for_every_queued_write() -> None:
    ledger = Ledger()
    commit: GroupCommit[str, str] = GroupCommit(ledger.write)
    tasks = [asyncio.create_task(commit.submit(f"w{n}")) for n in range(5)]
    await asyncio.sleep(0)
    await commit.drain()
    assert sum(len(batch) for batch in ledger.batches) == 5
    await asyncio.gather(*tasks)


async def test_a_cancelled_committer_leaves_no_caller_waiting() -> None:
    # Shutdown cancels the commit in flight: its callers and those queued behind it are told,
    # even when the cancel lands while a failed batch is being retried one write at a time.
    never = asyncio.Event()

    async def stuck(batch: Sequence[str]) -> list[str]:
        if len(batch) > 1:
            raise ValueError("bad row")  # so the writes are retried one by one…
        await never.wait()  # …and the first retry hangs
        return list(batch)

    commit: GroupCommit[str, str] = GroupCommit(stuck)
    callers = [asyncio.create_task(commit.submit(w)) for w in ("a", "b", "c")]
    await asyncio.sleep(0.01)
    commit._committer.cancel()  # type: ignore[union-attr]  # what loop shutdown does
    outcomes = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 1)
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
