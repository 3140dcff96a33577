"""Failover of `digest serve` replicas: SIGKILL the leader N times, time each takeover.

    python bench/failover.py --kills 20

Runs tests/failover.py's harness (three real `serve --standby` processes on one SQLite state, a
one-minute digest to the Slack stand-in and a real SMTP server, both slow enough for kills to land
mid-delivery) and prints one line per kill, the takeover times (kill to another replica holding
the lease: median, max) and the load average, then whether any story was lost or doubled.
Exit 1 when the deliveries broke the README's rules. `--postgres` puts the state in a throwaway
PostgreSQL cluster (Debian's packages, started as tests/servers.py does) instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from failover import run_failover  # noqa: E402
from servers import ServerUnavailable, start_postgres  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument(
        "--pauses", type=int, default=0, help="also SIGSTOP the leader past its lease this often"
    )
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--lease", type=float, default=8.0, help="[serve] lease_seconds")
    parser.add_argument("--hold", type=float, default=1.5, help="seconds a destination holds")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgres", action="store_true", help="the state in PostgreSQL")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="digest-failover-") as tmp:
        state_url = server = None
        if args.postgres:
            pg_dir = Path(tempfile.mkdtemp(prefix="digest-failover-pg-"))
            try:
                pg, server = start_postgres(pg_dir)
            except ServerUnavailable as error:
                print(f"postgres: {error}", file=sys.stderr)
                return 2
            state_url = pg.create_database()
            print(f"state: {state_url}", flush=True)
        try:
            outcome = run_failover(
                Path(tmp),
                kills=args.kills,
                replicas=args.replicas,
                lease=args.lease,
                hold=args.hold,
                seed=args.seed,
                log=lambda line: print(line, flush=True),
                max_seconds=3600,
                pauses=args.pauses,
                state_url=state_url,
            )
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
                shutil.rmtree(pg_dir, ignore_errors=True)
    times = outcome.takeovers
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if times:
        print(
            f"takeover (kill -> another replica holds the lease), lease {args.lease:g}s: "
            f"median {statistics.median(times):.2f}s, max {max(times):.2f}s, n={len(times)}"
        )
    print(outcome.summary())
    for problem in outcome.problems:
        print(f"PROBLEM: {problem}")
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
