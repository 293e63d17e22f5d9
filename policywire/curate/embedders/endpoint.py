"""An OpenAI-compatible ``/v1/embeddings`` endpoint: Ollama, llama.cpp's server,
text-embeddings-inference, vLLM or a hosted API.

Blocking on purpose (http.client, a timeout per request), like every backend: the caller runs it
in a thread. The API key comes from the environment and never appears in an error.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from policywire.curate.embedders.seam import EmbeddingError, Vectors, normalized

MAX_RESPONSE_BYTES = 64 * 1024**2


class EndpointEmbedder:
    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
    ) -> None:
        self._url = url.rstrip("/") + "/embeddings"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout
        self._batch_size = batch_size
        self._width: int | None = None  # the first answer fixes it; a change is an error
        self.model_id = f"endpoint:{model}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        batches = [
            self._embed_batch(texts[start : start + self._batch_size])
            for start in range(0, len(texts), self._batch_size)
        ]
        if not batches:
            return np.zeros((0, self._width or 1), dtype=np.float32)
        return np.concatenate(batches)

    def _embed_batch(self, texts: Sequence[str]) -> Vectors:
        answer = self._post({"model": self._model, "input": list(texts)})
        rows = _rows(answer, len(texts))
        vectors = normalized(rows, len(texts))
        if self._width is None:
            self._width = vectors.shape[1]
        elif vectors.shape[1] != self._width:
            raise EmbeddingError(
                f"the endpoint changed its vectors' size from {self._width} to {vectors.shape[1]}"
            )
        return vectors

    def _post(self, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        url = urlsplit(self._url)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        # http.client rather than urllib: the connection is closed here whatever fails,
        # a timeout in the middle of a response included.
        connection = kind(url.hostname or "", url.port, timeout=self._timeout)
        try:
            connection.request("POST", url.path or "/", json.dumps(body).encode(), headers)
            response = connection.getresponse()
            raw = response.read(MAX_RESPONSE_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            reason = str(exc) or type(exc).__name__
            raise EmbeddingError(f"embedding endpoint unreachable: {reason}") from None
        finally:
            connection.close()
        if response.status >= 400:
            raise EmbeddingError(f"embedding endpoint answered HTTP {response.status}")
        if len(raw) > MAX_RESPONSE_BYTES:
            raise EmbeddingError("embedding endpoint answered more than 64 MB")
        try:
            return json.loads(raw)
        except ValueError:
            raise EmbeddingError("embedding endpoint answered something that is not JSON") from None


def _rows(answer: Any, expected: int) -> list[list[float]]:
    """The vectors of an OpenAI-shaped answer, in input order."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else "no"
        raise EmbeddingError(f"embedding endpoint returned {got} vectors for {expected} texts")
    try:
        ordered = sorted(data, key=lambda entry: int(entry.get("index", 0)))
        return [list(map(float, entry["embedding"])) for entry in ordered]
    except (AttributeError, KeyError, TypeError, ValueError):
        raise EmbeddingError("embedding endpoint answered vectors in an unknown shape") from None
