"""The scheduler's decisions, driven by a fake clock: cron times, DST, restarts, retries, locks."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from twins import FakeApp

from digest.clock import ManualClock
from digest.config import Config, ServeSettings, parse_config
from digest.cron import (
    Schedule,
    check_schedule,
    due_runs,
    fire_times,
    next_fire,
    period_key,
    previous_fire,
)
from digest.errors import ConfigError, StateError
from digest.lock import ServeLock, latest_serve_start
from digest.schedule import Scheduler
from digest.store import Store

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


class Runner:
    """Stands in for run_digest: records the run in the store as the pipeline does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, datetime]] = []
        self.fail = False

    def __call__(self, app: Any, digest: Any, period: str) -> None:
        run_id = app.store.start_run(digest.name, period, app.clock())
        self.calls.append((digest.name, period, app.clock()))
        if self.fail:
            app.store.finish_run(run_id, app.clock(), "failed", "smtp: connection refused")
        else:
            app.store.finish_run(run_id, app.clock(), "ok", None, 3)


def make_config(*digests: tuple[str, str, str]) -> Config:
    return parse_config(
        {
            "digest": [
                {
                    "name": name,
                    "schedule": cron,
                    "timezone": tz,
                    "feeds": [{"url": "http://127.0.0.1:9/feed.xml"}],
                }
                for name, cron, tz in digests
            ]
        },
        "test.toml",
    )


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)


# --- cron expressions -------------------------------------------------------------------------


def test_weekday_numbers_follow_crontab_not_apscheduler():
    # APScheduler 3 counts Monday as 0; crontab counts Sunday as 0 (and 7).
    s = Schedule("d", "0 7 * * 1-5", "UTC")
    start = datetime(2026, 3, 1, tzinfo=UTC)  # a Sunday
    days = [t.strftime("%a") for t in fire_times(s, start, start + timedelta(days=7))]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    for expr in ("0 7 * * 0", "0 7 * * 7", "0 7 * * sun", "0 7 * * SUN"):
        sunday = next_fire(Schedule("d", expr, "UTC"), start)
        assert sunday is not None and sunday.strftime("%a %H:%M") == "Sun 07:00", expr
    weekend = Schedule("d", "0 9 * * 6-7", "UTC")
    got = [t.strftime("%a") for t in fire_times(weekend, start, start + timedelta(days=7))]
    assert got == ["Sun", "Sat"]  # `7` is Sunday too
    every_other = Schedule("d", "0 9 * * */2", "UTC")  # Sun, Tue, Thu, Sat in crontab
    got = [t.strftime("%a") for t in fire_times(every_other, start, start + timedelta(days=7))]
    assert got == ["Sun", "Tue", "Thu", "Sat"]


def test_day_of_month_and_weekday_fire_on_either_like_crontab():
    s = Schedule("d", "0 7 1 * 1", "UTC")  # the 1st, and every Monday
    start = datetime(2026, 5, 30, tzinfo=UTC)  # a Saturday
    got = [t.date().isoformat() for t in fire_times(s, start, start + timedelta(days=10))]
    assert got == ["2026-06-01", "2026-06-08"]  # June 1st is a Monday: once, not twice
    start = datetime(2026, 6, 26, tzinfo=UTC)
    got = [t.date().isoformat() for t in fire_times(s, start, start + timedelta(days=7))]
    assert got == ["2026-06-29", "2026-07-01"]


def test_bad_schedule_is_a_config_error():
    with pytest.raises(ConfigError, match="0 7 \\* \\* 9"):
        Schedule("d", "0 7 * * 9", "UTC").trigger  # noqa: B018
    with pytest.raises(ConfigError, match="61"):
        Schedule("d", "61 7 * * *", "UTC").trigger  # noqa: B018


# --- daylight saving --------------------------------------------------------------------------


def test_daily_run_keeps_local_time_across_spring_forward():
    s = Schedule("d", "0 7 * * *", "America/New_York")
    start = datetime(2026, 3, 6, tzinfo=UTC)
    got = list(fire_times(s, start, start + timedelta(days=4)))
    assert [t.astimezone(NY).strftime("%m-%d %H:%M") for t in got] == [
        "03-06 07:00",
        "03-07 07:00",
        "03-08 07:00",  # clocks went forward at 2 a.m. that morning
        "03-09 07:00",
    ]
    # In UTC the run moves an hour earlier: 12:00Z before the change, 11:00Z after.
    assert [t.hour for t in got] == [12, 12, 11, 11]


