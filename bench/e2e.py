"""The end-to-end benchmark: the real `digest run --dry-run` pipeline on the loopback news web.

Three runs against one state directory, as issue 6 defines them:
  run 1: 100 feeds x 20 items, a digest of 25 stories (everything is new)
  run 2: nothing new (every feed answers 304)
  run 3: 50 new items
For each run it prints, per stage (fetch, extract, cluster, rank, summarise, render), the wall
time, items per second and the peak RSS reached by the end of the stage, plus the total.

The pipeline runs in this process, through the same calls `digest run --dry-run` makes
(load_config -> build_app -> run_digest -> render), so stage timings are exact
(RunResult.timings). The news web runs in a child process so its CPU is not charged here.
The models are loaded once before run 1 and that load is its own row ("default models warm":
their on-disk caches exist; run `--warmup-only` once after install to build them).
`--cli` also times the three runs as real `digest run --dry-run` subprocesses (start-up,
imports and model loads included), and `--peers` / `--f1` run bench.peers and
bench.extraction_f1 on the same corpus and print ratios ours / theirs.

    python -m bench.e2e                       # the three runs
    python -m bench.e2e --cli --peers --f1    # everything `make bench` prints
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

# Runnable as `python bench/x.py` too: the checkout, not bench/, must be on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.newsweb import ServedWeb, serve_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("fetch", "extract", "cluster", "rank", "summarise", "render")
TARGETS = {"run 1": 90.0, "run 2": 5.0, "run 3": 20.0}
RSS_TARGET_MB = 2048.0


def default_model_cache() -> Path:
    """Where dequantised model weights are kept between benchmark runs (they outlive state).

    The same default as bench/summarize.py, so `make bench` builds the cache once for both."""
    env = os.environ.get("DIGEST_MODEL_CACHE")
    return Path(env).expanduser() if env else ROOT / "state" / "models"


def write_config(
    path: Path,
    feed_urls: Sequence[str],
    *,
    stories: int,
    summarizer: str,
    state_dir: Path,
    model_cache: Path,
) -> Path:
    """A config.toml with one digest over the news web's feeds and no destination."""
    feeds = "\n".join(f'  {{ url = "{u}" }},' for u in feed_urls)
    path.write_text(
        f'state_dir = "{state_dir}"\n\n'
        "[fetch]\n"
        "allow_private_addresses = true  # the news web is on 127.0.0.1\n\n"
        "[summarizer]\n"
        f'backend = "{summarizer}"\n'
        f'cache_dir = "{model_cache}"  # kept between runs: "default models warm"\n\n'
        "[[digest]]\n"
        'name = "bench"\n'
        f"max_stories = {stories}\n"
        f"feeds = [\n{feeds}\n]\n",
        encoding="utf-8",
    )
    return path


# --- measuring one run ----------------------------------------------------------------------


class RssSampler:
    """Samples this process's RSS in a thread; `mark()` returns the peak since the last mark."""

    def __init__(self, interval: float = 0.02) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._lock = threading.Lock()
        self._peak = self._overall = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = self._proc.memory_info().rss
            with self._lock:
                self._peak = max(self._peak, rss)
                self._overall = max(self._overall, rss)

    def mark(self) -> float:
        """Peak RSS in MB since the previous mark (the current RSS included)."""
        rss = self._proc.memory_info().rss
        with self._lock:
            peak = max(self._peak, rss)
            self._overall = max(self._overall, peak)
            self._peak = rss
        return peak / 2**20

    def reset_overall(self) -> float:
        """Start the overall peak afresh (after the model load); returns the peak until now."""
        with self._lock:
            peak = max(self._overall, self._proc.memory_info().rss)
            self._overall = self._peak = self._proc.memory_info().rss
        return peak / 2**20

    @property
    def overall_mb(self) -> float:
        """Peak RSS in MB since the sampler started."""
        with self._lock:
            return max(self._overall, self._proc.memory_info().rss) / 2**20

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class StageLog(logging.Handler):
    """Reads the pipeline's one INFO line per stage: its counts, and the RSS peak at its end."""

    PATTERN = re.compile(r"^(fetch|extract|cluster|rank|summarise): ")

    def __init__(self, sampler: RssSampler) -> None:
        super().__init__(logging.INFO)
        self.sampler = sampler
        self.lines: dict[str, str] = {}
        self.rss: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._cpu_mark = time.process_time()

    def mark_cpu(self) -> float:
        """CPU seconds (all threads of this process) since the previous mark."""
        now = time.process_time()
        spent, self._cpu_mark = now - self._cpu_mark, now
        return spent

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        found = self.PATTERN.match(message)
        if found:
            stage = found.group(1)
            self.lines[stage] = message
            self.rss[stage] = max(self.rss.get(stage, 0.0), self.sampler.mark())
            self.cpu[stage] = self.cpu.get(stage, 0.0) + self.mark_cpu()


