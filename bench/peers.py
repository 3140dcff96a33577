"""What users would otherwise run, measured on the same loopback news web.

- newspaper4k: for every article page, `download()` + `parse()` + `nlp()` (its keyword and
  extractive summary step), one article after another, as its README shows. Images are not
  fetched (`fetch_images=False`): digest fetches none either, so both sides do the same I/O.
- a sequential fetch baseline: one httpx.Client, one request at a time, over the feeds and
  the pages the feeds list (what a plain feed reader would do without concurrency).
- a plain feed-to-email baseline: the feeds fetched one at a time and parsed by feedparser,
  nothing else (rss2email's shape); the cheapest possible run, with no page text at all.
- ours for the same fetches: digest.fetch.Fetcher.fetch_many (bounded thread concurrency).

Offline: newspaper4k's nlp() wants NLTK's trained "punkt" data, which comes only from a download
outside the package registries. It is given NLTK's Punkt tokenizer with a small hand-written
abbreviation list instead (same algorithm and cost, untrained parameters), and tldextract is
kept to its bundled suffix list. Run alone (needs nothing else running):

    python -m bench.peers --feeds 100 --items 20 [--sample 500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psutil

# Runnable as `python bench/x.py` too: the checkout, not bench/, must be on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.newsweb import serve_process  # noqa: E402

ABBREVIATIONS = {
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "gov",
    "gen",
    "sen",
    "rep",
    "u.s",
    "u.k",
    "e.g",
    "i.e",
    "vs",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}


class PeakRss:
    """Samples this process's RSS in a thread while the block runs; `.mb` is the peak.

    ru_maxrss would not do: a child forked from a big parent starts with the parent's RSS.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self._peak = max(self._peak, self._proc.memory_info().rss)
            if self._stop.wait(self._interval):
                return

    @property
    def mb(self) -> float:
        """Peak RSS in MB so far."""
        return max(self._peak, self._proc.memory_info().rss) / 2**20

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def offline_newspaper() -> ModuleType:
    """Import newspaper4k so that it reaches nothing beyond 127.0.0.1."""
    # An empty list makes tldextract use its bundled snapshot instead of downloading the
    # public suffix list; it reads this once, when tldextract is first imported.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    import newspaper
    from newspaper import nlp
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    if not hasattr(nlp.split_sentences, "_tokenizer"):
        params = PunktParameters()
        params.abbrev_types = set(ABBREVIATIONS)
        # newspaper4k caches its tokenizer on this attribute; setting it first skips its
        # nltk.download("punkt"), which would go to the internet.
        nlp.split_sentences._tokenizer = PunktSentenceTokenizer(params)  # type: ignore[attr-defined]
    return newspaper


@dataclass(frozen=True)
class NewspaperResult:
    """newspaper4k over n article URLs: seconds per step, failures and peak RSS."""

    articles: int
    download_s: float
    parse_s: float
    nlp_s: float
    failed: int
    empty_text: int
    peak_rss_mb: float

    @property
    def total_s(self) -> float:
        """Download + parse + nlp."""
        return self.download_s + self.parse_s + self.nlp_s


def run_newspaper(urls: Sequence[str], *, nlp: bool = True) -> NewspaperResult:
    """download() + parse() (+ nlp()) for each URL, one after another."""
    newspaper = offline_newspaper()
    download = parse = summarise = 0.0
    failed = empty = 0
    with PeakRss() as rss:
        for url in urls:
            article = newspaper.Article(url, fetch_images=False, language="en")
            t0 = time.perf_counter()
            try:
                article.download()
                t1 = time.perf_counter()
                article.parse()
                t2 = time.perf_counter()
                if nlp:
                    article.nlp()
                t3 = time.perf_counter()
            except newspaper.ArticleException:
                failed += 1
                download += time.perf_counter() - t0
                continue
            download += t1 - t0
            parse += t2 - t1
            summarise += t3 - t2
            empty += not article.text.strip()
    return NewspaperResult(len(urls), download, parse, summarise, failed, empty, rss.mb)


@dataclass(frozen=True)
class FetchRun:
    """One way of fetching a list of URLs: seconds, requests, failures and bytes."""

    name: str
    requests: int
    seconds: float
    failed: int
    megabytes: float


def sequential_fetch(urls: Sequence[str], name: str = "sequential httpx") -> FetchRun:
    """One httpx.Client, one request at a time."""
    failed = size = 0
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for url in urls:
            try:
                r = client.get(url)
                size += len(r.content)
                failed += r.status_code != 200
            except httpx.HTTPError:
                failed += 1
    return FetchRun(name, len(urls), time.perf_counter() - started, failed, size / 1e6)