def test_fixed_time_in_the_repeated_hour_runs_once_when_clocks_fall_back():
    s = Schedule("d", "30 1 * * *", "Europe/London")
    start = datetime(2026, 10, 24, tzinfo=UTC)
    got = list(fire_times(s, start, start + timedelta(days=3)))
    days = [t.astimezone(LONDON).date().isoformat() for t in got]
    assert days == ["2026-10-24", "2026-10-25", "2026-10-26"]  # 25 Oct has 01:30 twice


def test_hourly_schedule_keeps_every_hour_when_clocks_fall_back():
    s = Schedule("d", "0 * * * *", "Europe/London")
    start = datetime(2026, 10, 24, 23, tzinfo=UTC)
    got = list(fire_times(s, start, start + timedelta(hours=4)))
    # Four real hours, four runs, although 01:00 happens twice on the wall clock.
    assert len(got) == 4 and len({period_key(t) for t in got}) == 4


def test_scheduler_fires_at_seven_local_each_day_across_dst():
    clock = ManualClock(datetime(2026, 3, 6, 10, tzinfo=UTC))
    app = FakeApp(make_config(("morning", "0 7 * * *", "America/New_York")), Store.memory(), clock)
    runner = Runner()
    scheduler = Scheduler(app, ServeSettings(grace_minutes=0), runner=runner)
    for _ in range(4 * 24 * 12):  # four days in five-minute steps
        clock.advance(minutes=5)
        scheduler.tick()
    fired = [when.astimezone(NY) for _, _, when in runner.calls]
    assert [f.strftime("%m-%d %H:%M") for f in fired] == [
        "03-06 07:00",
        "03-07 07:00",
        "03-08 07:00",
        "03-09 07:00",
    ]
    periods = [p for _, p, _ in runner.calls]
    assert periods[1:3] == ["2026-03-07T12:00:00+00:00", "2026-03-08T11:00:00+00:00"]


# --- restarts: the runs are in the state, on every backend (tests/state_backends.py) ------------


def test_restart_after_missed_time_runs_once_and_a_second_restart_does_not(state):
    store = state
    config = make_config(("morning", "0 7 * * *", "Europe/London"))
    runner = Runner()
    # The process was down at 07:00 and comes back at 07:40, within the hour of grace.
    clock = ManualClock(local(LONDON, 2026, 6, 2, 7, 40))
    first = Scheduler(FakeApp(config, store, clock), ServeSettings(), runner=runner)
    assert [o.ok for o in first.tick()] == [True]
    assert runner.calls[0][1] == "2026-06-02T06:00:00+00:00"  # 07:00 BST
    clock.advance(minutes=1)
    assert first.tick() == []  # the same process does not run it again either

    clock.advance(minutes=5)
    second = Scheduler(FakeApp(config, store, clock), ServeSettings(), runner=runner)
    assert second.tick() == [] and len(runner.calls) == 1
    clock.advance(hours=23, minutes=14)  # 07:00 next day
    assert [o.due.period for o in second.tick()] == ["2026-06-03T06:00:00+00:00"]


def test_missed_beyond_grace_is_skipped_and_the_next_period_runs(state):
    store = state
    config = make_config(("morning", "0 7 * * *", "UTC"))
    runner = Runner()
    clock = ManualClock(datetime(2026, 6, 2, 9, 30, tzinfo=UTC))
    scheduler = Scheduler(
        FakeApp(config, store, clock), ServeSettings(grace_minutes=120), runner=runner
    )
    assert scheduler.tick() == []  # 07:00 is 2.5 h ago: too late to be useful
    clock.now = datetime(2026, 6, 3, 7, 0, 20, tzinfo=UTC)
    assert len(scheduler.tick()) == 1


def test_periods_missed_while_down_are_coalesced_into_one_run(state):
    store = state
    config = make_config(("hourly", "0 * * * *", "UTC"))
    runner = Runner()
    clock = ManualClock(datetime(2026, 6, 2, 9, 30, tzinfo=UTC))  # 07:00, 08:00, 09:00 missed
    scheduler = Scheduler(
        FakeApp(config, store, clock), ServeSettings(grace_minutes=240), runner=runner
    )
    scheduler.tick()
    assert [p for _, p, _ in runner.calls] == ["2026-06-02T09:00:00+00:00"]


def test_a_late_wake_up_inside_one_process_still_runs_the_period(state):
    # A long alert poll can hold the work lock past 07:00: the period must not be lost,
    # even with no grace at all.
    store = state
    runner = Runner()
    clock = ManualClock(datetime(2026, 6, 2, 6, 0, tzinfo=UTC))
    app = FakeApp(make_config(("morning", "0 7 * * *", "UTC")), store, clock)
    scheduler = Scheduler(app, ServeSettings(grace_minutes=0), runner=runner)
    clock.advance(hours=1, minutes=25)
    assert [o.due.period for o in scheduler.tick()] == ["2026-06-02T07:00:00+00:00"]


