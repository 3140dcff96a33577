"""`digest serve`: run each digest on its cron schedule and poll feeds for alerts, restart-safe.

The decision of *what is due* is a pure function of the schedules, the state and the time
(`due_runs`), so tests drive it with a fake clock. APScheduler only supplies wake-ups: one
CronTrigger job per digest, an interval job for alerts, and a minutely housekeeping job that
retries failed periods. A period is the scheduled fire time (UTC, ISO 8601); the runs table of
the SQLite state says which periods are done, so a restart runs a missed period once (within
the grace time) and never runs a done one again. One lock in the state keeps a second `serve`
on the same state directory from starting.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from .errors import ConfigError, StateError

if TYPE_CHECKING:
    from .app import App
    from .config import Config, DigestConfig
    from .store import Store

log = logging.getLogger(__name__)

SERVE_LOCK = "serve"
# Held by a delivering `digest run`: two of them (a cron tick overlapping a slow run), or a run
# and a serve, would otherwise post the same new story from one state.
RUN_LOCK = "run"
RUN_LOCK_TTL = timedelta(hours=6)

# --- cron expressions -------------------------------------------------------------------------

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _dow_value(token: str, expr: str) -> int:
    """A crontab weekday (0-7 or a name) as 0=Sunday..6=Saturday."""
    low = token.strip().lower()
    if low[:3] in _DOW_NAMES and low.isalpha():
        return _DOW_NAMES.index(low[:3])
    if low.isdigit() and 0 <= int(low) <= 7:
        return int(low) % 7
    raise ValueError(f"day of week {token!r} in {expr!r} is not 0-7 or a day name")


def _crontab_dow(field_: str, expr: str) -> str:
    """Translate crontab's day-of-week field (0 or 7 = Sunday) into APScheduler 3 day names.

    APScheduler 3 numbers weekdays from Monday = 0, so passing `1-5` through unchanged would
    send a Monday-to-Friday digest from Tuesday to Saturday. Names are unambiguous.
    """
    if field_ in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field_.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step_text and (not step_text.isdigit() or step < 1):
            raise ValueError(f"bad step {step_text!r} in {expr!r}")
        if body in ("*", "?"):
            lo, hi = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            lo, hi = _dow_value(a, expr), _dow_value(b, expr)
            if b.strip() == "7":
                hi = 7  # `5-7` is Friday to Sunday
            if hi < lo:
                raise ValueError(f"day-of-week range {body!r} in {expr!r} runs backwards")
        else:
            lo = _dow_value(body, expr)
            hi = 6 if step_text else lo  # `1/2` means from Monday every second day
        days.update(d % 7 for d in range(lo, hi + 1, step))
    # APScheduler lists days Monday first; keep that order so the trigger prints naturally.
    ordered = sorted(days, key=lambda d: (d - 1) % 7)
    return ",".join(_DOW_NAMES[d] for d in ordered)


def build_trigger(cron: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger that fires like crontab would for `cron` in this IANA time zone.

    Crontab semantics kept: weekday numbers with Sunday = 0 or 7, and when both day of month
    and day of week are restricted, a day matching *either* fires (APScheduler alone needs both).
    """
    try:
        return _trigger(cron, timezone)
    except ValueError as e:
        raise ConfigError(f"schedule {cron!r}: {e}") from None


_CRON_FIELDS = ("minute", "hour", "day", "month")


def check_schedule(cron: str, timezone: str = "UTC") -> None:
    """Raise ValueError naming the field at fault unless `cron` can fire in this time zone.

    The fields are parsed by APScheduler's own CronTrigger, the parser `digest serve` uses, so
    a schedule that passes here is one serve can run (`0 25 * * *`, `*/0 * * * *` do not).
    """
    _trigger(cron, timezone)
    if next_fire(Schedule("check", cron, timezone), datetime.now(UTC)) is None:
        raise ValueError(f"{cron!r} never fires (no such date)")


def _trigger(cron: str, timezone: str) -> BaseTrigger:
    parts = cron.split()
    if len(parts) != 5:
        raise ValueError(
            f"{cron!r} is not a 5-field cron expression (minute hour day month weekday)"
        )
    minute, hour, day, month, dow = parts
    for name, value in zip(_CRON_FIELDS, parts, strict=False):
        try:
            CronTrigger(**{name: "*" if value == "?" else value})
        except ValueError as e:
            reason = re.sub(r"^Error validating expression '[^']*': ", "", str(e))
            raise ValueError(f"{name} field {value!r} in {cron!r}: {reason}") from None
    try:
        tz = ZoneInfo(timezone)
        names = _crontab_dow(dow, cron)
        day = "*" if day == "?" else day

        def cron_trigger(day_: str, dow_: str) -> CronTrigger:
            return CronTrigger(
                minute=minute, hour=hour, day=day_, month=month, day_of_week=dow_, timezone=tz
            )

        if day != "*" and names != "*":
            return OrTrigger([cron_trigger(day, "*"), cron_trigger("*", names)])
        return cron_trigger(day, names)
    except (ValueError, KeyError) as e:
        raise ValueError(str(e)) from None


