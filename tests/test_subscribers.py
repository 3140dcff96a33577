"""Email subscribers in the state, one message per recipient, and signed unsubscribe links:
driven through `digest run`'s pipeline into a real SMTP sink on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from click.testing import CliRunner
from smtp_sink import SmtpSink
from state_backends import StateBackend

from digest.app import build_app
from digest.cli import main
from digest.config import parse_config
from digest.demo import serve_sample
from digest.embed import HashingEmbedder
from digest.errors import ConfigError
from digest.fetch import build_client
from digest.pipeline import run_digest
from digest.store import Store
from digest.subscribers import (
    SUBSCRIBED,
    UNSUBSCRIBED,
    check_address,
    preferences_token,
    set_status,
    token_ok,
    unsubscribe_links,
    unsubscribe_token,
)
from digest.summarize import ExtractiveSummarizer

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests-0123456789"


def config_data(tmp_path: Path, port: int, feeds: list[str], to: list[str]) -> dict[str, Any]:
    return {
        "state_dir": str(tmp_path / "state"),
        "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
        "summarizer": {"backend": "extractive"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "from": "d@news.example"},
        "web": {"base_url": "https://digest.example/news/"},
        "digest": [
            {
                "name": "world",
                "feeds": [{"url": u} for u in feeds],
                "destinations": [{"type": "email", "to": to}],
            }
        ],
    }


def make_app(data: dict[str, Any], store: Any = None) -> Any:
    """An App for this config; its state is `store` when given (tests/state_backends.py)."""
    config = parse_config(data, "test.toml")
    return build_app(
        config,
        clock=lambda: NOW,
        store=store,
        http_client=build_client(config.fetch),
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
    )


@pytest.fixture
def smtp_sink() -> Any:
    """A started plain SMTP sink on 127.0.0.1."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)


def list_unsubscribe_urls(header: str) -> list[str]:
    return re.findall(r"<([^>]+)>", header)


# --- tokens ---------------------------------------------------------------------------------------


def test_token_binds_digest_and_address() -> None:
    token = unsubscribe_token(SECRET, "world", "Ann@Example.com")
    assert token_ok(unsubscribe_token(SECRET, "world", "ann@example.com"), token)
    assert not token_ok(unsubscribe_token(SECRET, "world", "bob@example.com"), token)
    assert not token_ok(unsubscribe_token(SECRET, "tech", "ann@example.com"), token)
    assert not token_ok(
        unsubscribe_token("another-secret-0123456", "world", "ann@example.com"), token
    )
    # A preferences token is not an unsubscribe token, nor the other way round.
    assert not token_ok(
        unsubscribe_token(SECRET, "world", "ann@example.com"),
        preferences_token(SECRET, "ann@example.com"),
    )
    # Parts are length-prefixed: moving a character between digest and address changes it.
    assert unsubscribe_token(SECRET, "ab", "c@x.io") != unsubscribe_token(SECRET, "a", "bc@x.io")
    assert not token_ok(token, "") and not token_ok(token, None)


@pytest.mark.parametrize("bad", ["no-at-sign", "a b@example.com", "a@localhost", "<>@x.io", "a@"])
def test_check_address_refuses_non_addresses(bad: str) -> None:
    with pytest.raises(ConfigError, match="not an email address"):
        check_address(bad)


def test_web_base_url_is_validated_at_load(tmp_path: Path) -> None:
    data = config_data(tmp_path, 25, ["https://x.example/rss"], ["a@x.example"])
    for bad in ("http://digest.example", "ftp://digest.example", "https://d.example/?a=1"):
        data["web"] = {"base_url": bad}
        with pytest.raises(ConfigError, match=r"test.toml: web.base_url: must be a"):
            parse_config(data, "test.toml")
    data["web"] = {"base_url": "http://127.0.0.1:8080/"}
    assert parse_config(data, "test.toml").web.base_url == "http://127.0.0.1:8080"  # type: ignore[union-attr]


def test_missing_or_short_secret_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config(config_data(tmp_path, 25, ["https://x.example/rss"], []), "t.toml")
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET")
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET is not set"):
        unsubscribe_links(config)
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "short")
    with pytest.raises(ConfigError, match="at least 16"):
        unsubscribe_links(config)


# --- the pipeline ---------------------------------------------------------------------------------


