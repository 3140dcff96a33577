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


@pytest.mark.slow  # groups the stories with the real MiniLM
def test_a_dry_run_needs_no_secret(tmp_path, no_secrets, httpserver):
    httpserver.expect_request("/rss.xml").respond_with_data(
        _rss(["Berths reopen"]), content_type="application/rss+xml"
    )
    cfg = _config(tmp_path, SECRETS_CONFIG.format(feed=httpserver.url_for("/rss.xml")))
    body = cfg.read_text().replace("[[digest]]", "[cluster]\nenabled = false\n\n[[digest]]")
    cfg.write_text(body)
    args = ["run", "--config", str(cfg), "--dry-run", "--summarizer", "extractive"]
    result = CliRunner().invoke(main, [*args, "--state-dir", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "https://news.example/0" in result.stdout  # rendered, nothing sent
    assert "not set" not in result.stderr


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


# --- 6. options where users type them ------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_works_before_and_after_the_subcommand(tmp_path, where):
    url = f"http://127.0.0.1:{_closed_port()}/rss.xml"
    run = ["run", "--feed", url, "--dry-run", "--summarizer", "extractive"]
    glob = ["-q", "--state-dir", str(tmp_path)]
    args = [*glob, *run] if where == "before" else [*run, *glob]
    result = CliRunner().invoke(main, args, env={"DIGEST_CONFIG": str(tmp_path / "none.toml")})
    assert result.exit_code == 0, result.output
    assert "INFO" not in result.stderr  # quiet: no stage lines
    assert url in result.stderr  # the failing feed is still named
    assert (tmp_path / "state.db").exists() or any(tmp_path.iterdir())  # --state-dir was used


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path):
    args = ["check-config", "--config", str(tmp_path / "absent.toml")]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 2 and plain.exception is not None
    assert isinstance(plain.exception, SystemExit)
    debug = CliRunner().invoke(main, [*args, "--debug"])
    from digest.errors import ConfigError

    assert isinstance(debug.exception, ConfigError)  # raised, not turned into one line


def test_every_subcommand_accepts_the_global_options():
    from digest.cli import main as group

    def walk(cmd, path):
        import click

        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    for path, cmd in walk(group, []):
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"--debug", "-q", "--quiet", "--state-dir"} <= opts, path


def test_the_command_list_does_not_cut_descriptions():
    import re

    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    listed = " ".join(result.output.split("Commands:")[1].split())
    assert "..." not in listed and "…" not in listed
    for name, cmd in main.commands.items():
        first = cmd.get_short_help_str(limit=1000)
        assert re.sub(r"\s+", " ", first) in listed, name


def test_extract_format_has_help_text():
    result = CliRunner().invoke(main, ["extract", "--help"], terminal_width=200)
    line = next(ln for ln in result.output.splitlines() if "--format" in ln)
    assert "json" in line and "title" in line  # says what each format prints


# --- 4. where did my digest go? ----------------------------------------------------------------

_WORDS = (
    "The harbour authority of Port Ellison said on Monday that the eastern berths will reopen "
    "next month after repairs to the quay wall, which was damaged in last winter's storm. "
)


def _rss(titles: list[str]) -> str:
    items = "".join(
        f"<item><title>{t}</title><link>https://news.example/{i}</link>"
        f"<guid>https://news.example/{i}</guid>"
        f"<pubDate>Mon, 30 Nov 2026 0{i % 10}:00:00 GMT</pubDate>"
        f"<description>{t}. {_WORDS * 8}</description></item>"
        for i, t in enumerate(titles)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
    return f"{head}{items}</channel></rss>"


def _local_config(tmp_path: Path, feed: str, max_stories: int = 20) -> Path:
    return _config(
        tmp_path,
        f'[cluster]\nenabled = false\n[summarizer]\nbackend = "extractive"\n'
        f'[output]\nhtml_dir = "out"\n'
        f'[[digest]]\nname = "w"\nmax_stories = {max_stories}\nfeeds = [{{url = "{feed}"}}]\n',
    )


@pytest.mark.slow  # groups the stories with the real MiniLM
def test_a_run_without_destination_names_its_html_file_and_follows_the_umask(tmp_path, httpserver):
    import os
    import stat

    httpserver.expect_request("/rss.xml").respond_with_data(
        _rss(["Berths reopen", "Quay wall repaired"]), content_type="application/rss+xml"
    )
    cfg = _local_config(tmp_path, httpserver.url_for("/rss.xml"))
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            main, ["run", "--config", str(cfg), "--state-dir", str(tmp_path / "s")]
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "out").glob("digest-w-*.html"))
    assert len(files) == 1
    assert f"HTML copy: {files[0].resolve()}" in result.stderr
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o644  # 0666 less the umask, not 0600
    assert "https://news.example/1" in files[0].read_text()