def test_failed_period_is_retried_after_a_pause_then_given_up(state):
    store = state
    runner = Runner()
    runner.fail = True
    clock = ManualClock(datetime(2026, 6, 2, 7, 0, 5, tzinfo=UTC))
    app = FakeApp(make_config(("morning", "0 7 * * *", "UTC")), store, clock)
    options = ServeSettings(retry_minutes=5, max_attempts=3)
    scheduler = Scheduler(app, options, runner=runner)
    assert [o.ok for o in scheduler.tick()] == [False]
    clock.advance(minutes=1)
    assert scheduler.tick() == []  # too soon
    clock.advance(minutes=5)
    assert [o.ok for o in scheduler.tick()] == [False]
    clock.advance(minutes=6)
    assert len(scheduler.tick()) == 1
    clock.advance(minutes=6)
    assert scheduler.tick() == []  # three attempts: wait for the next period
    assert len(runner.calls) == 3
    runner.fail = False
    clock.now = datetime(2026, 6, 3, 7, 0, 5, tzinfo=UTC)
    assert [o.ok for o in scheduler.tick()] == [True]


def test_a_restart_does_not_grant_a_failing_period_fresh_attempts(state):
    """Failed runs are in the state: a serve restarted after two failures tries once more, and
    one restarted after three waits for the next period (a crash loop cannot hammer SMTP)."""
    store = state
    runner = Runner()
    runner.fail = True
    clock = ManualClock(datetime(2026, 6, 2, 7, 0, 5, tzinfo=UTC))
    app = FakeApp(make_config(("morning", "0 7 * * *", "UTC")), store, clock)
    options = ServeSettings(retry_minutes=5, max_attempts=3, grace_minutes=120)
    assert [o.ok for o in Scheduler(app, options, runner=runner).tick()] == [False]
    clock.advance(minutes=6)
    assert [o.ok for o in Scheduler(app, options, runner=runner).tick()] == [False]
    clock.advance(minutes=1)
    assert Scheduler(app, options, runner=runner).tick() == []  # restarted, but too soon
    clock.advance(minutes=5)
    assert [o.ok for o in Scheduler(app, options, runner=runner).tick()] == [False]
    clock.advance(minutes=30)
    assert Scheduler(app, options, runner=runner).tick() == []  # three failures: given up
    assert len(runner.calls) == 3


def test_a_runner_that_raises_is_counted_as_a_failure_and_others_still_run(state):
    store = state
    calls: list[str] = []

    def runner(app: Any, digest: Any, period: str) -> None:
        calls.append(digest.name)
        if digest.name == "broken":
            raise RuntimeError("boom")
        run_id = app.store.start_run(digest.name, period, app.clock())
        app.store.finish_run(run_id, app.clock(), "empty")

    clock = ManualClock(datetime(2026, 6, 2, 7, 0, 5, tzinfo=UTC))
    config = make_config(("broken", "0 7 * * *", "UTC"), ("fine", "0 7 * * *", "UTC"))
    scheduler = Scheduler(FakeApp(config, store, clock), runner=runner)
    outcomes = {o.due.digest: o for o in scheduler.tick()}
    assert not outcomes["broken"].ok and "boom" in outcomes["broken"].detail
    assert outcomes["fine"].ok and calls == ["broken", "fine"]


def test_due_runs_is_pure_over_the_done_set():
    schedules = [Schedule("a", "0 7 * * *", "UTC"), Schedule("b", "30 7 * * *", "UTC")]
    now = datetime(2026, 6, 2, 7, 45, tzinfo=UTC)
    since = now - timedelta(hours=1)
    done = {("a", "2026-06-02T07:00:00+00:00")}
    due = due_runs(schedules, lambda d, p: (d, p) in done, now, since)
    assert [(d.digest, d.period, d.late_by) for d in due] == [
        ("b", "2026-06-02T07:30:00+00:00", timedelta(minutes=15))
    ]


def test_previous_and_next_fire_find_sparse_schedules():
    yearly = Schedule("y", "0 9 1 1 *", "UTC")
    now = datetime(2026, 6, 2, tzinfo=UTC)
    assert next_fire(yearly, now) == datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert previous_fire(yearly, now, timedelta(days=200)) == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert previous_fire(yearly, now, timedelta(days=100)) is None
    minutely = Schedule("m", "* * * * *", "UTC")
    assert previous_fire(minutely, now, timedelta(days=30)) == now


def test_serve_settings_are_read_from_the_config_when_present():
    config = parse_config(
        {
            "digest": [{"name": "a", "feeds": [{"url": "https://a.example/rss"}]}],
            "serve": {"alert_interval_minutes": 2, "grace_minutes": 15},
        }
    )
    scheduler = Scheduler(FakeApp(config, Store.memory(), ManualClock(datetime.now(UTC))))
    assert scheduler.settings.alert_interval == timedelta(minutes=2)
    assert scheduler.settings.grace == timedelta(minutes=15)
    assert scheduler.settings.max_attempts == ServeSettings().max_attempts


