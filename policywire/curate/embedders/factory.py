"""The embedder `settings.embedding` asks for (None: names-only grouping)."""

from __future__ import annotations

from collections.abc import Mapping

from policywire.config.model import EmbeddingSettings
from policywire.curate.embedders.seam import Embedder


def make_embedder(settings: EmbeddingSettings, env: Mapping[str, str]) -> Embedder | None:
    """Builds without loading anything: a model loads, or an endpoint is called, on first use."""
    if settings.backend == "none":
        return None
    if settings.backend == "endpoint":
        from policywire.curate.embedders.endpoint import EndpointEmbedder

        key = env.get(settings.api_key_env, "") if settings.api_key_env else ""
        return EndpointEmbedder(
            settings.url or "",
            settings.model or "",
            api_key=key.strip() or None,
            timeout=settings.timeout.total_seconds(),
            batch_size=settings.batch_size,
        )
    if settings.backend == "sentence-transformers":
        from policywire.curate.embedders.sbert import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(settings.model or "", batch_size=settings.batch_size)
    from policywire.curate.embedders.universal import UniversalEncoder

    return UniversalEncoder(batch_size=settings.batch_size)
