"""`[embedder] backend = "openai"` against a real server: llama.cpp (llama-cpp-python's server)
with `--embedding` on 127.0.0.1, serving three real configurations:

- the packaged MiniLM written as a BERT GGUF (`minilm_gguf`), whose metadata asks for mean
  pooling: one vector per text, the model the clustering thresholds were tuned on, so the
  fixture set must cluster into exactly the stories the in-process MiniLM makes;
- the packaged Gemma GGUF with mean pooling switched on by a metadata override
  (`--kv_overrides gemma3.pooling_type=int:1`): one vector per text, accepted, but a causal
  model's mean state is not a sentence embedding (BENCHMARKS.md has what it clusters);
- the packaged Gemma GGUF as it is (no pooling in its metadata): one 640-wide vector per token,
  which the embedder must notice and hand over to the local MiniLM.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from llama_server import (
    MINILM_ALIAS,
    MODEL_ALIAS,
    SKIP_REASON,
    gemma_gguf,
    llama_cpp_available,
    llama_server,
    minilm_gguf,
)
from twins import eval_script

if not llama_cpp_available():
    pytest.skip(SKIP_REASON, allow_module_level=True)

from digest.config import EmbedderSettings  # noqa: E402
from digest.embed import MiniLMEmbedder, embedder_for  # noqa: E402
from digest.inference import OpenAIEmbedder  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = ["Flood waters rise in the valley towns", "", "The central bank raises rates again"]
# llama.cpp truncates each text at n_batch tokens; MiniLM in-process reads 128 (a lead of
# 220 words is longer), so the server is started to read as many.
MINILM_FLAGS = ("--n_ctx", "512", "--n_batch", "128", "--n_ubatch", "128")
GEMMA_POOLED_FLAGS = ("--kv_overrides", "gemma3.pooling_type=int:1")


def _served(url: str, model: str) -> OpenAIEmbedder:
    embedder = embedder_for(
        EmbedderSettings(backend="openai", base_url=url, model=model, retries=0)
    )
    assert isinstance(embedder, OpenAIEmbedder)
    return embedder


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture(scope="module")
def minilm_server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("llama-minilm")
    with llama_server(
        minilm_gguf(folder),
        embedding=True,
        log=folder / "server.log",
        alias=MINILM_ALIAS,
        extra=MINILM_FLAGS,
    ) as url:
        yield url


def test_minilm_through_llama_cpp_gives_minilm_vectors(minilm_server: str, caplog):
    served = _served(minilm_server, MINILM_ALIAS)
    leads = [x.article.title for x in eval_script("clustering").load_fixtures()[:40]] + TEXTS
    with caplog.at_level(logging.WARNING):
        got = served.embed(leads)
    assert _warnings(caplog) == [] and served.name == f"openai:{MINILM_ALIAS}"  # no fallback
    local = MiniLMEmbedder(dtype="float32").embed(leads)
    assert got.shape == local.shape == (len(leads), 384)
    cosines = np.sum(got * local, axis=1)
    empty = np.array([not t.strip() for t in leads])
    assert not got[empty].any()  # the empty text stays a zero row
    assert cosines[~empty].min() > 0.999, cosines  # the same model, another runtime


def test_minilm_through_llama_cpp_clusters_the_fixtures_into_the_same_stories(
    minilm_server: str, caplog
):
    ev = eval_script("clustering")
    articles = [x.article for x in ev.load_fixtures()]
    served = _served(minilm_server, MINILM_ALIAS)
    with caplog.at_level(logging.WARNING):
        remote = ev.cluster_in_runs(articles, served)
    assert _warnings(caplog) == [] and served.name == f"openai:{MINILM_ALIAS}"
    local = ev.cluster_in_runs(articles, MiniLMEmbedder())
    # Story ids come from the founding article's key: the same stories have the same ids.
    assert remote == local
    assert len(set(local.values())) < len(articles)  # it did merge: stories, not one per article


@pytest.fixture(scope="module")
def gemma_gguf_file(tmp_path_factory: pytest.TempPathFactory):
    return gemma_gguf(tmp_path_factory.mktemp("gemma-gguf"))


def test_gemma_with_mean_pooling_gives_one_vector_per_text(gemma_gguf_file, tmp_path, caplog):
    with llama_server(
        gemma_gguf_file, embedding=True, log=tmp_path / "server.log", extra=GEMMA_POOLED_FLAGS
    ) as url:
        served = _served(url, MODEL_ALIAS)
        with caplog.at_level(logging.WARNING):
            got = served.embed(TEXTS)
            alone = served.embed(TEXTS[2:])
    assert _warnings(caplog) == [] and served.name == f"openai:{MODEL_ALIAS}"
    assert got.shape == (3, 640)  # Gemma 3 270M's width: the server's own vectors
    np.testing.assert_allclose(np.linalg.norm(got[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert not got[1].any()
    np.testing.assert_allclose(alone[0], got[2], atol=1e-4)  # a text's vector is its own


def test_per_token_vectors_hand_over_to_minilm(gemma_gguf_file, tmp_path, caplog):
    with llama_server(gemma_gguf_file, embedding=True, log=tmp_path / "server.log") as url:
        embedder = _served(url, MODEL_ALIAS)
        assert embedder.name == f"openai:{MODEL_ALIAS}"
        with caplog.at_level(logging.WARNING):
            got = embedder.embed(TEXTS)
            again = embedder.embed(TEXTS[:1])
    lines = _warnings(caplog)
    assert len(lines) == 1, lines
    assert url in lines[0] and "not one vector per text" in lines[0]
    minilm = MiniLMEmbedder()
    assert embedder.name == minilm.name  # what the clusterer stores the vectors under
    np.testing.assert_allclose(got, minilm.embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(again, minilm.embed(TEXTS[:1]), atol=1e-6)
    assert not got[1].any()  # the empty text stays a zero row
