"""Item vectors in the database: stored once per model, read back after a restart, computed
again for another model, gone with their items. Real SQLite files and a real PostgreSQL (the
store's tests run on both); a small deterministic embedder of our own stands in for the model
(it counts what it is asked to embed)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bots.console import ConsoleTransport
from policywire.config.load import load_config
from policywire.curate.embedders.seam import Vectors
from policywire.curate.embedders.vectors import (
    ItemVectors,
    load_stored,
    save_computed,
    vector_bytes,
    vector_from_bytes,
)
from policywire.models import Item, MatchedItem, TopicHit, Validators
from policywire.service import Service
from policywire.storage.store import Store
from tests.databases import BACKENDS, database_url
from tests.helpers import NOW, config_file, item

FEED = "https://news.example/feed.xml"
DIMENSIONS = 8


class CountingEmbedder:
    """Texts → unit vectors seeded by each text's CRC (the same text, the same vector)."""

    def __init__(self, model_id: str = "fake:model-a") -> None:
        self._model_id = model_id
        self.calls = 0
        self.texts: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts.extend(texts)
        rows = [
            np.random.default_rng(zlib.crc32(f"{self._model_id}|{t}".encode())).standard_normal(
                DIMENSIONS
            )
            for t in texts
        ]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), DIMENSIONS)
        unit: Vectors = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
        return unit


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def key(it: Item) -> tuple[str, str]:
    return (it.feed, it.id)


async def seed(store: Store, items: Sequence[Item]) -> list[MatchedItem]:
    """Items stored the way a poll stores them, each matching `ai-act`, first seen NOW."""
    hits = {key(i): (TopicHit("ai-act", ("AI Act",)),) for i in items}
    return await store.record_success(FEED, Validators(), NOW, items=list(items), hits=hits)


def count_rows(path: Path, sql: str = "SELECT count(*) FROM item_vectors") -> int:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        return int(raw.execute(sql).fetchone()[0])


# --- the store -------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The store's vector tests run on SQLite and on a real PostgreSQL (tests/databases.py)."""
    async with database_url(request.param, tmp_path) as url:
        yield url


async def rows_in(db: str, sql: str = "SELECT count(*) FROM item_vectors") -> int:
    engine = create_async_engine(db)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def execute(db: str, sql: str) -> None:
    """One statement from outside the store, with SQLite's foreign keys on as the store has."""
    engine = create_async_engine(db)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                await conn.execute(text("PRAGMA foreign_keys = ON"))  # before BEGIN, or ignored
            await conn.execute(text(sql))
            await conn.commit()
    finally:
        await engine.dispose()


