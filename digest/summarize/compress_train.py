"""Train the compressor's head: `python -m digest.summarize.compress_train [--data CSV] [--seed N]`.

Reads the compression pairs from `../shared/data/sentence-compression-dev.csv` (never committed),
trains on the `train` split only, picks the epoch and the keep threshold on `val`, and writes
`compress_head.safetensors` beside this module (float16 weights, the config and the threshold in
its metadata). MiniLM stays frozen, so its per-word states are computed once and cached
(`--cache`). The same seed on the same data gives the same weights (one thread, deterministic
torch ops). The `eval` split is left for `eval/compression.py`.
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
from .compress_model import build_head, encode_words, head_probabilities, load_heads

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


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train, pick the epoch and threshold on val, save the head; returns the config."""
    import torch
    from safetensors.torch import save_file

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

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


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/digest-compress-cache"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--arch", choices=["conv", "lstm"], default="conv")
    ap.add_argument("--d", type=int, default=192)
    ap.add_argument("--h", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--ensemble", type=Path, nargs="+", help="join these trained heads instead of training"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.ensemble:
        ensemble(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
