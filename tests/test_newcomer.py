"""Issue 14, "the first five minutes": what a new user and an operator hit first.

Each test here failed on the code before the issue's fix: schedules serve cannot run, secrets
found after all the work, a digest file nobody is told about, options only before the
subcommand, a typed loopback URL refused, and a second run on unchanged feeds sending leftovers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main

BAD_SCHEDULES = {
    "0 25 * * *": "hour field '25'",
    "61 7 * * *": "minute field '61'",
    "0 7 * * 8": "day of week '8'",
    "*/0 * * * *": "minute field '*/0'",
    "0 7 32 * *": "day field '32'",
    "0 7 31 2 *": "never fires",
}


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def _digest(schedule: str = "0 7 * * *", extra: str = "") -> str:
    return (
        f'[[digest]]\nname = "w"\nschedule = "{schedule}"\n'
        f'feeds = [{{url = "https://a.example/rss"}}]\n{extra}'
    )


# --- 2. schedules: parsed at load by serve's own parser ------------------------------------------


@pytest.mark.parametrize("schedule", sorted(BAD_SCHEDULES))
def test_check_config_refuses_a_schedule_serve_cannot_run(tmp_path, schedule):
    cfg = _config(tmp_path, _digest(schedule))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {cfg}: digest[0].schedule: "), first
    assert BAD_SCHEDULES[schedule] in first
    # No "run check-config" advice inside check-config itself.
    assert "check-config" not in result.stderr


@pytest.mark.parametrize("command", ["status", "health", "serve"])
def test_status_health_serve_name_file_and_key_of_a_bad_schedule(tmp_path, command):
    cfg = _config(tmp_path, _digest("0 25 * * *"))
    args = [command, "--config", str(cfg), "--state-dir", str(tmp_path / "state")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"error: {cfg}: digest[0].schedule: hour field '25'" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("schedule", ["0 7 * * 1-5", "*/15 6-22 * * *", "30 8 1,15 * sun", "@"])
def test_good_schedules_still_pass_and_garbage_does_not(tmp_path, schedule):
    cfg = _config(tmp_path, _digest(schedule))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == (2 if schedule == "@" else 0), result.output


def test_a_bad_feed_flag_gets_a_hint_that_fits(tmp_path):
    result = CliRunner().invoke(
        main, ["--state-dir", str(tmp_path), "run", "--feed", "ftp://x.example/f", "--dry-run"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --feed ftp://x.example/f: must be an http(s) URL")
    assert "check-config" not in result.stderr
    assert "hint: give the feed's full address" in result.stderr


# --- 3 and 16.7: secrets checked before any work, each naming file and key -----------------------

SECRETS_CONFIG = """
[smtp]
host = "127.0.0.1"
port = 2525
security = "none"
username = "u"
password_env = "NEWCOMER_SMTP_PASSWORD"
from = "digest@x.example"

[[digest]]
name = "w"
feeds = [{{url = "{feed}"}}]
destinations = [
  {{type = "slack", channel = "#n", token_env = "NEWCOMER_SLACK_TOKEN"}},
  {{type = "email", to = ["a@b.example"]}},
]

[[alert]]
name = "a"
keywords = {{ any = ["harbour"] }}
destinations = [{{type = "slack_webhook", url_env = "NEWCOMER_WEBHOOK"}}]
"""

MISSING = [
    "digest[0].destinations[0].token_env: environment variable NEWCOMER_SLACK_TOKEN is not set",
    "smtp.password_env: environment variable NEWCOMER_SMTP_PASSWORD is not set",
    "alert[0].destinations[0].url_env: environment variable NEWCOMER_WEBHOOK is not set",
]


@pytest.fixture
def no_secrets(monkeypatch):
    for name in ("NEWCOMER_SLACK_TOKEN", "NEWCOMER_SMTP_PASSWORD", "NEWCOMER_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)


def test_check_config_reports_every_missing_secret_as_an_error(tmp_path, no_secrets):
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed="https://a.example/rss"))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {cfg}: {line}" for line in MISSING]
    assert "ok:" not in result.stdout
    skipped = CliRunner().invoke(main, ["check-config", "--no-secrets", "--config", str(cfg)])
    assert skipped.exit_code == 0, skipped.output
    assert "ok: 1 digests" in skipped.stdout


def test_check_config_names_a_webhook_variable_that_is_not_a_url(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWCOMER_SLACK_TOKEN", "xoxb-1")
    monkeypatch.setenv("NEWCOMER_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("NEWCOMER_WEBHOOK", "not a url, and a secret")
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed="https://a.example/rss"))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 2
    assert (
        "alert[0].destinations[0].url_env: environment variable NEWCOMER_WEBHOOK does not hold"
        in (result.stderr)
    )
    assert "a secret" not in result.stderr  # the value is never echoed


def test_run_with_a_missing_secret_stops_before_fetching(tmp_path, no_secrets, httpserver):
    httpserver.expect_request("/rss.xml").respond_with_data("<rss/>", content_type="text/xml")
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed=httpserver.url_for("/rss.xml")))
    result = CliRunner().invoke(
        main, ["--state-dir", str(tmp_path / "s"), "run", "--config", str(cfg)]
    )
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    # The digest's own destinations, each naming the file and key; not the alert's.
    assert errors == [f"error: {cfg}: {line}" for line in MISSING[:2]]
    assert httpserver.log == []  # nothing fetched


def test_the_pipeline_checks_destinations_before_fetching(tmp_path, no_secrets, httpserver):
    from digest.app import build_app
    from digest.config import load_config
    from digest.embed import HashingEmbedder
    from digest.errors import ConfigError
    from digest.pipeline import run_digest

    httpserver.expect_request("/rss.xml").respond_with_data("<rss/>", content_type="text/xml")
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed=httpserver.url_for("/rss.xml")))
    config = load_config(cfg)
    app = build_app(config, state_dir=tmp_path / "s", embedder=HashingEmbedder())
    try:
        with pytest.raises(ConfigError) as raised:
            run_digest(app, config.digest[0])
    finally:
        app.close()
    assert str(raised.value).startswith(f"{cfg}: digest[0].destinations[0].token_env: ")
    assert httpserver.log == []


def test_serve_names_every_missing_secret_with_file_and_key(tmp_path, no_secrets):
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed="https://a.example/rss"))
    result = CliRunner().invoke(
        main,
        ["serve", "--config", str(cfg), "--state-dir", str(tmp_path / "s")],
    )
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {cfg}: {line}" for line in MISSING]
