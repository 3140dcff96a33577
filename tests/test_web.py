"""The web side over real HTTP: waitress on 127.0.0.1, httpx as the client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from digest.archive import record_sent
from digest.config import parse_config
from digest.models import Article, Bullet, Delivery, Digest, DigestStory, QuickLooks, Story
from digest.store import Store
from digest.subscribers import preferences_token, unsubscribe_token, unsubscribed
from digest.web import WebServer, parse_listen

SECRET = "web-secret-for-tests-0123456789"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
HOSTILE = '<script>window.__pwned=1</script> & "quotes"'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_config(tmp_path: Path, base_url: str) -> Any:
    return parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "smtp": {"host": "127.0.0.1", "from": "d@news.example"},
            "web": {"base_url": base_url},
            "digest": [
                {
                    "name": "world",
                    "feeds": [{"url": "https://feeds.example/rss"}],
                    "destinations": [{"type": "email", "to": ["ann@example.com"]}],
                },
                {
                    "name": "tech",
                    "feeds": [{"url": "https://feeds.example/tech"}],
                    "destinations": [{"type": "email", "to": []}],
                },
            ],
            "alert": [
                {
                    "name": "storms",
                    "keywords": {"any": ["storm surge"]},
                    "destinations": [{"type": "email", "to": ["ann@example.com"]}],
                }
            ],
        },
        "web.toml",
    )


def sample_digest(
    when: datetime, headline: str = "Harbour city closes its tidal barrier"
) -> Digest:
    article = Article(
        key="a1",
        feed_url="https://feeds.example/rss",
        url="https://coastal.example/barrier",
        title=headline,
        text="",
        outlet="Coastal Herald",
        content_hash="h",
        published=when - timedelta(hours=1),
    )
    story = Story(
        id=f"story-{headline[:10]}",
        headline=headline,
        articles=(article,),
        first_seen=when,
        last_updated=when,
    )
    ql = QuickLooks(
        headline=headline,
        bullets=(Bullet("Barrier closed", "Engineers lowered all six gates."),),
        model="extractive",
    )
    return Digest(name="world", generated_at=when, stories=(DigestStory(story, ql),))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any, Store]]:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = web_config(tmp_path, base)
    store = Store.open(tmp_path / "state")
    server = WebServer(config, store, "127.0.0.1", port, clock=lambda: NOW, poll_seconds=0.1)
    server.start()
    try:
        yield base, config, store
    finally:
        server.close()


def unsubscribe_params(digest: str, address: str, token: str | None = None) -> dict[str, str]:
    return {
        "digest": digest,
        "address": address,
        "token": token or unsubscribe_token(SECRET, digest, address),
    }


def test_one_click_post_unsubscribes(site: tuple[str, Any, Store]) -> None:
    base, _, store = site
    # What a mailbox provider sends for RFC 8058: a POST with this exact body, no cookies.
    r = httpx.post(
        f"{base}/unsubscribe",
        params=unsubscribe_params("world", "ann@example.com"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert "ann@example.com will not receive the world digest" in r.text
    assert unsubscribed(store, "world") == {"ann@example.com"}
    # The same link again: still 200, nothing else changes.
    again = httpx.post(f"{base}/unsubscribe", params=unsubscribe_params("world", "ann@example.com"))
    assert again.status_code == 200 and unsubscribed(store, "world") == {"ann@example.com"}


def test_an_alert_rules_link_unsubscribes_from_that_rule(site: tuple[str, Any, Store]) -> None:
    base, _, store = site
    r = httpx.post(f"{base}/unsubscribe", params=unsubscribe_params("storms", "ann@example.com"))
    assert r.status_code == 200
    assert unsubscribed(store, "storms") == {"ann@example.com"}
    assert unsubscribed(store, "world") == set()


def test_get_shows_a_confirmation_and_changes_nothing(site: tuple[str, Any, Store]) -> None:
    base, _, store = site
    r = httpx.get(f"{base}/unsubscribe", params=unsubscribe_params("world", "ann@example.com"))
    assert r.status_code == 200
    assert '<form method="post"' in r.text and 'id="confirm"' in r.text
    assert f'action="{base}/unsubscribe"' in r.text
    assert unsubscribed(store, "world") == set()
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "params",
    [
        # forged: a token made with another secret
        unsubscribe_params(
            "world",
            "ann@example.com",
            unsubscribe_token("not-the-secret-0123456789", "world", "ann@example.com"),
        ),
        # ann's token replayed for bob
        unsubscribe_params(
            "world", "bob@example.com", unsubscribe_token(SECRET, "world", "ann@example.com")
        ),
        # ann's token of another digest
        unsubscribe_params(
            "world", "ann@example.com", unsubscribe_token(SECRET, "tech", "ann@example.com")
        ),
        # a preferences token is not an unsubscribe token
        unsubscribe_params(
            "world", "ann@example.com", preferences_token(SECRET, "ann@example.com")
        ),
        {"digest": "world", "address": "ann@example.com"},
        {"digest": "nope", "address": "ann@example.com", "token": "x"},
    ],
    ids=["forged", "other-address", "other-digest", "prefs-token", "no-token", "unknown-digest"],
)
def test_bad_tokens_are_refused(site: tuple[str, Any, Store], params: dict[str, str]) -> None:
    base, _, store = site
    for method in ("GET", "POST"):
        r = httpx.request(method, f"{base}/unsubscribe", params=params)
        assert r.status_code == 403, method
        assert "This link is not valid" in r.text
    assert store.conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0] == 0


def test_preferences_change_digests_and_list_topics(site: tuple[str, Any, Store]) -> None:
    base, config, store = site
    params = {"address": "ann@example.com", "token": preferences_token(SECRET, "ann@example.com")}
    page = httpx.get(f"{base}/preferences", params=params)
    assert page.status_code == 200
    assert 'value="world" id="digest-world" checked' in page.text
    assert 'value="tech" id="digest-tech">' in page.text
    assert "<strong>storms</strong>: storm surge" in page.text
    saved = httpx.post(f"{base}/preferences", data={**params, "digest": ["tech"]})
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    assert unsubscribed(store, "world") == {"ann@example.com"}
    rows = store.conn.execute("SELECT digest, status FROM subscribers ORDER BY digest")
    assert [tuple(r) for r in rows] == [("tech", "subscribed"), ("world", "unsubscribed")]
    # Follow a topic, then drop it (the form keeps the boxes left checked).
    followed = httpx.post(f"{base}/preferences", data={**params, "follow": "  tidal   barrier "})
    assert 'id="follow-1" checked> keywords &#34;tidal barrier&#34;' in followed.text
    from digest.channels import email_follows, state_rules

    [rule] = [r for r in state_rules(config, store) if r.name == "email-1"]
    assert [d.key for d in rule.destinations] == ["email:ann@example.com"]
    dropped = httpx.post(f"{base}/preferences", data=params)
    assert 'id="follow-1"' not in dropped.text and email_follows(store, "ann@example.com") == []
    too_long = httpx.post(f"{base}/preferences", data={**params, "follow": "x" * 301})
    assert 'id="problem"' in too_long.text and email_follows(store, "ann@example.com") == []
    bad = httpx.get(
        f"{base}/preferences",
        params={"address": "bob@example.com", "token": params["token"]},
    )
    assert bad.status_code == 403


def test_archive_pages_and_atom_feed(site: tuple[str, Any, Store]) -> None:
    base, _, store = site
    yesterday = NOW - timedelta(days=1)
    ok = [Delivery("email:ann@example.com", ("x",), ok=True)]
    record_sent(store, sample_digest(yesterday), ok)
    record_sent(store, sample_digest(NOW, HOSTILE), ok)
    # A run that delivered nothing is not archived.
    assert not record_sent(store, sample_digest(NOW, "Never sent"), [])
    days = httpx.get(f"{base}/archive/world/")
    assert days.status_code == 200
    assert f'href="{base}/archive/world/2026-11-19"' in days.text
    assert f'href="{base}/archive/world/2026-11-20"' in days.text
    day = httpx.get(f"{base}/archive/world/2026-11-19")
    assert day.status_code == 200 and "Harbour city closes its tidal barrier" in day.text
    today = httpx.get(f"{base}/archive/world/2026-11-20")
    assert "<script>window.__pwned" not in today.text and "&lt;script&gt;" in today.text
    assert "Never sent" not in today.text
    assert httpx.get(f"{base}/archive/world/2026-11-18").status_code == 404
    assert httpx.get(f"{base}/archive/nope/").status_code == 404
    # A day that matches YYYY-MM-DD but is no date: not found, not a server error.
    for bad in ("2026-13-45", "2026-02-30", "0000-00-00"):
        assert httpx.get(f"{base}/archive/world/{bad}").status_code == 404, bad
    feed = httpx.get(f"{base}/feeds/world.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == "World digest"
    assert [e.link for e in parsed.entries] == [
        f"{base}/archive/world/2026-11-20",
        f"{base}/archive/world/2026-11-19",
    ]
    newest = parsed.entries[0].content[0].value
    assert "<script>" not in newest and "&lt;script&gt;" in newest
    assert "Engineers lowered all six gates." in parsed.entries[1].content[0].value


def test_status_page_shows_what_digest_status_prints(site: tuple[str, Any, Store]) -> None:
    base, config, store = site
    run = store.start_run("world", None, NOW - timedelta(hours=2))
    store.finish_run(run, NOW - timedelta(hours=2), "ok", stories=3)
    page = httpx.get(f"{base}/status")
    assert page.status_code == 200
    assert "serve: not running" in page.text and "world  [0 7 * * *, UTC]" in page.text
    assert "ok, 3 stories" in page.text
    from digest.channels import add_mute

    add_mute(store, "#news", "C1", "<b>Loud Post</b>", "U1", NOW)
    page = httpx.get(f"{base}/status")
    assert (
        "slack channels:" in page.text
        and "mutes:   &#34;&lt;b&gt;Loud Post&lt;/b&gt;&#34;" in page.text
    )
    data = httpx.get(f"{base}/status.json").json()
    assert [d["name"] for d in data["digests"]] == ["world", "tech"]


def test_links_use_base_url_behind_a_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    config = web_config(tmp_path, "https://news.example.org/digest")
    store = Store.open(tmp_path / "state")
    port = free_port()
    server = WebServer(config, store, "127.0.0.1", port, poll_seconds=0.1).start()
    try:
        # The proxy forwards /digest/... as /...: the app sees its own paths, links stay public.
        r = httpx.get(
            f"http://127.0.0.1:{port}/unsubscribe",
            params=unsubscribe_params("world", "ann@example.com"),
        )
        assert 'action="https://news.example.org/digest/unsubscribe"' in r.text
        index = httpx.get(f"http://127.0.0.1:{port}/")
        assert 'href="https://news.example.org/digest/feeds/world.atom"' in index.text
    finally:
        server.close()


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:80") == ("::1", 80)
    for bad in ("8080", "host:", "host:99999", ":80"):
        with pytest.raises(Exception, match="expected HOST:PORT"):
            parse_listen(bad)


def test_digest_serve_http_serves_the_web_side_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
state_dir = "state"
[smtp]
host = "127.0.0.1"
from = "d@news.example"
[web]
base_url = "http://127.0.0.1:{port}"
[[digest]]
name = "world"
schedule = "0 7 1 1 *"
feeds = [{{url = "http://127.0.0.1:9/rss"}}]
destinations = [{{type = "email", to = ["ann@example.com"]}}]
""",
        encoding="utf-8",
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DIGEST_UNSUBSCRIBE_SECRET": SECRET}
    env.pop("DIGEST_STATE_DIR", None)
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digest",
            "serve",
            "--config",
            str(config),
            "--summarizer",
            "extractive",
            "--grace-minutes",
            "0",
            "--http",
            f"127.0.0.1:{port}",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/status", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None, log.read_text()
        assert page.status_code == 200 and "serve: running (pid" in page.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/status", timeout=2)


def test_a_state_that_cannot_be_written_is_a_page_and_one_log_line(
    site: tuple[str, Any, Store], caplog: pytest.LogCaptureFixture
) -> None:
    base, _, store = site
    store.conn.execute(
        "PRAGMA query_only = ON"
    )  # SQLite refuses every write, as on a read-only disk
    try:
        r = httpx.post(f"{base}/unsubscribe", params=unsubscribe_params("world", "ann@example.com"))
    finally:
        store.conn.execute("PRAGMA query_only = OFF")
    assert r.status_code == 503, r.text
    assert "could not be recorded" in r.text and "Traceback" not in r.text
    assert str(store.path) not in r.text  # the reader is not told where the server keeps files
    errors = [
        rec for rec in caplog.records if rec.name == "digest.web" and rec.levelname == "ERROR"
    ]
    assert len(errors) == 1 and str(store.path) in errors[0].getMessage()
    assert errors[0].exc_info is None
    assert unsubscribed(store, "world") == set()
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
