"""How a run's time grows with the size of one teaser feed (issue 16): 1k, 5k and 20k items.

One feed on 127.0.0.1 (tests/bigfeed.py) whose items are teasers linking to their own pages,
served from a child thread. For each size a fresh state gets one real `run_digest`: fetch, the
newest `max_items_per_feed` entries parsed, up to `max_page_fetches_per_run` pages fetched and
extracted, stored, clustered with MiniLM, ranked, summarised (extractive) and delivered to an
in-memory destination. It prints the feed's size, what was stored and shown, the stage times
and the total, then the time per feed megabyte (the part that must stay linear) and per
stored article.

    python bench/feed_items.py                     # 1000, 5000, 20000 items, default caps
    python bench/feed_items.py --items 1000 --max-items 1000 --page-budget 1000   # uncapped
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bigfeed import big_site  # noqa: E402

from digest.app import build_app  # noqa: E402
from digest.config import parse_config  # noqa: E402
from digest.deliver.local import MemoryNotifier  # noqa: E402
from digest.pipeline import run_digest  # noqa: E402

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
STAGES = ("fetch", "extract", "cluster", "rank", "summarise", "deliver")


def one_run(n: int, max_items: int, page_budget: int, embedder: object) -> dict:
    with tempfile.TemporaryDirectory() as state, big_site(n, NOW) as site:
        config = parse_config(
            {
                "state_dir": state,
                "fetch": {
                    "allow_private_addresses": True,
                    "max_items_per_feed": max_items,
                    "max_page_fetches_per_run": page_budget,
                },
                "summarizer": {"backend": "extractive"},
                "digest": [{"name": "big", "feeds": [{"url": site.feed_url}]}],
            },
            "bench.toml",
        )
        sink = MemoryNotifier("memory")
        app = build_app(
            config,
            clock=lambda: NOW,
            embedder=embedder,
            local_notifier_factory=lambda d: sink,
        )
        try:
            started = time.perf_counter()
            result = run_digest(app, config.digest[0])
            total = time.perf_counter() - started
            stored = app.store.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        finally:
            app.close()
        return {
            "items": n,
            "feed_mb": len(site.feed) / 1e6,
            "pages": len(site.pages_fetched()),
            "stored": stored,
            "shown": len(result.digest.stories),
            "total": total,
            "problems": [p for p in result.problems if "feed " in p[:5]],
            **{s: result.timings.get(s, 0.0) for s in STAGES},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--max-items", type=int, default=100, help="fetch.max_items_per_feed")
    parser.add_argument(
        "--page-budget", type=int, default=300, help="fetch.max_page_fetches_per_run"
    )
    args = parser.parse_args()

    from digest.embed import build_embedder

    embedder = build_embedder("minilm")
    embedder.embed(["warm up"])  # the model load is not the feed's cost
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"max_items_per_feed={args.max_items} max_page_fetches_per_run={args.page_budget}; "
        "seconds per stage"
    )
    header = ["items", "feed MB", "pages", "stored", "shown", *STAGES, "total"]
    print(" | ".join(header))
    rows = []
    for n in args.items:
        r = one_run(n, args.max_items, args.page_budget, embedder)
        rows.append(r)
        print(
            f"{r['items']} | {r['feed_mb']:.1f} | {r['pages']:.0f} | {r['stored']:.0f} | "
            f"{r['shown']:.0f} | "
            + " | ".join(f"{r[s]:.1f}" for s in STAGES)
            + f" | {r['total']:.1f}",
            flush=True,
        )
        for line in r["problems"][:3]:
            print(f"    {line}", flush=True)
    for r in rows:
        print(
            f"{r['items']} items: {r['total'] / r['feed_mb']:.1f} s per feed MB, "
            f"{r['total'] / max(r['stored'], 1):.3f} s per stored article"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