def ours_fetch(urls: Sequence[str], concurrency: int = 8) -> FetchRun:
    """digest's Fetcher with its default concurrency, as the pipeline fetches."""
    from digest.config import FetchSettings
    from digest.fetch import Fetcher, FetchRequest, build_client

    settings = FetchSettings(allow_private_addresses=True, concurrency=concurrency)
    started = time.perf_counter()
    with build_client(settings) as client:
        results = Fetcher(client, settings).fetch_many(
            [FetchRequest(u, allow_private=True) for u in urls]
        )
    seconds = time.perf_counter() - started
    size = sum(len(r.content or b"") for r in results)
    failed = sum(r.status != "ok" for r in results)
    return FetchRun(f"digest Fetcher x{concurrency}", len(urls), seconds, failed, size / 1e6)


def feed_to_email_baseline(feed_urls: Sequence[str]) -> dict[str, float]:
    """Feeds fetched one at a time and parsed by feedparser: a feed-to-email tool's whole run."""
    import feedparser

    entries = 0
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for url in feed_urls:
            entries += len(feedparser.parse(client.get(url).content).entries)
    seconds = time.perf_counter() - started
    return {"feeds": len(feed_urls), "entries": entries, "seconds": seconds}


def sample(urls: Sequence[str], n: int | None) -> list[str]:
    """An evenly spread sample of n URLs (all of them when n is None or too big)."""
    if not n or n >= len(urls):
        return list(urls)
    step = len(urls) / n
    return [urls[int(i * step)] for i in range(n)]


def measure(
    feed_urls: Sequence[str], page_urls: Sequence[str], *, newspaper_sample: int | None
) -> dict[str, Any]:
    """Every peer figure on one corpus; the order keeps each measurement's caches cold-equal."""
    everything = list(feed_urls) + list(page_urls)
    out: dict[str, Any] = {"feeds": len(feed_urls), "pages": len(page_urls)}
    out["feed_to_email"] = feed_to_email_baseline(feed_urls)
    out["fetch"] = [asdict(sequential_fetch(everything)), asdict(ours_fetch(everything))]
    chosen = sample(page_urls, newspaper_sample)
    out["newspaper4k"] = asdict(run_newspaper(chosen))
    return out


def print_report(result: dict[str, Any]) -> None:
    """Human-readable figures (the JSON holds the same)."""
    f2e = result["feed_to_email"]
    print(f"\nPeers on {result['feeds']} feeds, {result['pages']} article pages (loopback)")
    print(
        f"feed-to-email baseline (sequential fetch + feedparser, no pages): "
        f"{f2e['seconds']:.2f} s for {f2e['entries']} entries = "
        f"{1000 * f2e['seconds'] / max(1, f2e['entries']):.2f} ms/entry"
    )
    print(f"\n{'fetch':<24} {'requests':>8} {'seconds':>8} {'req/s':>8} {'failed':>6} {'MB':>7}")
    for run in result["fetch"]:
        print(
            f"{run['name']:<24} {run['requests']:>8} {run['seconds']:>8.2f} "
            f"{run['requests'] / run['seconds']:>8.1f} {run['failed']:>6} {run['megabytes']:>7.1f}"
        )
    seq, ours = result["fetch"]
    print(f"ratio ours/sequential (time): {ours['seconds'] / seq['seconds']:.2f}")
    n = result["newspaper4k"]
    per = 1000 / max(1, n["articles"])
    print(
        f"\nnewspaper4k over {n['articles']} articles: download {n['download_s']:.1f} s, "
        f"parse {n['parse_s']:.1f} s, nlp {n['nlp_s']:.1f} s; "
        f"{per * (n['download_s'] + n['parse_s']):.1f} ms/article download+parse, "
        f"{per * (n['download_s'] + n['parse_s'] + n['nlp_s']):.1f} ms/article with nlp; "
        f"failed {n['failed']}, empty text {n['empty_text']}, peak RSS {n['peak_rss_mb']:.0f} MB"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a news web in a child process and measure the peers on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=None, help="newspaper4k on n pages only")
    parser.add_argument("--latency-ms", type=float, default=0, help="server wait per answer")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)
    with serve_process(args.feeds, args.items, seed=args.seed, latency_ms=args.latency_ms) as web:
        result = measure(web.feed_urls, web.page_urls(), newspaper_sample=args.sample)
    print_report(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
