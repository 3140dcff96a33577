"""Scale through the queue: a first digest of the loopback news web with 1, 2 and 4 workers.

For each worker count: a fresh state, a fresh Redis namespace, `digest worker --processes N`
as a real subprocess, and one `run_digest` (a dry run: delivery is not what is measured) in
this process, which holds the period, sends the tasks, stores and clusters. The news web runs
in its own process with `--latency-ms` waited before every answer, as a real site would make
us wait. Printed per run: the wall time of each stage, pages per second through the workers,
the speed-up over one worker, the workers' CPU seconds and peak RSS per process, this
process's CPU, and the load average before and after (the machine may be shared).

Then a paper estimate for 50,000 feeds from the measured per-item costs.

    python bench/scale.py                         # 1,000 feeds x 20 items, 50 ms, 1/2/4 workers
    python bench/scale.py --feeds 100 --workers 1 2 --in-process

The summariser is the extractive one and the embedder the hashing twin by default: what
scales here is fetching and extracting 20,000 pages; `--minilm` / `--model` use the real ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.newsweb import serve_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(url: str | None) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The given Redis, or a throwaway redis-server (no persistence) on loopback."""
    if url:
        return url, None
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench/scale.py: redis-server not found (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", proc


class ProcessSampler:
    """Peak RSS of each worker process (the children of `digest worker`), sampled in a thread."""

    def __init__(
        self, parent: psutil.Process, interval: float = 0.25, exclude: Sequence[int] = ()
    ) -> None:
        self.parent = parent
        self.interval = interval
        self.exclude = set(exclude)  # these processes and their children are not sampled
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def workers(self) -> list[psutil.Process]:
        try:
            found = self.parent.children(recursive=True)
        except psutil.Error:
            return []
        out = []
        for p in found:
            try:
                if p.pid in self.exclude or p.ppid() in self.exclude:
                    continue
            except psutil.Error:
                continue
            out.append(p)
        return out

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for p in self.workers():
                try:
                    self.peak[p.pid] = max(self.peak.get(p.pid, 0), p.memory_info().rss)
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    continue

    def __enter__(self) -> ProcessSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def worker_config(path: Path, url: str, namespace: str) -> Path:
    path.write_text(
        f'[queue]\nurl = "{url}"\nnamespace = "{namespace}"\ntimeout_seconds = 1800\n',
        encoding="utf-8",
    )
    return path


def digest_config(args: argparse.Namespace, feeds: Sequence[str], state: Path) -> dict[str, Any]:
    return {
        "state_dir": str(state),
        "fetch": {
            "allow_private_addresses": True,
            "max_page_fetches_per_run": 100_000,
            "concurrency": args.fetch_concurrency,
        },
        "summarizer": {"backend": "model" if args.model else "extractive"},
        "digest": [{"name": "scale", "max_stories": 25, "feeds": [{"url": u} for u in feeds]}],
    }


def _cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 when it is not ours to read)."""
    if pid is None:
        return 0.0
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)


def one_run(
    args: argparse.Namespace,
    web: Any,
    redis_url: str | None,
    workers: int,
    redis_pid: int | None = None,
) -> dict[str, Any]:
    """One first digest: through `workers` worker processes, or in this process (0)."""
    from digest.app import build_app
    from digest.config import parse_config
    from digest.embed import HashingEmbedder
    from digest.pipeline import run_digest

    out: dict[str, Any] = {"workers": workers, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as tmp:
        data = digest_config(args, web.feed_urls, Path(tmp) / "state")
        answered = web.stats().get("page:200", 0)
        proc = None
        sampler = None
        if workers:
            namespace = f"scale-{uuid.uuid4().hex[:8]}"
            data["queue"] = {"url": redis_url, "namespace": namespace, "timeout_seconds": 1800}
            env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGEST_QUEUE_URL": ""}
            log = open(Path(tmp) / "worker.log", "wb")  # noqa: SIM115 - closed below
            proc = subprocess.Popen(
                [sys.executable, "-m", "digest", "-q", "worker"]
                + ["--config", str(worker_config(Path(tmp) / "w.toml", redis_url, namespace))]
                + ["--processes", str(workers), "--threads", str(args.threads)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            sampler = ProcessSampler(psutil.Process(proc.pid)).__enter__()
            _wait_for_workers(redis_url or "", namespace, workers)
        config = parse_config(data, str(Path(tmp) / "config.toml"))
        embedder = None if args.minilm else HashingEmbedder()
        app = build_app(config, embedder=embedder)
        # The holder's own children (its pool reading articles for clustering), not the
        # workers, the news web or Redis.
        skip = [web.process.pid, *([redis_pid] if redis_pid else []), *([proc.pid] if proc else [])]
        pool = ProcessSampler(psutil.Process(os.getpid()), exclude=skip).__enter__()
        cpu0 = time.process_time()
        others0 = _cpu_s(web.process.pid), _cpu_s(redis_pid)
        started = time.perf_counter()
        try:
            result = run_digest(app, config.digest[0], dry_run=True)
        finally:
            wall = time.perf_counter() - started
            holder_cpu = time.process_time() - cpu0
            web_cpu = _cpu_s(web.process.pid) - others0[0]
            redis_cpu = _cpu_s(redis_pid) - others0[1]
            app.close()
            time.sleep(pool.interval * 2)
            pool.__exit__()
            if proc is not None and sampler is not None:
                time.sleep(sampler.interval * 2)  # one more sample of the workers' CPU
                sampler.__exit__()
                proc.terminate()
                proc.wait(60)
                log.close()
        out.update(
            wall_s=wall,
            holder_cpu_s=holder_cpu,
            holder_pool_cpu_s=sum(pool.cpu.values()),
            web_cpu_s=web_cpu,
            redis_cpu_s=redis_cpu,
            timings=result.timings,
            new_articles=result.new_articles,
            stories=len(result.digest.stories),
            problems=len(result.problems),
            load_after=os.getloadavg(),
            pages=web.stats().get("page:200", 0) - answered,
        )
        if sampler is not None:
            out["worker_cpu_s"] = sorted(sampler.cpu.values(), reverse=True)[:workers]
            out["worker_peak_rss_mb"] = [
                round(v / 2**20) for v in sorted(sampler.peak.values(), reverse=True)[:workers]
            ]
    return out


def _wait_for_workers(url: str, namespace: str, count: int, timeout: float = 120) -> None:
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = client.zrangebyscore(
            f"{namespace}:__heartbeats__", time.time() * 1000 - 3000, "+inf"
        )
        if len(alive) >= count:
            return
        time.sleep(0.2)
    sys.exit(f"bench/scale.py: {count} workers not polling after {timeout:.0f}s")


def print_runs(runs: Sequence[dict[str, Any]]) -> None:
    base = next((r for r in runs if r["workers"] == 1), None)
    print(
        "workers  wall s  pages s  pages/s  speed-up  cluster s  holder CPU s (+ pool)  "
        "worker CPU s (each)  worker peak RSS MB  web/redis CPU s  load before -> after"
    )
    for r in runs:
        t = r["timings"]
        page_s = t.get("extract", 0.0)
        rate = r["pages"] / page_s if page_s else 0.0
        speed = ""
        if base is not None and r["workers"] and base["timings"].get("extract"):
            speed = f"{base['timings']['extract'] / page_s:.2f}x"
        cpu = ", ".join(f"{c:.0f}" for c in r.get("worker_cpu_s", [])) or "-"
        rss = ", ".join(str(m) for m in r.get("worker_peak_rss_mb", [])) or "-"
        name = str(r["workers"]) if r["workers"] else "in-process"
        others = f"{r.get('web_cpu_s', 0.0):.0f} / {r.get('redis_cpu_s', 0.0):.0f}"
        holder = f"{r['holder_cpu_s']:.1f} + {r.get('holder_pool_cpu_s', 0.0):.1f}"
        lb = "/".join(f"{x:.1f}" for x in r["load_before"])
        la = "/".join(f"{x:.1f}" for x in r["load_after"])
        print(
            f"{name:>7}  {r['wall_s']:6.1f}  {page_s:7.1f}  {rate:7.1f}  {speed:>8}  "
            f"{t.get('cluster', 0.0):9.1f}  {holder:>19}  {cpu:>19}  {rss:>18}  "
            f"{others:>15}  {lb} -> {la}"
        )


def estimate(runs: Sequence[dict[str, Any]], feeds: int) -> None:
    """50,000 feeds from the measured per-item costs."""
    queued = [r for r in runs if r["workers"]]
    if not queued:
        return
    best = max(queued, key=lambda r: r["workers"])
    pages, items = best["pages"], best["new_articles"]
    worker_cpu_ms = 1000 * sum(best.get("worker_cpu_s", [0.0])) / max(pages, 1)
    holder_s = best["holder_cpu_s"] + best.get("holder_pool_cpu_s", 0.0)
    holder_cpu_ms = 1000 * holder_s / max(best["new_articles"], 1)
    per_feed_items = items / max(feeds, 1)
    big_items = 50_000 * per_feed_items
    big_pages = big_items * pages / max(items, 1)
    print()
    print(
        f"measured: {worker_cpu_ms:.1f} ms of worker CPU per page (fetch + extract, embedding "
        f"and summaries included), {holder_cpu_ms:.1f} ms of the holder's CPU per new item "
        f"(parse, store, cluster; its reading pool included), with {best['workers']} workers"
    )
    size = f"{big_items:,.0f} items, {big_pages:,.0f} pages"
    print(f"50,000 feeds x {per_feed_items:.0f} items = {size}:")
    for machines in (1, 2, 4, 8, 16):
        cores = machines * 2
        work_s = big_pages * worker_cpu_ms / 1000 / cores
        print(
            f"  {machines:>2} machine(s) x 2 cores of workers: {work_s / 60:6.1f} min of page work"
        )
    holder_min = big_items * holder_cpu_ms / 1000 / 60
    print(
        f"  the holder (parse, store, cluster on one machine) needs {holder_min:.0f} min of CPU "
        "whatever the workers: the ceiling past a few machines"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--fetch-concurrency", type=int, default=32, help="[fetch] concurrency")
    parser.add_argument("--in-process", action="store_true", help="also run without a queue")
    parser.add_argument("--redis", default=None, help="a Redis URL (default: start one)")
    parser.add_argument("--minilm", action="store_true", help="embed with MiniLM")
    parser.add_argument("--model", action="store_true", help="summarise with the model")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    redis_url, redis_proc = start_redis(args.redis)
    runs = []
    try:
        with serve_process(args.feeds, args.items, latency_ms=args.latency_ms) as web:
            print(
                f"news web: {args.feeds} feeds x {args.items} items, "
                f"{args.latency_ms:g} ms per answer; {psutil.cpu_count()} CPUs; "
                f"load {'/'.join(f'{x:.1f}' for x in os.getloadavg())}",
                flush=True,
            )
            order = ([0] if args.in_process else []) + list(args.workers)
            for n in order:
                pid = redis_proc.pid if redis_proc is not None else None
                runs.append(one_run(args, web, redis_url, n, pid))
                print(json.dumps(runs[-1], default=str), flush=True)
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
    print()
    print_runs(runs)
    estimate(runs, args.feeds)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
