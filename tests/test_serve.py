"""`digest serve` for real: APScheduler, signals, the state lock (on each state backend where a
test takes `state_backend`), SMTP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from smtp_sink import SmtpSink
from twins import WHOLE_DIGEST, recorder, sends
from webfixtures import running_server, serve_fixture_site
from werkzeug import Request, Response

from digest.app import build_app
from digest.config import ServeSettings, parse_config
from digest.deliver.local import MemoryRenderer
from digest.embed import HashingEmbedder
from digest.errors import ConfigError, StateError
from digest.lock import SERVE_LOCK
from digest.schedule import serve
from digest.summarize import ExtractiveSummarizer

FIXTURE_FEEDS = ["harbour-times.rss", "valley-post.atom", "coastal-wire.json"]


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    """Poll until `condition()` holds; fail naming `what` if it never does (no timing asserted)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


class GatedNotifier:
    """A destination whose send blocks until the test opens the gate."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.renderer = MemoryRenderer(WHOLE_DIGEST)  # the digest in one message
        self.sending = threading.Event()
        self.gate = threading.Event()
        self.sent: list[tuple[str, ...]] = []

    def send(self, messages: Any, on_sent: Any) -> None:
        self.sending.set()
        assert self.gate.wait(60), "the test never opened the gate"
        ids = tuple(sid for m in messages for sid in m.story_ids)
        self.sent.append(ids)
        on_sent(ids, f"ref-{len(self.sent)}")


def app_for(tmp_path: Path, feeds: list[str], notifier: Any, store: Any = None) -> Any:
    """An App serving these feeds each minute to `notifier`; its state is `store` when given
    (one of tests/state_backends.py), else SQLite in tmp_path/state."""
    config = parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
            "summarizer": {"backend": "extractive"},
            "digest": [
                {
                    "name": "news",
                    "schedule": "* * * * *",  # the minute that just began is due at start
                    "feeds": [{"url": u} for u in feeds],
                    "destinations": [{"type": "slack", "channel": "#news", "token_env": "X"}],
                }
            ],
        },
        str(tmp_path / "config.toml"),
    )
    return build_app(
        config,
        store=store,
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: notifier,
    )


@contextmanager
def fixture_feeds() -> Iterator[list[str]]:
    with running_server() as server:
        base = serve_fixture_site(server)
        yield [f"{base}/feeds/{name}" for name in FIXTURE_FEEDS]


def test_sigterm_during_a_delivery_finishes_it_records_it_and_exits_zero(tmp_path, state_backend):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    with fixture_feeds() as feeds:
        slack = GatedNotifier("slack:#news")
        app = app_for(tmp_path, feeds, slack, state_backend.open())
        stop = threading.Event()
        before = signal.getsignal(signal.SIGTERM)

        def terminate_mid_delivery() -> None:
            slack.sending.wait(60)
            os.kill(os.getpid(), signal.SIGTERM)  # handled by serve in the main thread
            stop.wait(60)
            slack.gate.set()  # the delivery in flight now completes

        killer = threading.Thread(target=terminate_mid_delivery, daemon=True)
        killer.start()
        code = serve(app, ServeSettings(), stop=stop)
        killer.join(5)
    assert code == 0
    assert len(slack.sent) == 1 and slack.sent[0]
    store = app.store
    assert store.delivered_ids("slack:#news") == set(slack.sent[0])
    run = store.last_run("news")
    assert run is not None and run.outcome == "ok" and run.period is not None
    assert store.period_done("news", run.period)
    assert store.lock_owner(SERVE_LOCK, datetime.now(UTC)) is None  # released on the way out
    [session] = store._rows("SELECT stopped_at FROM serve_sessions")
    assert session["stopped_at"] is not None
    assert signal.getsignal(signal.SIGTERM) is before
    app.close()


def test_a_second_serve_on_the_same_state_refuses_to_start(tmp_path, state_backend):
    with fixture_feeds() as feeds:
        first, second = recorder("slack:#news"), recorder("slack:#news")
        app_a = app_for(tmp_path, feeds, first, state_backend.open())
        app_b = app_for(tmp_path, feeds, second, state_backend.open())
        stop = threading.Event()
        result: dict[str, int] = {}
        thread = threading.Thread(
            target=lambda: result.update(code=serve(app_a, stop=stop, handle_signals=False))
        )
        thread.start()
        try:
            wait_for(
                lambda: app_b.store.period_done("news", _current_period()) or sends(first),
                "the first serve to deliver",
            )
            with pytest.raises(StateError, match="another `digest serve`") as refused:
                serve(app_b, handle_signals=False)
            assert str(refused.value).startswith(app_b.store.location)  # names the state
        finally:
            stop.set()
            thread.join(30)
    assert result == {"code": 0}
    assert len(sends(first)) == 1 and sends(second) == []
    app_a.close()
    app_b.close()


def test_serve_refuses_to_start_without_a_destination_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_NO_SUCH_TOKEN", raising=False)
    config = parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "digest": [
                {
                    "name": "news",
                    "feeds": [{"url": "http://127.0.0.1:9/feed.xml"}],
                    "destinations": [
                        {"type": "slack", "channel": "#n", "token_env": "DIGEST_TEST_NO_SUCH_TOKEN"}
                    ],
                }
            ],
        },
        "config.toml",
    )
    app = build_app(config, summarizer=ExtractiveSummarizer(), embedder=HashingEmbedder())
    with pytest.raises(ConfigError, match="DIGEST_TEST_NO_SUCH_TOKEN is not set"):
        serve(app, handle_signals=False)
    # Nothing was left behind: the lock is free for the next start.
    assert app.store.lock_owner(SERVE_LOCK, datetime.now(UTC)) is None
    app.close()


def _current_period() -> str:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now.isoformat(timespec="seconds")


# --- the whole thing, as a process ----------------------------------------------------------


@dataclass
class LiveFeed:
    """An RSS feed on the fixture server whose items the test can add to while serve runs."""

    base: str
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, slug: str, title: str, body: str) -> None:
        self.items.append(
            {"slug": slug, "title": title, "body": body, "date": format_datetime(datetime.now(UTC))}
        )

    def feed(self, request: Request) -> Response:
        entries = "".join(
            f"<item><title>{i['title']}</title><link>{self.base}/live/{i['slug']}</link>"
            f"<guid>{self.base}/live/{i['slug']}</guid><pubDate>{i['date']}</pubDate>"
            f"<description>{i['title']}</description></item>"
            for i in self.items
        )
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Estuary Live</title><link>{self.base}/</link>{entries}</channel></rss>"
        )
        return Response(xml, content_type="application/rss+xml")

    def page(self, request: Request) -> Response:
        slug = request.path.rsplit("/", 1)[-1]
        item = next((i for i in self.items if i["slug"] == slug), None)
        if item is None:
            return Response("not found", status=404)
        paragraphs = "".join(f"<p>{p}</p>" for p in item["body"].split("\n\n"))
        html = (
            f"<html><head><title>{item['title']}</title>"
            '<meta property="og:site_name" content="Estuary Live"></head><body><article>'
            f"<h1>{item['title']}</h1>{paragraphs}</article></body></html>"
        )
        return Response(html, content_type="text/html")


FERRY = (
    "The Saltmarsh ferry was taken out of service on Thursday morning after an engine-room "
    "fire broke out during the first crossing of the day, the operator said.\n\n"
    "All forty passengers were brought back to the north quay by a pilot boat, and two crew "
    "members were checked by paramedics for smoke inhalation before being released.\n\n"
    "The operator said crossings would be suspended until marine surveyors had inspected the "
    "vessel, and that a replacement bus would run around the estuary every half hour.\n\n"
    "Harbour officials said the cause of the fire was not yet known and that the coastguard "
    "would publish a preliminary report within a fortnight."
)
LIBRARY = (
    "The Estuary Road library will open on Sunday afternoons from next month, after the "
    "council agreed to fund two extra part-time posts.\n\n"
    "Librarians said weekend demand had doubled since the reading room was refurbished, with "
    "families and students queueing before the doors opened on Saturdays.\n\n"
    "The trial will run until the end of the year, when visitor numbers will be reviewed "
    "before the budget for the following year is set."
)


def write_config(tmp_path: Path, feeds: list[str], smtp_port: int) -> Path:
    feed_lines = ", ".join(f'{{ url = "{u}" }}' for u in feeds)
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
state_dir = "state"

[fetch]
allow_private_addresses = true
timeout_seconds = 5

[summarizer]
backend = "extractive"

[cluster]
enabled = false

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "digest@example.com"

[[digest]]
name = "news"
schedule = "* * * * *"
timezone = "Europe/London"
feeds = [{feed_lines}]
destinations = [{{ type = "email", to = ["team@example.com"] }}]

[[alert]]
name = "ferry-fire"
keywords = {{ any = ["engine-room fire", "engine room fire"], none = ["drill"] }}
destinations = [{{ type = "email", to = ["oncall@example.com"] }}]
""",
        encoding="utf-8",
    )
    return path