# --- schedules and periods --------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When one digest runs: a 5-field cron expression in an IANA time zone."""

    digest: str
    cron: str
    timezone: str = "UTC"

    @classmethod
    def of(cls, digest: DigestConfig) -> Schedule:
        """The schedule of a configured digest."""
        return cls(digest.name, digest.schedule, digest.timezone)

    @cached_property
    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger for this schedule."""
        return build_trigger(self.cron, self.timezone)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)

    @cached_property
    def _fixed_hour(self) -> bool:
        # Like Vixie cron: a job at a fixed hour runs once when clocks fall back and the hour
        # repeats; a job whose hour is a wildcard (`*`, `*/2`) keeps running every hour.
        return not self.cron.split()[1].startswith("*")

    def _repeated_wall_time(self, when: datetime) -> bool:
        local = when.astimezone(self.tz)
        return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def period_key(fire_time: datetime) -> str:
    """The period a fire time stands for, as stored in the runs table: UTC ISO 8601."""
    return fire_time.astimezone(UTC).isoformat(timespec="seconds")


def fire_times(schedule: Schedule, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times in (after, until], in UTC, each wall-clock time once across DST changes."""
    trigger = schedule.trigger
    now = after.astimezone(UTC) + timedelta(microseconds=1)
    previous = None
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt > until:
            return
        if not (schedule._fixed_hour and schedule._repeated_wall_time(nxt)):
            yield nxt.astimezone(UTC)
        previous = nxt
        # In UTC: adding to a local time is wall-clock arithmetic, which drops `fold` and
        # would step back into the first pass of a repeated hour, forever.
        now = nxt.astimezone(UTC) + timedelta(microseconds=1)


def next_fire(schedule: Schedule, now: datetime) -> datetime | None:
    """The first fire time strictly after `now` (UTC), or None for a schedule that never fires."""
    horizon = now
    # Look ahead in growing steps so a yearly schedule is found without scanning minute by minute.
    for span in (timedelta(days=2), timedelta(days=40), timedelta(days=800)):
        found = next(fire_times(schedule, horizon, now + span), None)
        if found is not None:
            return found
        horizon = now + span
    return None


def previous_fire(schedule: Schedule, now: datetime, within: timedelta) -> datetime | None:
    """The latest fire time in (now - within, now], or None."""
    if within <= timedelta(0):
        return None
    # Search backwards in growing windows: an every-minute schedule with a week of grace must
    # not be scanned from the start of the week on every tick.
    window = min(within, timedelta(hours=1))
    end = now
    while True:
        start = max(now - window, now - within)
        latest = None
        for t in fire_times(schedule, start, end):
            latest = t
        if latest is not None:
            return latest
        if start <= now - within:
            return None
        end = start
        window *= 24


@dataclass(frozen=True)
class DueRun:
    """A digest period that should run now."""

    digest: str
    period: str
    fire_time: datetime
    late_by: timedelta


def due_runs(
    schedules: Sequence[Schedule],
    done: Callable[[str, str], bool],
    now: datetime,
    since: datetime,
) -> list[DueRun]:
    """The digests whose latest fire time in (since, now] has no finished run.

    Only the latest period counts: missed earlier ones are coalesced into it, since one run
    delivers everything not yet delivered. `done(digest, period)` reads the runs table.
    """
    due = []
    for schedule in schedules:
        fire = previous_fire(schedule, now, now - since)
        if fire is None:
            continue
        period = period_key(fire)
        if not done(schedule.digest, period):
            due.append(DueRun(schedule.digest, period, fire, now - fire))
    return due


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeOptions:
    """How `digest serve` behaves; read from the config's `[serve]` table when it has one."""

    alert_interval: timedelta = timedelta(minutes=10)
    grace: timedelta = timedelta(minutes=60)  # a period missed while down runs if this recent
    retry_after: timedelta = timedelta(minutes=5)  # a failed period is retried after this
    max_attempts: int = 3  # per period, across restarts (failed runs are in the state)
    lock_ttl: timedelta = timedelta(seconds=90)
    health_margin: timedelta = timedelta(minutes=30)

    @classmethod
    def from_config(cls, config: Config) -> ServeOptions:
        """Options from `config.serve` (minutes/seconds fields), defaults for what is absent."""
        serve = getattr(config, "serve", None)
        if serve is None:
            return cls()

        def get(name: str, default: float) -> float:
            value = getattr(serve, name, None)
            return default if value is None else float(value)

        d = cls()
        return cls(
            alert_interval=timedelta(
                minutes=get("alert_interval_minutes", d.alert_interval.total_seconds() / 60)
            ),
            grace=timedelta(minutes=get("grace_minutes", d.grace.total_seconds() / 60)),
            retry_after=timedelta(minutes=get("retry_minutes", d.retry_after.total_seconds() / 60)),
            max_attempts=int(get("max_attempts", d.max_attempts)),
            lock_ttl=timedelta(seconds=get("lock_ttl_seconds", d.lock_ttl.total_seconds())),
            health_margin=timedelta(
                minutes=get("health_margin_minutes", d.health_margin.total_seconds() / 60)
            ),
        )