def _first_int(line: str | None, pattern: str) -> int | None:
    found = re.search(pattern, line or "")
    return int(found.group(1)) if found else None


@dataclass
class StageFigure:
    """One stage of one run."""

    stage: str
    seconds: float
    items: int | None
    unit: str
    peak_rss_mb: float | None
    cpu_s: float | None = None  # CPU time of this process, all threads (> seconds when parallel)

    @property
    def per_second(self) -> float | None:
        """Items per second (None when the stage handled nothing countable)."""
        if not self.items or self.seconds <= 0:
            return None
        return self.items / self.seconds


@dataclass
class RunFigure:
    """One whole run: its stages, total wall time, peak RSS and what it did."""

    name: str
    stages: list[StageFigure]
    total_s: float
    cpu_s: float
    peak_rss_mb: float
    new_articles: int
    stories_shown: int
    server: dict[str, int]
    log_lines: dict[str, str] = field(default_factory=dict)


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """What the server answered in between, leaving out the benchmark's own admin calls."""
    return {
        k: v - before.get(k, 0)
        for k, v in after.items()
        if v - before.get(k, 0) and not k.startswith("admin:")
    }


def measure_run(
    name: str, app: Any, digest: Any, web: ServedWeb, sampler: RssSampler, stage_log: StageLog
) -> RunFigure:
    """One dry run through the pipeline plus rendering, with its per-stage figures."""
    from digest.pipeline import run_digest
    from digest.render import render_html, render_markdown

    before = web.stats()
    stage_log.lines.clear()
    stage_log.rss.clear()
    stage_log.cpu.clear()
    sampler.mark()
    cpu_started = time.process_time()
    stage_log.mark_cpu()
    started = time.perf_counter()
    result = run_digest(app, digest, dry_run=True)
    render_started = time.perf_counter()
    stage_log.mark_cpu()  # the stretch after the last stage line (building the Digest)
    # The CLI prints Markdown for --dry-run; email/Slack would render HTML too: time both.
    render_markdown(result.digest)
    render_html(result.digest)
    render_s = time.perf_counter() - render_started
    total = time.perf_counter() - started
    render_cpu = stage_log.mark_cpu()
    cpu_total = time.process_time() - cpu_started
    render_rss = sampler.mark()
    server = _delta(web.stats(), before)
    lines = dict(stage_log.lines)
    timings = dict(result.timings)
    shown = len(result.digest.stories)
    requests = sum(v for k, v in server.items() if k.startswith(("feed:", "page:")))
    counts: dict[str, tuple[int | None, str]] = {
        "fetch": (requests, "requests"),
        "extract": (_first_int(lines.get("extract"), r"extract: (\d+) new items"), "articles"),
        "cluster": (_first_int(lines.get("cluster"), r"cluster: (\d+) new articles"), "articles"),
        "rank": (_first_int(lines.get("rank"), r"rank: (\d+) candidate"), "stories"),
        "summarise": (shown, "stories"),
        "render": (shown, "stories"),
    }
    stages = []
    for stage in STAGES:
        seconds = render_s if stage == "render" else timings.get(stage, 0.0)
        items, unit = counts[stage]
        rss = render_rss if stage == "render" else stage_log.rss.get(stage)
        cpu = render_cpu if stage == "render" else stage_log.cpu.get(stage)
        stages.append(StageFigure(stage, seconds, items, unit, rss, cpu))
    return RunFigure(
        name=name,
        stages=stages,
        total_s=total,
        cpu_s=cpu_total,
        peak_rss_mb=sampler.overall_mb,
        new_articles=result.new_articles,
        stories_shown=shown,
        server=server,
        log_lines=lines,
    )


