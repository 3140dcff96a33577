"""Train the compressor: `python -m digest.summarize.compress_train [--data CSV] [--seed N]`.

Reads the compression pairs from `../shared/data/sentence-compression-dev.csv` (never committed),
trains on the `train` split only, picks the epoch and the keep threshold on `val`, and writes
`compress_head.safetensors` beside this module (float16 weights, the config and the threshold in
its metadata). The default adapts MiniLM's top layers (`--lora-layers 5,6`): rank-16 LoRA
adapters on their attention and feed-forward maps, trained jointly with the head; the frozen
layers below run once and their states are cached in memory, so an epoch costs only the adapted
layers. At load the adapters merge into MiniLM's weights (`compress_model.merge_lora`).
`--lora-layers ""` trains the head alone over a frozen MiniLM (states cached on disk,
`--cache`). Then `--tune-checked` picks the checked compressor's lower thresholds on val. The
same seed on the same data gives the same weights (one thread, deterministic torch ops). The
`eval` split is left for `eval/compression.py`.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import MiniLMEmbedder
from .compress import FEATURES, WEIGHTS_FILE, Token, repair, word_features
from .compress_data import DEFAULT_DATA, Pair, load_pairs, scores, split_of
from .compress_model import (
    HIDDEN,
    LAYERS,
    LORA_PREFIX,
    LORA_TARGETS,
    add_lora,
    build_head,
    encode_words,
    head_probabilities,
    load_heads,
    lora_state,
    piece_batches,
)

log = logging.getLogger(__name__)


def _tokens(pair: Pair) -> list[Token]:
    return [Token(t, i > 0) for i, t in enumerate(pair.tokens)]


def featurise(pairs: list[Pair], cache: Path | None) -> list[np.ndarray]:
    """Each pair's per-word input rows (MiniLM states + features), cached by the data's hash."""
    import hashlib

    key = hashlib.sha1("\n".join(p.text for p in pairs).encode()).hexdigest()[:12]
    path = cache / f"compress-states-{key}.npz" if cache else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            flat, offsets = z["states"], z["offsets"]
        states = [flat[a:b].astype(np.float32) for a, b in zip(offsets, offsets[1:], strict=False)]
    else:
        tokenizer, model = MiniLMEmbedder(dtype="float32").encoder()
        t0 = time.perf_counter()
        states = encode_words(tokenizer, model, [p.tokens for p in pairs])
        log.info("encoded %d sentences in %.0fs", len(pairs), time.perf_counter() - t0)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            offsets = np.cumsum([0] + [len(s) for s in states])
            np.savez(path, states=np.concatenate(states).astype(np.float16), offsets=offsets)
    return [
        np.concatenate([s, word_features(_tokens(p))], axis=1)
        for s, p in zip(states, pairs, strict=True)
    ]


def _batches(n: int, size: int, rng: random.Random) -> list[list[int]]:
    order = list(range(n))
    rng.shuffle(order)
    return [order[i : i + size] for i in range(0, n, size)]


def _pad(rows: list[np.ndarray]) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    x = np.zeros((len(rows), width, rows[0].shape[1]), dtype=np.float32)
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
    return torch.from_numpy(x), torch.tensor([len(r) for r in rows])


def predict(heads: Any, rows: list[np.ndarray]) -> list[np.ndarray]:
    """Keep probabilities for each sentence's rows (one head, or the mean of several)."""
    heads = heads if isinstance(heads, list) else [heads]
    for h in heads:
        h.eval()
    return [p for r in rows for p in head_probabilities(heads, [r])]


