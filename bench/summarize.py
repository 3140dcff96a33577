"""Benchmark Quick Looks with the default model: load times, per-story latency, CPU time, RSS.

    python bench/summarize.py                    # warm load + latency (cache built if missing)
    python bench/summarize.py --cold             # also a cold load into a fresh cache folder
    python bench/summarize.py --pages ../shared/data/pages --embed --loads 0   # real pages

Stories: the hand-written labelled articles of eval/data/clustering (grouped by event) plus the
fixture stories in tests/data/articles; with --pages, one story per real page instead (its text
from digest.extract, navigation and promos as served). Loads are timed in fresh subprocesses so
that imports count; latency is timed in this process, one story per call after one warm-up
story, and once more with every story in one batched call. Stories that are not English get
rule-based labels without the model, so the model-labelled ones are reported apart; CPU time
counts every thread, so on a loaded machine it shows the work that wall time hides; it is
also split by model (the compressor, the embedder, label scoring). Peak RSS is the process's
maximum resident set. Prints a Markdown table.

    ... --outputs run.jsonl              # every story's headline, bullets, labels: diff two runs
    ... --compressor-dtype float32       # the compressor's MiniLM in float32 (default: auto)
"""

from __future__ import annotations

import argparse
import gzip
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
from digest.runtime import usable_cpus  # noqa: E402
from digest.summarize import ModelSummarizer  # noqa: E402
from digest.summarize.articles import article_from_text  # noqa: E402

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
        "--pages",
        type=Path,
        help="one story per real page in this folder (e.g. ../shared/data/pages) instead of "
        "the fixture stories",
    )
    parser.add_argument(
        "--embed-dtype",
        choices=["auto", "float32", "bfloat16"],
        default="auto",
        help="the MiniLM embedder's dtype (auto: what the App's embedder uses)",
    )
    parser.add_argument(
        "--compressor-dtype",
        choices=["auto", "float32", "bfloat16"],
        default=None,
        help="the compressor's MiniLM dtype (default: what load_compressor gives a digest)",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        help="write every story's headline, bullets and labels here (JSON lines), to diff runs",
    )
    parser.add_argument(
        "--compressor",
        choices=["checked", "minilm", "rules"],
        default="checked",
        help="what shortens bullets (checked: what build_summarizer gives the model backend)",
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
    if args.loads:
        timed_load(args.cache_dir)  # builds the cache if it is missing; not counted
    warm = [timed_load(args.cache_dir) for _ in range(args.loads)]
    if warm:
        rows += load_rows(warm)

    all_stories = page_stories(args.pages) if args.pages else stories()
    embedder = None
    if args.embed:
        from digest.embed import build_embedder

        embedder = build_embedder("minilm", dtype=args.embed_dtype)
        embedder.embed(["warm up"])  # its load is the clustering stage's, not counted here
    from digest.summarize.compress_model import load_compressor

    options = {"dtype": args.compressor_dtype} if args.compressor_dtype else {}
    compressor = load_compressor(args.compressor, **options)
    compressor.compress(["A warm-up sentence loads the compressor."])  # not counted either
    summarizer = ModelSummarizer(
        SummarizerSettings(), args.cache_dir, embedder=embedder, compressor=compressor
    )
    model = summarizer.load()
    scoring = [0.0]
    # CPU seconds (all threads) a story spends in each model: compressor, embedder, labels.
    stage_cpu = {"compress": 0.0, "embed": 0.0, "labels": 0.0}

    def timed(original):  # type: ignore[no-untyped-def]
        def run(*a, **k):  # type: ignore[no-untyped-def]
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return original(*a, **k)
            finally:
                scoring[0] += time.perf_counter() - started
                stage_cpu["labels"] += time.process_time() - cpu_started

        return run

    # A story's labels are scored in one score_many call (score where a batch would not fit).
    model.score = timed(model.score)  # type: ignore[method-assign]
    model.score_many = timed(model.score_many)  # type: ignore[method-assign]
    # Sentences through MiniLM a story: the compressor's and the redundancy checks' (counts,
    # not times: they do not move with the load of a shared machine).
    counted = {"compressed": 0, "embedded": 0}

    def counting(original, key, stage):  # type: ignore[no-untyped-def]
        def run(texts):  # type: ignore[no-untyped-def]
            counted[key] += len(texts)
            cpu_started = time.process_time()
            try:
                return original(texts)
            finally:
                stage_cpu[stage] += time.process_time() - cpu_started

        return run

    compressor.compress = counting(compressor.compress, "compressed", "compress")  # type: ignore[method-assign]
    if embedder is not None:
        embedder.embed = counting(embedder.embed, "embedded", "embed")  # type: ignore[method-assign]
    summarizer.summarize(all_stories[:1])  # warm-up: builds the few-shot prefix cache
    load_before = os.getloadavg()
    latencies, cpu, labelled, bullets, label_seconds = [], [], [], 0, []
    compressed, embedded = [], []
    stages: dict[str, list[float]] = {k: [] for k in stage_cpu}
    outputs = []
    for story in all_stories:
        scoring[0] = 0.0
        counted.update(compressed=0, embedded=0)
        stage_cpu.update(dict.fromkeys(stage_cpu, 0.0))
        started, cpu_started = time.perf_counter(), time.process_time()
        [q] = summarizer.summarize([story])
        latencies.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        label_seconds.append(scoring[0])
        compressed.append(counted["compressed"])
        embedded.append(counted["embedded"])
        for k, v in stage_cpu.items():
            stages[k].append(v)
        outputs.append(
            {
                "story": story[0].key,
                "headline": q.headline,
                "bullets": [[b.label, b.text] for b in q.bullets],
                "deep_look": q.deep_look,
            }
        )
        if scoring[0] > 0:  # English: the model chose its labels
            labelled.append(len(latencies) - 1)
        bullets += len(q.bullets)
        print(
            f"{story[0].key}: {latencies[-1]:.2f} s, cpu {cpu[-1]:.2f} s, labels "
            + ", ".join(b.label for b in q.bullets),
            file=sys.stderr,
        )
    batched = None
    if not args.pages:  # real pages: the per-story runs are what counts, and they are slow
        started = time.perf_counter()
        summarizer.summarize(all_stories)
        batched = time.perf_counter() - started
    load_after = os.getloadavg()
    if args.outputs:
        args.outputs.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in outputs))

    def spread(values: list[float]) -> str:
        return (
            f"p50 {statistics.median(values):.2f} s, p90 {pct(values, 0.9):.2f} s"
            if values
            else "-"
        )

    n = len(all_stories)
    english = [latencies[i] for i in labelled]
    rows += [
        ("stories (articles)", f"{n} ({sum(len(s) for s in all_stories)}), {bullets} bullets"),
        (
            "words a story, median (max)",
            f"{statistics.median(sum(len(a.text.split()) for a in s) for s in all_stories):.0f} "
            f"({max(sum(len(a.text.split()) for a in s) for s in all_stories)})",
        ),
        ("per-story latency, all stories", spread(latencies)),
        (f"per-story latency, the {len(english)} labelled by the model", spread(english)),
        ("  of which label scoring", spread([label_seconds[i] for i in labelled])),
        ("per-story CPU time (all threads), labelled ones", spread([cpu[i] for i in labelled])),
        (
            "  of which compressor / embedder / label scoring (CPU)",
            " / ".join(
                f"p50 {statistics.median([stages[k][i] for i in labelled]):.2f} s"
                for k in ("compress", "embed", "labels")
            )
            if labelled
            else "-",
        ),
        (
            "sentences a story through MiniLM, labelled ones: compressed / embedded",
            f"median {statistics.median([compressed[i] for i in labelled]):.0f} / "
            f"{statistics.median([embedded[i] for i in labelled]):.0f}, "
            f"total {sum(compressed[i] for i in labelled)} / "
            f"{sum(embedded[i] for i in labelled)}"
            if labelled
            else "-",
        ),
        (
            "per-story, all stories in one batched call",
            f"{batched / n:.2f} s" if batched is not None else "(not run with --pages)",
        ),
        (
            "peak RSS (this process)",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
        ),
        (
            "load average (1 min) before / after the latency runs",
            f"{load_before[0]:.1f} / {load_after[0]:.1f}",
        ),
    ]
    print(f"| measure ({usable_cpus()} usable CPUs, torch threads {torch_threads()}) | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


def load_rows(warm: list[dict[str, float]]) -> list[tuple[str, str]]:
    """Table rows for the timed warm loads."""
    return [
        (
            f"warm load from cache, median of {len(warm)}",
            f"{statistics.median(w['load'] for w in warm):.2f} s",
        ),
        (
            "imports (torch, transformers, digest), median",
            f"{statistics.median(w['import'] for w in warm):.2f} s",
        ),
        (
            "warm load + imports, median",
            f"{statistics.median(w['load'] + w['import'] for w in warm):.2f} s",
        ),
        ("RSS after warm load", f"{statistics.median(w['rss_mb'] for w in warm):.0f} MB"),
    ]


def page_stories(folder: Path) -> list[list[Article]]:
    """One story per real page (`*.html` or `*.html.gz`), its text from the repo's extraction."""
    from digest.errors import ExtractError
    from digest.extract import extract_page

    out = []
    for path in sorted([*folder.glob("*.html.gz"), *folder.glob("*.html")]):
        raw = path.read_bytes()
        html = gzip.decompress(raw) if path.suffix == ".gz" else raw
        try:
            page = extract_page(html, path.name)
        except ExtractError as e:
            print(f"skipped {e}", file=sys.stderr)
            continue
        out.append(
            [
                Article(
                    key=path.name,
                    feed_url="",
                    url=None,
                    title=page.title or path.name,
                    text=page.text,
                    outlet=page.site_name or path.name.split(".")[0],
                    content_hash=content_hash(page.text),
                )
            ]
        )
    return out


def torch_threads() -> int:
    """How many threads torch computes with."""
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    raise SystemExit(main())