def cluster_quality(app: Any, web: ServedWeb) -> dict[str, float]:
    """Pairwise precision/recall/F1 of the stories against the events the pages tell.

    A pair of articles is "together" when they share a story; the truth is the news web's
    event per page. Speed that came from merging too much or too little would show here.
    """
    from collections import Counter
    from urllib.parse import urlsplit

    truth = web.truth()
    # Through the state API, so the figure holds on either backend (bench/state_backends.py):
    # every story the clusterer indexed, with all the articles assigned to it.
    ever = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    story_ids = sorted({entry.story_id for entry in app.store.load_window(*ever)})
    stories = [s for s in map(app.store.load_story, story_ids) if s is not None]
    rows = [(a.url, story.id) for story in stories for a in story.articles]
    pairs = [(truth.get(urlsplit(url or "").path), story) for url, story in rows]
    pairs = [(e, s) for e, s in pairs if e is not None]

    def together(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = together(Counter(pairs))
    predicted = together(Counter(s for _, s in pairs))
    actual = together(Counter(e for e, _ in pairs))
    precision = both / predicted if predicted else 1.0
    recall = both / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "articles": len(pairs),
        "stories": len({s for _, s in pairs}),
        "events": len({e for e, _ in pairs}),
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": f1,
    }


def warm_models(app: Any) -> float:
    """Load the embedder and summariser now, so run 1 measures the pipeline, not the load."""
    started = time.perf_counter()
    embed = getattr(app.embedder, "embed", None)
    if embed is not None:
        embed(["Warm-up sentence for the embedder."])
    load = getattr(app.summarizer, "load", None)
    if callable(load):
        load()
    return time.perf_counter() - started


@contextmanager
def _pipeline_logs(handler: logging.Handler) -> Iterator[None]:
    logger = logging.getLogger("digest")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    """The three runs in this process; returns every figure."""
    from digest.app import build_app
    from digest.config import load_config

    out: dict[str, Any] = {"mode": "in-process"}
    with (
        tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp,
        serve_process(args.feeds, args.items, seed=args.seed, latency_ms=args.latency_ms) as web,
        RssSampler() as sampler,
    ):
        state = Path(tmp) / "state"
        config = load_config(
            write_config(
                Path(tmp) / "config.toml",
                web.feed_urls,
                stories=args.stories,
                summarizer=args.summarizer,
                state_dir=state,
                model_cache=args.model_cache,
            )
        )
        out["model_cache_existed"] = args.model_cache.exists() and any(args.model_cache.iterdir())
        out["rss_before_mb"] = sampler.mark()
        started = time.perf_counter()
        app = build_app(config, state_dir=state)
        out["build_app_s"] = time.perf_counter() - started
        out["model_load_s"] = warm_models(app)
        out["rss_after_load_mb"] = sampler.mark()
        # A cold cache build (dequantising) peaks far above a warm load; the runs' own peak
        # is measured from here, and the load's peak is reported on its own.
        out["load_peak_rss_mb"] = sampler.reset_overall()
        digest = config.get_digest("bench")
        stage_log = StageLog(sampler)
        runs = []
        try:
            with _pipeline_logs(stage_log):
                runs.append(measure_run("run 1", app, digest, web, sampler, stage_log))
                runs.append(measure_run("run 2", app, digest, web, sampler, stage_log))
                web.add_items(args.new)
                runs.append(measure_run("run 3", app, digest, web, sampler, stage_log))
            out["clusters"] = cluster_quality(app, web)
        finally:
            app.close()
        out["runs"] = [asdict(r) for r in runs]
        out["peak_rss_mb"] = sampler.overall_mb
    return out


# --- the same three runs as real `digest run --dry-run` processes ------------------------------


_CLI_STAGE = re.compile(
    r"INFO digest\.pipeline: (fetch|extract|cluster|rank|summarise): .* in "
    r"([\d.]+)s"
)


