"""The in-doubt window: the destination accepted a message, the ledger never heard of it.

Each test opens the window for real against a loopback server (the Slack stand-in stores the post
and withholds its answer, or the process dies right after the answer), then checks the next
delivery neither doubles nor loses the message: a Slack bot destination finds it in the channel's
history through the key in its metadata; without the history scope it posts once more and warns;
email resends with the same Message-ID. Every test that keeps state runs on each state backend
(tests/state_backends.py); the SIGKILL one runs `digest run` pointed at that backend's database.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_api import SlackAPI, channel_id_for, slack_api, slack_api_factory  # noqa: F401
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from smtp_sink import SmtpSink, smtp_sink  # noqa: F401
from state_backends import StateBackend
from test_crash import slack_config
from test_render import daily_digest
from twins import FakeApp

from digest import pipeline
from digest.clock import ManualClock
from digest.config import SmtpSettings
from digest.deliver import ReconcilingNotifier, delivery_key
from digest.deliver.email import EmailNotifier
from digest.deliver.slack import EVENT_TYPE, SlackNotifier, SlackWebhookNotifier
from digest.demo import serve_sample
from digest.models import Digest
from digest.store import Store

# ruff: noqa: F811  (pytest fixtures imported from slack_api and smtp_sink are used as arguments)

# What a fresh destination is sent of daily_digest(): its Update goes only where it went before.
STORY_IDS = tuple(ds.story.id for ds in daily_digest().stories if not ds.is_update)


class Killed(BaseException):
    """The process dying (SIGKILL, OOM, power): nothing after it runs, no handler catches it."""


@pytest.fixture
def app(state: Store) -> FakeApp:
    """What `pipeline.deliver` needs, on a fresh store of each backend."""
    return FakeApp(config=None, store=state)


def slack(api: SlackAPI, **kwargs: Any) -> SlackNotifier:
    kwargs.setdefault("max_retries", 1)
    return SlackNotifier(api.token, "#news", base_url=api.base_url, **kwargs)


def deliver(app: FakeApp, notifier: object, digest: Digest | None = None) -> Any:
    return pipeline.deliver(app, digest or daily_digest(), [notifier])  # type: ignore[arg-type]


def die_once_slack_has_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next chat.postMessage reaches Slack and is answered; then the process dies."""
    real = WebClient.chat_postMessage

    def post_then_die(self: WebClient, **kwargs: Any) -> Any:
        monkeypatch.setattr(WebClient, "chat_postMessage", real)
        real(self, **kwargs)
        raise Killed

    monkeypatch.setattr(WebClient, "chat_postMessage", post_then_die)


