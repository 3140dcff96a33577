"""`[embedder] backend = "openai"` against a real server: llama.cpp (llama-cpp-python's server)
with `--embedding`, serving the packaged Gemma GGUF on 127.0.0.1.

Gemma 3 is a causal model without a pooling layer: llama.cpp answers /v1/embeddings with one
640-wide vector per token, not one per text. That is a server that is up but unable to embed
sentences, and the embedder must notice it and hand over to the local MiniLM.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from llama_server import (
    MODEL_ALIAS,
    SKIP_REASON,
    gemma_gguf,
    llama_cpp_available,
    llama_server,
)

if not llama_cpp_available():
    pytest.skip(SKIP_REASON, allow_module_level=True)

from digest.config import EmbedderSettings  # noqa: E402
from digest.embed import MiniLMEmbedder, embedder_for  # noqa: E402
from digest.inference import OpenAIEmbedder  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = ["Flood waters rise in the valley towns", "", "The central bank raises rates again"]


@pytest.fixture(scope="module")
def embedding_server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("llama-embed")
    with llama_server(gemma_gguf(folder), embedding=True, log=folder / "server.log") as url:
        yield url


def test_per_token_vectors_hand_over_to_minilm(embedding_server: str, caplog):
    settings = EmbedderSettings(
        backend="openai", base_url=embedding_server, model=MODEL_ALIAS, retries=0
    )
    embedder = embedder_for(settings)
    assert isinstance(embedder, OpenAIEmbedder) and embedder.name == f"openai:{MODEL_ALIAS}"
    with caplog.at_level(logging.WARNING):
        got = embedder.embed(TEXTS)
        again = embedder.embed(TEXTS[:1])
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, lines
    assert embedding_server in lines[0] and "not one vector per text" in lines[0]
    minilm = MiniLMEmbedder()
    assert embedder.name == minilm.name  # what the clusterer stores the vectors under
    np.testing.assert_allclose(got, minilm.embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(again, minilm.embed(TEXTS[:1]), atol=1e-6)
    assert not got[1].any()  # the empty text stays a zero row
