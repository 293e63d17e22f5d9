"""sentence-transformers with any model it can load (the optional ``[sentence-transformers]``
extra): for users who can download models, or who ship one in a package of their own.

A model name is passed to `SentenceTransformer` as given; a local folder works too. Nothing
is fetched unless the user's own environment lets sentence-transformers fetch it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from policywire.curate.embedders.seam import EmbeddingError, Vectors, normalized


class SentenceTransformerEmbedder:
    def __init__(self, model: str, *, batch_size: int = 32) -> None:
        self._name = model
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.model_id = f"sentence-transformers:{model}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            model = self._load()
            if not texts:
                width = int(model.get_sentence_embedding_dimension() or 1)
                return np.zeros((0, width), dtype=np.float32)
            rows = model.encode(
                list(texts),
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalized(rows, len(texts))

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbeddingError(
                    "embedding.backend sentence-transformers needs "
                    "pip install 'policywire[sentence-transformers]'"
                ) from None
            try:
                self._model = SentenceTransformer(self._name, device="cpu")
            except Exception as exc:  # the library raises many kinds; one readable line
                raise EmbeddingError(
                    f"sentence-transformers could not load {self._name!r}: {exc}"
                ) from None
        return self._model