# --- 7. a URL the user types is trusted like a configured feed -----------------------------------

_PAGE = (
    "<html><head><title>Berths reopen | Dock News</title>"
    '<meta property="og:site_name" content="Dock News"></head><body><article>'
    "<h1>Harbour berths reopen after quay repairs</h1>"
    + "".join(
        f"<p>The harbour authority said on Monday that berth {i} will reopen after repairs "
        f"to the quay wall, which cost {i + 2} million dollars after the storm.</p>"
        for i in range(1, 9)
    )
    + "</article></body></html>"
)


def test_extract_and_summarize_fetch_a_typed_loopback_url(tmp_path, httpserver):
    httpserver.expect_request("/a.html").respond_with_data(_PAGE, content_type="text/html")
    url = httpserver.url_for("/a.html")
    assert url.startswith("http://localhost") or url.startswith("http://127.0.0.1")
    extracted = CliRunner().invoke(main, ["extract", url, "--format", "json"])
    assert extracted.exit_code == 0, extracted.output
    assert "berth 3 will reopen" in extracted.stdout
    summary = CliRunner().invoke(
        main, ["summarize", url, "--backend", "extractive", "--no-embed", "--format", "json"]
    )
    assert summary.exit_code == 0, summary.output
    assert "loopback" not in summary.stderr
    assert "berth" in summary.stdout


# --- 9. a second run on unchanged feeds sends no digest of leftovers -----------------------------


