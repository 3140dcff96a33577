"""What sizing torch from the wrong CPU count costs, and what digest.runtime's sizing gains.

Each case embeds the demo's sentences with MiniLM (the clustering stage's model) in a fresh
process, after loading it, three times; the median wall time is printed. Cases:

- `taskset -c 0` (one CPU, as under a 1-CPU container quota): torch sized for 2 threads (the
  host's count, what a cgroup quota does not change) vs for 1 (digest.runtime.usable_cpus);
- both CPUs with a competing CPU-bound process: 2 threads with GNU OpenMP's default spin-wait,
  2 threads with OMP_WAIT_POLICY=PASSIVE (what digest sets), and 1 thread;
- both CPUs, no competitor added: spin vs passive, to see what passive costs when idle.

    python bench/cpus.py [--copies 5] [--repeats 3]

On a shared machine the "no competitor" case is not idle: print `uptime` next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, os, statistics, sys, time
from digest.embed import MiniLMEmbedder
threads, copies, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = json.loads(open(sys.argv[4]).read())["articles"]
texts = [s for a in data for s in " ".join(a["paragraphs"]).split(". ") if s] * copies
e = MiniLMEmbedder(threads=threads, dtype="float32")
t = time.perf_counter(); e.embed(texts[:2]); load = time.perf_counter() - t
times = []
for _ in range(repeats):
    t = time.perf_counter(); e.embed(texts); times.append(time.perf_counter() - t)
import torch
print(json.dumps({"texts": len(texts), "load": load, "median": statistics.median(times),
                  "torch_threads": torch.get_num_threads()}))
"""


def _busy() -> subprocess.Popen[bytes]:
    """A CPU-bound competitor: another process that wants a whole CPU."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _case(threads: int, policy: str | None, args: argparse.Namespace, pin: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    # digest sets PASSIVE with setdefault; an explicit value here decides the case.
    env["OMP_WAIT_POLICY"] = policy or "ACTIVE"
    data = ROOT / "digest" / "demo_data" / "articles.json"
    cmd = [sys.executable, "-c", WORKER, str(threads), str(args.copies), str(args.repeats)]
    cmd.append(str(data))
    if pin:
        cmd = ["taskset", "-c", str(sorted(os.sched_getaffinity(0))[0]), *cmd]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=5, help="demo sentences x this many")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"CPUs: host {os.cpu_count()}, affinity {len(os.sched_getaffinity(0))}; ", end="")
    print(f"load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    cases = [
        ("taskset -c 0", 2, "ACTIVE", True, False, "sized from the host (oversubscribed)"),
        ("taskset -c 0", 1, "ACTIVE", True, False, "sized from usable CPUs"),
        ("+1 busy process", 2, "ACTIVE", False, True, "2 threads, spin-wait (torch default)"),
        ("+1 busy process", 2, "PASSIVE", False, True, "2 threads, passive wait (digest)"),
        ("+1 busy process", 1, "PASSIVE", False, True, "1 thread"),
        ("no competitor added", 2, "ACTIVE", False, False, "2 threads, spin-wait"),
        ("no competitor added", 2, "PASSIVE", False, False, "2 threads, passive wait"),
    ]
    print("| condition | torch threads | OMP wait | texts | embed (median) | case |")
    print("| --- | --- | --- | --- | --- | --- |")
    for condition, threads, policy, pin, busy, label in cases:
        competitor = _busy() if busy else None
        try:
            time.sleep(0.5 if busy else 0)
            r = _case(threads, policy, args, pin)
        finally:
            if competitor is not None:
                competitor.kill()
                competitor.wait()
        print(
            f"| {condition} | {r['torch_threads']} | {policy.lower()} | {r['texts']} | "
            f"{r['median']:.2f} s | {label} |",
            flush=True,
        )
    load = os.getloadavg()
    print(f"load average at end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
