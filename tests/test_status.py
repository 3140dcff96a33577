"""`digest status` and `digest health`: last runs, next times, feed health, failed and overdue,
read from a state of each backend (tests/state_backends.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from digest.cli import main
from digest.config import ServeSettings, parse_config
from digest.lock import ServeLock
from digest.status import digest_statuses, feed_health, format_status, health_problems
from digest.store import Store

FEED = "http://127.0.0.1:9/world.xml"
BROKEN = "http://127.0.0.1:9/broken.xml"


def config_for(schedule: str = "0 7 * * *", tz: str = "Europe/London"):
    return parse_config(
        {
            "digest": [
                {
                    "name": "morning",
                    "schedule": schedule,
                    "timezone": tz,
                    "feeds": [{"url": FEED}, {"url": BROKEN}],
                }
            ]
        },
        "config.toml",
    )


def record_run(store: Store, period: str | None, at: datetime, outcome: str, error=None) -> None:
    run_id = store.start_run("morning", period, at)
    store.finish_run(run_id, at + timedelta(seconds=30), outcome, error, 4)


OPTIONS = ServeSettings(grace_minutes=60, health_margin_minutes=30)


def test_status_shows_last_run_and_next_time_in_the_digest_time_zone(state: Store):
    store = state
    now = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    record_run(store, "2026-06-02T06:00:00+00:00", datetime(2026, 6, 2, 6, 0, 1, tzinfo=UTC), "ok")
    (status,) = digest_statuses(config_for(), store, now, OPTIONS)
    assert status.last_run.outcome == "ok" and status.problem is None
    assert status.next_run == datetime(2026, 6, 3, 6, 0, tzinfo=UTC)  # 07:00 BST
    text = format_status([status], [], None, now)
    assert "last run: 2026-06-02 07:00 BST  ok, 4 stories" in text
    assert "next run: 2026-06-03 07:00 BST" in text
    assert "serve: not running" in text
    running = format_status([status], [], "host-a:42:1234-ab12", now)
    assert "serve: running (pid 42 on host-a)" in running


def test_feed_health_marks_repeated_failures(state: Store):
    store = state
    now = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    store.record_feed_success(FEED, now, etag='"a"', last_modified=None)
    for _ in range(3):
        store.record_feed_failure(BROKEN, now, "HTTP 404")
    feeds = feed_health(config_for(), store)
    assert [(f.url, f.failing) for f in feeds] == [(FEED, False), (BROKEN, True)]
    text = format_status([], feeds, None, now)
    assert f"{BROKEN}  FAILING (3 in a row" in text and "HTTP 404" in text


def test_health_fails_when_the_last_run_failed_and_recovers_after_a_good_one(state: Store):
    store = state
    config = config_for()
    now = datetime(2026, 6, 2, 6, 10, tzinfo=UTC)
    record_run(
        store, "2026-06-02T06:00:00+00:00", now - timedelta(minutes=10), "failed", "smtp: 535"
    )
    (problem,) = health_problems(config, store, now, OPTIONS)
    assert "morning: the last run" in problem and "failed: smtp: 535" in problem
    record_run(store, "2026-06-02T06:00:00+00:00", now, "ok")
    assert health_problems(config, store, now + timedelta(minutes=1), OPTIONS) == []


def test_health_fails_when_a_scheduled_run_is_overdue(state: Store):
    store = state
    config = config_for(tz="UTC")
    clock_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    ServeLock(store, lambda: clock_at, timedelta(seconds=90)).acquire()  # serve started then
    record_run(store, "2026-06-01T07:00:00+00:00", datetime(2026, 6, 1, 7, tzinfo=UTC), "ok")
    # 07:00 on 2 June came and went without a run.
    assert health_problems(config, store, datetime(2026, 6, 2, 7, 20, tzinfo=UTC), OPTIONS) == []
    (problem,) = health_problems(config, store, datetime(2026, 6, 2, 7, 31, tzinfo=UTC), OPTIONS)
    assert "the run due at 2026-06-02 07:00 UTC has not finished (31m late" in problem
    # A one-shot `digest run` (no period) after the due time counts as the run.
    record_run(store, None, datetime(2026, 6, 2, 7, 40, tzinfo=UTC), "empty")
    assert health_problems(config, store, datetime(2026, 6, 2, 7, 41, tzinfo=UTC), OPTIONS) == []


def test_health_does_not_blame_a_period_from_before_serve_started(state: Store):
    store = state
    config = config_for(tz="UTC")
    # Never run, and serve started at 10:00, three hours after 07:00 (beyond the grace hour).
    started = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    ServeLock(store, lambda: started, timedelta(seconds=90)).acquire()
    assert health_problems(config, store, started + timedelta(hours=2), OPTIONS) == []
    # With no serve and no run ever, nothing can be overdue either.
    assert health_problems(config, Store.memory(), started, OPTIONS) == []


# --- the commands -----------------------------------------------------------------------------


def write_config(tmp_path, schedule: str = "0 7 * * *"):
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
state_dir = "state"

[[digest]]
name = "morning"
schedule = "{schedule}"
timezone = "Europe/London"
feeds = [{{ url = "{FEED}" }}]
""",
        encoding="utf-8",
    )
    return path


def test_health_command_exits_non_zero_after_a_failed_run(tmp_path, state_backend):
    path = write_config(tmp_path)
    extra, env = state_backend.cli_args()
    runner = CliRunner(env=env)
    ok = runner.invoke(main, ["health", "--config", str(path), *extra])
    assert ok.exit_code == 0, ok.output
    assert "healthy: 1 digests" in ok.output
    store = state_backend.open()
    record_run(store, None, datetime.now(UTC), "failed", "email:a@example.com: 550 no such user")
    store.close()
    bad = runner.invoke(main, ["health", "--config", str(path), *extra])
    assert bad.exit_code == 1
    assert "unhealthy: morning: the last run" in bad.output and "550 no such user" in bad.output


def test_status_command_prints_text_and_json(tmp_path, state_backend):
    path = write_config(tmp_path)
    store = state_backend.open()
    record_run(store, None, datetime.now(UTC) - timedelta(minutes=5), "ok")
    store.record_feed_failure(FEED, datetime.now(UTC), "HTTP 503")
    store.close()
    extra, env = state_backend.cli_args()
    runner = CliRunner(env=env)
    text = runner.invoke(main, ["status", "--config", str(path), *extra])
    assert text.exit_code == 0, text.output
    assert "morning  [0 7 * * *, Europe/London]" in text.output
    assert "last attempt failed: HTTP 503" in text.output
    out = runner.invoke(main, ["status", "--config", str(path), *extra, "--format", "json"])
    data = json.loads(out.output)
    assert data["digests"][0]["last_run"]["outcome"] == "ok"
    assert data["digests"][0]["next_run"].endswith("+00:00")
    assert data["feeds"][0]["consecutive_failures"] == 1
    assert data["serve"]["running"] is False and data["serve"]["owner"] is None
    assert data["serve"]["standbys"] == []


def test_commands_have_help():
    runner = CliRunner()
    for name, words in [
        ("serve", "schedule"),
        ("status", "next scheduled time"),
        ("health", "overdue"),
    ]:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and words in result.output, result.output
