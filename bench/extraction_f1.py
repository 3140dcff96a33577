"""Extraction quality and cost on the news web's pages, whose body text is known.

Scores are counted the way the public article-extraction benchmark counts them: text is split
into `\\w+` tokens; for each page, true positives are the multiset intersection of predicted and
true n-grams, precision and recall are computed per page, averaged over pages, and F1 is taken
from the averaged precision and recall. n=1 is the word-level (bag-of-words) score; n=4 is the
shingle score that benchmark reports, which also punishes text put in the wrong order.

Compared: ours (digest.extract.extract_page, trafilatura underneath) and newspaper4k's parse.
`--parallel` also measures whether extraction across threads or processes pays on this machine.

    python -m bench.extraction_f1 --pages 300
    python -m bench.extraction_f1 --pages 200 --parallel
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Runnable as `python bench/x.py` too: the checkout, not bench/, must be on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.newsweb import NewsItem, NewsWeb  # noqa: E402

BASE = "http://127.0.0.1:8000"  # pages are rendered for this base; nothing is fetched here
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Word tokens as the public benchmark splits them (no case folding)."""
    return _TOKEN.findall(text or "")


def ngram_counts(text: str, n: int) -> Counter[tuple[str, ...]]:
    """Counts of the text's token n-grams (a text shorter than n is one short n-gram)."""
    toks = tokens(text)
    if not toks:
        return Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)))


