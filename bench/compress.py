"""Benchmark sentence compression: a story's sentences per call, warm, and a long stdin run.

    python bench/compress.py [--compressor minilm] [--batch 40] [--rounds 30] [--lines 2000]
        [--dtype float32|auto|bfloat16] [--weights FILE]

Sentences: those of the real article pages in ../shared/data/pages (extracted with the
pipeline's extractor, split with the summariser's splitter), else the fixture articles in
tests/data/articles. Each round compresses `--batch` of them in one `compress` call (what the
summariser does for a story's candidates) after one warm-up call; p50/p90/max of the rounds are
printed, wall and CPU time (all threads of this process). Then `--lines` sentences in one
call, as `digest compress` gets them from stdin.
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


def sentences(folder: Path = ROOT / "../shared/data/pages") -> tuple[list[str], str]:
    """Candidate sentences from real pages (or the fixtures) and where they came from."""
    from digest.extract import extract_page
    from digest.summarize.text import split_sentences

    pages = sorted(folder.glob("*.html.gz"))
    out: list[str] = []
    if pages:
        for page in pages:
            try:
                text = extract_page(gzip.decompress(page.read_bytes()), None).text
            except Exception:  # a page that does not extract is not a sentence source
                continue
            out.extend(s for s in split_sentences(text) if len(s.split()) >= 6)
        return out, f"{len(pages)} pages of {folder}"
    for path in sorted((ROOT / "tests/data/articles").glob("*.txt")):
        out.extend(s for s in split_sentences(path.read_text()) if len(s.split()) >= 6)
    return out, "tests/data/articles"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressor", default="minilm", choices=["minilm", "checked", "rules"])
    parser.add_argument("--dtype", default=None, choices=["float32", "auto", "bfloat16"])
    parser.add_argument("--weights", type=Path, default=None, help="another weights file")
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pages", type=Path, default=ROOT / "../shared/data/pages")
    args = parser.parse_args()

    from digest.summarize.compress_model import load_compressor

    pool, source = sentences(args.pages)
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    options = {"dtype": args.dtype} if args.dtype and args.compressor != "rules" else {}
    compressor = load_compressor(args.compressor, weights=args.weights, **options)
    compressor.compress(pool[:4])  # loads the model
    load = time.perf_counter() - t0
    words = statistics.mean(len(s.split()) for s in pool)
    print(f"{len(pool)} sentences from {source}, {words:.1f} words on average")
    dtype = getattr(compressor, "dtype", "-")
    print(
        f"{compressor.name}: first call (load + 4 sentences) {load:.2f}s; cpus {os.cpu_count()}; "
        f"dtype {dtype}; weights {args.weights or 'shipped'}"
    )
    times = []
    cpu = []
    kept = []
    for _ in range(args.rounds):
        batch = rng.sample(pool, min(args.batch, len(pool)))
        t, c = time.perf_counter(), time.process_time()
        out = compressor.compress(batch)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        kept.extend(len(o.split()) / len(s.split()) for o, s in zip(out, batch, strict=True))
    times.sort()
    cpu.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    cpu90 = cpu[min(len(cpu) - 1, int(0.9 * len(cpu)))]
    print(
        f"{args.batch} sentences a call, {args.rounds} calls: p50 {statistics.median(times):.3f}s, "
        f"p90 {p90:.3f}s, max {times[-1]:.3f}s; CPU p50 {statistics.median(cpu):.3f}s, "
        f"p90 {cpu90:.3f}s; words kept {statistics.mean(kept):.2f}"
    )
    lines = [pool[i % len(pool)] for i in range(args.lines)]
    t, c = time.perf_counter(), time.process_time()
    compressor.compress(lines)
    took, cpu_took = time.perf_counter() - t, time.process_time() - c
    print(
        f"{args.lines} lines in one call: {took:.1f}s, CPU {cpu_took:.1f}s "
        f"({args.lines / took:.0f} lines/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
