"""Stories keep one id across polls and digests; two that prove to be one are merged."""

from __future__ import annotations

from pathlib import Path

from policywire.storage.store import Store
from policywire.storage.stories import plan_group
from tests.helpers import NOW, item


async def stored_items(store: Store, count: int) -> list[int]:
    """`count` items in the real store (through the poll path), their pks in order."""
    from policywire.models import MatchedItem, TopicHit

    items = [item(n) for n in range(count)]
    hits = {(i.feed, i.id): (TopicHit("ai-act", ("AI Act",)),) for i in items}
    new = await store.record_success(items[0].feed, _validators(), NOW, items=items, hits=hits)
    by_id = {m.item.id: m.pk for m in new if isinstance(m, MatchedItem)}
    return [int(by_id[f"id-{n}"]) for n in range(count)]


def _validators():  # type: ignore[no-untyped-def]
    from policywire.models import Validators

    return Validators()


def _day():  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(days=1)


def _destination(store: Store):  # type: ignore[no-untyped-def]
    from policywire.storage.rows import DestinationRow

    return DestinationRow(
        "console:stdout", "config", "console", "stdout", ("ai-act",), "instant", "UTC", "en",
        True, NOW.replace(year=2020), None,
    )  # fmt: skip


def test_plan_joins_the_oldest_known_story_and_merges_the_rest() -> None:
    assert plan_group({1, 2}, {}) == (None, [])
    assert plan_group({1, 2}, {1: 7}) == (7, [])
    assert plan_group({1, 2, 3}, {1: 9, 2: 4, 3: 9}) == (4, [9])


async def test_ids_are_stable_new_articles_join_and_stories_merge(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'ids.db'}")
    try:
        await store.upsert_destination(_destination(store))
        a, b, c, d = await stored_items(store, 4)
        first, second = await store.assign_stories([{a}, {c}], NOW)
        assert first != second
        # A later poll: b joins a's story, the ids of both stories stay what they were.
        assert await store.assign_stories([{a, b}, {c}], NOW) == [first, second]
        # A digest groups b with c: the two stories were one; the younger merges in.
        assert await store.assign_stories([{b, c, d}], NOW) == [first]
        assert await store.stories_of([a, b, c, d]) == dict.fromkeys((a, b, c, d), first)
        [merge] = await store.merges()
        assert (merge.kept, merge.merged, merge.items) == (first, second, 1)
        assert await store.assign_stories([{d}], NOW) == [first]  # and it stays merged
    finally:
        await store.close()