def ensemble(args: argparse.Namespace) -> dict[str, Any]:
    """Join heads trained with different seeds into one file; pick its threshold on val."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(args.threads)
    configs, states = [], []
    for path in args.ensemble:
        with safe_open(str(path), framework="pt") as f:
            configs.append(json.loads((f.metadata() or {})["config"]))
        states.append(load_file(str(path)))
    shape = {k: configs[0][k] for k in ("arch", "d_in", "d", "h", "features")}
    if any({k: c[k] for k in shape} != shape for c in configs):
        raise SystemExit("the heads differ in shape: train them with the same --arch/--d/--h")
    pairs = load_pairs(args.data)
    val_pairs = [p for p in pairs if split_of(p.tokens) == "val"]
    train_pairs = [p for p in pairs if split_of(p.tokens) == "train"]
    rows = featurise(train_pairs + val_pairs, args.cache)[len(train_pairs) :]
    config: dict[str, Any] = {**shape, "heads": len(states), "dropout": 0.0}
    joined = {f"h{k}.{n}": v for k, st in enumerate(states) for n, v in st.items()}
    heads = load_heads(config, joined)
    threshold, s = best_threshold(val_pairs, predict(heads, rows))
    config.update(
        threshold=threshold,
        val_f1=round(s["f1"], 4),
        val_ratio=round(s["ratio"], 4),
        trained="ensemble of " + "; ".join(str(c.get("trained")) for c in configs),
        seeds=[c.get("seed") for c in configs],
    )
    save_file(joined, str(args.out), metadata={"config": json.dumps(config)})
    log.info("wrote %s: %s", args.out, config)
    return config


def decode(pairs: list[Pair], probs: list[np.ndarray], threshold: float) -> list[list[bool]]:
    """Repaired masks at a threshold."""
    masks = []
    for p, pr in zip(pairs, probs, strict=True):
        toks = _tokens(p)
        masks.append(repair(toks, [bool(v >= threshold) for v in pr], [float(v) for v in pr]))
    return masks


def best_threshold(pairs: list[Pair], probs: list[np.ndarray]) -> tuple[float, dict[str, float]]:
    """The threshold with the best keep-token F1 after repair."""
    best: tuple[float, dict[str, float]] = (0.5, {"f1": -1.0})
    gold = [list(p.keep) for p in pairs]
    for threshold in np.arange(0.30, 0.71, 0.025):
        s = scores(decode(pairs, probs, float(threshold)), gold)
        if s["f1"] > best[1]["f1"]:
            best = (round(float(threshold), 3), s)
    return best


def _seed_everything(args: argparse.Namespace) -> None:
    """The same run twice gives the same weights: seeds, threads, deterministic kernels."""
    import torch

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train, pick the epoch and threshold on val, save the head; returns the config."""
    import torch
    from safetensors.torch import save_file

    _seed_everything(args)

    pairs = load_pairs(args.data)
    train_pairs = [p for p in pairs if split_of(p.tokens) == "train"]
    val_pairs = [p for p in pairs if split_of(p.tokens) == "val"]
    rows = featurise(train_pairs + val_pairs, args.cache)
    train_rows, val_rows = rows[: len(train_pairs)], rows[len(train_pairs) :]
    log.info("train %d, val %d sentences", len(train_pairs), len(val_pairs))

    config: dict[str, Any] = {
        "arch": args.arch,
        "d_in": int(train_rows[0].shape[1]),
        "d": args.d,
        "h": args.h,
        "dropout": args.dropout,
        "features": FEATURES,
        "seed": args.seed,
    }
    head = build_head(config)
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    rng = random.Random(args.seed)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    best: dict[str, Any] = {"f1": -1.0}
    for epoch in range(1, args.epochs + 1):
        head.train()
        t0 = time.perf_counter()
        total = 0.0
        for idx in _batches(len(train_rows), args.batch, rng):
            x, n = _pad([train_rows[i] for i in idx])
            y = torch.zeros(x.shape[:2])
            for row, i in enumerate(idx):
                y[row, : n[row]] = torch.tensor(train_pairs[i].keep, dtype=torch.float32)
            mask = (torch.arange(x.shape[1])[None] < n[:, None]).float()
            loss = (loss_fn(head(x, n), y) * mask).sum() / mask.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        threshold, s = best_threshold(val_pairs, predict(head, val_rows))
        log.info(
            "epoch %d: loss %.4f, val F1 %.4f (ratio %.3f) at %.3f, %.0fs",
            epoch,
            total / len(train_rows),
            s["f1"],
            s["ratio"],
            threshold,
            time.perf_counter() - t0,
        )
        if s["f1"] > best["f1"]:
            best = {"f1": s["f1"], "epoch": epoch, "threshold": threshold, "ratio": s["ratio"]}
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
    config.update(
        threshold=best["threshold"],
        epoch=best["epoch"],
        val_f1=round(best["f1"], 4),
        val_ratio=round(best["ratio"], 4),
        trained=f"seed {args.seed}, {len(train_pairs)} sentences",
    )
    weights = {k: v.half().contiguous() for k, v in best_state.items()}
    save_file(weights, str(args.out), metadata={"config": json.dumps(config)})
    log.info("wrote %s: %s", args.out, config)
    return config