def start_serve(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DIGEST_STATE_DIR", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from digest.cli import main; main()",
            "serve",
            "--config",
            str(config),
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=config.parent,
    )


def finished_periods(state: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(state / "state.sqlite3", timeout=10)
    try:
        rows = conn.execute(
            "SELECT period, outcome FROM runs WHERE outcome IN ('ok', 'empty') ORDER BY id"
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        conn.close()
    return [(r[0], r[1]) for r in rows]


def ledger_kinds(state: Path) -> set[str]:
    conn = sqlite3.connect(state / "state.sqlite3", timeout=10)
    try:
        rows = conn.execute("SELECT DISTINCT kind FROM deliveries").fetchall()
    except sqlite3.OperationalError:
        return set()  # not created yet
    finally:
        conn.close()
    return {r[0] for r in rows}


@pytest.mark.slow
def test_serve_posts_each_period_once_and_alerts_once_across_a_kill(tmp_path):
    """The issue's "done when": a one-minute schedule, a loopback SMTP server, kill -9, restart."""
    log = tmp_path / "serve.log"
    with running_server() as server, SmtpSink() as sink:
        base = serve_fixture_site(server)
        live = LiveFeed(base)
        server.expect_request("/live/feed.rss").respond_with_handler(live.feed)
        server.expect_request("/live/ferry").respond_with_handler(live.page)
        server.expect_request("/live/library").respond_with_handler(live.page)
        live.add("ferry", "Saltmarsh ferry halted after engine-room fire", FERRY)
        feeds = [f"{base}/live/feed.rss", *(f"{base}/feeds/{n}" for n in FIXTURE_FEEDS)]
        config = write_config(tmp_path, feeds, sink.port)

        def to(address: str) -> list[Any]:
            return [m for m in sink.received if address in m.rcpt_tos]

        first = start_serve(config, log)
        try:
            # The minute that began before the start is due at once; the alert poll follows.
            # The kill comes once both are in the ledger: a kill between the SMTP server's
            # "250" and the ledger write is the in-doubt window, where a resend (same
            # Message-ID) is the documented outcome; test_in_doubt covers that window.
            wait_for(
                lambda: (
                    to("team@example.com")
                    and to("oncall@example.com")
                    and ledger_kinds(tmp_path / "state") >= {"story", "alert:ferry-fire"}
                ),
                "the first digest and the alert, confirmed in the ledger",
                timeout=120,
            )
        finally:
            first.kill()  # SIGKILL: no clean-up at all
            first.wait(30)

        live.add("library", "Estuary Road library to open on Sundays", LIBRARY)
        before_restart = len(finished_periods(tmp_path / "state"))
        second = start_serve(config, log)
        try:
            # The new story goes out once, in the period after it appeared. Its period is
            # recorded just after the email is accepted: wait for that row too, or a loaded
            # machine counts the digest's own "ok" as the empty period awaited below.
            wait_for(
                lambda: (
                    len(to("team@example.com")) >= 2
                    and "ok"
                    in [o for _, o in finished_periods(tmp_path / "state")[before_restart:]]
                ),
                "the second digest, recorded as its period's outcome",
                timeout=150,
            )
            periods_then = len(finished_periods(tmp_path / "state"))
            # One more period with nothing new: it finishes "empty" and sends nothing.
            wait_for(
                lambda: len(finished_periods(tmp_path / "state")) > periods_then,
                "an empty period",
                timeout=150,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            code = second.wait(60)
        output = log.read_text(errors="replace")
        assert code == 0, output

        digests = [m.parse() for m in to("team@example.com")]
        alerts = [m.parse() for m in to("oncall@example.com")]
        assert len(digests) == 2, output
        assert len(alerts) == 1, output
        bodies = [d.get_body(("plain",)).get_content() for d in digests]
        assert "Saltmarsh ferry" in bodies[0] and "Saltmarsh ferry" not in bodies[1]
        assert "library" in bodies[1] and "library" not in bodies[0].lower()
        alert_text = alerts[0].get_body(("plain",)).get_content()
        assert "ferry-fire" in alert_text and "engine-room fire" in alert_text
        periods = finished_periods(tmp_path / "state")
        assert len({p for p, _ in periods}) == len(periods)  # no period ran twice
        assert periods[-1][1] == "empty"
