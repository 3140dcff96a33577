"""Benchmark sentence compression: a story's sentences per call, warm, and a long stdin run.

    python bench/compress.py [--compressor minilm] [--batch 40] [--rounds 30] [--lines 2000]

Sentences: those of the real article pages in ../shared/data/pages (extracted with the
pipeline's extractor, split with the summariser's splitter), else the fixture articles in
tests/data/articles. Each round compresses `--batch` of them in one `compress` call (what the
summariser does for a story's candidates) after one warm-up call; p50/p90/max of the rounds are
printed. Then `--lines` sentences in one call, as `digest compress` gets them from stdin.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sentences() -> tuple[list[str], str]:
    """Candidate sentences from real pages (or the fixtures) and where they came from."""
    from digest.extract import extract_page
    from digest.summarize.text import split_sentences

    pages = sorted((ROOT / "../shared/data/pages").glob("*.html.gz"))
    out: list[str] = []
    if pages:
        for page in pages:
            try:
                text = extract_page(gzip.decompress(page.read_bytes()), None).text
            except Exception:  # a page that does not extract is not a sentence source
                continue
            out.extend(s for s in split_sentences(text) if len(s.split()) >= 6)
        return out, f"{len(pages)} pages of ../shared/data/pages"
    for path in sorted((ROOT / "tests/data/articles").glob("*.txt")):
        out.extend(s for s in split_sentences(path.read_text()) if len(s.split()) >= 6)
    return out, "tests/data/articles"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressor", default="minilm", choices=["minilm", "rules"])
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from digest.summarize.compress_model import load_compressor

    pool, source = sentences()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    compressor = load_compressor(args.compressor)
    compressor.compress(pool[:4])  # loads the model
    load = time.perf_counter() - t0
    words = statistics.mean(len(s.split()) for s in pool)
    print(f"{len(pool)} sentences from {source}, {words:.1f} words on average")
    print(f"{compressor.name}: first call (load + 4 sentences) {load:.2f}s; cpus {os.cpu_count()}")
    times = []
    kept = []
    for _ in range(args.rounds):
        batch = rng.sample(pool, min(args.batch, len(pool)))
        t = time.perf_counter()
        out = compressor.compress(batch)
        times.append(time.perf_counter() - t)
        kept.extend(len(o.split()) / len(s.split()) for o, s in zip(out, batch, strict=True))
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(
        f"{args.batch} sentences a call, {args.rounds} calls: p50 {statistics.median(times):.3f}s, "
        f"p90 {p90:.3f}s, max {times[-1]:.3f}s; words kept {statistics.mean(kept):.2f}"
    )
    lines = [pool[i % len(pool)] for i in range(args.lines)]
    t = time.perf_counter()
    compressor.compress(lines)
    took = time.perf_counter() - t
    print(f"{args.lines} lines in one call: {took:.1f}s ({args.lines / took:.0f} lines/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
