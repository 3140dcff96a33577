"""Email delivery into a real SMTP server on 127.0.0.1, parsed back; local and memory notifiers."""

from __future__ import annotations

import io
import re
import socket
from dataclasses import replace
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from smtp_sink import SmtpSink, self_signed_cert, smtp_sink  # noqa: F401
from test_render import NOW, daily_digest, hostile_digest
from twins import Ledger

from digest.clock import ManualClock
from digest.config import SmtpSettings, parse_config
from digest.deliver import build_notifier, send_digest
from digest.deliver.email import EmailNotifier
from digest.deliver.local import LocalNotifier, MemoryNotifier
from digest.errors import ConfigError, DeliveryError
from digest.models import Digest

# ruff: noqa: F811  (pytest fixtures imported from smtp_sink are used as arguments)

FROM = "News Digest <digest@news.example>"
TO = ["team@example.com", "Ed Itor <ed@example.com>"]
SUBJECT = "{{ digest.name | title }} digest: {{ digest.stories | length }} stories"


def settings(port: int, security: str = "none", **kwargs: Any) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, security=security, timeout_seconds=10, **{"from": FROM},
        **kwargs,
    )  # fmt: skip


def notifier(port: int, security: str = "none", **kwargs: Any) -> EmailNotifier:
    smtp_kwargs = {k: kwargs.pop(k) for k in ("username",) if k in kwargs}
    kwargs.setdefault("clock", ManualClock(NOW))  # retry waits return at once
    return EmailNotifier(settings(port, security, **smtp_kwargs), TO, SUBJECT, **kwargs)


def parts(message: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in message.iter_parts()}


def test_sends_multipart_alternative_with_every_header(smtp_sink: SmtpSink) -> None:
    ledger = Ledger()
    n = notifier(smtp_sink.port, list_unsubscribe="https://news.example/unsubscribe")
    send_digest(n, daily_digest(), ledger)

    [mail] = smtp_sink.received
    assert mail.mail_from == "digest@news.example"
    assert set(mail.rcpt_tos) == {"team@example.com", "ed@example.com"}
    msg = mail.parse()
    assert msg["Subject"] == "World digest: 3 stories"
    assert msg["From"] == FROM
    assert msg["To"] == "team@example.com, Ed Itor <ed@example.com>"
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert re.fullmatch(r"<digest\.world\.20250314\.[0-9a-f]{24}@news\.example>", msg["Message-ID"])
    assert msg["List-Id"] == "world digest <world.digest.news.example>"
    assert msg["List-Unsubscribe"] == "<https://news.example/unsubscribe>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    assert "Harbour city closes its tidal barrier" in body["text/plain"]
    assert "max-width:600px" in body["text/html"]
    assert ledger.calls == [(("story-barrier", "story-rail", "story-comet"), msg["Message-ID"])]


def test_a_title_with_cr_lf_cannot_add_a_header(smtp_sink: SmtpSink) -> None:
    n = EmailNotifier(
        settings(smtp_sink.port),
        ["team@example.com"],
        "News: {{ digest.stories[0].quick_looks.headline }}",
    )
    send_digest(n, hostile_digest(), Ledger())

    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ("team@example.com",)  # nobody was added as a recipient
    msg = mail.parse()
    assert msg["Bcc"] is None
    headers = mail.data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^Bcc:", headers, re.M | re.I)
    subject = msg["Subject"]
    assert "Bcc: victim@example.com" in subject  # kept as text on the one subject line
    assert "\n" not in subject and "\r" not in subject
    html = parts(msg)["text/html"]
    assert 'href="javascript' not in html and "<!channel>" not in html


def test_message_id_is_deterministic(smtp_sink: SmtpSink) -> None:
    n = notifier(smtp_sink.port)
    d = daily_digest()
    later = replace(d, generated_at=d.generated_at.replace(hour=9))  # a resend later that day
    assert n.renderer.message_id(d) == n.renderer.message_id(later)
    fewer = replace(d, stories=d.stories[:2])
    assert n.renderer.message_id(fewer) != n.renderer.message_id(d)
    others = EmailNotifier(settings(smtp_sink.port), ["else@example.com"], SUBJECT)
    assert others.renderer.message_id(d) != n.renderer.message_id(d)
    next_day = replace(d, generated_at=d.generated_at.replace(day=15))
    assert n.renderer.message_id(next_day) != n.renderer.message_id(d)


def test_login(tmp_path: Path) -> None:
    with SmtpSink(username="digest", password="s3cret") as sink:
        send_digest(
            notifier(sink.port, username="digest", password="s3cret"), daily_digest(), Ledger()
        )
        [mail] = sink.received
        assert mail.authenticated_as == "digest"


def test_wrong_password_is_not_retried() -> None:
    clock = ManualClock(NOW)
    with SmtpSink(username="digest", password="s3cret") as sink:
        n = notifier(sink.port, username="digest", password="nope", clock=clock)
        ledger = Ledger()
        with pytest.raises(DeliveryError, match="SMTP login refused: 535") as caught:
            send_digest(n, daily_digest(), ledger)
        assert caught.value.hint and "password" in caught.value.hint
        assert sink.received == [] and ledger.calls == [] and clock.slept == []