def lower_states(pairs: list[Pair], first: int) -> tuple[Any, list[dict[str, Any]]]:
    """MiniLM (frozen below layer `first` + 1) and each pair's cached piece states.

    Per sentence: its pieces' states after layer `first` (the adapted layers' input) and after
    each of LAYERS below it (the head's frozen inputs), the piece -> word map (-1: [CLS],
    [SEP]), the features and the keep labels. The pieces are made and padded as
    `compress_model.piece_batches` makes them at inference, so only the padding differs.
    """
    import torch

    tokenizer, model = MiniLMEmbedder(dtype="float32").encoder()
    kept = [k for k in LAYERS if k < first] + [first]
    items: list[dict[str, Any]] = [{} for _ in pairs]
    t0 = time.perf_counter()
    with torch.no_grad():
        for idx, batch in piece_batches(tokenizer, [p.tokens for p in pairs]):
            result = model(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                token_type_ids=batch.get("token_type_ids"),
                output_hidden_states=True,
            )
            states = torch.cat([result.hidden_states[k] for k in kept], dim=-1)
            for row, i in enumerate(idx):
                real = int(batch["attention_mask"][row].sum())
                word_ids = [-1 if w is None else w for w in batch.word_ids(row)[:real]]
                items[i] = {
                    "states": states[row, :real].clone(),
                    "word_ids": torch.tensor(word_ids),
                    "features": torch.from_numpy(word_features(_tokens(pairs[i]))),
                    "keep": torch.tensor(pairs[i].keep, dtype=torch.float32),
                }
    log.info(
        "cached layer %d states of %d sentences in %.0fs",
        first,
        len(pairs),
        time.perf_counter() - t0,
    )
    return model, items


def adapted_logits(model: Any, head: Any, items: list[dict[str, Any]], first: int) -> Any:
    """The head's logits (batch x words) over the states of MiniLM's layers from `first` up."""
    import torch

    width = max(len(it["word_ids"]) for it in items)
    words = max(len(it["keep"]) for it in items)
    dim = items[0]["states"].shape[1]
    x = torch.zeros(len(items), width, dim)
    word_ids = torch.full((len(items), width), -1, dtype=torch.long)
    feats = torch.zeros(len(items), words, items[0]["features"].shape[1])
    for row, it in enumerate(items):
        x[row, : len(it["word_ids"])] = it["states"]
        word_ids[row, : len(it["word_ids"])] = it["word_ids"]
        feats[row, : len(it["keep"])] = it["features"]
    pad = torch.ones_like(word_ids, dtype=torch.bool)
    for row, it in enumerate(items):
        pad[row, : len(it["word_ids"])] = False
    # Additive mask over the keys, as the model's own forward builds it from attention_mask.
    mask = torch.zeros(len(items), 1, 1, width).masked_fill(
        pad[:, None, None, :], torch.finfo(torch.float32).min
    )
    h = x[..., -HIDDEN:]
    out = {first: h}
    for i in range(first, len(model.encoder.layer)):
        h = model.encoder.layer[i](h, mask)
        out[i + 1] = h
    frozen = [k for k in LAYERS if k < first]
    parts = [x[..., HIDDEN * j : HIDDEN * (j + 1)] for j in range(len(frozen))]
    parts += [out[k] for k in LAYERS if k >= first]
    states = torch.cat(parts, dim=-1)
    onehot = (word_ids[:, None, :] == torch.arange(words)[None, :, None]).float()
    means = onehot @ states / onehot.sum(-1, keepdim=True).clamp(min=1)
    lengths = torch.tensor([len(it["keep"]) for it in items])
    return head(torch.cat([means, feats], dim=-1), lengths), lengths


