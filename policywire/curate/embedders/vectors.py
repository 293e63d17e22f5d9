"""Vectors for matched items: each computed once, in batches, and kept for every later digest.

`ItemVectors.for_items` is blocking (the model runs in the calling thread): the service calls
it from the thread that builds a digest, never on the event loop. A backend that fails is
logged in one line and grouping goes on with names only: a digest is never late or lost for
want of vectors.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from policywire.curate.embedders.seam import (
    Embedder,
    EmbeddingError,
    Vector,
    Vectors,
    article_text,
)
from policywire.models import MatchedItem

log = logging.getLogger(__name__)

ItemKey = tuple[str, str]  # (feed, item id)

# ~2 KB a vector of 512 floats: 20,000 cover a busy story window at ~40 MB.
DEFAULT_CAPACITY = 20_000


class ItemVectors:
    """The embedder's vectors by item, newest-used kept, bounded in memory."""

    def __init__(self, embedder: Embedder, capacity: int = DEFAULT_CAPACITY) -> None:
        self.embedder = embedder
        self._capacity = capacity
        self._vectors: OrderedDict[ItemKey, Vector] = OrderedDict()
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
            missing = [m for key, m in wanted.items() if key not in self._vectors]
        if missing:
            computed = self._embed(missing)
            if computed is None:
                return {}
            with self._lock:
                for matched, vector in zip(missing, computed, strict=True):
                    self._vectors[(matched.item.feed, matched.item.id)] = vector
        with self._lock:
            found = {key: self._vectors[key] for key in wanted if key in self._vectors}
            for key in found:
                self._vectors.move_to_end(key)
            while len(self._vectors) > max(self._capacity, len(wanted)):
                self._vectors.popitem(last=False)
        return found

    def remember(self, vectors: Mapping[ItemKey, Vector]) -> None:
        """Vectors read back from the database."""
        with self._lock:
            self._vectors.update(vectors)

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
