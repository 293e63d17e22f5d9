"""The embedding seam: texts in, one L2-normalized vector per text out.

Every backend is blocking (a forward pass on the CPU, or an HTTP call): callers run it off
the event loop (`asyncio.to_thread`), in batches. ``model_id`` names the model a vector came
from; it is stored beside each vector, so a change of model means the vectors are computed
again instead of being compared with vectors of another space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from policywire.errors import PolicywireError

Vectors = npt.NDArray[np.float32]  # shape (texts, dimensions), each row of length 1
Vector = npt.NDArray[np.float32]  # one row of it

# What an article is embedded as: its headline and the start of its summary. The first
# sentences say what happened; the rest adds noise, and the model's cost grows with length
# (measured in docs/grouping.md: the default model embeds ~2x faster at 250 characters).
TEXT_CHARS = 250


class EmbeddingError(PolicywireError):
    """The embedding backend failed (unreachable, timed out, answered nonsense)."""


class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """A stable name of the model, e.g. ``universal:use-multilingual-v3``."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalized float32 row per text; raises EmbeddingError."""
        ...


def article_text(title: str, summary: str) -> str:
    """The text an article is embedded as: the headline, then the start of the summary."""
    return f"{title}\n{summary}"[:TEXT_CHARS].strip()


def normalized(rows: npt.ArrayLike, expected: int) -> Vectors:
    """Rows as float32 of length 1; checks there are ``expected`` of one finite width."""
    try:
        matrix = np.asarray(rows, dtype=np.float32)
    except ValueError:  # rows of different lengths
        raise EmbeddingError("the backend returned vectors of different sizes") from None
    if matrix.ndim != 2 or matrix.shape[0] != expected or matrix.shape[1] == 0:
        raise EmbeddingError(f"expected {expected} vectors, got an array of shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise EmbeddingError("the backend returned a vector with NaN or infinite values")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise EmbeddingError("the backend returned an all-zero vector")
    unit: Vectors = (matrix / norms).astype(np.float32, copy=False)
    return unit