# --- the serve lock ---------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc), or None where unknown.

    With the pid it names one process for good: a pid reused later has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), counted from 3


def _default_owner() -> str:
    # The token tells two locks of one process apart (each serve is its own owner).
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '?'}-{secrets.token_hex(4)}"


@dataclass
class ServeLock:
    """The one-serve-per-state lock: owner `host:pid:start-token`, renewed within its TTL.

    A lock whose owner is gone is taken over at once when that can be told: same host, and the
    pid is dead or now names another process (a restarted container is pid 1 again). A holder
    on another host (a shared volume) is waited out: its lock expires after the TTL.
    """

    store: Store
    clock: Callable[[], datetime]
    ttl: timedelta
    owner: str = field(default_factory=_default_owner)
    name: str = SERVE_LOCK

    def acquire(self) -> None:
        """Take the lock (and record this serve's start) or raise StateError naming the holder."""
        now = self.clock()
        if self._take(now):
            return
        holder = self.store.lock_owner(self.name, now)
        if holder and self._holder_is_gone(holder):
            log.warning(
                "%s: taking over the lock of %s, which is no longer running", self.name, holder
            )
            self.store.release_lock(self.name, holder)
            if self._take(now):
                return
            holder = self.store.lock_owner(self.name, now)
        where = getattr(self.store, "path", None) or "the state"
        raise StateError(
            f"{where}: another `digest {self.name}` ({describe_owner(holder)}) is running on "
            "this state",
            hint="wait for it or stop it, or give this one its own --state-dir; the lock of a "
            f"crashed process expires after {int(self.ttl.total_seconds())}s",
        )

    def _take(self, now: datetime) -> bool:
        if not self.store.acquire_lock(self.name, self.owner, self.ttl.total_seconds(), now):
            return False
        if self.name != SERVE_LOCK:
            return True
        from .store import _ts

        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO serve_sessions (owner, started_at) VALUES (?, ?)",
                (self.owner, _ts(now)),
            )
        return True

    def _holder_is_gone(self, holder: str) -> bool:
        try:
            host, pid_text, started = holder.rsplit(":", 2)
            pid = int(pid_text)
        except ValueError:
            return False
        if host != socket.gethostname():
            return False  # another machine sharing the volume: only the TTL can tell
        if not _pid_alive(pid):
            return True
        now_started = _process_start(pid)
        started = started.split("-", 1)[0]
        return now_started is not None and started != "?" and now_started != started

    def refresh(self) -> bool:
        """Renew the lock; False if another process has taken it (we stalled past the TTL)."""
        return self.store.acquire_lock(
            self.name, self.owner, self.ttl.total_seconds(), self.clock()
        )

    def release(self) -> None:
        """Give the lock back and record the stop."""
        from .store import _ts

        self.store.release_lock(self.name, self.owner)
        if self.name != SERVE_LOCK:
            return
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE serve_sessions SET stopped_at = ? WHERE owner = ?",
                (_ts(self.clock()), self.owner),
            )


def describe_owner(owner: str | None) -> str:
    """A lock owner for people: `pid 12 on host-a`."""
    parts = (owner or "").rsplit(":", 2)
    if len(parts) != 3:
        return owner or "unknown owner"
    return f"pid {parts[1]} on {parts[0]}"


def latest_serve_start(store: Store) -> datetime | None:
    """When the most recent `digest serve` on this state started, or None if none ever did."""
    row = store.conn.execute("SELECT MAX(started_at) FROM serve_sessions").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


