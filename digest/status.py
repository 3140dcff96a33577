"""What `digest status` and `digest health` report: what ran, what runs next, failing feeds.

Both read the SQLite state only: they load no model and fetch nothing, so a container health
check can call `digest health` every minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .clock import short_span
from .config import ServeSettings
from .cron import Schedule, next_fire, period_key, previous_fire
from .lock import Replicas, describe_owner, latest_serve_start

if TYPE_CHECKING:
    from .config import Config
    from .store import FeedState, RunRecord, Store

# A feed failing this many times in a row is reported as failing (one blip is not news).
FAILING_AFTER = 3


@dataclass(frozen=True)
class DigestStatus:
    """One digest: its schedule, last run and next scheduled time."""

    name: str
    schedule: str
    timezone: str
    last_run: RunRecord | None
    next_run: datetime | None
    problem: str | None  # why `digest health` fails for this digest, or None


@dataclass(frozen=True)
class FeedHealth:
    """One feed as the state knows it."""

    url: str
    digests: tuple[str, ...]
    state: FeedState | None  # None: never fetched yet

    @property
    def failing(self) -> bool:
        """Whether the feed failed FAILING_AFTER times in a row or more."""
        return self.state is not None and self.state.consecutive_failures >= FAILING_AFTER


def _finished_since(store: Store, digest: str, since: datetime) -> bool:
    run = store.last_finished_run(digest)
    return run is not None and run.started_at >= since


def digest_problem(
    store: Store,
    schedule: Schedule,
    now: datetime,
    options: ServeSettings,
    baseline: datetime | None,
) -> str | None:
    """Why this digest is unhealthy at `now`: its last run failed, or a run is overdue."""
    last = store.last_run(schedule.digest)
    if last is not None and last.outcome == "failed":
        return (
            f"{schedule.digest}: the last run ({_iso(last.started_at)}) failed: "
            f"{(last.error or 'no detail').splitlines()[0]}"
        )
    if baseline is None:
        return None  # nothing has ever run here: nothing can be overdue yet
    # The latest period that should have finished by now, counting only those this state was
    # responsible for (a serve catches up on periods within the grace time before it started).
    cutoff = now - options.health_margin
    window = cutoff - (baseline - options.grace)
    fire = previous_fire(schedule, cutoff, window)
    if fire is None:
        return None
    # A one-shot `digest run` from cron records no period: any finished run since counts.
    if store.period_done(schedule.digest, period_key(fire)) or _finished_since(
        store, schedule.digest, fire - timedelta(minutes=1)
    ):
        return None
    late = now - fire
    return (
        f"{schedule.digest}: the run due at {_iso(fire)} has not finished "
        f"({short_span(late)} late, margin {short_span(options.health_margin)})"
    )


def _baseline(store: Store, digest: str) -> datetime | None:
    """From when a missing run means trouble: the last serve start, else the first run."""
    started = latest_serve_start(store)
    if started is not None:
        return started
    return store.first_run_start(digest)


def digest_statuses(
    config: Config, store: Store, now: datetime, options: ServeSettings | None = None
) -> list[DigestStatus]:
    """The status of every configured digest."""
    options = options or config.serve
    out = []
    for d in config.digest:
        schedule = Schedule.of(d)
        out.append(
            DigestStatus(
                name=d.name,
                schedule=d.schedule,
                timezone=d.timezone,
                last_run=store.last_run(d.name),
                next_run=next_fire(schedule, now),
                problem=digest_problem(store, schedule, now, options, _baseline(store, d.name)),
            )
        )
    return out


def feed_health(config: Config, store: Store) -> list[FeedHealth]:
    """Every configured feed with its health, in config order."""
    by_url: dict[str, list[str]] = {}
    for d in config.digest:
        for f in d.feeds:
            by_url.setdefault(f.url, []).append(d.name)
    known = dict(store.all_feed_states())
    return [FeedHealth(url, tuple(names), known.get(url)) for url, names in by_url.items()]


def health_problems(
    config: Config, store: Store, now: datetime, options: ServeSettings | None = None
) -> list[str]:
    """One line per reason the service is unhealthy; empty when it is healthy."""
    return [s.problem for s in digest_statuses(config, store, now, options) if s.problem]


# --- formatting -------------------------------------------------------------------------------


def _iso(when: datetime | None, tz: str | None = None) -> str:
    if when is None:
        return "-"
    local = when.astimezone(ZoneInfo(tz) if tz else UTC)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def _seconds(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "-"


def format_status(
    statuses: Sequence[DigestStatus],
    feeds: Sequence[FeedHealth],
    serve_owner: str | None,
    now: datetime,
    replicas: Replicas | None = None,
) -> str:
    """The text `digest status` prints."""
    lines = []
    if serve_owner:
        lines.append(f"serve: running ({describe_owner(serve_owner)})")
    else:
        lines.append("serve: not running")
    if replicas is not None and replicas.leader:
        lines.append(
            f"  lease: held by {describe_owner(replicas.leader)} since "
            f"{_seconds(replicas.since)}, lapses at {_seconds(replicas.expires)} unless renewed"
        )
    for standby in replicas.standbys if replicas is not None else ():
        lines.append(f"  standby: {describe_owner(standby)}")
    lines.append("")
    lines.append("digests:")
    for s in statuses:
        lines.append(f"  {s.name}  [{s.schedule}, {s.timezone}]")
        run = s.last_run
        if run is None:
            lines.append("    last run: never")
        else:
            outcome = run.outcome or "running (or interrupted)"
            detail = f", {run.stories} stories" if run.outcome == "ok" else ""
            if run.error:
                detail += f": {run.error.splitlines()[0]}"
            lines.append(f"    last run: {_iso(run.started_at, s.timezone)}  {outcome}{detail}")
        lines.append(f"    next run: {_iso(s.next_run, s.timezone)}")
        if s.problem:
            lines.append(f"    problem:  {s.problem}")
    lines.append("")
    lines.append("feeds:")
    for f in feeds:
        st = f.state
        if st is None:
            state = "never fetched"
        elif f.failing:
            state = (
                f"FAILING ({st.consecutive_failures} in a row, last ok "
                f"{_iso(st.last_success)}): {st.last_error}"
            )
        elif st.consecutive_failures:
            state = f"ok, last attempt failed: {st.last_error}"
        else:
            state = f"ok (last success {_iso(st.last_success)})"
        lines.append(f"  {f.url}  {state}")
    return "\n".join(lines)


def status_json(
    statuses: Sequence[DigestStatus],
    feeds: Sequence[FeedHealth],
    serve_owner: str | None,
    replicas: Replicas | None = None,
) -> dict[str, Any]:
    """The JSON `digest status --format json` prints."""

    def iso(when: datetime | None) -> str | None:
        return when.astimezone(UTC).isoformat() if when else None

    serve: dict[str, Any] = {"running": serve_owner is not None, "owner": serve_owner}
    if replicas is not None:
        serve["since"] = iso(replicas.since) if replicas.leader else None
        serve["lease_expires"] = iso(replicas.expires)
        serve["standbys"] = list(replicas.standbys)
    return {
        "serve": serve,
        "digests": [
            {
                "name": s.name,
                "schedule": s.schedule,
                "timezone": s.timezone,
                "last_run": None
                if s.last_run is None
                else {
                    "period": s.last_run.period,
                    "started_at": iso(s.last_run.started_at),
                    "finished_at": iso(s.last_run.finished_at),
                    "outcome": s.last_run.outcome,
                    "error": s.last_run.error,
                    "stories": s.last_run.stories,
                },
                "next_run": iso(s.next_run),
                "problem": s.problem,
            }
            for s in statuses
        ],
        "feeds": [
            {
                "url": f.url,
                "digests": list(f.digests),
                "failing": f.failing,
                "last_success": iso(f.state.last_success) if f.state else None,
                "last_attempt": iso(f.state.last_attempt) if f.state else None,
                "consecutive_failures": f.state.consecutive_failures if f.state else 0,
                "last_error": f.state.last_error if f.state else None,
            }
            for f in feeds
        ],
    }