def crash_in_the_window(app: FakeApp, api: SlackAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run 1: Slack stores the message, the process dies before the ledger write."""
    die_once_slack_has_answered(monkeypatch)
    with pytest.raises(Killed):
        deliver(app, slack(api))
    assert len(api.channel_messages("#news")) == 1  # Slack has it...
    assert app.store.delivered_ids("slack:#news") == set()  # ...the ledger does not
    [intent] = app.store.open_intents("slack:#news")  # but the intent says it may have gone out
    assert intent.story_ids == STORY_IDS


# --- Slack bot token: reconciled through message metadata and conversations.history -------------


def test_every_post_carries_its_delivery_key_as_metadata(app: FakeApp, slack_api: SlackAPI) -> None:
    deliver(app, slack(slack_api))
    [posted] = slack_api.messages
    key = delivery_key("slack:#news", daily_digest(), STORY_IDS, 1)
    assert posted.metadata == {"event_type": EVENT_TYPE, "event_payload": {"key": key}}
    # Confirmed: the ledger has the stories and the intent is gone, both in one transaction.
    assert app.store.delivered_ids("slack:#news") == set(STORY_IDS)
    assert app.store.open_intents("slack:#news") == []


def test_next_run_finds_the_post_in_history_and_does_not_repost(
    app: FakeApp,
    slack_api: SlackAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    crash_in_the_window(app, slack_api, monkeypatch)

    caplog.set_level(logging.INFO, logger="digest")
    [result] = deliver(app, slack(slack_api))

    [posted] = slack_api.channel_messages("#news")  # still exactly one copy
    assert result.ok and result.detail == "nothing new"
    assert app.store.delivered_ids("slack:#news") == set(STORY_IDS)
    assert app.store.open_intents("slack:#news") == []
    found = [r for r in caplog.records if "not posted again" in r.getMessage()]
    assert len(found) == 1 and found[0].levelno == logging.INFO
    assert posted.ts in found[0].getMessage()
    # One history read: by channel ID, with metadata, a bounded page, from before the intent.
    [params] = [p for method, p in slack_api.calls if method == "conversations.history"]
    assert params["channel"] == channel_id_for("#news")
    assert params["include_all_metadata"] in ("1", "true", True)
    assert int(params["limit"]) == 200
    assert float(params["oldest"]) < float(posted.ts)


def test_without_reconciliation_the_same_crash_posts_twice(
    app: FakeApp, slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the window above is real, so skipping reconciliation doubles the post."""
    crash_in_the_window(app, slack_api, monkeypatch)
    monkeypatch.setattr(pipeline, "reconcile", lambda app, notifier: [])
    deliver(app, slack(slack_api))
    assert len(slack_api.channel_messages("#news")) == 2


def test_history_without_scope_reposts_once_and_warns(
    app: FakeApp,
    slack_api: SlackAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    crash_in_the_window(app, slack_api, monkeypatch)
    slack_api.scopes = {"chat:write", "channels:read"}  # no channels:history

    caplog.set_level(logging.INFO, logger="digest")
    [result] = deliver(app, slack(slack_api))

    assert result.ok
    assert len(slack_api.channel_messages("#news")) == 2  # at-least-once: one repost, not more
    assert app.store.delivered_ids("slack:#news") == set(STORY_IDS)
    assert app.store.open_intents("slack:#news") == []
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "missing_scope" in warnings[0].getMessage()
    assert "channels:history" in warnings[0].getMessage()


def test_a_post_that_never_landed_is_posted(
    app: FakeApp, slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An intent whose message is not in the channel (the crash came before the post)."""
    crash_in_the_window(app, slack_api, monkeypatch)
    slack_api.messages.clear()  # as if Slack had never received it

    deliver(app, slack(slack_api))
    assert len(slack_api.channel_messages("#news")) == 1
    assert app.store.delivered_ids("slack:#news") == set(STORY_IDS)
    assert app.store.open_intents("slack:#news") == []


def test_channel_given_by_id_needs_no_channel_lookup(
    app: FakeApp, slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = channel_id_for("#news")
    die_once_slack_has_answered(monkeypatch)
    by_id = SlackNotifier(slack_api.token, channel, base_url=slack_api.base_url, key="slack:#news")
    with pytest.raises(Killed):
        deliver(app, by_id)
    slack_api.scopes = {"chat:write", "channels:history"}  # no channels:read: no lookup possible

    deliver(
        app, SlackNotifier(slack_api.token, channel, base_url=slack_api.base_url, key="slack:#news")
    )
    assert len(slack_api.channel_messages(channel)) == 1
    assert not [p for p, _ in slack_api.requests if p.endswith("conversations.list")]


def test_lost_answer_is_settled_in_the_same_run(
    app: FakeApp, slack_api: SlackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack stores the post but its answer never comes: look before posting again."""
    slack_api.lose_answers(1, hold_seconds=5)
    caplog.set_level(logging.INFO, logger="digest")
    [result] = deliver(app, slack(slack_api, timeout=1))

    assert slack_api.answer_lost.is_set()
    [posted] = slack_api.channel_messages("#news")
    assert result.ok
    assert app.store.delivered_ids("slack:#news") == set(STORY_IDS)
    settled = [r.getMessage() for r in caplog.records if "the channel has it" in r.getMessage()]
    assert len(settled) == 1 and posted.ts in settled[0]


def test_only_the_bot_token_reconciles(slack_api: SlackAPI) -> None:
    """A webhook cannot read the channel: it stays at-least-once (README)."""
    assert isinstance(slack(slack_api), ReconcilingNotifier)
    assert not isinstance(SlackWebhookNotifier(slack_api.webhook_url), ReconcilingNotifier)


def test_stand_in_history_is_newest_first_with_metadata_on_request(slack_api: SlackAPI) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.base_url)
    for n in range(3):
        client.chat_postMessage(
            channel="#news",
            text=f"m{n}",
            metadata={"event_type": "t", "event_payload": {"n": n}},
        )
    channel = channel_id_for("#news")
    plain = client.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in plain["messages"]] == ["m2", "m1"]
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["has_more"] is True
    rest = client.conversations_history(
        channel=channel,
        limit=2,
        cursor=plain["response_metadata"]["next_cursor"],
        include_all_metadata=True,
    )
    assert [m["metadata"]["event_payload"] for m in rest["messages"]] == [{"n": 0}]
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""
    # Like Slack: a channel name is not an ID, and a wrong token is refused here too.
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_history(channel="#news")
    bad = WebClient(token="xoxb-wrong", base_url=slack_api.base_url)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        bad.conversations_history(channel=channel)


# --- the real thing: SIGKILL while Slack holds the stored post's answer -------------------------


def test_sigkill_in_the_window_then_rerun_posts_once(
    tmp_path: Path, slack_api: SlackAPI, state_backend: StateBackend
) -> None:
    slack_api.lose_answers(1, hold_seconds=120)
    extra, state_env = state_backend.cli_args()
    env = {**os.environ, **state_env, "TEST_SLACK_TOKEN": slack_api.token, "HF_HUB_OFFLINE": "1"}
    with serve_sample() as (_, feeds):
        config = slack_config(tmp_path, feeds, slack_api.base_url, channels=("#news",))
        cmd = [sys.executable, "-m", "digest", "run", *extra, "--config", config]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert slack_api.answer_lost.wait(120), proc.communicate(timeout=5)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        [stored] = slack_api.channel_messages("#news")

        again = subprocess.run(cmd, env=env, capture_output=True, timeout=300, text=True)
    assert again.returncode == 0, again.stderr
    assert slack_api.channel_messages("#news") == [stored]  # found, not posted again
    assert "not posted again" in again.stderr and stored.ts in again.stderr
    # The ledger of this backend's database (the runs did not fall back to a SQLite file).
    store = state_backend.open()
    assert {e.ref for e in store.ledger()} == {stored.ts}
    assert store.open_intents("slack:#news") == []


# --- email: at-least-once, but the resend carries the same Message-ID ---------------------------


def test_email_resend_after_the_window_has_the_same_message_id(
    app: FakeApp, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = EmailNotifier(
        SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="none", **{"from": "d@x.org"}),
        ["team@example.com"],
        "{{ title }}",
        key="email:team@example.com",
    )
    real = Store.record_delivery

    def die(self: Store, *args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(Store, "record_delivery", real)
        raise Killed  # the server accepted the mail; the ledger write never happens

    monkeypatch.setattr(Store, "record_delivery", die)
    with pytest.raises(Killed):
        deliver(app, email)
    assert len(smtp_sink.received) == 1
    assert app.store.delivered_ids(email.key) == set()

    deliver(app, email)
    first, second = (m.parse() for m in smtp_sink.received)
    assert first["Message-ID"] and first["Message-ID"] == second["Message-ID"]
    assert app.store.delivered_ids(email.key) == set(STORY_IDS)
    deliver(app, email)  # and confirmed now: nothing a third time
    assert len(smtp_sink.received) == 2


def test_email_without_a_reply_after_data_is_sent_once_per_run(
    app: FakeApp, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    """The server keeps the message and drops the connection before its "250": the message is
    in doubt. No retry in the run (retries are for failures before DATA); the doubt is recorded
    with the Message-ID, and the next run sends it once more under the same Message-ID."""
    email = EmailNotifier(
        SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="none", **{"from": "d@x.org"}),
        ["team@example.com"],
        "{{ title }}",
        key="email:team@example.com",
        max_retries=3,
        clock=ManualClock(datetime.now(UTC)),
    )
    smtp_sink.drop_after_data = 10  # every attempt, in every run
    [delivery] = deliver(app, email)
    assert len(smtp_sink.received) == 1
    assert not delivery.ok and "it may have arrived as <digest." in delivery.detail
    [doubt] = app.store.open_intents(email.key)
    assert doubt.key == smtp_sink.received[0].parse()["Message-ID"]
    assert set(doubt.story_ids) == set(STORY_IDS)
    assert app.store.delivered_ids(email.key) == set()

    smtp_sink.drop_after_data = 0
    with caplog.at_level(logging.WARNING, logger="digest.pipeline"):
        [again] = deliver(app, email)
    assert again.ok and len(smtp_sink.received) == 2
    first, second = (m.parse() for m in smtp_sink.received)
    assert first["Message-ID"] == second["Message-ID"]
    assert f"the last run's message {doubt.key} may have arrived" in caplog.text
    assert app.store.open_intents(email.key) == []
    assert app.store.delivered_ids(email.key) == set(STORY_IDS)


def test_email_dropped_before_data_is_still_retried(app: FakeApp, smtp_sink: SmtpSink) -> None:
    """A failure before the message was written is not in doubt: retried as before."""
    email = EmailNotifier(
        SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="none", **{"from": "d@x.org"}),
        ["team@example.com"],
        "{{ title }}",
        key="email:team@example.com",
        clock=ManualClock(datetime.now(UTC)),
    )
    smtp_sink.temporary_failures = 1
    [delivery] = deliver(app, email)
    assert delivery.ok and len(smtp_sink.received) == 1
    assert app.store.open_intents(email.key) == []
