"""The command line: help texts, one-line errors, and the offline paths."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from digest.cli import main

COMMANDS = [
    "run",
    "check-config",
    "extract",
    "demo",
    "compress",
    "summarize",
    "prepare-model",
    "serve",
    "status",
    "health",
    "subscribers",
    "worker",
    "migrate",
    "state",
]


def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help():
    result = runner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
        sub = runner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)
        # A real sentence of help, not just the usage line.
        body = sub.output.split("Options:")[0]
        assert len(body.replace("Usage:", "").split()) > 6, (name, body)


def test_every_registered_command_is_listed_here():
    # A command added to digest.cli without a --help check above fails here.
    assert sorted(main.commands) == sorted(COMMANDS)


def test_prepare_model_names_an_unwritable_cache_in_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner().invoke(main, ["prepare-model", "--cache-dir", str(blocker / "models")])
    assert result.exit_code == 1, result.output
    assert f"error: {blocker / 'models'}: cannot write the model cache" in result.stderr
    assert "Traceback" not in result.output
    # Without --cache-dir it builds where `digest run` reads: DIGEST_MODEL_CACHE.
    monkeypatch.setenv("DIGEST_MODEL_CACHE", str(blocker / "env"))
    result = runner().invoke(main, ["prepare-model"])
    assert result.exit_code == 1, result.output
    assert f"error: {blocker / 'env'}: cannot write the model cache" in result.stderr


def test_check_config_reports_each_problem_in_one_line(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[digest]]\nname = "w"\ntimezone = "Nowhere/City"\nfeeds = [{url = "x"}]\n')
    result = runner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert any("digest[0].timezone" in ln for ln in result.stderr.splitlines())
    assert any("digest[0].feeds[0].url" in ln for ln in result.stderr.splitlines())
    assert lines and "Traceback" not in result.output


def test_check_config_ok_and_errors_on_unset_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[digest]]\nname = "w"\nfeeds = [{url = "https://a.example/rss"}]\n'
        'destinations = [{type = "slack", channel = "#n", token_env = "SLACK_BOT_TOKEN"}]\n'
    )
    result = runner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = runner().invoke(main, ["check-config", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "ok: 1 digests, 1 feeds, 1 destinations" in result.stdout
    assert not (tmp_path / "state").exists()  # no side effects


def test_missing_config_is_one_line_with_hint(tmp_path):
    result = runner().invoke(main, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("error: ")
    assert "hint:" in result.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_feed_is_named_and_the_exit_is_clean(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/rss.xml"
    result = runner().invoke(
        main,
        [
            "--state-dir",
            str(tmp_path),
            "run",
            "--feed",
            url,
            "--dry-run",
            "--format",
            "json",
            "--summarizer",
            "extractive",
        ],
        env={"DIGEST_CONFIG": str(tmp_path / "absent.toml")},
    )
    assert result.exit_code == 0, result.output
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and url in warnings[0]
    data = json.loads(result.stdout)
    assert data["digest"] == "adhoc" and data["stories"] == []


def test_extract_file_as_json(tmp_path):
    page = tmp_path / "a.html"
    paragraphs = "".join(
        f"<p>The harbour authority said on Monday that berth {i} will reopen after repairs "
        f"to the quay wall, which was damaged in the storm of last winter.</p>"
        for i in range(1, 8)
    )
    page.write_text(
        "<html><head><title>Harbour berths reopen | Dock News</title>"
        '<meta property="og:site_name" content="Dock News"></head><body>'
        f"<nav>Home News</nav><article><h1>Harbour berths reopen</h1>{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    )
    result = runner().invoke(main, ["extract", str(page), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"url", "title", "text", "author", "published", "outlet"}
    assert "berth 3 will reopen" in data["text"] and "Copyright" not in data["text"]
    assert data["outlet"] == "Dock News"


def test_extract_missing_file_is_one_line(tmp_path):
    result = runner().invoke(main, ["extract", str(tmp_path / "missing.html")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "cannot read file" in result.stderr


@pytest.mark.slow  # the demo groups its stories with the real MiniLM
@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_demo_prints_a_digest_offline(tmp_path, fmt):
    result = runner().invoke(
        main, ["demo", "--summarizer", "extractive", "--format", fmt, "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["digest"] == "demo"
        outlets = [len(s["sources"]) for s in data["stories"]]
        assert max(outlets) >= 2  # stories told by several outlets are grouped
        assert all(s["bullets"] for s in data["stories"])
    else:
        assert "Port Ellison" in result.stdout


def test_run_refuses_to_deliver_while_serve_holds_the_state(state_backend):
    from datetime import UTC, datetime, timedelta

    store = state_backend.open()
    store.acquire_lock("serve", "otherhost:42:x", 3600, datetime.now(UTC) - timedelta(seconds=5))
    store.close()
    url = f"http://127.0.0.1:{_closed_port()}/rss.xml"
    extra, env = state_backend.cli_args()
    args = [*extra, "run", "--feed", url, "--summarizer", "extractive"]
    result = runner().invoke(main, args, env=env)
    assert result.exit_code == 1
    assert "digest serve" in result.stderr and "otherhost:42:x" in result.stderr
    dry = runner().invoke(main, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output


def test_a_second_run_refuses_to_deliver_while_one_is_delivering(state_backend):
    """Two `digest run`s on one state (a cron tick overlapping a slow run) never both deliver;
    a crashed run's lock (its pid is gone) does not block the next one."""
    import os
    import socket
    from datetime import UTC, datetime

    from digest.lock import RUN_LOCK

    live = f"{socket.gethostname()}:{os.getpid()}:?-test"  # this test process: alive
    store = state_backend.open()
    store.acquire_lock(RUN_LOCK, live, 3600, datetime.now(UTC))
    where = store.location  # the SQLite file, or the Postgres URL
    store.close()
    url = f"http://127.0.0.1:{_closed_port()}/rss.xml"
    extra, env = state_backend.cli_args()
    args = [*extra, "run", "--feed", url, "--summarizer", "extractive"]
    result = runner().invoke(main, args, env=env)
    assert result.exit_code == 1
    assert "another `digest run`" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert f"error: {where}: another" in result.stderr  # names the state at fault

    store = state_backend.open()
    store.release_lock(RUN_LOCK, live)
    dead = f"{socket.gethostname()}:{2**22 + 17}:?-crashed"  # no such pid
    store.acquire_lock(RUN_LOCK, dead, 3600, datetime.now(UTC))
    store.close()
    result = runner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output  # took the dead run's lock over
    store = state_backend.open()
    assert store.lock_owner(RUN_LOCK, datetime.now(UTC)) is None  # and gave it back
    store.close()
