"""The serve lease between replicas: who takes it, when a standby may, what a holder may start.

The processes-and-SIGKILL side is tests/test_failover.py; here the lease's rules are driven by a
fake clock, and serves in threads, on every state backend (tests/state_backends.py: SQLite,
and the real PostgreSQL that tests/servers.py starts).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_schedule import Runner, make_config
from twins import FakeApp, recorder, sends

from digest.clock import ManualClock
from digest.config import ServeSettings, parse_config
from digest.lock import SERVE_LOCK, ServeLock
from digest.schedule import Scheduler, serve

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)
LEASE = timedelta(seconds=15)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_standby_takes_the_lease_only_once_it_lapses(state_backend):
    clock = ManualClock(NOW)
    leader_store, standby_store = state_backend.open(), state_backend.open()
    # Another host: its pid means nothing here, only the lease's expiry can tell.
    leader = ServeLock(leader_store, clock, LEASE, owner="node-b:41:777-aa")
    standby = ServeLock(standby_store, clock, LEASE)
    assert leader.try_acquire() is None
    assert standby.try_acquire() == leader.owner
    clock.advance(seconds=10)
    assert leader.refresh()  # renewed: 15 s from now
    clock.advance(seconds=14)
    assert standby.try_acquire() == leader.owner
    clock.advance(seconds=1.5)  # 15.5 s without renewal: lapsed
    assert standby.try_acquire() is None
    assert standby_store.lock_owner(SERVE_LOCK, clock()) == standby.owner
    assert not leader.refresh()  # the old holder learns it lost the lease
    leader_store.close()
    standby_store.close()


def test_a_dead_holder_on_this_host_is_replaced_at_once(state_backend):
    clock = ManualClock(NOW)
    store = state_backend.open()
    gone = f"{socket.gethostname()}:{dead_pid()}:1-aa"
    assert store.acquire_lock(SERVE_LOCK, gone, LEASE.total_seconds(), clock())
    standby = ServeLock(store, clock, LEASE)
    assert standby.try_acquire() is None  # no need to wait out the 15 s
    assert store.lock_owner(SERVE_LOCK, clock()) == standby.owner
    store.close()


def test_only_one_of_many_racing_replicas_gets_the_lease(state_backend):
    state_backend.open().close()
    stores = [state_backend.open() for _ in range(8)]
    start = threading.Barrier(len(stores))
    won: list[str] = []

    def race(i: int) -> None:
        start.wait()
        if stores[i].acquire_lock(SERVE_LOCK, f"node-{i}:1:1-aa", 15, NOW):
            won.append(f"node-{i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1
    assert stores[0].lock_owner(SERVE_LOCK, NOW) == f"{won[0]}:1:1-aa"
    for s in stores:
        s.close()


def test_a_holder_stops_trusting_its_lease_before_anyone_may_take_it(state_backend):
    clock = ManualClock(NOW)
    ticks = [100.0]
    store = state_backend.open()
    lock = ServeLock(store, clock, LEASE, monotonic=lambda: ticks[0])
    assert not lock.held()
    assert lock.try_acquire() is None and lock.held()
    ticks[0] += 9.9  # under two thirds of 15 s since the renewal
    assert lock.held()
    ticks[0] += 0.2
    assert not lock.held()  # renewals failing (a stalled process): start nothing more
    assert lock.refresh() and lock.held()
    store.close()


def test_the_scheduler_starts_nothing_without_the_lease(state_backend):
    clock = ManualClock(NOW)
    store = state_backend.open()
    runner = Runner()
    config = make_config(("news", "* * * * *", "UTC"))
    scheduler = Scheduler(FakeApp(config, store, clock), ServeSettings(), runner=runner)
    holds = [False]
    scheduler.guard = lambda: holds[0]
    assert scheduler.tick() == [] and runner.calls == []
    holds[0] = True
    assert len(scheduler.tick()) == 1 and len(runner.calls) == 1
    store.close()


def test_lease_seconds_and_standby_come_from_the_config():
    config = parse_config(
        {"serve": {"lease_seconds": 6, "standby": True}, "digest": []}, "config.toml"
    )
    assert config.serve.lock_ttl == timedelta(seconds=6) and config.serve.standby
    older = parse_config({"serve": {"lock_ttl_seconds": 40}, "digest": []}, "config.toml")
    assert older.serve.lock_ttl == timedelta(seconds=40)  # the older name still counts
    assert parse_config({"digest": []}, "c.toml").serve.lock_ttl == LEASE


def test_a_standby_serve_runs_nothing_until_the_leader_stops_then_leads(tmp_path, state_backend):
    from test_serve import app_for, fixture_feeds, wait_for

    options = ServeSettings(lease_seconds=1.5, standby=True)
    with fixture_feeds() as feeds:
        first, second = recorder("slack:#news"), recorder("slack:#news")
        app_a = app_for(tmp_path, feeds, first, state_backend.open())
        app_b = app_for(tmp_path, feeds, second, state_backend.open())
        stop_a, stop_b = threading.Event(), threading.Event()
        codes: dict[str, int] = {}
        a = threading.Thread(
            target=lambda: codes.update(a=serve(app_a, options, stop=stop_a, handle_signals=False))
        )
        a.start()
        wait_for(lambda: sends(first), "the leader to deliver")
        b = threading.Thread(
            target=lambda: codes.update(b=serve(app_b, options, stop=stop_b, handle_signals=False))
        )
        b.start()
        try:
            wait_for(lambda: app_b.store.applied_migrations(), "the standby's state")
            owner_a = app_b.store.lock_owner(SERVE_LOCK, datetime.now(UTC))
            assert owner_a is not None
            stop_a.set()
            a.join(30)

            def standby_leads() -> bool:
                owner = app_b.store.lock_owner(SERVE_LOCK, datetime.now(UTC))
                return owner not in (None, owner_a)

            wait_for(standby_leads, "the standby to take the lease")
        finally:
            stop_a.set()
            stop_b.set()
            a.join(30)
            b.join(30)
    assert codes == {"a": 0, "b": 0}
    # One period, delivered once, by the leader; the standby found it done.
    assert len(sends(first)) == 1 and sends(second) == []
    app_a.close()
    app_b.close()


def test_a_standby_stopped_while_waiting_exits_zero_having_run_nothing(tmp_path, state_backend):
    store = state_backend.open()
    assert store.acquire_lock(SERVE_LOCK, "node-b:41:777-aa", 600, datetime.now(UTC))
    runner = Runner()
    from test_serve import app_for

    app = app_for(
        tmp_path, ["http://127.0.0.1:9/feed.xml"], recorder("slack:#news"), state_backend.open()
    )
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    code = serve(
        app,
        ServeSettings(lease_seconds=1.5, standby=True),
        stop=stop,
        runner=runner,
        handle_signals=False,
    )
    assert code == 0 and runner.calls == []
    assert store.lock_owner(SERVE_LOCK, datetime.now(UTC)) == "node-b:41:777-aa"
    app.close()
    store.close()


def test_status_names_the_leader_since_when_until_when_and_the_standbys(tmp_path, state_backend):
    import json

    from click.testing import CliRunner
    from test_serve import wait_for
    from test_status import write_config

    from digest.cli import main

    path = write_config(tmp_path)
    store = state_backend.open()
    extra, env = state_backend.cli_args()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(now - timedelta(seconds=40))
    leader = ServeLock(store, clock, LEASE, owner="node-a:12:99-aa")
    assert leader.try_acquire() is None  # took the lease 40 s ago
    clock.set(now - timedelta(seconds=5))
    assert leader.refresh()  # renewed 5 s ago: lapses in 10 s
    standby = ServeLock(store, clock, LEASE, owner="node-b:34:77-bb")
    stop = threading.Event()
    waiting = threading.Thread(target=standby.wait, args=(stop, 0.05))
    waiting.start()
    try:
        wait_for(
            lambda: any(lock.name.startswith("standby:") for lock in store.locks(clock())),
            "the standby to show itself",
        )
        text = CliRunner(env=env).invoke(main, ["status", "--config", str(path), *extra])
        out = CliRunner(env=env).invoke(
            main, ["status", "--config", str(path), *extra, "--format", "json"]
        )
    finally:
        stop.set()
        waiting.join(10)
    assert text.exit_code == 0, text.output
    since = (now - timedelta(seconds=40)).strftime("%Y-%m-%d %H:%M:%S UTC")
    lapses = (now + timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert "serve: running (pid 12 on node-a)" in text.output
    assert f"lease: held by pid 12 on node-a since {since}, lapses at {lapses}" in text.output
    assert "standby: pid 34 on node-b" in text.output
    serve = json.loads(out.output)["serve"]
    assert serve["owner"] == "node-a:12:99-aa" and serve["standbys"] == ["node-b:34:77-bb"]
    assert serve["since"] == (now - timedelta(seconds=40)).isoformat()
    assert serve["lease_expires"] == (now + timedelta(seconds=10)).isoformat()
    # A standby that stops waiting gives its mark back.
    assert not [lock for lock in store.locks(clock()) if lock.name.startswith("standby:")]
    store.close()


def test_the_replicas_compose_file_parses_and_keeps_secrets_in_the_environment():
    import yaml  # PyYAML comes with transformers

    compose = yaml.safe_load((ROOT / "docker-compose.replicas.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    postgres, digest = services["postgres"], services["digest"]
    assert digest["deploy"]["replicas"] >= 2
    assert "--standby" in digest["command"]
    url = digest["environment"]["DIGEST_DATABASE_URL"]
    assert url.startswith("postgresql://") and "${POSTGRES_PASSWORD" in url
    assert "${POSTGRES_PASSWORD" in postgres["environment"]["POSTGRES_PASSWORD"]
    assert digest["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in postgres
