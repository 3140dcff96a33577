"""Time in one place: the clock stages are handed, UTC conversion, and how times are written.

Inside the pipeline every datetime is timezone-aware. A naive one is read as UTC only where
time enters from outside (a feed or page without an offset, a row an old version wrote), by
`as_utc`; the records refuse naive datetimes (`require_aware`), so a missed edge fails loudly
instead of comparing wrongly.

Stages never call `datetime.now()` or `time.sleep()` themselves: they are given a `Clock`.
`SystemClock` is the real one; `ManualClock` is its twin, moved only by the caller (tests,
dry runs), and its `sleep` returns at once after moving the time on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, overload


class Clock(Protocol):
    """The current time (aware, UTC) when called, and a way to wait."""

    def __call__(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Wait this long (the twin only moves its time on)."""
        ...


class SystemClock:
    """The real clock: the system's time in UTC, and `time.sleep`."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` (nothing for zero or less)."""
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
"""The one real clock; it holds no state, so sharing it is safe."""


class ManualClock:
    """A clock that moves only when told: `advance()`, `set()`, or `sleep()`.

    `sleep()` returns at once and moves the time on by what was asked, so code that waits
    (a retry pause, a lock wait) runs instantly and still sees the time pass. Every sleep is
    kept in `slept`, for a test to check what was waited.
    """

    def __init__(self, now: datetime) -> None:
        self.now = require_aware(now, "ManualClock(now)")
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        """Move the time on by a `timedelta(**kwargs)`; the new time."""
        self.now += timedelta(**kwargs)
        return self.now

    def set(self, now: datetime) -> None:
        """Jump to this time (backwards too, as a system clock can)."""
        self.now = require_aware(now, "ManualClock.set(now)")

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the time on by it; returns at once."""
        self.slept.append(seconds)
        if seconds > 0:
            self.now += timedelta(seconds=seconds)

    def __repr__(self) -> str:
        return f"ManualClock({self.now.isoformat()})"


# --- aware datetimes ---------------------------------------------------------------------------


def require_aware(moment: datetime, what: str) -> datetime:
    """`moment` itself when it carries a time zone, else a ValueError naming `what`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{what} must be a timezone-aware datetime, got naive {moment.isoformat()} "
            "(use digest.clock.as_utc where the time enters)"
        )
    return moment


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
@overload
def as_utc(moment: datetime | None) -> datetime | None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """The same moment in UTC; a naive datetime is taken to be UTC already; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@overload
def parse_iso(text: str) -> datetime: ...
@overload
def parse_iso(text: None) -> None: ...
@overload
def parse_iso(text: str | None) -> datetime | None: ...
def parse_iso(text: str | None) -> datetime | None:
    """A time as stored (`iso_seconds`) back as an aware datetime; None or "" gives None.

    Text without an offset (a row or archive an older version wrote) is read as UTC, so a
    record never receives a naive datetime from storage.
    """
    if not text:
        return None
    return as_utc(datetime.fromisoformat(text))


# --- writing times ------------------------------------------------------------------------------


@overload
def iso_seconds(moment: datetime) -> str: ...
@overload
def iso_seconds(moment: None) -> None: ...
@overload
def iso_seconds(moment: datetime | None) -> str | None: ...
def iso_seconds(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second, `+00:00` form: how state and archives store a time.

    Strings of this one form sort as the moments do, so the store compares them as text.
    """
    if moment is None:
        return None
    return as_utc(moment).isoformat(timespec="seconds")


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, with a `Z` suffix: `2024-11-20T07:00:00Z` (rendering)."""
    return as_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def short_span(span: timedelta) -> str:
    """A span in one whole unit, coarse as a status line wants: "90s", "45m", "5h", "3d"."""
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def minutes_or_hours(span: timedelta) -> str:
    """A span of minutes to hours, as an alert's reason says it: "1m", "45m", "1.5h", "12h"."""
    minutes = max(int(span.total_seconds() // 60), 1)
    if minutes < 90:
        return f"{minutes}m"
    hours = span.total_seconds() / 3600
    return f"{hours:.0f}h" if hours >= 10 else f"{hours:.1f}h".replace(".0h", "h")