# --- the scheduler ----------------------------------------------------------------------------

Runner = Callable[["App", "DigestConfig", str], Any]
AlertPoller = Callable[["App", datetime], Any]


def _wait_for_run(store: Store, clock: Callable[[], datetime], stop: threading.Event) -> None:
    """Block while a live `digest run` holds the run lock (a crashed one's lock is taken over)."""
    waiting = False
    while not stop.is_set():
        holder = store.lock_owner(RUN_LOCK, clock())
        if holder is None:
            return
        probe = ServeLock(store, clock, RUN_LOCK_TTL, name=RUN_LOCK)
        if probe._holder_is_gone(holder):
            store.release_lock(RUN_LOCK, holder)
            continue
        if not waiting:
            log.info("serve: waiting for `digest run` (%s) to finish", describe_owner(holder))
            waiting = True
        stop.wait(2.0)


def _run_digest(app: App, digest: DigestConfig, period: str) -> Any:
    from .pipeline import run_digest

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
        options: ServeOptions | None = None,
        *,
        digests: Sequence[DigestConfig] | None = None,
        runner: Runner = _run_digest,
        alert_poller: AlertPoller | None = None,
    ) -> None:
        self.app = app
        self.options = options or ServeOptions.from_config(app.config)
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

    def due(self, now: datetime | None = None, only: str | None = None) -> list[DueRun]:
        """What should run at `now` (default: the app's clock)."""
        now = now or self.app.clock()
        schedules = [s for n, s in self.schedules.items() if only is None or n == only]
        # Periods before this process started count only within the grace time; every period
        # since it started counts however late the wake-up (a long run may delay a job).
        since = self.started_at - self.options.grace
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
        if attempts >= self.options.max_attempts:
            return False
        return last is None or now - last >= self.options.retry_after

    def tick(self, only: str | None = None) -> list[Outcome]:
        """Run every due period (or only this digest's), one after another."""
        outcomes = []
        with self.work:
            for due in self.due(only=only):
                if self.stopping.is_set():
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
    from .alerts import parse_rules

    dests = [dest for digest in app.config.digest for dest in digest.destinations]
    dests += [dest for rule in parse_rules(app.config) for dest in rule.destinations]
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
    from .alerts import parse_rules, poll
    from .channels import state_rules

    rules = parse_rules(app.config)
    # Readers may add rules at run time, from Slack or from the web side's preferences page.
    if not rules and not app.config.slack.app_token_env and app.config.web is None:
        return None
    # Topics followed from Slack are rules in the state: read again at every poll.
    return lambda app_, since: poll(
        app_, [*rules, *state_rules(app_.config, app_.store)], since=since
    )


# --- serve ------------------------------------------------------------------------------------


def serve(
    app: App,
    options: ServeOptions | None = None,
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
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    from .store import Store

    options = options or ServeOptions.from_config(app.config)
    stop = stop or threading.Event()
    # The lock gets its own connection: the heartbeat must not join a transaction that a run
    # holds open on the app's connection, nor wait for the run to finish.
    path = getattr(app.store, "path", None)
    lock_store = Store.open(path.parent) if path is not None else app.store
    try:
        # Built before the lock is taken: a bad schedule, alert rule or missing secret fails
        # here, at start, as a one-line error.
        scheduler = Scheduler(app, options, runner=runner, alert_poller=alert_poller_for(app))
        check_destinations(app)
        lock = ServeLock(lock_store, app.clock, options.lock_ttl)
        lock.acquire()
        # A `digest run` that started before us may still be delivering: let it finish. (It
        # takes its lock before it checks ours, so one of the two always sees the other.)
        _wait_for_run(lock_store, app.clock, stop)
    except BaseException:
        if lock_store is not app.store:
            lock_store.close()
        raise
    lost_lock = threading.Event()

    def heartbeat() -> None:
        if not lock.refresh():
            log.error("serve: another process took the state lock; stopping")
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
                IntervalTrigger(seconds=options.alert_interval.total_seconds(), timezone=UTC),
                id="alerts",
                next_run_time=now + timedelta(seconds=5),
            )
        aps.add_job(
            heartbeat,
            IntervalTrigger(seconds=max(options.lock_ttl.total_seconds() / 3, 1), timezone=UTC),
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
        aps.shutdown(wait=True)  # the run in flight finishes and records itself
    finally:
        for service in reversed(services):
            service.stop()
        if aps.running:
            aps.shutdown(wait=False)
        if not lost_lock.is_set():
            lock.release()
        if lock_store is not app.store:
            lock_store.close()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    return 1 if lost_lock.is_set() else 0