def test_each_recipient_gets_their_own_message_with_one_click_headers(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with serve_sample(NOW) as (_, feeds):
        data = config_data(tmp_path, smtp_sink.port, feeds, ["Ann <ann@example.com>"])
        app = make_app(data)
        set_status(app.store, "world", "bob@example.com", SUBSCRIBED, "cli", NOW)
        result = run_digest(app, app.config.digest[0])
        app.close()
    assert not result.failed
    assert {d.destination for d in result.deliveries} == {
        "email:Ann <ann@example.com>",
        "email:bob@example.com",
    }
    assert len(smtp_sink.received) == 2
    seen = set()
    for mail in smtp_sink.received:
        (rcpt,) = mail.rcpt_tos  # one envelope recipient: nobody sees the others
        msg = mail.parse()
        assert rcpt in str(msg["To"]) and "," not in str(msg["To"])
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = list_unsubscribe_urls(str(msg["List-Unsubscribe"]))
        parts = urlsplit(https)
        assert (parts.scheme, parts.netloc, parts.path) == (
            "https",
            "digest.example",
            "/news/unsubscribe",
        )
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["digest"] == "world" and query["address"] == rcpt
        assert token_ok(unsubscribe_token(SECRET, "world", rcpt), query["token"])
        assert mailto.startswith("mailto:d@news.example?subject=")
        assert query["token"] in unquote(mailto)
        # The same links, visible at the end of both parts.
        text = msg.get_body(("plain",)).get_content()
        assert (
            f"Unsubscribe: {https}" in text and "Preferences: https://digest.example/news/" in text
        )
        html = msg.get_body(("html",)).get_content()
        assert f'href="{https.replace("&", "&amp;")}"' in html
        assert html.index(">Unsubscribe</a>") < html.index("</body>")
        seen.add(rcpt)
    assert seen == {"ann@example.com", "bob@example.com"}


def test_ledger_is_per_recipient_and_unsubscribed_get_nothing(
    tmp_path: Path, smtp_sink: SmtpSink, state_backend: StateBackend
) -> None:
    with serve_sample(NOW) as (_, feeds):
        data = config_data(tmp_path, smtp_sink.port, feeds, ["ann@example.com", "bob@example.com"])
        smtp_sink.refuse = {"bob@example.com"}
        app = make_app(data, state_backend.open())
        first = run_digest(app, app.config.digest[0])
        assert first.failed  # bob's copy was refused ...
        assert [m.rcpt_tos for m in smtp_sink.received] == [("ann@example.com",)]
        # ... and only bob's copy goes out next time: ann's is in the ledger.
        smtp_sink.refuse = set()
        second = run_digest(app, app.config.digest[0])
        assert not second.failed
        assert [m.rcpt_tos for m in smtp_sink.received] == [
            ("ann@example.com",),
            ("bob@example.com",),
        ]
        # An unsubscribe holds for an address of the config's `to` too.
        set_status(app.store, "world", "ann@example.com", UNSUBSCRIBED, "web", NOW)
        with app.store.transaction():  # as if every story were new again
            app.store._run("DELETE FROM deliveries")
        third = run_digest(app, app.config.digest[0])
        app.close()
    assert {d.destination for d in third.deliveries} == {"email:bob@example.com"}
    assert [m.rcpt_tos for m in smtp_sink.received][2:] == [("bob@example.com",)]


# --- the command ----------------------------------------------------------------------------------


def test_subscribers_command_adds_removes_and_lists(
    tmp_path: Path, state_backend: StateBackend
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
state_dir = "{tmp_path / "state"}"
[smtp]
host = "127.0.0.1"
from = "d@news.example"
[[digest]]
name = "world"
feeds = [{{url = "https://x.example/rss"}}]
destinations = [{{type = "email", to = ["ann@example.com"]}}]
[[digest]]
name = "slackonly"
feeds = [{{url = "https://x.example/rss"}}]
""",
        encoding="utf-8",
    )
    extra, env = state_backend.cli_args()
    runner = CliRunner(env=env)

    def run(*args: str) -> Any:
        return runner.invoke(main, [*extra, "subscribers", *args, "--config", str(config)])

    added = run("add", "world", "Bob@Example.com")
    assert added.exit_code == 0 and "bob@example.com: subscribed to world" in added.output
    assert "already receives" in run("add", "world", "bob@example.com").output
    removed = run("remove", "world", "ann@example.com")
    assert removed.exit_code == 0 and "removed from world" in removed.output
    listed = run("list", "world").output.splitlines()
    assert listed == [
        "world\tann@example.com\tunsubscribed\tconfig",
        "world\tbob@example.com\tsubscribed\tcli",
    ]
    bad = run("add", "world", "not-an-address")
    assert bad.exit_code == 2 and "error: 'not-an-address': not an email address" in bad.output
    assert "Traceback" not in bad.output
    none = run("add", "slackonly", "bob@example.com")
    assert none.exit_code == 2 and "has no email destination" in none.output
    unknown = run("add", "nope", "bob@example.com")
    assert unknown.exit_code == 2 and "no digest named 'nope'" in unknown.output
    help_text = runner.invoke(main, ["subscribers", "add", "--help"]).output
    assert "Send DIGEST to EMAIL" in help_text
    assert [(r.address, r.status) for r in state_backend.open().subscribers("world")] == [
        ("ann@example.com", "unsubscribed"),
        ("bob@example.com", "subscribed"),
    ]


def test_alert_emails_go_one_per_recipient_and_skip_who_left_the_rule(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    from digest.pipeline import run_alerts

    with serve_sample(NOW) as (_, feeds):
        data = config_data(tmp_path, smtp_sink.port, feeds, [])
        data["alert"] = [
            {
                "name": "planes",
                "keywords": {"any": ["Skylark Air"]},
                "destinations": [
                    {"type": "email", "to": ["ann@example.com", "bob@example.com", "cy@x.io"]}
                ],
            }
        ]
        app = make_app(data)
        set_status(app.store, "planes", "bob@example.com", UNSUBSCRIBED, "web", NOW)
        run_alerts(app, app.config.alert, since=NOW)
        app.close()
    assert sorted(m.rcpt_tos for m in smtp_sink.received) == [("ann@example.com",), ("cy@x.io",)]
    for mail in smtp_sink.received:
        msg = mail.parse()
        # lstrip: the email package folds some lengths as "Subject:\r\n Alert…" (RFC 5322
        # unfolding keeps that space), so the headline's length must not decide the test.
        assert str(msg["Subject"]).lstrip().startswith("Alert: planes")
        https, _ = list_unsubscribe_urls(str(msg["List-Unsubscribe"]))
        assert "digest=planes" in https


def test_upgrade_copies_a_group_ledger_to_each_recipient(tmp_path: Path) -> None:
    from digest.store import LedgerEntry, SqliteStore

    # A state written before email destinations were split per recipient.
    old = SqliteStore.connect(tmp_path / "state.sqlite3")
    old.migrate(until="m008_email_ledger_per_recipient")
    old.import_ledger(
        [
            LedgerEntry(
                "email:Ann <ann@example.com>,bob@example.com", "s1", "story", "world", "mid", NOW
            ),
            LedgerEntry("email:Itor, Ed <ed@example.com>", "s2", "story", "world", "mid", NOW),
        ]
    )
    old.close()
    store = Store.open(tmp_path)
    try:
        assert store.is_delivered("email:Ann <ann@example.com>", "s1")
        assert store.is_delivered("email:bob@example.com", "s1")
        assert not store.is_delivered("email:Itor", "s2")  # not split: its name has a comma
    finally:
        store.close()


def test_a_topic_followed_on_the_preferences_page_is_emailed_as_an_alert(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    from digest.channels import add_email_follow, email_follows, status_lines
    from digest.schedule import alert_poller_for

    with serve_sample(NOW) as (_, feeds):
        data = config_data(tmp_path, smtp_sink.port, feeds, ["ann@example.com"])
        app = make_app(data)
        follow = add_email_follow(app.store, "ann@example.com", "Skylark Air", NOW)
        assert follow.rule_name == f"email-{follow.id}"
        poller = alert_poller_for(app)  # no [[alert]] in the config: the follow alone
        assert poller is not None
        poller(app, NOW)
        assert [f.text for f in email_follows(app.store, "ann@example.com")] == ["Skylark Air"]
        lines = "\n".join(status_lines(app.store))
        app.close()
    (mail,) = smtp_sink.received
    assert mail.rcpt_tos == ("ann@example.com",)
    msg = mail.parse()
    assert str(msg["Subject"]).lstrip().startswith(f"Alert: {follow.rule_name}")
    assert f"digest={follow.rule_name}" in str(msg["List-Unsubscribe"])
    assert 'ann@example.com: keywords "Skylark Air"' in lines


def test_check_config_and_run_report_a_missing_unsubscribe_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run and serve stop on it, so check-config must say so too (and run before any fetching).
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
state_dir = "{tmp_path / "state"}"
[smtp]
host = "127.0.0.1"
from = "d@news.example"
[web]
base_url = "https://digest.example"
[[digest]]
name = "world"
feeds = [{{url = "http://127.0.0.1:9/rss"}}]
destinations = [{{type = "email", to = ["ann@example.com"]}}]
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET")
    checked = runner.invoke(main, ["check-config", "--config", str(config)])
    assert checked.exit_code == 2, checked.output
    assert (
        f"error: {config}: web.secret_env: environment variable DIGEST_UNSUBSCRIBE_SECRET "
        "is not set" in checked.stderr
    )
    skipped = runner.invoke(main, ["check-config", "--config", str(config), "--no-secrets"])
    assert skipped.exit_code == 0, skipped.output
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "short")
    short = runner.invoke(main, ["check-config", "--config", str(config)])
    assert short.exit_code == 2 and "web.secret_env" in short.stderr and "16" in short.stderr
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET")
    ran = runner.invoke(main, ["run", "--config", str(config)])
    assert ran.exit_code == 2 and f"{config}: web.secret_env" in ran.stderr, ran.output
    assert "Traceback" not in ran.output
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    fine = runner.invoke(main, ["check-config", "--config", str(config)])
    assert fine.exit_code == 0, fine.output
