"""The embedder port: the hashing twin (fast) and the real MiniLM model (slow, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from digest.embed import HashingEmbedder, MiniLMEmbedder, build_embedder, cpu_has_fast_bfloat16
from digest.errors import ModelError


def test_hashing_embedder_is_normalised_deterministic_and_word_sensitive() -> None:
    emb = HashingEmbedder(dim=64)
    texts = [
        "Chile lifts tsunami alert after deadly quake",
        "Deadly quake: Chile lifts its tsunami alert",
        "Central bank cuts interest rates again",
        "",
    ]
    v = emb.embed(texts)
    assert v.shape == (4, 64) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, rtol=1e-5)
    assert not v[3].any()  # empty text: zero vector, similar to nothing
    sims = v @ v.T
    assert sims[0, 1] > 0.5 > sims[0, 2]
    # Another instance (another process) gives the same vectors: no salted hash().
    np.testing.assert_array_equal(HashingEmbedder(dim=64).embed(texts), v)
    assert emb.name == "hashing-64"


def test_build_embedder_knows_its_kinds() -> None:
    assert isinstance(build_embedder("hashing"), HashingEmbedder)
    assert isinstance(build_embedder("minilm"), MiniLMEmbedder)
    with pytest.raises(ModelError, match="unknown embedder 'word2vec'"):
        build_embedder("word2vec")


def test_minilm_is_lazy_and_reports_a_missing_model_clearly(tmp_path) -> None:
    emb = MiniLMEmbedder(model_path=tmp_path)  # an empty folder: no model here
    assert emb._model is None  # nothing is loaded at construction
    # Empty input never needs the model.
    assert emb.embed(["", "  "]).shape == (2, 384)
    with pytest.raises(ModelError, match="config.json is missing") as info:
        emb.embed(["some text"])
    assert info.value.hint


@pytest.mark.slow
def test_minilm_embeds_offline_and_separates_events() -> None:
    emb = MiniLMEmbedder()
    texts = [
        "Japan clears export of Patriot interceptors to the Philippines. Tokyo's cabinet approved "
        "shipping the licence-built air-defence missiles to Manila.",
        "Japan to send Patriot missiles to Philippines. Defense Minister Gen Nakatani said Japan "
        "will supply the Philippines with Patriot interceptors.",
        "Japan and Philippines begin joint naval drills near Luzon. Warships practise search "
        "and rescue in three days of exercises.",
        "",
    ]
    v = emb.embed(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, rtol=1e-5)
    assert not v[3].any()
    sims = v @ v.T
    assert sims[0, 1] > 0.75
    assert sims[0, 2] < sims[0, 1] - 0.15
    # Batching and length-sorting do not change a text's vector.
    alone = emb.embed([texts[2]])[0]
    np.testing.assert_allclose(alone, v[2], atol=1e-5)


def test_bfloat16_only_where_the_cpu_has_it() -> None:
    with_bf16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile\n"
    without = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"
    assert cpu_has_fast_bfloat16(with_bf16)
    assert not cpu_has_fast_bfloat16(without)
    assert not cpu_has_fast_bfloat16("")  # no flags line (not Linux): float32
    with pytest.raises(ModelError, match="unknown dtype"):
        MiniLMEmbedder(dtype="int8")


@pytest.mark.slow
def test_minilm_bfloat16_agrees_with_float32() -> None:
    """bfloat16 is a speed choice only: the cosines it gives are float32's to within 0.01."""
    texts = [
        "Port council approves a $120 million flood barrier for the eastern docks.",
        "City backs sea wall after a decade of delays, with a state grant paying half.",
        "Regional airline grounds 14 turboprops after cracked turbine blades are found.",
        "Court strikes down night parking fees because the city skipped a consultation.",
    ]
    full = MiniLMEmbedder(dtype="float32").embed(texts)
    half = MiniLMEmbedder(dtype="bfloat16").embed(texts)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half @ half.T, full @ full.T, atol=0.01)
