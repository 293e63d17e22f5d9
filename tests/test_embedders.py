"""The embedding backends, for real: the shipped multilingual model, and an OpenAI-compatible
endpoint on a loopback fake (success, 5xx, timeouts, junk, wrong sizes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import numpy as np
import pytest

from policywire.config.model import EmbeddingSettings
from policywire.curate.embedders.endpoint import EndpointEmbedder
from policywire.curate.embedders.factory import make_embedder
from policywire.curate.embedders.sbert import SentenceTransformerEmbedder
from policywire.curate.embedders.seam import EmbeddingError, article_text
from policywire.curate.embedders.universal import UniversalEncoder
from policywire.curate.embedders.vectors import ItemVectors
from policywire.models import Item, MatchedItem, TopicHit
from tests.fakes.openai_api import FakeOpenAI


@pytest.fixture(scope="module")
def universal(tmp_path_factory: pytest.TempPathFactory) -> UniversalEncoder:
    # Its table file in a temporary folder, not the user's cache (tests/test_universal_memory.py)
    return UniversalEncoder(cache_dir=tmp_path_factory.mktemp("model-cache"))


def test_the_default_model_is_multilingual_and_normalized(universal: UniversalEncoder) -> None:
    texts = [
        "Munich: the city council approves a new tram line to the airport",
        "München: Stadtrat beschließt neue Straßenbahnlinie zum Flughafen",
        "Monaco di Baviera, il consiglio comunale approva il tram per l'aeroporto",
        "Heavy rain floods the harbour district of Lisbon overnight",
    ]
    vectors = universal.embed(texts)
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    # The same event in three languages is closer than a different event in the same one.
    assert min(similarity[0, 1], similarity[0, 2], similarity[1, 2]) > similarity[0, 3] + 0.2
    assert universal.embed([]).shape == (0, 512)


def test_an_article_is_embedded_as_headline_and_start_of_summary() -> None:
    text = article_text("Title", "word " * 500)
    assert text.startswith("Title\nword") and len(text) <= 260


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key="sk-test-secret", models=("embed-small",)) as server:
        yield server


def endpoint(server: FakeOpenAI, *, timeout: float = 2.0, batch_size: int = 64) -> EndpointEmbedder:
    return EndpointEmbedder(
        server.base_url,
        "embed-small",
        api_key="sk-test-secret",
        timeout=timeout,
        batch_size=batch_size,
    )


async def test_endpoint_vectors_come_back_in_order_and_normalized(fake: FakeOpenAI) -> None:
    embedder = endpoint(fake, batch_size=2)
    vectors = await asyncio.to_thread(embedder.embed, ["a", "b", "c"])
    assert vectors.shape == (3, 8)
    expected = np.asarray([fake.embedding_for(t) for t in "abc"], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected, atol=1e-5)
    assert fake.hits("embeddings") == 2  # batches of two
    assert fake.requests[0].headers["Authorization"] == "Bearer sk-test-secret"
    assert embedder.model_id == "endpoint:embed-small"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"status": 503}, "HTTP 503"),
        ({"delay": 5.0}, "unreachable"),
        ({"body": b"<html>oops</html>", "content_type": "text/html"}, "not JSON"),
        ({"wrong_dimensions": 5, "at_indices": [1]}, "different sizes"),
        ({"embedding_count": 1}, "1 vectors for 2 texts"),
    ],
)
async def test_endpoint_failures_are_one_clear_line(
    fake: FakeOpenAI, fault: dict[str, object], message: str
) -> None:
    fake.fail_next("embeddings", **fault)  # type: ignore[arg-type]
    with pytest.raises(EmbeddingError, match=message) as caught:
        await asyncio.to_thread(endpoint(fake, timeout=0.5).embed, ["a", "b"])
    assert "\n" not in str(caught.value) and "sk-test-secret" not in str(caught.value)


async def test_endpoint_that_changes_its_vector_size_is_refused(fake: FakeOpenAI) -> None:
    embedder = endpoint(fake)
    await asyncio.to_thread(embedder.embed, ["a"])
    fake.fail_next("embeddings", wrong_dimensions=12)
    with pytest.raises(EmbeddingError, match="from 8 to 12"):
        await asyncio.to_thread(embedder.embed, ["b"])


async def test_endpoint_down_is_a_clear_error() -> None:
    embedder = EndpointEmbedder("http://127.0.0.1:9/v1", "m", timeout=0.5)
    with pytest.raises(EmbeddingError, match="unreachable"):
        await asyncio.to_thread(embedder.embed, ["a"])


def test_sentence_transformers_without_the_extra_says_how_to_install_it() -> None:
    pytest.importorskip("numpy")
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(EmbeddingError, match=r"policywire\[sentence-transformers\]"):
            SentenceTransformerEmbedder("any-model").embed(["a"])
    else:
        pytest.skip("sentence-transformers is installed here")


def test_the_factory_builds_each_backend() -> None:
    assert make_embedder(EmbeddingSettings(backend="none"), {}) is None
    assert make_embedder(EmbeddingSettings(), {}).model_id.startswith("universal:")
    built = make_embedder(
        EmbeddingSettings(
            backend="endpoint", url="http://127.0.0.1:9/v1", model="m", api_key_env="KEY"
        ),
        {"KEY": "secret"},
    )
    assert isinstance(built, EndpointEmbedder) and built.model_id == "endpoint:m"
    sbert = make_embedder(EmbeddingSettings(backend="sentence-transformers", model="x"), {})
    assert sbert is not None and sbert.model_id == "sentence-transformers:x"


def _matched(n: int) -> list[MatchedItem]:
    when = datetime(2025, 3, 1, tzinfo=UTC)
    return [
        MatchedItem(
            Item(
                feed="f",
                id=str(i),
                link=f"https://x.example/{i}",
                title=f"t{i}",
                summary="s",
                published=when,
                language="en",
            ),
            (TopicHit("t", ("k",)),),
        )
        for i in range(n)
    ]


async def test_each_item_is_embedded_once(fake: FakeOpenAI) -> None:
    vectors = ItemVectors(endpoint(fake))
    items = _matched(3)
    first = await asyncio.to_thread(vectors.for_items, items[:2])
    again = await asyncio.to_thread(vectors.for_items, items)
    assert len(first) == 2 and len(again) == 3
    assert fake.hits("embeddings") == 2  # the second call embedded only the new item
    assert [r.json["input"] for r in fake.requests_to("embeddings")] == [
        ["t0\ns", "t1\ns"],
        ["t2\ns"],
    ]


async def test_a_failing_backend_means_names_only_with_one_log_line(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="policywire.curate.embedders.vectors")
    vectors = ItemVectors(endpoint(fake))
    fake.fail_next("embeddings", status=500, times=2)
    for _ in range(2):
        assert await asyncio.to_thread(vectors.for_items, _matched(2)) == {}
    failures = [r for r in caplog.records if "grouping by names only" in r.getMessage()]
    assert len(failures) == 1 and "HTTP 500" in failures[0].getMessage()
    assert len(await asyncio.to_thread(vectors.for_items, _matched(2))) == 2
    assert any("works again" in r.getMessage() for r in caplog.records)
