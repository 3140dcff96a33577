"""The time module: the clocks, UTC conversion, how times are written, and aware records."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twins import article

from digest.clock import (
    SYSTEM_CLOCK,
    ManualClock,
    as_utc,
    iso_seconds,
    iso_utc,
    minutes_or_hours,
    parse_iso,
    require_aware,
    short_span,
)
from digest.models import Digest, FeedItem, Story

T0 = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


def test_as_utc_reads_naive_as_utc_and_converts_aware() -> None:
    assert as_utc(datetime(2026, 6, 2, 12, 0)) == T0
    assert as_utc(datetime(2026, 6, 2, 12, 0)).tzinfo is UTC
    converted = as_utc(datetime(2026, 6, 2, 14, 0, tzinfo=PLUS_TWO))
    assert converted == T0 and converted.tzinfo is UTC and converted.hour == 12
    assert as_utc(None) is None


def test_iso_forms_store_and_render() -> None:
    moment = datetime(2026, 6, 2, 14, 0, 5, 123456, tzinfo=PLUS_TWO)
    assert iso_seconds(moment) == "2026-06-02T12:00:05+00:00"
    assert iso_seconds(datetime(2026, 6, 2, 12, 0)) == "2026-06-02T12:00:00+00:00"
    assert iso_seconds(None) is None
    assert iso_utc(moment) == "2026-06-02T12:00:05Z"


def test_parse_iso_reads_back_what_iso_seconds_wrote_and_naive_text_as_utc() -> None:
    moment = datetime(2026, 6, 2, 14, 0, 5, tzinfo=PLUS_TWO)
    assert parse_iso(iso_seconds(moment)) == moment
    assert parse_iso("2026-06-02T12:00:00") == T0  # a row an older version wrote
    assert parse_iso("2026-06-02T12:00:00").tzinfo is UTC
    assert parse_iso(None) is None and parse_iso("") is None


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_stored_times_sort_as_the_moments_do(a: datetime, b: datetime) -> None:
    assert (iso_seconds(a) < iso_seconds(b)) == (
        a.replace(microsecond=0) < b.replace(microsecond=0)
    )


def test_short_span_is_coarse_whole_units() -> None:
    assert short_span(timedelta(seconds=90)) == "90s"
    assert short_span(timedelta(minutes=45)) == "45m"
    assert short_span(timedelta(hours=5, minutes=59)) == "5h"
    assert short_span(timedelta(days=3, hours=4)) == "3d"


def test_minutes_or_hours_says_an_alert_span() -> None:
    assert minutes_or_hours(timedelta(seconds=10)) == "1m"  # never "0m"
    assert minutes_or_hours(timedelta(minutes=45)) == "45m"
    assert minutes_or_hours(timedelta(minutes=90)) == "1.5h"
    assert minutes_or_hours(timedelta(hours=2)) == "2h"
    assert minutes_or_hours(timedelta(hours=12, minutes=20)) == "12h"


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(T0)
    assert clock() == T0 == clock()
    assert clock.advance(minutes=5) == T0 + timedelta(minutes=5) == clock()
    started = time.monotonic()
    clock.sleep(3600)
    clock.sleep(0)
    assert time.monotonic() - started < 1  # sleeping only moves the time on
    assert clock() == T0 + timedelta(hours=1, minutes=5)
    assert clock.slept == [3600, 0]
    clock.set(T0)
    assert clock() == T0
    with pytest.raises(ValueError, match=r"ManualClock\(now\) must be a timezone-aware"):
        ManualClock(datetime(2026, 6, 2, 12, 0))


def test_system_clock_is_aware_utc_and_sleeps() -> None:
    before = datetime.now(UTC)
    now = SYSTEM_CLOCK()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)
    started = time.monotonic()
    SYSTEM_CLOCK.sleep(0.05)
    SYSTEM_CLOCK.sleep(-1)  # a negative wait (a deadline already passed) returns at once
    assert time.monotonic() - started >= 0.05


def test_require_aware_names_what_was_naive() -> None:
    assert require_aware(T0, "x") is T0
    with pytest.raises(ValueError, match=r"^when must be a timezone-aware datetime, got naive"):
        require_aware(datetime(2026, 6, 2), "when")


def test_records_refuse_naive_datetimes_naming_the_field() -> None:
    naive = datetime(2026, 6, 2, 12, 0)
    with pytest.raises(ValueError, match=r"FeedItem\.published must be a timezone-aware"):
        FeedItem("k", "f", None, None, None, "t", "", published=naive)
    with pytest.raises(ValueError, match=r"Article\.published must be a timezone-aware"):
        article(published=naive)
    member = article(published=datetime(2026, 6, 2, 14, 0, tzinfo=PLUS_TWO))
    with pytest.raises(ValueError, match=r"Story\.last_updated must be a timezone-aware"):
        Story("s", "h", (member,), first_seen=T0, last_updated=naive)
    with pytest.raises(ValueError, match=r"Digest\.generated_at must be a timezone-aware"):
        Digest("d", naive, ())
    # Aware ones in any zone, and missing ones, are accepted as given.
    assert article().published is None
    assert Story("s", "h", (member,), first_seen=T0, last_updated=T0).published == T0
