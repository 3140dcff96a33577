"""Benchmark Quick Looks with the default model: load times, per-story latency, tokens/s, RSS.

    python bench/summarize.py                    # warm load + latency (cache built if missing)
    python bench/summarize.py --cold             # also a cold load into a fresh cache folder

Stories: the hand-written labelled articles of eval/data/clustering (grouped by event) plus the
fixture stories in tests/data/articles. Loads are timed in fresh subprocesses so that imports
count; latency is timed in this process, one story per call after one warm-up story, and once
more with every story in one batched call. Peak RSS is the process's maximum resident set.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.config import SummarizerSettings  # noqa: E402
from digest.extract import content_hash  # noqa: E402
from digest.models import Article  # noqa: E402
from digest.summarize import ModelSummarizer  # noqa: E402
from digest.summarize.cli import article_from_text  # noqa: E402

_LOAD_SNIPPET = """
import json, os, resource, sys, time
t0 = time.perf_counter()
import torch, transformers  # noqa
from digest.config import SummarizerSettings
from digest.summarize import ModelSummarizer
t1 = time.perf_counter()
s = ModelSummarizer(SummarizerSettings(), sys.argv[1])
s.load()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def stories() -> list[list[Article]]:
    """Every labelled event of the clustering fixtures, and the summary fixtures."""
    by_event: dict[str, list[Article]] = defaultdict(list)
    for path in sorted((ROOT / "eval" / "data" / "clustering").glob("*.toml")):
        for item in tomllib.loads(path.read_text())["article"]:
            text = (item.get("text") or "").strip()
            if len(text.split()) < 40:
                continue  # teasers and empty items: nothing to time
            by_event[item["event"]].append(
                Article(
                    key=item["id"],
                    feed_url="",
                    url=item.get("url"),
                    title=item.get("title", ""),
                    text=text,
                    outlet=item.get("outlet", "?"),
                    content_hash=content_hash(text),
                )
            )
    out = list(by_event.values())
    articles = ROOT / "tests" / "data" / "articles"
    out.append(
        [
            article_from_text((articles / n).read_text(), n)
            for n in ("storm_coastpost.txt", "storm_northwire.txt")
        ]
    )
    out.append([article_from_text((articles / "rates_norland.txt").read_text(), "rates")])
    return out


def timed_load(cache_dir: Path) -> dict[str, float]:
    """Import + load of the default model in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SNIPPET, str(cache_dir)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description="Benchmark Quick Looks with the default model")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("DIGEST_MODEL_CACHE", ROOT / "state" / "models")),
    )
    parser.add_argument("--cold", action="store_true", help="also time a cold (first) load")
    parser.add_argument("--loads", type=int, default=3, help="warm loads to time")
    parser.add_argument(
        "--embed", action="store_true", help="bullet selection with the MiniLM embedder too"
    )
    parser.add_argument(
        "--no-prefix-cache",
        action="store_true",
        help="run the whole few-shot prompt for every batch (to see what the KV reuse saves)",
    )
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    if args.cold:
        with tempfile.TemporaryDirectory() as fresh:
            cold = timed_load(Path(fresh))
        rows.append(
            (
                "cold load (assemble GGUF, dequantise, save cache, load)",
                f"{cold['load']:.1f} s (+ {cold['import']:.1f} s imports)",
            )
        )
    timed_load(args.cache_dir)  # builds the cache if it is missing; not counted
    warm = [timed_load(args.cache_dir) for _ in range(args.loads)]
    rows.append(
        (
            f"warm load from cache, median of {len(warm)}",
            f"{statistics.median(w['load'] for w in warm):.2f} s",
        )
    )
    rows.append(
        (
            "imports (torch, transformers, digest), median",
            f"{statistics.median(w['import'] for w in warm):.2f} s",
        )
    )
    rows.append(
        (
            "warm load + imports, median",
            f"{statistics.median(w['load'] + w['import'] for w in warm):.2f} s",
        )
    )
    rows.append(("RSS after warm load", f"{statistics.median(w['rss_mb'] for w in warm):.0f} MB"))

    all_stories = stories()
    embedder = None
    if args.embed:
        from digest.embed import build_embedder

        embedder = build_embedder("minilm")
        embedder.embed(["warm up"])  # its load is the clustering stage's, not counted here
    summarizer = ModelSummarizer(SummarizerSettings(), args.cache_dir, embedder=embedder)
    model = summarizer.load()
    if args.no_prefix_cache:

        def no_cache(prefix_ids):  # type: ignore[no-untyped-def]
            raise RuntimeError("prefix cache disabled by --no-prefix-cache")

        model._prefix_kv = no_cache  # type: ignore[method-assign]
    gen_seconds = 0.0
    original = model.complete

    def timed_complete(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal gen_seconds
        started = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            gen_seconds += time.perf_counter() - started

    model.complete = timed_complete  # type: ignore[method-assign]
    summarizer.summarize(all_stories[:1])  # warm-up: builds the few-shot prefix cache
    model.generated_tokens, gen_seconds = 0, 0.0
    latencies, bullets = [], 0
    for story in all_stories:
        started = time.perf_counter()
        [q] = summarizer.summarize([story])
        latencies.append(time.perf_counter() - started)
        bullets += len(q.bullets)
    tokens, seconds = model.generated_tokens, gen_seconds
    started = time.perf_counter()
    summarizer.summarize(all_stories)
    batched = time.perf_counter() - started

    n = len(all_stories)
    rows += [
        ("stories (articles)", f"{n} ({sum(len(s) for s in all_stories)}), {bullets} bullets"),
        ("per-story latency, median", f"{statistics.median(latencies):.2f} s"),
        ("per-story latency, p90", f"{pct(latencies, 0.9):.2f} s"),
        ("per-story, all stories in one batched call", f"{batched / n:.2f} s"),
        ("generated tokens/s (label generation only)", f"{tokens / seconds:.1f}"),
        (
            "peak RSS (this process)",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
        ),
    ]
    print(f"| measure ({os.cpu_count()} CPUs, torch threads {torch_threads()}) | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


def torch_threads() -> int:
    """How many threads torch computes with."""
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    raise SystemExit(main())