def _run_cli(config: Path) -> dict[str, Any]:
    """One `digest run --dry-run` process: wall time, its own peak RSS, stage seconds it logged."""
    cmd = [sys.executable, "-m", "digest", "run", "--dry-run", "--config", str(config)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        # The child's own RSS, sampled: RUSAGE_CHILDREN would mix all children together.
        child = psutil.Process(proc.pid)
        while not done.wait(0.02):
            try:
                peak[0] = max(peak[0], child.memory_info().rss)
            except psutil.Error:
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    stages: dict[str, float] = {}
    for match in _CLI_STAGE.finditer(stderr):
        stages[match.group(1)] = stages.get(match.group(1), 0.0) + float(match.group(2))
    return {
        "exit_code": proc.returncode,
        "wall_s": wall,
        "peak_rss_mb": peak[0] / 2**20,
        "logged_stage_s": stages,
        "stdout_chars": len(stdout),
        "stderr_tail": stderr.strip().splitlines()[-3:],
    }


def cli_runs(args: argparse.Namespace) -> dict[str, Any]:
    """The three runs as `python -m digest.cli run --dry-run` subprocesses (fresh state)."""
    out: dict[str, Any] = {"mode": "cli"}
    with (
        tempfile.TemporaryDirectory(prefix="digest-bench-cli-") as tmp,
        serve_process(args.feeds, args.items, seed=args.seed, latency_ms=args.latency_ms) as web,
    ):
        state = Path(tmp) / "state"
        config = write_config(
            Path(tmp) / "config.toml",
            web.feed_urls,
            stories=args.stories,
            summarizer=args.summarizer,
            state_dir=state,
            model_cache=args.model_cache,
        )
        runs = {"run 1": _run_cli(config), "run 2": _run_cli(config)}
        web.add_items(args.new)
        runs["run 3"] = _run_cli(config)
        out["runs"] = runs
    return out


# --- peers and F1, each in its own process (clean RSS, no shared imports) ----------------------


def _child_json(module: str, extra: Sequence[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        target = f.name
    try:
        cmd = [sys.executable, "-m", module, *extra, "--json", target]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-5:]}
        result = json.loads(Path(target).read_text(encoding="utf-8"))
        result["printed"] = proc.stdout
        return dict(result)
    finally:
        os.unlink(target)


# --- report -------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_runs(result: dict[str, Any]) -> None:
    """Per-stage tables, totals and targets."""
    cache = "warm" if result.get("model_cache_existed") else "COLD: first build of the cache"
    print(
        f"\nEnd to end, in-process: build_app {result['build_app_s']:.2f} s, "
        f"model load ({cache}) {result['model_load_s']:.2f} s, "
        f"RSS after load {result['rss_after_load_mb']:.0f} MB (peak during load "
        f"{result['load_peak_rss_mb']:.0f} MB)"
    )
    for run in result["runs"]:
        print(
            f"\n{run['name']}: {run['new_articles']} new articles, {run['stories_shown']} "
            f"stories shown; server answers: "
            + ", ".join(f"{k} x{v}" for k, v in sorted(run["server"].items()))
        )
        print(
            f"{'stage':<10} {'seconds':>8} {'items':>7} {'unit':<9} {'items/s':>9} "
            f"{'peak RSS MB':>12} {'CPU s':>7}"
        )
        for s in run["stages"]:
            fig = StageFigure(**s)
            print(
                f"{fig.stage:<10} {fig.seconds:>8.2f} {_fmt(fig.items, 'd'):>7} {fig.unit:<9} "
                f"{_fmt(fig.per_second, '.1f'):>9} {_fmt(fig.peak_rss_mb, '.0f'):>12} "
                f"{_fmt(fig.cpu_s, '.2f'):>7}"
            )
        target = TARGETS.get(run["name"])
        verdict = ""
        if target is not None:
            missed = run["total_s"] - target
            verdict = f"  target <= {target:.0f} s: " + (
                "met" if missed <= 0 else f"MISSED by {missed:.1f} s"
            )
        print(
            f"{'total':<10} {run['total_s']:>8.2f}{'':>39} {run['peak_rss_mb']:>4.0f} "
            f"{run['cpu_s']:>7.2f}{verdict}"
        )
    q = result.get("clusters")
    if q:
        print(
            f"\nstories vs the events the pages tell (after run 3): {q['articles']} articles, "
            f"{q['stories']} stories for {q['events']} events; pairwise precision "
            f"{q['pair_precision']:.3f}, recall {q['pair_recall']:.3f}, F1 {q['pair_f1']:.3f}"
        )
    peak = result["peak_rss_mb"]
    print(
        f"\npeak RSS over the three runs {peak:.0f} MB: target <= {RSS_TARGET_MB:.0f} MB "
        + ("met" if peak <= RSS_TARGET_MB else "MISSED")
    )


def print_cli(result: dict[str, Any]) -> None:
    """Wall time of real `digest run --dry-run` processes."""
    print("\nThe same runs as `digest run --dry-run` processes (start-up, imports, loads included)")
    print(f"{'run':<6} {'wall s':>7} {'exit':>5} {'peak RSS MB':>12}  logged stage seconds")
    for name, run in result["runs"].items():
        stages = " ".join(f"{k} {v:.1f}" for k, v in run["logged_stage_s"].items())
        target = TARGETS[name]
        verdict = "met" if run["wall_s"] <= target else f"missed by {run['wall_s'] - target:.1f} s"
        print(
            f"{name:<6} {run['wall_s']:>7.2f} {run['exit_code']:>5} "
            f"{run['peak_rss_mb']:>12.0f}  {stages}  (target {target:.0f} s: {verdict})"
        )
        if run["exit_code"]:
            print("       " + " | ".join(run["stderr_tail"]))


def print_ratios(
    runs: dict[str, Any], peers: dict[str, Any] | None, f1: dict[str, Any] | None
) -> None:
    """Ours / theirs: time per article and extraction F1."""
    print("\nRatios, ours / theirs (lower time is better, higher F1 is better)")
    first = runs["runs"][0]
    stage_s = {s["stage"]: s["seconds"] for s in first["stages"]}
    n = max(1, first["new_articles"])
    ours_fetch_parse = 1000 * (stage_s["fetch"] + stage_s["extract"]) / n
    ours_total = 1000 * first["total_s"] / n
    print(
        f"ours run 1: fetch+extract {ours_fetch_parse:.1f} ms/article; whole run "
        f"{ours_total:.1f} ms/article ({n} articles, {first['stories_shown']} summarised)"
    )
    if peers and "newspaper4k" in peers:
        np4k = peers["newspaper4k"]
        k = max(1, np4k["articles"])
        dp = 1000 * (np4k["download_s"] + np4k["parse_s"]) / k
        full = 1000 * (np4k["download_s"] + np4k["parse_s"] + np4k["nlp_s"]) / k
        print(
            f"newspaper4k: download+parse {dp:.1f} ms/article; +nlp {full:.1f} ms/article "
            f"({k} articles, one after another)"
        )
        print(f"ratio fetch+extract vs download+parse: {ours_fetch_parse / dp:.2f}")
        print(f"ratio whole run vs download+parse+nlp: {ours_total / full:.2f}")
        seq, ours = peers["fetch"]
        print(
            f"fetching feeds+pages: ours {ours['seconds']:.2f} s vs sequential "
            f"{seq['seconds']:.2f} s, ratio {ours['seconds'] / seq['seconds']:.2f}"
        )
    elif peers:
        print(f"peers failed: {peers.get('error')}")
    if f1 and "extractors" in f1:
        ex = f1["extractors"]
        if "ours" in ex and "newspaper4k" in ex:
            o, t = ex["ours"]["word"]["f1"], ex["newspaper4k"]["word"]["f1"]
            print(
                f"extraction word F1 on {f1['pages']} pages: ours {o:.3f}, newspaper4k "
                f"{t:.3f}, ratio {o / max(t, 1e-9):.2f}"
            )
    elif f1:
        print(f"F1 failed: {f1.get('error')}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--new", type=int, default=50, help="items added before run 3")
    parser.add_argument("--stories", type=int, default=25, help="max_stories of the digest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--summarizer", choices=("model", "extractive"), default="model")
    parser.add_argument("--latency-ms", type=float, default=0, help="server wait per answer")
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=default_model_cache(),
        help="dequantised model cache kept between runs (env DIGEST_MODEL_CACHE)",
    )
    parser.add_argument("--cli", action="store_true", help="also time real CLI processes")
    parser.add_argument("--peers", action="store_true", help="also run bench.peers")
    parser.add_argument("--peers-sample", type=int, default=500, help="newspaper4k pages")
    parser.add_argument("--f1", action="store_true", help="also run bench.extraction_f1")
    parser.add_argument("--f1-pages", type=int, default=300)
    parser.add_argument("--json", help="write every figure to this file too")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from bench.extraction_f1 import free_cores

    load = os.getloadavg()
    free = free_cores()
    print(
        f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores free for us "
        f"(CPU-loop test): {free:.2f}"
    )
    report: dict[str, Any] = {"args": vars(args), "load_before": load, "free_cores_before": free}
    args.model_cache.mkdir(parents=True, exist_ok=True)
    report["in_process"] = in_process(args)
    print_runs(report["in_process"])
    if args.cli:
        report["cli"] = cli_runs(args)
        print_cli(report["cli"])
    common = ["--feeds", str(args.feeds), "--items", str(args.items), "--seed", str(args.seed)]
    peers = f1 = None
    if args.peers:
        peers = _child_json(
            "bench.peers",
            [*common, "--sample", str(args.peers_sample), "--latency-ms", str(args.latency_ms)],
        )
        report["peers"] = peers
        print(peers.get("printed", ""))
    if args.f1:
        f1 = _child_json(
            "bench.extraction_f1",
            ["--pages", str(args.f1_pages), "--parallel", "--seed", str(args.seed)],
        )
        report["f1"] = f1
        print(f1.get("printed", ""))
    print_ratios(report["in_process"], peers, f1)
    load = os.getloadavg()
    free = free_cores()
    report["load_after"] = load
    report["free_cores_after"] = free
    print(
        f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores free for us: "
        f"{free:.2f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