def adapted_probabilities(
    model: Any, head: Any, items: list[dict[str, Any]], first: int
) -> list[np.ndarray]:
    """Keep probabilities per sentence (eval mode, batches of 64)."""
    import torch

    model.eval()
    head.eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for k in range(0, len(items), 64):
            chunk = items[k : k + 64]
            logits, lengths = adapted_logits(model, head, chunk, first)
            probs = torch.sigmoid(logits)
            out.extend(probs[r, : lengths[r]].numpy().copy() for r in range(len(chunk)))
    return out


def train_adapted(args: argparse.Namespace) -> dict[str, Any]:
    """Train LoRA adapters on MiniLM's top layers jointly with the head; pick epoch and
    threshold on val; save both in float16 (the adapters merge into MiniLM at load)."""
    import torch
    from safetensors.torch import save_file

    _seed_everything(args)

    layers = sorted(args.lora_layers)
    first = layers[0]
    pairs = load_pairs(args.data)
    train_pairs = [p for p in pairs if split_of(p.tokens) == "train"][: args.limit]
    val_pairs = [p for p in pairs if split_of(p.tokens) == "val"][: args.limit]
    model, items = lower_states(train_pairs + val_pairs, first)
    torch.set_num_threads(args.threads)  # loading MiniLM sized torch to every CPU
    train_items, val_items = items[: len(train_pairs)], items[len(train_pairs) :]
    log.info(
        "train %d, val %d sentences; adapting layers %s",
        len(train_pairs),
        len(val_pairs),
        [i + 1 for i in layers],
    )

    config: dict[str, Any] = {
        "arch": args.arch,
        "d_in": HIDDEN * len(LAYERS) + FEATURES,
        "d": args.d,
        "h": args.h,
        "dropout": args.dropout,
        "features": FEATURES,
        "seed": args.seed,
        "encoder": {
            "lora_layers": layers,
            "rank": args.rank,
            "alpha": args.alpha,
            "targets": list(LORA_TARGETS),
        },
    }
    torch.manual_seed(args.seed)
    lora = add_lora(model, layers, args.rank, args.alpha, args.lora_dropout)
    head = build_head(config)
    opt = torch.optim.AdamW(
        [
            {"params": list(head.parameters()), "lr": args.lr},
            {"params": lora, "lr": args.lora_lr},
        ],
        weight_decay=args.weight_decay,
    )
    steps = args.epochs * -(-len(train_items) // args.batch)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min((k + 1) / warmup, max(0.0, (steps - k) / max(1, steps - warmup)))
    )
    rng = random.Random(args.seed)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    best: dict[str, Any] = {"f1": -1.0}
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        total = 0.0
        for step, idx in enumerate(_batches(len(train_items), args.batch, rng), start=1):
            model.train()
            head.train()
            chunk = [train_items[i] for i in idx]
            logits, n = adapted_logits(model, head, chunk, first)
            y = torch.zeros_like(logits)
            for row, it in enumerate(chunk):
                y[row, : n[row]] = it["keep"]
            mask = (torch.arange(logits.shape[1])[None] < n[:, None]).float()
            loss = (loss_fn(logits, y) * mask).sum() / mask.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            if step % 20 == 0:
                log.info(
                    "epoch %d step %d: loss %.4f, %.1fs",
                    epoch,
                    step,
                    loss.item(),
                    time.perf_counter() - t0,
                )
        threshold, s = best_threshold(
            val_pairs, adapted_probabilities(model, head, val_items, first)
        )
        log.info(
            "epoch %d: loss %.4f, val F1 %.4f (ratio %.3f) at %.3f, %.0fs",
            epoch,
            total / len(train_items),
            s["f1"],
            s["ratio"],
            threshold,
            time.perf_counter() - t0,
        )
        if s["f1"] > best["f1"]:
            best = {"f1": s["f1"], "epoch": epoch}
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
            best_state.update({k: v.clone() for k, v in lora_state(model, layers).items()})
    # The threshold is chosen again on the float16 weights that ship.
    weights = {k: v.half().contiguous() for k, v in best_state.items()}
    head.load_state_dict(
        {k: v.float() for k, v in weights.items() if not k.startswith(LORA_PREFIX)}
    )
    with torch.no_grad():
        for name, v in weights.items():
            if name.startswith(LORA_PREFIX):
                i, _, rest = name[len(LORA_PREFIX) :].partition(".")
                target, _, part = rest.rpartition(".")
                getattr(model.encoder.layer[int(i)].get_submodule(target), part).copy_(v.float())
    threshold, s = best_threshold(val_pairs, adapted_probabilities(model, head, val_items, first))
    config.update(
        threshold=threshold,
        epoch=best["epoch"],
        val_f1=round(s["f1"], 4),
        val_ratio=round(s["ratio"], 4),
        trained=f"seed {args.seed}, {len(train_pairs)} sentences, {args.epochs} epochs",
    )
    save_file(weights, str(args.out), metadata={"config": json.dumps(config)})
    log.info("wrote %s: %s", args.out, config)
    return config


