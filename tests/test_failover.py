"""Replicas of `digest serve` on one state, the leader SIGKILLed again and again (issue 12).

Three real `digest serve --standby` processes share one state (the SQLite file of one host, or
a real PostgreSQL as replicas on several hosts would); a one-minute
digest goes to two Slack channels (stand-in, bot token) and two addresses (a real SMTP server);
both answer slowly so kills land inside deliveries. After every kill another replica must take
the lease, and in the end every minute's story must have reached every destination once, by
the README's rules per destination type (tests/failover.py says which).

The default run makes FAILOVER_KILLS kills (4 on SQLite, 2 on Postgres) and FAILOVER_PAUSES
pauses (1: SIGSTOP past the lease, then SIGCONT) per backend, about three minutes each;
`bench/failover.py --kills 20 --pauses 3` makes the full run.
"""

from __future__ import annotations

import os

import pytest
from failover import run_failover

from digest.store import Store


@pytest.mark.slow  # minutes, and the replicas load MiniLM: `make test` leaves it to CI
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_killing_the_leader_loses_and_doubles_nothing(tmp_path, backend, request):
    # SQLite: the replicas share the state file, as on one host. Postgres: a real server
    # (tests/servers.py), as replicas on several hosts would.
    if backend == "postgres" and "postgres" not in Store.backends:
        pytest.skip("the state API has no Postgres backend in this checkout")
    state_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    # Fewer on Postgres: the same code paths, and CI runs both (bench/failover.py runs 20+).
    kills = int(os.environ.get("FAILOVER_KILLS", "4" if backend == "sqlite" else "2"))
    outcome = run_failover(
        tmp_path,
        kills=kills,
        seed=int(os.environ.get("FAILOVER_SEED", "12")),
        state_url=state_url,
        pauses=int(os.environ.get("FAILOVER_PAUSES", "1")),
    )
    print(f"{backend}: {outcome.summary()}")
    assert not outcome.problems, "\n".join([*outcome.problems, outcome.logs])
    assert len(outcome.kills) == kills
    assert all(k.takeover is not None for k in outcome.kills)
    # The harness did make kills land inside deliveries (every other one waits for one).
    assert sum(k.mid_delivery for k in outcome.kills) >= kills // 2, outcome.summary()
    assert outcome.stories > len(outcome.periods)  # the demo stories and one per minute
    # A leader stopped past its lease (SIGSTOP) was replaced, and ended once let go on.
    assert all(p.takeover is not None and p.exit_code in (1, 75) for p in outcome.pauses)


if __name__ == "__main__":
    pytest.main([__file__, "-q", "-s"])
