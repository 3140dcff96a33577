"""The scheduler behind `digest serve`: each digest on its schedule, alerts polled, restart-safe.

What is due is decided by digest.cron from the schedules, the runs table and the time; the
scheduler asks it at every wake-up and runs each due period one at a time. APScheduler only
supplies wake-ups: one CronTrigger job per digest, an interval job for alerts, a minutely
housekeeping job that retries failed periods, and the lock's heartbeat. The runs table says
which periods are done, so a restart runs a missed period once (within the grace time) and never
runs a done one again; digest.lock keeps a second `serve` off the same state.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .channels import state_rules
from .config import ServeSettings
from .cron import DueRun, Schedule, due_runs, next_fire
from .errors import ConfigError
from .lock import ServeLock, wait_for_run
from .pipeline import run_alerts, run_digest
from .store import Store

if TYPE_CHECKING:
    from .app import App
    from .config import DigestConfig

log = logging.getLogger(__name__)

# --- the scheduler ----------------------------------------------------------------------------

Runner = Callable[["App", "DigestConfig", str], Any]
AlertPoller = Callable[["App", datetime], Any]


def _run_digest(app: App, digest: DigestConfig, period: str) -> Any:
    return run_digest(app, digest, period=period)


@dataclass
class Outcome:
    """What happened to one due period in one tick."""

    due: DueRun
    ok: bool
    detail: str = ""


class Scheduler:
    """Decides and runs what is due, one unit of work at a time; driven by `serve` or a test.

    Runs, alert polls and retries share one lock, because they share one SQLite connection and
    the story grouper; APScheduler's threads only wake this object up.
    """

    def __init__(
        self,
        app: App,
        settings: ServeSettings | None = None,
        *,
        digests: Sequence[DigestConfig] | None = None,
        runner: Runner = _run_digest,
        alert_poller: AlertPoller | None = None,
    ) -> None:
        self.app = app
        self.settings = settings or app.config.serve
        self.digests = {d.name: d for d in (digests if digests is not None else app.config.digest)}
        self.schedules = {name: Schedule.of(d) for name, d in self.digests.items()}
        for schedule in self.schedules.values():
            schedule.trigger  # noqa: B018 - fail at start, not at 7 a.m., on a bad schedule
        self.runner = runner
        self.alert_poller = alert_poller
        self.started_at = app.clock()
        self.work = threading.Lock()
        self.stopping = threading.Event()
        # (digest, period) -> (attempts, last attempt) for failures in this process.
        self._failures: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._last_poll: datetime | None = None
        # Set by `serve`: whether this replica surely still holds the lease. Checked before each
        # unit of work, so one that stalled past its lease starts nothing another may run.
        self.guard: Callable[[], bool] | None = None

    def _guarded(self) -> bool:
        if self.guard is None or self.guard():
            return True
        log.warning("serve: the lease is not surely ours; starting nothing until it is renewed")
        return False

    def due(self, now: datetime | None = None, only: str | None = None) -> list[DueRun]:
        """What should run at `now` (default: the app's clock)."""
        now = now or self.app.clock()
        schedules = [s for n, s in self.schedules.items() if only is None or n == only]
        # Periods before this process started count only within the grace time; every period
        # since it started counts however late the wake-up (a long run may delay a job).
        since = self.started_at - self.settings.grace
        due = due_runs(schedules, self.app.store.period_done, now, since)
        return [d for d in due if self._may_retry(d, now)]

    def _may_retry(self, due: DueRun, now: datetime) -> bool:
        # Failures recorded in the state count too, so a restart (a crash loop, a redeploy)
        # does not grant a failing period a fresh set of attempts.
        attempts, last = self._failures.get((due.digest, due.period), (0, None))
        stored, stored_last = self.app.store.failed_attempts(due.digest, due.period)
        if stored > attempts:
            attempts, last = stored, stored_last
        if attempts == 0:
            return True
        if attempts >= self.settings.max_attempts:
            return False
        return last is None or now - last >= self.settings.retry_after

    def tick(self, only: str | None = None) -> list[Outcome]:
        """Run every due period (or only this digest's), one after another."""
        outcomes = []
        with self.work:
            for due in self.due(only=only):
                if self.stopping.is_set() or not self._guarded():
                    break  # shutting down: what is not started waits for the next start
                outcomes.append(self._run(due))
        return outcomes

    def _run(self, due: DueRun) -> Outcome:
        digest = self.digests[due.digest]
        log.info(
            "serve: running %s for %s (%s late)",
            due.digest,
            due.period,
            str(due.late_by).split(".")[0],
        )
        try:
            result = self.runner(self.app, digest, due.period)
        except Exception as e:  # noqa: BLE001 - one digest failing must not stop the others
            log.error("serve: %s for %s failed: %s", due.digest, due.period, e)
            self._failed(due)
            return Outcome(due, ok=False, detail=f"{type(e).__name__}: {e}")
        if getattr(result, "failed", False) or not self.app.store.period_done(
            due.digest, due.period
        ):
            detail = "; ".join(d.detail for d in getattr(result, "deliveries", ()) if not d.ok)
            log.error("serve: %s for %s failed: %s", due.digest, due.period, detail or "?")
            self._failed(due)
            return Outcome(due, ok=False, detail=detail)
        self._failures.pop((due.digest, due.period), None)
        return Outcome(due, ok=True)

    def _failed(self, due: DueRun) -> None:
        attempts, _ = self._failures.get((due.digest, due.period), (0, self.started_at))
        self._failures[(due.digest, due.period)] = (attempts + 1, self.app.clock())

    def poll_alerts(self) -> Any:
        """Fetch the watched feeds and send the alerts that are due (no-op without rules)."""
        if self.alert_poller is None or self.stopping.is_set():
            return None
        with self.work:
            if not self._guarded():
                return None
            now = self.app.clock()
            try:
                return self.alert_poller(self.app, self._last_poll or self.started_at)
            except Exception as e:  # noqa: BLE001 - a failed poll is retried at the next one
                log.error("serve: alert poll failed: %s", e)
                return None
            finally:
                self._last_poll = now

    def next_runs(self, now: datetime | None = None) -> dict[str, datetime | None]:
        """Each digest's next scheduled time after `now`."""
        now = now or self.app.clock()
        return {name: next_fire(s, now) for name, s in self.schedules.items()}


def check_destinations(app: App) -> None:
    """Build every destination's notifier once, so a missing secret fails at start, not at 7 a.m.

    Building reads the secrets from the environment and opens no connection.
    """
    dests = [dest for digest in app.config.digest for dest in digest.destinations]
    dests += [dest for rule in app.config.alert for dest in rule.destinations]
    problems: list[str] = []
    hint = None
    for dest in dests:
        try:
            app.notifier_factory(dest)
        except ConfigError as e:  # all of them at once, each naming file and key
            problems += [line for line in str(e).splitlines() if line not in problems]
            hint = hint or e.hint
    if problems:
        raise ConfigError("\n".join(problems), hint=hint)


def alert_poller_for(app: App) -> AlertPoller | None:
    """The alert poll of `serve`: None when the config has no alert rules."""
    rules = app.config.alert
    # Readers may add rules at run time, from Slack or from the web side's preferences page.
    if not rules and not app.config.slack.app_token_env and app.config.web is None:
        return None
    # Topics followed from Slack are rules in the state: read again at every poll.
    return lambda app_, since: run_alerts(
        app_, [*rules, *state_rules(app_.config, app_.store)], since=since
    )


# --- serve ------------------------------------------------------------------------------------


def _stand_by(
    lock: ServeLock, stop: threading.Event, settings: ServeSettings, handle_signals: bool
) -> bool:
    """Wait for the lease as a standby replica; False when stopped (SIGTERM/SIGINT) first."""
    previous: dict[signal.Signals, Any] = {}
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    try:
        return lock.wait(stop, every=max(settings.lock_ttl.total_seconds() / 3, 0.2))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    app: App,
    settings: ServeSettings | None = None,
    *,
    stop: threading.Event | None = None,
    runner: Runner = _run_digest,
    handle_signals: bool = True,
    services: Sequence[Any] = (),
) -> int:
    """Run the scheduler until SIGTERM/SIGINT (or `stop`); return the exit code.

    On a signal the run in flight finishes and is recorded, nothing new starts, the lock is
    released, and the exit code is 0. A second signal exits at once: the ledger is written after
    every confirmed message, so even that never causes a double delivery.
    """
    settings = settings or app.config.serve
    stop = stop or threading.Event()
    # The lock gets its own connection: the heartbeat must not join a transaction that a run
    # holds open on the app's connection, nor wait for the run to finish.
    path = getattr(app.store, "path", None)
    lock_store = Store.open(path.parent) if path is not None else app.store
    try:
        # Built before the lock is taken: a bad schedule, alert rule or missing secret fails
        # here, at start, as a one-line error.
        scheduler = Scheduler(app, settings, runner=runner, alert_poller=alert_poller_for(app))
        check_destinations(app)
        lock = ServeLock(lock_store, app.clock, settings.lock_ttl)
        if not settings.standby:
            lock.acquire()
        elif not _stand_by(lock, stop, settings, handle_signals):
            if lock_store is not app.store:
                lock_store.close()
            return 0  # stopped while standing by: nothing was started
        # Leading from now (a standby may have waited for days): a period missed before counts
        # within the grace time only, as on a restart.
        scheduler.started_at = app.clock()
        scheduler.guard = lock.held
        app.fence = lock.held  # checked again before each destination (digest.pipeline)
        # A `digest run` that started before us may still be delivering: let it finish. (It
        # takes its lock before it checks ours, so one of the two always sees the other.)
        wait_for_run(lock_store, app.clock, stop)
    except BaseException:
        if lock_store is not app.store:
            lock_store.close()
        raise
    lost_lock = threading.Event()

    def heartbeat() -> None:
        if not lock.refresh():
            log.error("serve: another process took the state lock; stopping")
            if handle_signals and scheduler.work.locked():
                # A run or poll is in flight, and the replica that took over may be doing the
                # same one: end now, as a crash would. The ledger and intents let it resume.
                log.error("serve: exiting at once: work in flight without the lease")
                logging.shutdown()
                os._exit(75)
            lost_lock.set()
            scheduler.stopping.set()
            stop.set()

    previous_handlers: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            log.warning("serve: second %s, exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        log.info("serve: %s received, finishing the work in flight", signal.Signals(signum).name)
        scheduler.stopping.set()
        stop.set()

    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous_handlers[sig] = signal.signal(sig, on_signal)

    aps = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
        # Late wake-ups still run: `due_runs` decides what is due, APScheduler only wakes us.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    try:
        now = app.clock()
        for name, schedule in scheduler.schedules.items():
            aps.add_job(
                scheduler.tick, schedule.trigger, kwargs={"only": name}, id=f"digest:{name}"
            )
        aps.add_job(
            scheduler.tick,
            IntervalTrigger(minutes=1, timezone=UTC),
            id="housekeeping",
            next_run_time=now,  # catch up on periods missed while down, at once
        )
        if scheduler.alert_poller is not None:
            aps.add_job(
                scheduler.poll_alerts,
                IntervalTrigger(seconds=settings.alert_interval.total_seconds(), timezone=UTC),
                id="alerts",
                next_run_time=now + timedelta(seconds=5),
            )
        aps.add_job(
            heartbeat,
            IntervalTrigger(seconds=max(settings.lock_ttl.total_seconds() / 3, 0.2), timezone=UTC),
            id="heartbeat",
            executor="heartbeat",
        )
        aps.start()
        # The web side and the Slack app (digest.readers): started once the lock is ours.
        for service in services:
            service.start(scheduler)
        for name, when in scheduler.next_runs(now).items():
            local = when.astimezone(scheduler.schedules[name].tz).isoformat() if when else "never"
            log.info("serve: %s next runs at %s", name, local)
        while not stop.wait(timeout=1.0):
            pass
        log.info("serve: stopping")
        # The run in flight finishes and records itself, with the lease still renewed meanwhile:
        # a lapsed lease would let a standby start the same period beside it.
        for job in aps.get_jobs():
            if job.id != "heartbeat":
                job.remove()
        with scheduler.work:
            pass
        aps.shutdown(wait=True)
    finally:
        for service in reversed(services):
            service.stop()
        if aps.running:
            aps.shutdown(wait=False)
        if not lost_lock.is_set():
            lock.release()
        if lock_store is not app.store:
            lock_store.close()
        app.fence = None
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    return 1 if lost_lock.is_set() else 0