def tune_checked(args: argparse.Namespace) -> tuple[float, ...]:
    """The CheckedCompressor's lower thresholds with the best keep-token F1 on val (plain text).

    Prints every candidate's F1 and ratio; writes the best into the weights' config
    ("checked_thresholds"), which `CheckedCompressor` reads.
    """
    import itertools

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from .compress import tokenize
    from .compress_data import detokenize, mask_on
    from .compress_model import CheckedCompressor, MiniLMCompressor

    model = MiniLMCompressor(args.out, dtype=args.dtype)
    val_pairs = [p for p in load_pairs(args.data) if split_of(p.tokens) == "val"]
    tokenised = [tokenize(detokenize(p.tokens)) for p in val_pairs]
    probs = [[float(v) for v in pr] for pr in model.probabilities(tokenised)]
    gold = [list(p.keep) for p in val_pairs]
    candidates = [
        tuple(t for t in steps if t is not None)
        for steps in itertools.product((0.3, 0.25, 0.2, 0.15), (0.15, 0.1, 0.05, None))
        if steps[1] is None or steps[1] < steps[0]
    ]
    best: tuple[float, tuple[float, ...]] = (-1.0, ())
    for lower in candidates:
        checked = CheckedCompressor(model, thresholds=lower)
        steps = (model.threshold, *(t for t in lower if t < model.threshold))
        masks = [
            mask_on(p, [t.text for t in toks], checked._choose(toks, pr, steps))
            for p, toks, pr in zip(val_pairs, tokenised, probs, strict=True)
        ]
        s = scores(masks, gold)
        print(
            f"thresholds {model.threshold:g} then {lower}: val F1 {s['f1']:.4f}, "
            f"ratio {s['ratio']:.3f}, {checked.counts}"
        )
        if s["f1"] > best[0]:
            best = (s["f1"], lower)
    with safe_open(str(args.out), framework="pt") as f:
        config = json.loads((f.metadata() or {})["config"])
    config["checked_thresholds"] = list(best[1])
    save_file(load_file(str(args.out)), str(args.out), metadata={"config": json.dumps(config)})
    print(f"chosen on val: {best[1]} (F1 {best[0]:.4f}); written to {args.out}")
    return best[1]


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/digest-compress-cache"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--arch", choices=["conv", "lstm"], default="conv")
    ap.add_argument("--d", type=int, default=192)
    ap.add_argument("--h", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--lora-layers",
        type=lambda v: [int(x) - 1 for x in v.split(",") if x],
        default=[4, 5],
        help="MiniLM layers (1-6) to adapt with LoRA, e.g. 5,6; empty: a frozen encoder",
    )
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--lora-lr", type=float, default=1e-3)
    ap.add_argument("--lora-dropout", type=float, default=0.1)
    ap.add_argument("--limit", type=int, default=None, help="only this many sentences a split")
    ap.add_argument(
        "--tune-checked",
        action="store_true",
        help="choose the checked compressor's lower thresholds on val for --out (no training)",
    )
    ap.add_argument("--dtype", default="float32", help="MiniLM's dtype for --tune-checked")
    ap.add_argument(
        "--ensemble", type=Path, nargs="+", help="join these trained heads instead of training"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.tune_checked:
        tune_checked(args)
    elif args.ensemble:
        ensemble(args)
    elif args.lora_layers:
        train_adapted(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