def test_unchanged_feeds_send_no_digest_of_leftovers(tmp_path, httpserver):
    from datetime import UTC, datetime

    from digest.app import build_app
    from digest.config import load_config
    from digest.deliver.local import MemoryNotifier
    from digest.embed import HashingEmbedder
    from digest.pipeline import run_digest

    titles = [f"Berth {i} reopens after quay repairs" for i in range(7)]
    feed = {"body": _rss(titles)}
    httpserver.expect_request("/rss.xml").respond_with_handler(
        lambda request: __import__("werkzeug").Response(
            feed["body"], content_type="application/rss+xml"
        )
    )
    cfg = _config(
        tmp_path,
        '[cluster]\nenabled = false\n[summarizer]\nbackend = "extractive"\n'
        '[[digest]]\nname = "w"\nmax_stories = 3\n'
        f'feeds = [{{url = "{httpserver.url_for("/rss.xml")}"}}]\n'
        'destinations = [{type = "slack", channel = "#n"}]\n',
    )
    config = load_config(cfg)
    slack = MemoryNotifier("slack:#n", stories_per_message=50)
    app = build_app(
        config,
        state_dir=tmp_path / "s",
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: slack,
        clock=lambda: datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    try:
        first = run_digest(app, config.digest[0])
        assert len(first.digest.stories) == 3  # 4 stories missed the cut
        second = run_digest(app, config.digest[0])  # the same feed again: nothing new
        assert second.digest.stories == ()
        assert [d.detail for d in second.deliveries] == ["nothing new"]
        assert len(slack.messages) == 1

        # One new story: it goes out, ranked with the still-fresh leftovers, within the cap.
        feed["body"] = _rss([*titles, "Harbour ferry returns to the eastern docks"])
        third = run_digest(app, config.digest[0])
        shown = [ds.story.headline for ds in third.digest.stories]
        assert 1 <= len(shown) <= 3
        assert any("ferry" in h.lower() for h in shown), shown
        sent = [sid for m in slack.messages for sid in m.story_ids]
        assert len(sent) == len(set(sent))  # never a story twice
    finally:
        app.close()


# --- 1. CI sees what a fresh machine sees --------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    import re

    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    commands = [line for b in blocks for line in b.splitlines() if line.rstrip().endswith("pytest")]
    assert commands, "the README's set-up has no test command"
    return commands[0].strip()


def _ci_commands() -> list[str]:
    """.ci/run's top-level commands in order, without comments and the Chromium block."""
    out, depth = [], 0
    for raw in (ROOT / ".ci" / "run").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("if "):
            depth += 1
        if depth == 0:
            out.append(line)
        if line == "fi":
            depth -= 1
    return out


def test_ci_runs_the_readme_test_command_first_on_a_cold_machine():
    commands = _ci_commands()
    assert commands[:2] == ["set -euo pipefail", 'cd "$(dirname "$0")/.."']
    # The first real step after the (optional) Chromium install is the newcomer's command...
    assert commands[2] == _readme_test_command()
    # ...with nothing before it that a newcomer does not do: no warm model cache, no settings.
    before = "\n".join(commands[:2])
    for forbidden in ("--prepare", "DIGEST_MODEL_CACHE", "export ", "HF_HUB_OFFLINE"):
        assert forbidden not in before, forbidden


# --- 5. digest demo: one model cache per user, no library noise ----------------------------------


def test_the_model_cache_is_the_users_not_the_state_folders(tmp_path, monkeypatch):
    from digest.app import build_app
    from digest.config import parse_config
    from digest.embed import HashingEmbedder

    monkeypatch.delenv("DIGEST_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "digest" / "models"
    for state in ("demo-a", "demo-b"):  # two throwaway states, as two `digest demo` runs use
        app = build_app(parse_config({}), state_dir=tmp_path / state, embedder=HashingEmbedder())
        try:
            assert app.summarizer.cache_dir == expected
        finally:
            app.close()
    # Told otherwise: the environment, then the config, win.
    monkeypatch.setenv("DIGEST_MODEL_CACHE", str(tmp_path / "env"))
    config = parse_config({})
    app = build_app(config, state_dir=tmp_path / "s", embedder=HashingEmbedder())
    try:
        assert app.summarizer.cache_dir == tmp_path / "env"
    finally:
        app.close()
    config = parse_config({"summarizer": {"cache_dir": str(tmp_path / "cfg")}})
    app = build_app(config, state_dir=tmp_path / "s", embedder=HashingEmbedder())
    try:
        assert app.summarizer.cache_dir == tmp_path / "cfg"
    finally:
        app.close()


_NOISY = """
import sys, warnings
from digest.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
warnings.warn("past_key_values is deprecated", FutureWarning)
from tqdm import tqdm
for _ in tqdm(range(3)):
    pass
print("done")
"""


@pytest.mark.parametrize("debug", [False, True])
def test_library_noise_stays_out_of_the_terminal(tmp_path, debug):
    import os
    import subprocess
    import sys

    cfg = _config(tmp_path, _digest())
    args = ["check-config", "--no-secrets", "--config", str(cfg)] + (["--debug"] if debug else [])
    env = {
        k: v for k, v in os.environ.items() if k not in ("TQDM_DISABLE", "TRANSFORMERS_VERBOSITY")
    }
    proc = subprocess.run(
        [sys.executable, "-c", _NOISY, *args], capture_output=True, text=True, env=env, check=True
    )
    assert "done" in proc.stdout
    if debug:
        assert "past_key_values is deprecated" in proc.stderr  # --debug shows everything
    else:
        assert "past_key_values" not in proc.stderr
        assert "it/s" not in proc.stderr and "100%" not in proc.stderr


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("{{ titel }}: {{ count_label }}", "unknown variable 'titel'"),
        ("{{ title ", "not a valid template"),
        ("{{ digest.name | title }} digest, {{ date }}", None),
    ],
)
def test_an_email_subject_template_is_checked_at_load_naming_file_and_key(
    tmp_path, subject, message
):
    cfg = _config(
        tmp_path,
        '[smtp]\nhost = "127.0.0.1"\nfrom = "d@x.example"\n'
        + _digest(
            extra=f'destinations = [{{type = "email", to = ["a@b.example"], '
            f"subject = '{subject}'}}]\n"
        ),
    )
    result = CliRunner().invoke(main, ["check-config", "--no-secrets", "--config", str(cfg)])
    if message is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {cfg}: digest[0].destinations[0].subject: ")
        assert message in result.stderr
