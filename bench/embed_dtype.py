"""MiniLM in float32 vs bfloat16: embedding time and how far the cosines move.

Each dtype runs in a fresh process (cold kernels, as in a real `digest run`) over the leads of
the loopback news web's articles (title + the start of the body), then the pairwise cosines of
a sample are compared. The clustering thresholds were set on float32, so bfloat16 is only
acceptable if the cosines barely move (and `eval/clustering.py` agrees).

    python bench/embed_dtype.py                 # 2,000 leads
    python bench/embed_dtype.py --leads 500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def leads(n: int) -> list[str]:
    """n article leads from the news web (deterministic)."""
    from bench.newsweb import NewsWeb

    feeds = max(1, (n + 19) // 20)
    web = NewsWeb(feeds=feeds, items_per_feed=20, seed=3)
    items = [it for s in range(feeds) for it in web.feed_items(s)]
    return [(it.title + ". " + web.gold_text(it))[:800] for it in items][:n]


def child(dtype: str, n: int, out: str) -> None:
    """Embed the leads with one dtype; save the vectors and print the seconds as JSON."""
    from digest.embed import MiniLMEmbedder

    texts = leads(n)
    embedder = MiniLMEmbedder(dtype=dtype)
    embedder.embed(["warm up"])  # the load is not what is compared
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - start
    np.save(out, vectors)
    print(json.dumps({"dtype": dtype, "texts": len(texts), "seconds": seconds}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=800, help="leads in the cosine comparison")
    parser.add_argument("--child", choices=("float32", "bfloat16"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.leads, args.out)
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from digest.embed import cpu_has_fast_bfloat16

    print(f"CPU computes bfloat16 natively: {cpu_has_fast_bfloat16()}")
    vectors = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("float32", "bfloat16"):
            out = str(Path(tmp) / f"{dtype}.npy")
            cmd = [sys.executable, __file__, "--child", dtype, "--leads", str(args.leads)]
            proc = subprocess.run([*cmd, "--out", out], capture_output=True, text=True, check=True)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            rate = result["texts"] / result["seconds"]
            print(f"{dtype:<9} {result['texts']} leads in {result['seconds']:.1f} s = {rate:.1f}/s")
            vectors[dtype] = np.load(out)
    full, half = vectors["float32"], vectors["bfloat16"]
    rng = np.random.default_rng(0)
    idx = rng.choice(len(full), min(args.sample, len(full)), replace=False)
    upper = np.triu_indices(len(idx), 1)
    drift = np.abs((full[idx] @ full[idx].T)[upper] - (half[idx] @ half[idx].T)[upper])
    print(
        f"pairwise cosines over {len(drift)} pairs: max drift {drift.max():.4f}, "
        f"99.9th percentile {np.quantile(drift, 0.999):.4f}, mean {drift.mean():.5f}"
    )
    print(f"same text, float32 vs bfloat16: lowest cosine {(full * half).sum(1).min():.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
