"""The web side in a real browser: headless Chromium (over CDP, tests/cdp.py) follows the
unsubscribe link of an email received by a real SMTP sink, confirms, and the next digest does
not reach that address; forged and replayed links are refused; the archive and preferences
pages work by clicking.

Skipped when /usr/bin/chromium is missing (Debian: `apt-get install chromium`; .ci/run does it).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cdp import CHROMIUM, Browser
from smtp_sink import SmtpSink

from digest.app import build_app
from digest.config import parse_config
from digest.demo import serve_sample
from digest.embed import HashingEmbedder
from digest.fetch import build_client
from digest.pipeline import run_digest
from digest.subscribers import unsubscribe_token, unsubscribed
from digest.summarize import ExtractiveSummarizer
from digest.web import WebServer

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser checks need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
)

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
SECRET = "browser-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the module (each test opens its own pages)."""
    with Browser() as browser:
        yield browser


@pytest.fixture
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chromium: Browser
) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with SmtpSink() as sink, serve_sample(NOW) as (_, feeds):
        config = parse_config(
            {
                "state_dir": str(tmp_path / "state"),
                "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
                "summarizer": {"backend": "extractive"},
                "smtp": {
                    "host": "127.0.0.1",
                    "port": sink.port,
                    "security": "none",
                    "from": "d@news.example",
                },
                "web": {"base_url": base},
                "digest": [
                    {
                        "name": "world",
                        "feeds": [{"url": u} for u in feeds],
                        "destinations": [
                            {"type": "email", "to": ["ann@example.com", "bob@example.com"]}
                        ],
                    }
                ],
            },
            "browser.toml",
        )
        app = build_app(
            config,
            clock=lambda: NOW,
            http_client=build_client(config.fetch),
            summarizer=ExtractiveSummarizer(),
            embedder=HashingEmbedder(),
        )
        server = WebServer(config, app.store, "127.0.0.1", port, poll_seconds=0.1).start()
        try:
            yield {"app": app, "sink": sink, "base": base, "browser": chromium}
        finally:
            server.stop()
            app.close()


def unsubscribe_url_of(sink: SmtpSink, address: str) -> str:
    (mail,) = [m for m in sink.received if m.rcpt_tos == (address,)]
    header = str(mail.parse()["List-Unsubscribe"])
    https = next(u for u in re.findall(r"<([^>]+)>", header) if u.startswith("http"))
    return https


def test_unsubscribe_from_the_email_header_then_the_next_digest_does_not_arrive(
    site: dict[str, Any],
) -> None:
    app, sink, browser = site["app"], site["sink"], site["browser"]
    run_digest(app, app.config.digest[0])
    assert sorted(m.rcpt_tos for m in sink.received) == [
        ("ann@example.com",),
        ("bob@example.com",),
    ]
    browser.open(unsubscribe_url_of(sink, "ann@example.com"))
    assert browser.text("title") == "Unsubscribe from the world digest?"
    assert unsubscribed(app.store, "world") == set()  # opening the link changes nothing
    browser.click("confirm")
    assert browser.text("title") == "You are unsubscribed"
    assert "ann@example.com will not receive the world digest" in browser.text("done")
    assert unsubscribed(app.store, "world") == {"ann@example.com"}
    # The next digest (every story new again) reaches bob only.
    app.store.conn.execute("DELETE FROM deliveries")
    sink.received.clear()
    result = run_digest(app, app.config.digest[0])
    assert not result.failed
    assert [m.rcpt_tos for m in sink.received] == [("bob@example.com",)]
    # Preferences, from the link on the page: ann can come back.
    browser.click("preferences")
    assert browser.text("title") == "What ann@example.com receives"
    assert browser.evaluate("document.getElementById('digest-world').checked") is False
    browser.evaluate("document.getElementById('digest-world').checked = true")
    browser.click("save")
    assert browser.text("saved") == "Saved."
    assert unsubscribed(app.store, "world") == set()


def test_forged_and_replayed_links_are_refused_in_the_browser(site: dict[str, Any]) -> None:
    app, sink, browser, base = site["app"], site["sink"], site["browser"], site["base"]
    run_digest(app, app.config.digest[0])
    url = unsubscribe_url_of(sink, "ann@example.com")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    forged = {
        **query,
        "token": unsubscribe_token("attacker-secret-0123456789", "world", "ann@example.com"),
    }
    replayed = {**query, "address": "bob@example.com"}  # ann's token, bob's address
    for params in (forged, replayed):
        browser.open(f"{base}/unsubscribe?{urlencode(params)}")
        assert browser.text("title") == "This link is not valid"
        assert browser.evaluate("document.getElementById('confirm')") is None
    # A form posted with a replayed token is refused as well.
    browser.open(url)
    browser.evaluate("document.querySelector('input[name=address]').value = 'bob@example.com'")
    browser.click("confirm")
    assert browser.text("title") == "This link is not valid"
    assert unsubscribed(app.store, "world") == set()


def test_archive_shows_what_was_sent_by_clicking_through(site: dict[str, Any]) -> None:
    app, browser, base = site["app"], site["browser"], site["base"]
    result = run_digest(app, app.config.digest[0])
    browser.open(f"{base}/")
    assert browser.text("title") == "Digests"
    browser.evaluate("window.__cdpOld = true")
    browser.evaluate("document.querySelector('#digests a').click()")
    browser.wait_for("!window.__cdpOld && document.readyState === 'complete'")
    assert browser.text("title") == "The world digest, as sent"
    browser.evaluate("window.__cdpOld = true")
    browser.evaluate("document.querySelector('#days a').click()")
    browser.wait_for("!window.__cdpOld && document.readyState === 'complete'")
    assert browser.url == f"{base}/archive/world/2026-11-20"
    shown = browser.evaluate("document.body.innerText")
    for ds in result.digest.stories:
        assert ds.quick_looks.headline in shown


def test_the_unsubscribe_link_in_the_email_body_leads_to_the_confirmation(
    site: dict[str, Any], tmp_path: Path
) -> None:
    app, sink, browser = site["app"], site["sink"], site["browser"]
    run_digest(app, app.config.digest[0])
    (mail,) = [m for m in sink.received if m.rcpt_tos == ("bob@example.com",)]
    page = tmp_path / "email.html"
    page.write_text(mail.parse().get_body(("html",)).get_content(), encoding="utf-8")
    browser.open(page.as_uri())
    browser.evaluate("window.__cdpOld = true")
    browser.evaluate(
        "Array.from(document.links).find(a => a.textContent === 'Unsubscribe').click()"
    )
    browser.wait_for("!window.__cdpOld && document.readyState === 'complete'")
    assert browser.text("title") == "Unsubscribe from the world digest?"
    browser.click("confirm")
    assert unsubscribed(app.store, "world") == {"bob@example.com"}
