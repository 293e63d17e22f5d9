"""Item vectors: each matched item's embedding, stored once per model and read back by every
later digest (after a restart too).

A vector is the model's float32 values as little-endian bytes (encoding and decoding are the
caller's, off the event loop: `curate/embedders/vectors.py`). Rows are keyed by item and model
id, so another model simply finds none and computes its own; a vector goes with its item when
the item is pruned (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.storage.base import StoreBase, chunks
from policywire.storage.schema import item_vectors_table, items_table

ItemKey = tuple[str, str]  # (feed, item id)

# Pairs per statement: 800 bound values and the model, under SQLite's oldest limit (999).
_BATCH = 400
FLOAT32_BYTES = 4


class VectorsMixin(StoreBase):
    """Stored embeddings by (feed, item id) and model."""

    async def load_vectors(self, model: str, keys: Sequence[ItemKey]) -> dict[ItemKey, bytes]:
        """The stored vectors of `model` for these items; items without one are left out."""
        wanted = list(dict.fromkeys(keys))
        found: dict[ItemKey, bytes] = {}
        if not wanted:
            return found
        vectors, items = item_vectors_table.c, items_table.c
        async with self._tx() as conn:
            for chunk in chunks(wanted, _BATCH):
                query = (
                    select(items.feed, items.item_id, vectors.dimensions, vectors.vector)
                    .join(items_table, items.pk == vectors.item_pk)
                    .where(vectors.model == model, tuple_(items.feed, items.item_id).in_(chunk))
                )
                for row in await conn.execute(query):
                    blob = bytes(row.vector)
                    if row.dimensions > 0 and len(blob) == row.dimensions * FLOAT32_BYTES:
                        found[(row.feed, row.item_id)] = blob  # a damaged row is computed again
        return found

    async def save_vectors(self, model: str, vectors: Mapping[ItemKey, bytes]) -> int:
        """Store (or replace) `model`'s vectors of these items; returns how many were stored.

        Keys without an item row (pruned meanwhile, or never stored) are skipped."""
        if not vectors:
            return 0
        for blob in vectors.values():
            if not blob or len(blob) % FLOAT32_BYTES:
                raise ValueError("a vector must be float32 bytes")
        async with self._tx(write=True) as conn:
            pks = await _item_pks(conn, list(vectors))
            rows = [
                {
                    "item_pk": pk,
                    "model": model,
                    "dimensions": len(vectors[key]) // FLOAT32_BYTES,
                    "vector": vectors[key],
                }
                for key, pk in pks.items()
            ]
            if rows:
                await conn.execute(_upsert(conn.dialect.name), rows)
        return len(rows)


async def _item_pks(conn: AsyncConnection, keys: Sequence[ItemKey]) -> dict[ItemKey, int]:
    """The pk of each stored (feed, item id), in batches."""
    pks: dict[ItemKey, int] = {}
    items = items_table.c
    for chunk in chunks(keys, _BATCH):
        query = select(items.pk, items.feed, items.item_id).where(
            tuple_(items.feed, items.item_id).in_(chunk)
        )
        for row in await conn.execute(query):
            pks[(row.feed, row.item_id)] = int(row.pk)
    return pks


def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (item_pk, model) DO UPDATE, in the dialect's own words (both
    SQLite and PostgreSQL have it; the PostgreSQL dialect is loaded only when used)."""
    stmt: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        stmt = postgresql_insert(item_vectors_table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(item_vectors_table)
    return stmt.on_conflict_do_update(
        index_elements=[item_vectors_table.c.item_pk, item_vectors_table.c.model],
        set_={"dimensions": stmt.excluded.dimensions, "vector": stmt.excluded.vector},
    )