async def test_saved_vectors_load_back_equal(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        items = [item(n) for n in range(3)]
        await seed(store, items)
        vectors = CountingEmbedder().embed([i.title for i in items])
        blobs = {key(i): vector_bytes(v) for i, v in zip(items, vectors, strict=True)}
        stranger = (FEED, "never-stored")
        assert await store.save_vectors("m", {**blobs, stranger: blobs[key(items[0])]}) == 3

        loaded = await store.load_vectors("m", [*blobs, stranger, key(items[0])])
        assert loaded == blobs  # the key without an item row is skipped, duplicates once
        for i, vector in zip(items, vectors, strict=True):
            assert np.array_equal(vector_from_bytes(loaded[key(i)]), vector)
        assert await store.load_vectors("another-model", list(blobs)) == {}
        assert await store.load_vectors("m", []) == {}

        replaced = vector_bytes(-vectors[0])  # an upsert: the row is replaced, not doubled
        assert await store.save_vectors("m", {key(items[0]): replaced}) == 1
        assert (await store.load_vectors("m", [key(items[0])]))[key(items[0])] == replaced
    finally:
        await store.close()
    assert await rows_in(db_url) == 3
    assert await rows_in(db_url, "SELECT DISTINCT dimensions FROM item_vectors") == 8


async def test_many_vectors_go_in_batches(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        items = [item(n) for n in range(1_000)]  # more pairs than one statement binds
        await seed(store, items)
        blobs = {key(i): np.array([n, 1], np.float32).tobytes() for n, i in enumerate(items)}
        assert await store.save_vectors("m", blobs) == 1_000
        assert await store.load_vectors("m", list(blobs)) == blobs
    finally:
        await store.close()


async def test_vectors_go_with_their_items(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        old = [item(n, feed=FEED) for n in range(2)]
        await seed(store, old)
        await store.save_vectors("m", {key(i): vector_bytes(np.ones(4, np.float32)) for i in old})
        assert await rows_in(db_url) == 2
        assert await store.prune(NOW + timedelta(seconds=1)) == 2  # housekeeping forgets them
        assert await rows_in(db_url) == 0
    finally:
        await store.close()

    # ON DELETE CASCADE in the schema itself, for any deletion of an item.
    store = await Store.open(db_url)
    try:
        again = [item(n) for n in range(10, 12)]
        await seed(store, again)
        await store.save_vectors("m", {key(i): vector_bytes(np.ones(4, np.float32)) for i in again})
    finally:
        await store.close()
    await execute(db_url, "DELETE FROM items WHERE item_id = 'id-10'")
    assert await rows_in(db_url) == 1


# --- the digest path: read back on the loop, compute the rest in a thread, store them --------


async def digest_vectors(
    vectors: ItemVectors, store: Store, items: Sequence[MatchedItem]
) -> dict[tuple[str, str], np.ndarray]:
    """What the service does around a digest (Service._digest_with_vectors)."""
    await load_stored(vectors, store, items)
    found = await asyncio.to_thread(vectors.for_items, items)
    await save_computed(vectors, store)
    return dict(found)


async def test_vectors_are_computed_once_across_restarts_and_again_for_another_model(
    db_url: str,
) -> None:
    model_a = CountingEmbedder("fake:model-a")
    store = await Store.open(db_url)
    try:
        matched = await seed(store, [item(n) for n in range(3)])
        vectors = ItemVectors(model_a)
        first = await digest_vectors(vectors, store, matched)
        assert model_a.calls == 1 and len(model_a.texts) == 3  # one batch
        assert vectors.drain_new() == {}  # handed to the store
        await digest_vectors(vectors, store, matched)  # the same process: memory
        assert model_a.calls == 1
    finally:
        await store.close()
    assert await rows_in(db_url) == 3

    restarted = CountingEmbedder("fake:model-a")
    store = await Store.open(db_url)
    try:
        matched += await seed(store, [item(3)])
        found = await digest_vectors(ItemVectors(restarted), store, matched)
        assert len(restarted.texts) == 1 and "Story number 3" in restarted.texts[0]
        for k, vector in first.items():
            assert np.array_equal(found[k], vector)  # read back, not recomputed

        model_b = CountingEmbedder("fake:model-b")
        other = await digest_vectors(ItemVectors(model_b), store, matched)
        assert len(model_b.texts) == 4  # another model's vectors are never reused
        assert not np.array_equal(other[key(matched[0].item)], found[key(matched[0].item)])
    finally:
        await store.close()
    assert await rows_in(db_url) == 8  # 4 items x 2 models
    assert await rows_in(db_url, "SELECT count(DISTINCT model) FROM item_vectors") == 2


async def test_a_damaged_stored_vector_is_computed_again(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        matched = await seed(store, [item(0), item(1)])
        nan = np.full(DIMENSIONS, np.nan, np.float32)
        await store.save_vectors("fake:model-a", {key(matched[0].item): vector_bytes(nan)})
        embedder = CountingEmbedder()
        found = await digest_vectors(ItemVectors(embedder), store, matched)
        assert len(embedder.texts) == 2
        assert np.isfinite(found[key(matched[0].item)]).all()
        # and the good vector replaced the damaged row
        again = CountingEmbedder()
        await digest_vectors(ItemVectors(again), store, matched)
        assert again.texts == []
    finally:
        await store.close()


async def test_a_store_that_fails_costs_vectors_never_the_digest(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(db_url)
    matched = await seed(store, [item(0)])
    await store.close()
    await execute(db_url, "DROP TABLE item_vectors")  # every read and write of vectors fails
    store = await Store.open(db_url)
    try:
        embedder = CountingEmbedder()
        found = await digest_vectors(ItemVectors(embedder), store, matched)
        assert len(found) == 1 and len(embedder.texts) == 1
    finally:
        await store.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("stored vectors not read" in m for m in messages)
    assert any("1 vectors not stored" in m for m in messages)


# --- the service -----------------------------------------------------------------------------


class ServiceWithModel(Service):
    """The service with our counting embedder instead of `settings.embedding`'s model."""

    embedder: CountingEmbedder
    item_vectors: ItemVectors

    def use(self, embedder: CountingEmbedder) -> None:
        self.embedder = embedder
        self.item_vectors = ItemVectors(embedder)

    def _item_vectors(self) -> ItemVectors | None:
        return self.item_vectors


async def run_digest(
    config_path: Path,
    destination: str,
    embedder: CountingEmbedder,
    new_items: Sequence[Item] = (),
) -> int:
    """One process: open the store, poll `new_items` in, queue `destination`'s digest."""
    config = load_config(config_path, env={})
    store = await Store.open(config.settings.database)
    out = io.StringIO()
    service = ServiceWithModel(
        config,
        store,
        {"console": ConsoleTransport({"stdout": out, "stderr": out})},
        parse_workers=0,
        clock=lambda: NOW,
    )
    service.use(embedder)
    try:
        await service.prepare()
        if new_items:
            await seed(store, new_items)
        row = await store.destination(destination)
        assert row is not None
        return await service.send_digest(row)
    finally:
        await service.stop(grace=1)
        await store.close()


async def test_the_next_digest_after_a_restart_embeds_nothing(tmp_path: Path) -> None:
    database = tmp_path / "svc.db"
    path = config_file(
        tmp_path,
        database=database,
        feeds=[FEED],
        topics={"ai-act": ["AI Act"]},
        destinations=[{"console": "stdout"}, {"console": "stderr"}],
        settings={"embedding": {"backend": "none"}},
    )
    stories = [item(n, title=f"AI Act story {n}") for n in range(3)]
    first = CountingEmbedder()
    assert await run_digest(path, "console:stdout", first, stories) > 0
    assert len(first.texts) == 3
    assert count_rows(database) == 3

    restarted = CountingEmbedder()  # a new process: new store, service and vectors
    assert await run_digest(path, "console:stderr", restarted) > 0  # the same three items
    assert restarted.calls == 0

    # Another model: its own vectors for the new item and the three it is grouped with.
    other_model = CountingEmbedder("fake:model-b")
    later = [item(9, title="AI Act story nine")]
    assert await run_digest(path, "console:stdout", other_model, later) > 0
    assert len(other_model.texts) == 4
    assert count_rows(database) == 3 + 4
