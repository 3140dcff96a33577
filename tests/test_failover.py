"""Replicas of `digest serve` on one state, the leader SIGKILLed again and again (issue 12).

Three real `digest serve --standby` processes share the SQLite state of one host; a one-minute
digest goes to two Slack channels (stand-in, bot token) and two addresses (a real SMTP server);
both answer slowly so kills land inside deliveries. After every kill another replica must take
the lease, and in the end every minute's story must have reached every destination once, by
the README's rules per destination type (tests/failover.py says which).

The default run makes FAILOVER_KILLS kills (6: about three minutes); `.ci/run` and
`bench/failover.py` make the full 20+.
"""

from __future__ import annotations

import os

import pytest
from failover import run_failover


def test_killing_the_leader_loses_and_doubles_nothing(tmp_path):
    kills = int(os.environ.get("FAILOVER_KILLS", "6"))
    outcome = run_failover(tmp_path, kills=kills, seed=int(os.environ.get("FAILOVER_SEED", "12")))
    print(outcome.summary())
    assert not outcome.problems, "\n".join([*outcome.problems, outcome.logs])
    assert len(outcome.kills) == kills
    assert all(k.takeover is not None for k in outcome.kills)
    # The harness did make kills land inside deliveries (every other one waits for one).
    assert sum(k.mid_delivery for k in outcome.kills) >= kills // 2, outcome.summary()
    assert outcome.stories > len(outcome.periods)  # the demo stories and one per minute


if __name__ == "__main__":
    pytest.main([__file__, "-q", "-s"])
