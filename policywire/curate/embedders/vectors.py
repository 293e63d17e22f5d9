"""Vectors for matched items: each computed once, in batches, kept for every later digest.

Three places hold them: memory (bounded, newest used kept), the database (`item_vectors`, by
model id: every digest after a restart reuses them) and the model, asked only for what neither
has. A digest goes:

1. on the event loop, `await load_stored(vectors, store, items)`: reads back, for the current
   model, the vectors of those items not in memory (raw bytes; no numpy on the loop);
2. in a worker thread, `vectors.for_items(items)`: decodes what was read back and embeds only
   the rest, in one batch; blocking (the model runs in the calling thread);
3. on the loop again, `await save_computed(vectors, store)`: stores what step 2 computed.

A backend that fails is logged in one line and grouping goes on with names only: a digest is
never late or lost for want of vectors (a database error reading or writing them neither).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np

from policywire.curate.embedders.seam import (
    Embedder,
    EmbeddingError,
    Vector,
    Vectors,
    article_text,
)
from policywire.errors import StoreError
from policywire.models import MatchedItem

log = logging.getLogger(__name__)

ItemKey = tuple[str, str]  # (feed, item id)

# ~2 KB a vector of 512 floats: 20,000 cover a busy story window at ~40 MB.
DEFAULT_CAPACITY = 20_000

_STORED = np.dtype("<f4")  # how a vector is stored: float32, little-endian


def vector_bytes(vector: Vector) -> bytes:
    """A vector as the database keeps it: float32 little-endian bytes."""
    return np.ascontiguousarray(vector, dtype=_STORED).tobytes()


def vector_from_bytes(blob: bytes) -> Vector:
    """The vector `vector_bytes` stored (a read-only view of the bytes, in native order)."""
    vector: Vector = np.frombuffer(blob, dtype=_STORED).astype(np.float32, copy=False)
    return vector


class VectorStore(Protocol):
    """What the vectors need of the store (storage/vectors.py, VectorsMixin)."""

    async def load_vectors(self, model: str, keys: Sequence[ItemKey]) -> dict[ItemKey, bytes]:
        """Stored vectors of `model` for these keys (missing ones left out)."""
        ...

    async def save_vectors(self, model: str, vectors: Mapping[ItemKey, bytes]) -> int:
        """Store these vectors of `model`; returns how many were stored."""
        ...


class ItemVectors:
    """The embedder's vectors by item, newest-used kept, bounded in memory."""

    def __init__(self, embedder: Embedder, capacity: int = DEFAULT_CAPACITY) -> None:
        self.embedder = embedder
        self._capacity = capacity
        self._vectors: OrderedDict[ItemKey, Vector] = OrderedDict()
        self._stored: OrderedDict[ItemKey, bytes] = OrderedDict()  # read back, not decoded
        self._new: dict[ItemKey, bytes] = {}  # computed here, not handed to the store yet
        self._lock = threading.Lock()
        self._failing = False  # log a failure once, and the recovery once

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def for_items(self, items: Iterable[MatchedItem]) -> Mapping[ItemKey, Vector]:
        """Vectors of these items (all of them, or none when the backend fails)."""
        # Every language, also those the model was not trained on: on the real-news dev set
        # its vectors for Urdu still grouped better than names alone (docs/grouping.md).
        wanted = {(m.item.feed, m.item.id): m for m in items}
        with self._lock:
            self._decode_stored(wanted)
            missing = [m for key, m in wanted.items() if key not in self._vectors]
        if missing:
            computed = self._embed(missing)
            if computed is None:
                return {}
            with self._lock:
                for matched, vector in zip(missing, computed, strict=True):
                    key = (matched.item.feed, matched.item.id)
                    self._vectors[key] = vector
                    self._new[key] = vector_bytes(vector)
        with self._lock:
            found = {key: self._vectors[key] for key in wanted if key in self._vectors}
            for key in found:
                self._vectors.move_to_end(key)
            while len(self._vectors) > max(self._capacity, len(wanted)):
                self._vectors.popitem(last=False)
        return found

    def unknown(self, keys: Iterable[ItemKey]) -> list[ItemKey]:
        """Which of these items have no vector here yet (what is worth reading back)."""
        with self._lock:
            return [
                key
                for key in dict.fromkeys(keys)
                if key not in self._vectors and key not in self._stored
            ]

    def remember(self, vectors: Mapping[ItemKey, Vector]) -> None:
        """Vectors known already (they are not stored again)."""
        with self._lock:
            self._vectors.update(vectors)

    def remember_stored(self, blobs: Mapping[ItemKey, bytes]) -> None:
        """Vectors read back from the database, as stored; decoded by `for_items`, in its
        thread, so the event loop that read them does no numpy."""
        with self._lock:
            self._stored.update(blobs)
            while len(self._stored) > max(self._capacity, len(blobs)):
                self._stored.popitem(last=False)

    def drain_new(self) -> dict[ItemKey, bytes]:
        """The vectors computed since the last drain, as the database stores them."""
        with self._lock:
            new, self._new = self._new, {}
        return new

    def _decode_stored(self, wanted: Mapping[ItemKey, MatchedItem]) -> None:
        """Under the lock: the wanted vectors read back become vectors (a damaged one is
        dropped, and computed again)."""
        for key in wanted:
            blob = self._stored.pop(key, None)
            if blob is None or key in self._vectors:
                continue
            vector = vector_from_bytes(blob)
            if vector.size and np.isfinite(vector).all():
                self._vectors[key] = vector

    def _embed(self, items: list[MatchedItem]) -> Vectors | None:
        texts = [article_text(m.item.title, m.item.summary) for m in items]
        try:
            vectors = self.embedder.embed(texts)
        except EmbeddingError as exc:
            if not self._failing:
                log.warning("embedding failed (%s): grouping by names only until it works", exc)
            self._failing = True
            return None
        if self._failing:
            log.info("embedding works again (%s)", self.model_id)
            self._failing = False
        return vectors


async def load_stored(
    vectors: ItemVectors, store: VectorStore, items: Iterable[MatchedItem]
) -> int:
    """On the event loop, before `for_items`: read back the stored vectors of the current
    model for those items not in memory. Returns how many were found."""
    keys = vectors.unknown((m.item.feed, m.item.id) for m in items)
    if not keys:
        return 0
    try:
        blobs = await store.load_vectors(vectors.model_id, keys)
    except StoreError as exc:
        log.warning("stored vectors not read (%s): computing them", exc)
        return 0
    vectors.remember_stored(blobs)
    return len(blobs)


async def save_computed(vectors: ItemVectors, store: VectorStore) -> int:
    """On the event loop, after `for_items`: store the vectors it computed. Returns how many
    rows were written (items pruned meanwhile are skipped)."""
    new = vectors.drain_new()
    if not new:
        return 0
    try:
        return await store.save_vectors(vectors.model_id, new)
    except StoreError as exc:
        log.warning("%d vectors not stored (%s): computed again after a restart", len(new), exc)
        return 0