def match(true: str, pred: str, n: int = 1) -> tuple[float, float, float]:
    """(tp, fp, fn) of predicted vs true n-grams, normalised so every page weighs the same."""
    t, p = ngram_counts(true, n), ngram_counts(pred, n)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def scores(matches: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    """Mean precision and recall over pages, and F1 from those means."""
    ps = [_precision(*m) for m in matches if m[0] + m[1] > 0]
    rs = [_recall(*m) for m in matches if m[0] + m[2] > 0]
    precision = statistics.fmean(ps) if ps else 0.0
    recall = statistics.fmean(rs) if rs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# --- extractors: HTML bytes + URL -> text ------------------------------------------------------


def ours(html: bytes, url: str) -> str:
    """digest's own extraction, as the pipeline calls it (with the configured default mode)."""
    from digest.config import ExtractSettings
    from digest.errors import ExtractError
    from digest.extract import extract_page

    try:
        return extract_page(html, url, favor_precision=ExtractSettings().favor_precision).text
    except ExtractError:
        return ""


def newspaper4k(html: bytes, url: str) -> str:
    """newspaper4k's parse of the same bytes (its download step is measured in bench.peers)."""
    from bench.peers import offline_newspaper

    newspaper = offline_newspaper()
    article = newspaper.Article(url, fetch_images=False)
    article.download(input_html=html.decode("utf-8"))
    article.parse()
    return str(article.text)


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {"ours": ours, "newspaper4k": newspaper4k}


@dataclass(frozen=True)
class Page:
    """One page to score: its bytes, URL, known body and layout."""

    url: str
    html: bytes
    gold: str
    layout: str


def sample_pages(web: NewsWeb, count: int) -> list[Page]:
    """`count` pages spread evenly over the web (so every layout and feed format is in it)."""
    originals: list[NewsItem] = [i for i in web.items if i.wire_of is None]
    step = max(1, len(originals) // max(1, count))
    chosen = originals[::step][:count]
    return [
        Page(BASE + i.path, web.render_page(i, BASE), web.gold_text(i), web.sites[i.site].layout)
        for i in chosen
    ]


def evaluate(pages: Sequence[Page], names: Sequence[str]) -> dict[str, dict[str, object]]:
    """Score each extractor on the pages: overall, per layout, and its time per page."""
    out: dict[str, dict[str, object]] = {}
    for name in names:
        extract = EXTRACTORS[name]
        extract(pages[0].html, pages[0].url)  # imports and lazy set-up are not per-page cost
        word, shingle = [], []
        by_layout: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        seconds = 0.0
        for page in pages:
            started = time.perf_counter()
            text = extract(page.html, page.url)
            seconds += time.perf_counter() - started  # scoring is not the extractor's time
            m1 = match(page.gold, text, 1)
            word.append(m1)
            shingle.append(match(page.gold, text, 4))
            by_layout[page.layout].append(m1)
        out[name] = {
            "word": scores(word),
            "shingle4": scores(shingle),
            "layouts": {k: scores(v)["f1"] for k, v in sorted(by_layout.items())},
            "ms_per_page": 1000 * seconds / len(pages),
        }
    return out


# --- parallel extraction: does it pay on this machine? ----------------------------------------


def _extract_one(args: tuple[bytes, str]) -> int:
    return len(ours(*args))


def _worker_init() -> None:
    import digest.extract  # noqa: F401  (imports trafilatura: paid once per worker, not per page)


def _nap(seconds: float) -> None:
    time.sleep(seconds)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def free_cores(workers: int = 2, n: int = 3_000_000) -> float:
    """How many cores this machine lends us right now: a pure-CPU loop on `workers` processes
    vs one. A shared machine gives less than its core count; read the other figures with it."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_spin, [1000] * workers))  # start the workers first
        started = time.perf_counter()
        list(pool.map(_spin, [n]))
        one = time.perf_counter() - started
        started = time.perf_counter()
        list(pool.map(_spin, [n] * workers))
        many = time.perf_counter() - started
    return workers * one / many


def measure_parallel(pages: Sequence[Page], workers: int = 2) -> dict[str, float]:
    """Seconds to extract every page sequentially, on `workers` threads and on processes."""
    work = [(p.html, p.url) for p in pages]
    _extract_one(work[0])
    timings: dict[str, float] = {"free cores before": free_cores(workers)}
    started = time.perf_counter()
    for item in work:
        _extract_one(item)
    timings["sequential"] = time.perf_counter() - started
    with ThreadPoolExecutor(workers) as pool:
        started = time.perf_counter()
        list(pool.map(_extract_one, work))
        timings[f"threads x{workers}"] = time.perf_counter() - started
    with ProcessPoolExecutor(workers, initializer=_worker_init) as pool:
        # Start and warm every worker first (a nap each keeps one worker from taking both):
        # a long-lived pool pays its start-up once per process, not per run.
        list(pool.map(_nap, [0.5] * workers))
        list(pool.map(_extract_one, work[: workers * 2], chunksize=1))
        started = time.perf_counter()
        list(pool.map(_extract_one, work, chunksize=8))
        timings[f"processes x{workers} (warm pool)"] = time.perf_counter() - started
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_extract_one, work, chunksize=8))
    timings[f"processes x{workers} (incl. start-up)"] = time.perf_counter() - started
    timings["free cores after"] = free_cores(workers)
    return timings


def print_report(results: dict[str, dict[str, object]], pages: int) -> None:
    """The table that goes into BENCHMARKS.md."""
    print(f"\nExtraction on {pages} generated pages with known body text")
    print(
        f"{'extractor':<12} {'word P':>7} {'word R':>7} {'word F1':>8} {'4-gram F1':>10} "
        f"{'ms/page':>8}"
    )
    for name, r in results.items():
        w, s = r["word"], r["shingle4"]
        assert isinstance(w, dict) and isinstance(s, dict)
        print(
            f"{name:<12} {w['precision']:>7.3f} {w['recall']:>7.3f} {w['f1']:>8.3f} "
            f"{s['f1']:>10.3f} {r['ms_per_page']:>8.1f}"
        )
    layouts = sorted({k for r in results.values() for k in r["layouts"]})  # type: ignore[union-attr]
    print("\nword F1 by page layout")
    print(f"{'extractor':<12} " + " ".join(f"{k:>9}" for k in layouts))
    for name, r in results.items():
        per = r["layouts"]
        assert isinstance(per, dict)
        print(f"{name:<12} " + " ".join(f"{per.get(k, float('nan')):>9.3f}" for k in layouts))
    if "ours" in results and "newspaper4k" in results:
        o, t = results["ours"], results["newspaper4k"]
        print(
            f"\nratio ours/newspaper4k: word F1 "
            f"{o['word']['f1'] / max(t['word']['f1'], 1e-9):.2f}, "  # type: ignore[index]
            f"time per page {o['ms_per_page'] / t['ms_per_page']:.2f}"  # type: ignore[operator]
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Score extraction on generated pages; optionally measure parallel extraction."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extractors", default="ours,newspaper4k")
    parser.add_argument("--parallel", action="store_true", help="also time threads/processes")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)
    web = NewsWeb(100, 20, seed=args.seed)
    pages = sample_pages(web, args.pages)
    results = evaluate(pages, args.extractors.split(","))
    print_report(results, len(pages))
    report: dict[str, object] = {"pages": len(pages), "extractors": results}
    if args.parallel:
        timings = measure_parallel(pages)
        print(
            f"\nExtracting {len(pages)} pages (ours) on {os.cpu_count()} cores; cores free for "
            f"us (CPU-loop test) before {timings['free cores before']:.2f}, after "
            f"{timings['free cores after']:.2f}"
        )
        base = timings["sequential"]
        for name, seconds in timings.items():
            if name.startswith("free cores"):
                continue
            print(
                f"{name:<36} {seconds:>7.2f} s  {len(pages) / seconds:>7.1f} pages/s  "
                f"x{base / seconds:.2f}"
            )
        report["parallel"] = timings
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