def test_whether_a_schedule_can_fire_does_not_depend_on_today():
    # 29 February fires every four years: from March 2028 that is further ahead than next_fire
    # looks, so a check against today's date would then call it a schedule that never fires.
    check_schedule("0 9 29 2 *")
    with pytest.raises(ValueError, match="never fires"):
        check_schedule("0 9 30 2 *")


# --- the lock (on every state backend: tests/state_backends.py) -------------------------------


def test_second_serve_lock_on_the_same_state_is_refused(state_backend):
    clock = ManualClock(datetime(2026, 6, 2, 7, tzinfo=UTC))
    a = ServeLock(state_backend.open(), clock, timedelta(seconds=90))
    b = ServeLock(state_backend.open(), clock, timedelta(seconds=90))
    a.acquire()
    with pytest.raises(StateError, match=f"pid {os.getpid()}"):
        b.acquire()
    clock.advance(seconds=60)
    assert a.refresh()
    clock.advance(seconds=60)  # b's view: a refreshed 60 s ago, ttl 90 s: still held
    with pytest.raises(StateError):
        b.acquire()
    a.release()
    b.acquire()
    assert latest_serve_start(b.store) == clock.now


def test_expired_lock_of_another_host_is_taken_over_and_the_old_owner_learns_it(state_backend):
    clock = ManualClock(datetime(2026, 6, 2, 7, tzinfo=UTC))
    store = state_backend.open()
    old = ServeLock(store, clock, timedelta(seconds=90), owner="other-host:4242:abcd")
    old.acquire()
    new = ServeLock(state_backend.open(), clock, timedelta(seconds=90))
    with pytest.raises(StateError, match="pid 4242 on other-host"):
        new.acquire()  # another machine: only the TTL can tell it is gone
    clock.advance(seconds=91)  # the old one stalled (or died) without refreshing
    new.acquire()
    assert not old.refresh()


def test_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(state_backend):
    clock = ManualClock(datetime(2026, 6, 2, 7, tzinfo=UTC))
    host = socket.gethostname()
    ghost = ServeLock(
        state_backend.open(), clock, timedelta(hours=1), owner=f"{host}:{_a_dead_pid()}:1"
    )
    ghost.acquire()
    ServeLock(state_backend.open(), clock, timedelta(seconds=90)).acquire()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_lock_of_an_earlier_process_with_our_pid_is_taken_over(state_backend):
    # A restarted container's serve is pid 1 again: its predecessor's lock names pid 1 too,
    # with another start time.
    clock = ManualClock(datetime(2026, 6, 2, 7, tzinfo=UTC))
    host = socket.gethostname()
    previous = ServeLock(
        state_backend.open(), clock, timedelta(hours=1), owner=f"{host}:{os.getpid()}:1"
    )
    previous.acquire()
    current = ServeLock(state_backend.open(), clock, timedelta(seconds=90))
    current.acquire()
    # ...but a second lock inside this very process is still refused.
    with pytest.raises(StateError):
        ServeLock(state_backend.open(), clock, timedelta(seconds=90)).acquire()


def _a_dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_serve_waits_for_a_live_run_and_takes_over_a_crashed_ones_lock(state_backend):
    """serve starts after a `digest run` that is delivering; a dead run's lock does not hold it."""
    import threading

    from digest.lock import RUN_LOCK, RUN_LOCK_TTL
    from digest.lock import wait_for_run as _wait_for_run

    clock = ManualClock(datetime(2026, 6, 2, 7, tzinfo=UTC))
    store = state_backend.open()
    run = ServeLock(state_backend.open(), clock, RUN_LOCK_TTL, name=RUN_LOCK)
    run.acquire()  # this process: alive
    stop = threading.Event()
    done = threading.Event()

    def serve_start() -> None:
        _wait_for_run(store, clock, stop)
        done.set()

    waiter = threading.Thread(target=serve_start)
    waiter.start()
    assert not done.wait(0.5)  # still waiting for the run
    run.release()
    assert done.wait(10)
    waiter.join()
    assert latest_serve_start(store) is None  # a run lock is not a serve session

    dead = f"{socket.gethostname()}:{2**22 + 17}:?-crashed"
    store.acquire_lock(RUN_LOCK, dead, RUN_LOCK_TTL.total_seconds(), clock.now)
    _wait_for_run(store, clock, threading.Event())  # returns at once: the holder is gone
    assert store.lock_owner(RUN_LOCK, clock.now) is None
