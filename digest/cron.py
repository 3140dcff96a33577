"""Cron expressions and periods, pure: when each digest is due, given the time passed in.

A schedule is a 5-field crontab expression in an IANA time zone, read with crontab's meaning
(Sunday = 0 or 7; a day matching day-of-month *or* day-of-week fires) and parsed by APScheduler's
CronTrigger, the trigger `digest serve` wakes up with. A period is the scheduled fire time (UTC,
ISO 8601), as the runs table of the state records it. Nothing here reads the clock or the state:
`due_runs` takes `now` and a `done(digest, period)` question, so tests drive it with fake times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import DigestConfig

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
    if next_fire(Schedule("check", cron, timezone), _LEAP_YEAR_START) is None:
        raise ValueError(f"{cron!r} never fires (no such date)")


# Whether a schedule can fire does not depend on today: from the start of a leap year, every
# schedule that fires at all (29 February too) fires within next_fire's look-ahead.
_LEAP_YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)


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
