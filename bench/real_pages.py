"""A first `digest run --dry-run` over real article pages served on 127.0.0.1: time and peak RSS.

The pages (`*.html.gz` / `*.html`, e.g. ../shared/data/pages: real pages as served, navigation,
promos and all) are shared out over a few RSS feeds on a loopback HTTP server in this process;
`digest run --dry-run` runs as a child process with a fresh state folder (everything is new)
and the default models' caches warm. Printed: wall time, the stage times the run logged, and
the peak RSS of the run's whole process tree (its extraction workers included), sampled
every 20 ms.

    python bench/real_pages.py --pages ../shared/data/pages [--feeds 5] [--stories 25]
"""

from __future__ import annotations

import argparse
import gzip
import html
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.e2e import default_model_cache, write_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def load_pages(folder: Path) -> dict[str, bytes]:
    """Page name (without .gz) -> its HTML bytes."""
    pages = {}
    for path in sorted([*folder.glob("*.html.gz"), *folder.glob("*.html")]):
        raw = path.read_bytes()
        name = path.name.removesuffix(".gz")
        pages[name if name.endswith(".html") else name + ".html"] = (
            gzip.decompress(raw) if path.suffix == ".gz" else raw
        )
    return pages


def feed_xml(base: str, names: list[str], pages: dict[str, bytes], k: int) -> bytes:
    """An RSS 2.0 feed linking to the pages, titled from each page's <title>."""
    items = []
    for i, name in enumerate(names):
        match = _TITLE.search(pages[name])
        title = match.group(1).decode("utf-8", "replace").strip() if match else name
        title = html.escape(" ".join(html.unescape(title).split()) or name)
        when = formatdate(time.time() - 600 * (i + 1), usegmt=True)
        items.append(
            f"<item><title>{title}</title><link>{base}/p/{name}</link>"
            f"<guid>{base}/p/{name}</guid><pubDate>{when}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Real pages {k}</title><link>{base}/</link><description>bench</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def serve(pages: dict[str, bytes], feeds: int) -> tuple[ThreadingHTTPServer, list[str]]:
    """Start the loopback server; returns it and the feed URLs."""
    names = sorted(pages)
    shares = [names[k::feeds] for k in range(feeds)]
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    bodies = {f"/feed{k}.xml": feed_xml(base, s, pages, k) for k, s in enumerate(shares)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path in bodies:
                body, kind = bodies[self.path], "application/rss+xml"
            elif self.path.startswith("/p/") and self.path[3:] in pages:
                body, kind = pages[self.path[3:]], "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, [base + path for path in bodies]


def run_digest(config: Path) -> dict[str, object]:
    """`digest run --dry-run` as a child process: wall time, stage log lines, peak tree RSS."""
    cmd = [sys.executable, "-m", "digest", "run", "--dry-run", "--config", str(config)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        root = psutil.Process(proc.pid)
        while not done.wait(0.02):
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                continue

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    stages = re.findall(r"digest\.pipeline: ((?:fetch|extract|cluster|rank|summarise):.*)", stderr)
    return {
        "exit": proc.returncode,
        "wall": wall,
        "peak_mb": peak[0] / 2**20,
        "stages": stages,
        "stories": stdout.count("\n## "),
        "tail": stderr.strip().splitlines()[-3:],
    }


def main() -> int:
    """Serve the pages, run one first digest over them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--stories", type=int, default=25, help="max_stories of the digest")
    args = parser.parse_args()
    pages = load_pages(args.pages)
    if not pages:
        print(f"error: no *.html or *.html.gz pages in {args.pages}", file=sys.stderr)
        return 1
    server, feed_urls = serve(pages, args.feeds)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(
                Path(tmp) / "config.toml",
                feed_urls,
                stories=args.stories,
                summarizer="model",
                state_dir=Path(tmp) / "state",
                model_cache=default_model_cache(),
            )
            load = os.getloadavg()[0]
            result = run_digest(config)
    finally:
        server.shutdown()
    print(f"{len(pages)} real pages in {args.feeds} feeds, max_stories {args.stories}")
    print(f"exit {result['exit']}, {result['stories']} stories in the digest")
    print(f"wall {result['wall']:.1f} s, peak RSS (process tree) {result['peak_mb']:.0f} MB")
    print(f"load average (1 min) at the start: {load:.1f}; {len(os.sched_getaffinity(0))} CPUs")
    for line in result["stages"]:  # type: ignore[attr-defined]
        print("  " + line)
    if result["exit"]:
        print("\n".join(result["tail"]), file=sys.stderr)  # type: ignore[arg-type]
    return int(result["exit"])  # type: ignore[call-overload]


if __name__ == "__main__":
    raise SystemExit(main())