def test_starttls_with_a_trusted_certificate(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpSink(username="digest", password="pw", starttls_context=cert.server_context()) as sink:
        n = notifier(
            sink.port, "starttls", username="digest", password="pw",
            ssl_context=cert.client_context(),
        )  # fmt: skip
        send_digest(n, daily_digest(), Ledger())
        [mail] = sink.received
        assert mail.tls and mail.authenticated_as == "digest"


def test_implicit_tls(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpSink(implicit_tls_context=cert.server_context()) as sink:
        send_digest(
            notifier(sink.port, "tls", ssl_context=cert.client_context()), daily_digest(), Ledger()
        )
        [mail] = sink.received
        assert mail.tls


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpSink(starttls_context=cert.server_context()) as sink:
        # The default context trusts only the system's CAs, not our self-signed certificate.
        with pytest.raises(DeliveryError, match="not trusted"):
            send_digest(notifier(sink.port, "starttls"), daily_digest(), Ledger())
        assert sink.received == []


def test_starttls_against_a_server_without_it(smtp_sink: SmtpSink) -> None:
    with pytest.raises(DeliveryError, match="does not support") as caught:
        send_digest(notifier(smtp_sink.port, "starttls"), daily_digest(), Ledger())
    assert caught.value.hint and "smtp.security" in caught.value.hint


def test_temporary_failure_is_retried(smtp_sink: SmtpSink) -> None:
    smtp_sink.temporary_failures = 1
    clock = ManualClock(NOW)
    ledger = Ledger()
    send_digest(notifier(smtp_sink.port, clock=clock), daily_digest(), ledger)
    assert len(smtp_sink.received) == 1 and len(ledger.calls) == 1
    assert clock.slept == [2.0]


def test_temporary_failures_beyond_retries(smtp_sink: SmtpSink) -> None:
    smtp_sink.temporary_failures = 5
    clock = ManualClock(NOW)
    with pytest.raises(DeliveryError, match=r"451 .*after 3 attempts"):
        send_digest(notifier(smtp_sink.port, clock=clock, max_retries=2), daily_digest(), Ledger())
    assert clock.slept == [2.0, 4.0]


def test_some_recipients_refused_still_counts_as_sent(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse = {"ed@example.com"}
    ledger = Ledger()
    send_digest(notifier(smtp_sink.port), daily_digest(), ledger)
    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ("team@example.com",)
    assert len(ledger.calls) == 1


def test_every_recipient_refused_is_a_delivery_error(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse = {"team@example.com", "ed@example.com"}
    with pytest.raises(DeliveryError, match="every recipient was refused"):
        send_digest(notifier(smtp_sink.port), daily_digest(), Ledger())


def test_unreachable_server_is_retried_then_a_delivery_error() -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = ManualClock(NOW)
    with pytest.raises(DeliveryError, match="cannot connect.*after 3 attempts") as caught:
        send_digest(notifier(port, clock=clock), daily_digest(), Ledger())
    assert caught.value.destination == "email:Ed Itor <ed@example.com>,team@example.com"
    assert len(clock.slept) == 2


def test_build_notifier_for_email(smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {
        "smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "security": "none",
                 "from": FROM, "password_env": "TEST_SMTP_PASSWORD"},
        "digest": [{"name": "world", "feeds": [{"url": "https://a.example/rss"}],
                    "destinations": [{"type": "email", "to": ["b@example.com", "a@example.com"]}]}],
    }  # fmt: skip
    config = parse_config(data)
    dest = config.digest[0].destinations[0]
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="TEST_SMTP_PASSWORD"):
        build_notifier(dest, config)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "unused")
    built = build_notifier(dest, config)
    assert built.key == "email:a@example.com,b@example.com" == dest.key
    send_digest(built, daily_digest(), Ledger())
    assert smtp_sink.received[0].rcpt_tos == ("b@example.com", "a@example.com")


# --- local and in-memory notifiers -----------------------------------------------------------


def test_local_notifier_prints_and_writes_html(tmp_path: Path) -> None:
    out = io.StringIO()
    ledger = Ledger()
    local = LocalNotifier(tmp_path / "html", out)
    send_digest(local, daily_digest(), ledger)

    path = tmp_path / "html" / "digest-world-20250314-0700.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "WORLD DIGEST" in out.getvalue()
    assert ledger.calls == [(("story-barrier", "story-rail", "story-comet"), str(path))]
    assert local.key == "local"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_local_notifier_uses_the_given_renderer(tmp_path: Path) -> None:
    out = io.StringIO()
    send_digest(
        LocalNotifier(tmp_path, out, render=lambda d: f"{len(d.stories)} stories"),
        daily_digest(),
        Ledger(),
    )
    assert out.getvalue() == "3 stories\n"


def test_local_notifier_unwritable_dir_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ledger = Ledger()
    with pytest.raises(DeliveryError, match="cannot write"):
        send_digest(LocalNotifier(blocker / "html", io.StringIO()), daily_digest(), ledger)
    assert ledger.calls == []


def test_memory_notifier_fails_on_the_nth_message_once() -> None:
    memory = MemoryNotifier("memory:test", stories_per_message=1, fail_on=2)
    d = daily_digest()
    ledger = Ledger()
    with pytest.raises(DeliveryError, match="message 2"):
        send_digest(memory, d, ledger)
    assert ledger.calls == [(("story-barrier",), "memory:test#1")]
    assert memory.story_ids == ["story-barrier"]

    rest = replace(d, stories=d.stories[1:])  # what the pipeline would resend
    send_digest(memory, rest, ledger)
    assert memory.story_ids == ["story-barrier", "story-rail", "story-comet"]
    assert len(memory.digests) == 2


def test_memory_notifier_can_raise_anything() -> None:
    memory = MemoryNotifier(fail_on=1, fail_with=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        send_digest(memory, Digest(name="w", generated_at=NOW, stories=()), Ledger())
    assert memory.messages == []
