"""The state on SQLite and on PostgreSQL, side by side (issue 12's targets).

1. A first digest of the loopback news web (100 feeds x 20 items by default) through
   `bench/e2e.py`'s in-process runs, once on a fresh SQLite state and once on a fresh
   PostgreSQL database (DIGEST_DATABASE_URL), each in its own process. Target: Postgres within
   1.3x the SQLite time.
2. The state API's hot paths on both: the known-keys lookup the fetch stage makes for every
   feed, and the ledger write made after every confirmed message.

PostgreSQL is a real throwaway cluster started from Debian's packages, as tests/servers.py does
for the tests (initdb as the postgres user when run as root), on a loopback TCP port, so each
statement crosses a socket as it would to a database server.

    python bench/state_backends.py [--feeds 100 --items 20] [--summarizer extractive]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from servers import Postgres, ServerUnavailable, start_postgres  # noqa: E402

from digest.store import Store  # noqa: E402


def first_digest(args: argparse.Namespace, database_url: str | None, out: Path) -> dict[str, Any]:
    """bench/e2e.py's three in-process runs in a child process; returns its JSON report."""
    env = {k: v for k, v in os.environ.items() if k != "DIGEST_DATABASE_URL"}
    if database_url:
        env["DIGEST_DATABASE_URL"] = database_url
    command = [
        sys.executable,
        str(ROOT / "bench" / "e2e.py"),
        "--feeds",
        str(args.feeds),
        "--items",
        str(args.items),
        "--summarizer",
        args.summarizer,
        "--json",
        str(out),
    ]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


def hot_paths(store: Store, repeat: int) -> dict[str, float]:
    """Median milliseconds of the known-keys lookup (2,000 keys) and of one ledger write."""
    keys = [f"https://news.example/item/{i}" for i in range(2000)]
    lookups = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.known_keys(keys)
        lookups.append((time.perf_counter() - started) * 1000)
    writes = []
    now = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    for i in range(repeat * 10):
        ids = [f"story-{i}-{j}" for j in range(5)]
        started = time.perf_counter()
        store.record_delivery(
            "slack:bench", ids, kind="story", digest="bench", ref=f"m{i}", now=now
        )
        writes.append((time.perf_counter() - started) * 1000)
    return {
        "known_keys_2000_ms": statistics.median(lookups),
        "ledger_write_5_stories_ms": statistics.median(writes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--summarizer", choices=("model", "extractive"), default="extractive")
    parser.add_argument("--repeat", type=int, default=20, help="hot-path repetitions")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    workdir = Path(tempfile.mkdtemp(prefix="digest-bench-pg-"))
    try:
        try:
            server, process = start_postgres(workdir)
        except ServerUnavailable as error:
            print(f"postgres: {error}", file=sys.stderr)
            return 1
        try:
            return run(args, server, workdir)
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, server: Postgres, workdir: Path) -> int:
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="digest-bench-state-") as tmp:
        for backend in ("sqlite", "postgres"):
            url = server.create_database() if backend == "postgres" else None
            report = first_digest(args, url, Path(tmp) / f"{backend}.json")
            first = report["in_process"]["runs"][0]
            stages = {s["stage"]: s["seconds"] for s in first["stages"]}
            figures[backend] = {
                "first_digest_s": first["total_s"],
                "new_articles": first["new_articles"],
                **{f"{name}_s": seconds for name, seconds in stages.items()},
            }
            store = Store.open(server.create_database() if url else Path(tmp) / "hot")
            try:
                figures[backend].update(hot_paths(store, args.repeat))
            finally:
                store.close()
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"first digest of {args.feeds} feeds x {args.items} items ({args.summarizer} summarizer)")
    names = sorted({k for f in figures.values() for k in f})
    print(f"{'figure':<28} {'sqlite':>10} {'postgres':>10} {'ratio':>7}")
    for name in names:
        a, b = figures["sqlite"].get(name), figures["postgres"].get(name)
        if a is None or b is None:
            continue
        ratio = f"{b / a:.2f}x" if a else "-"
        print(f"{name:<28} {a:>10.2f} {b:>10.2f} {ratio:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
