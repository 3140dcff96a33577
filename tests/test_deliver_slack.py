"""Slack delivery against the loopback Slack Web API stand-in, through real slack-sdk clients."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_api import SlackAPI, block_kit_errors, slack_api, slack_api_factory  # noqa: F401
from test_render import big_digest, daily_digest, hostile_digest
from twins import Ledger

from digest import render
from digest.clock import ManualClock
from digest.config import parse_config
from digest.deliver import build_notifier, send_digest
from digest.deliver.slack import SETTLE_SECONDS, SlackNotifier, SlackWebhookNotifier
from digest.errors import ConfigError, DeliveryError
from digest.models import Digest

# ruff: noqa: F811  (pytest fixtures imported from slack_api are used as arguments)


def notifier(api: SlackAPI, **kwargs: Any) -> SlackNotifier:
    kwargs.setdefault("max_retries", 2)
    # Waits (Retry-After, the settle before a history lookup) move this clock on at once; it
    # starts at the real time, as the stand-in stamps its posts with it.
    kwargs.setdefault("clock", ManualClock(datetime.now(UTC)))
    return SlackNotifier(api.token, "#news", base_url=api.base_url, **kwargs)


def test_posts_each_message_and_confirms_it(slack_api: SlackAPI) -> None:
    ledger = Ledger()
    send_digest(notifier(slack_api), daily_digest(), ledger)

    [posted] = slack_api.messages
    expected = render.render_slack(daily_digest())[0]
    assert posted.channel == "#news"
    assert posted.blocks == expected.blocks
    assert posted.text == expected.text
    assert posted.params["unfurl_links"] is False  # no previews burying the digest
    assert ledger.calls == [(("story-barrier", "story-rail", "story-comet"), posted.ts)]


def test_big_digest_is_split_and_every_message_accepted(slack_api: SlackAPI) -> None:
    ledger = Ledger()
    d = big_digest()
    send_digest(notifier(slack_api), d, ledger)

    assert len(slack_api.messages) > 3
    assert all(status == 200 for _, status in slack_api.requests)
    assert all(block_kit_errors(m.blocks) == [] for m in slack_api.messages)
    # on_sent once per message, with that message's ts, and every story exactly once in order.
    assert [ref for _, ref in ledger.calls] == [m.ts for m in slack_api.messages]
    assert ledger.story_ids == [ds.story.id for ds in d.stories]


def test_hostile_text_is_posted_escaped(slack_api: SlackAPI) -> None:
    send_digest(notifier(slack_api), hostile_digest(), Ledger())
    blob = json.dumps([m.blocks for m in slack_api.messages]) + slack_api.messages[0].text
    assert "<!channel>" not in blob and "<@U123>" not in blob and "<!here>" not in blob
    assert "<https://evil.example" not in blob and "javascript:" not in blob
    assert "&lt;!channel&gt;" in blob


def test_rate_limit_is_retried_after_retry_after(slack_api: SlackAPI) -> None:
    slack_api.rate_limit(1, retry_after=7)
    ledger = Ledger()
    clock = ManualClock(datetime.now(UTC))
    send_digest(notifier(slack_api, clock=clock), daily_digest(), ledger)

    assert [status for _, status in slack_api.requests] == [429, 200]
    assert len(slack_api.messages) == 1
    assert len(ledger.calls) == 1
    [waited] = clock.slept  # on the notifier's clock, not the process's
    assert 7 <= waited < 8


def test_a_5xx_after_slack_stored_the_post_is_not_posted_twice(slack_api: SlackAPI) -> None:
    """Slack keeps the post, then answers 500: the channel has it, so it is not posted again."""
    slack_api.fail_after_storing(1, status=500)
    ledger = Ledger()
    clock = ManualClock(datetime.now(UTC))
    send_digest(notifier(slack_api, clock=clock), daily_digest(), ledger)
    assert clock.slept == [SETTLE_SECONDS]  # Slack was given a moment before the lookup
    [posted] = slack_api.messages  # one copy, found in the channel's history
    posts = [status for path, status in slack_api.requests if path == "/api/chat.postMessage"]
    assert posts == [500]
    assert ledger.calls == [(render.render_slack(daily_digest())[0].story_ids, posted.ts)]


def test_a_public_channel_is_found_by_name_without_groups_read(slack_api: SlackAPI) -> None:
    """A bot with chat:write, channels:history and channels:read (no groups:read) can still
    settle a lost answer in a public channel named "#news": it lists public channels first."""
    slack_api.scopes = {"chat:write", "channels:history", "channels:read"}
    slack_api.lose_answers(1, hold_seconds=0.2)
    ledger = Ledger()
    send_digest(notifier(slack_api, timeout=10), daily_digest(), ledger)
    [posted] = slack_api.messages  # found in the channel, not posted twice
    assert ledger.calls == [(render.render_slack(daily_digest())[0].story_ids, posted.ts)]
    lists = [p for m, p in slack_api.calls if m == "conversations.list"]
    assert lists and all(p.get("types") == "public_channel" for p in lists)


def test_rate_limit_beyond_retries_is_a_delivery_error(slack_api: SlackAPI) -> None:
    slack_api.rate_limit(5, retry_after=0)
    ledger = Ledger()
    with pytest.raises(DeliveryError) as caught:
        send_digest(notifier(slack_api, max_retries=1), daily_digest(), ledger)
    assert "ratelimited" in str(caught.value)
    assert caught.value.destination == "slack:#news"
    assert ledger.calls == []


def test_server_error_is_checked_against_the_channel_then_retried(slack_api: SlackAPI) -> None:
    """A 503 may follow a post Slack stored: the channel is looked at before posting again."""
    slack_api.fail(1, status=503)
    ledger = Ledger()
    send_digest(notifier(slack_api), daily_digest(), ledger)
    posts = [status for path, status in slack_api.requests if path == "/api/chat.postMessage"]
    assert posts == [503, 200]
    paths = [path for path, _ in slack_api.requests]
    assert paths.index("/api/conversations.list") < len(paths) - 1  # looked, then posted
    assert len(slack_api.messages) == 1 and len(ledger.calls) == 1


def test_bad_token_names_slacks_error(slack_api_factory: Any) -> None:
    api = slack_api_factory(token="xoxb-the-real-one")
    bad = SlackNotifier("xoxb-wrong", "#news", base_url=api.base_url, max_retries=0)
    ledger = Ledger()
    with pytest.raises(DeliveryError) as caught:
        send_digest(bad, daily_digest(), ledger)
    assert "invalid_auth" in str(caught.value)
    assert caught.value.hint and "token" in caught.value.hint
    assert api.messages == [] and ledger.calls == []


def test_unknown_channel_names_slacks_error(slack_api_factory: Any) -> None:
    api = slack_api_factory(channels={"#general"})
    with pytest.raises(DeliveryError, match="channel_not_found") as caught:
        send_digest(notifier(api), daily_digest(), Ledger())
    assert caught.value.hint and "invite" in caught.value.hint


def test_failure_midway_keeps_what_was_confirmed(slack_api: SlackAPI) -> None:
    d = big_digest()
    slack_api.refuse_after(1, error="fatal_error")
    ledger = Ledger()
    with pytest.raises(DeliveryError, match="fatal_error"):
        send_digest(notifier(slack_api), d, ledger)

    # Message 1 was confirmed (and only message 1): a rerun would send the rest.
    [(first_ids, ts)] = ledger.calls
    assert ts == slack_api.messages[0].ts
    assert first_ids == render.render_slack(d)[0].story_ids


def test_every_post_carries_its_key_as_message_metadata(slack_api: SlackAPI) -> None:
    d = big_digest()
    send_digest(notifier(slack_api), d, Ledger())
    keys = [m.metadata["event_payload"]["key"] for m in slack_api.messages if m.metadata]
    assert len(keys) == len(slack_api.messages) > 1
    assert len(set(keys)) == len(keys)  # one key per message
    assert all(
        m.metadata and m.metadata["event_type"] == "digest_delivery" for m in slack_api.messages
    )


def test_a_lost_answer_is_looked_up_not_posted_blindly_again(slack_api: SlackAPI) -> None:
    """Slack stores the post, then the connection drops before its answer: slack-sdk's
    connection retry would post it a second time. The notifier finds it in history instead."""
    slack_api.lose_answers(1, hold_seconds=0.2)
    ledger = Ledger()
    send_digest(notifier(slack_api, timeout=10), daily_digest(), ledger)

    [posted] = slack_api.messages  # one copy
    assert ledger.calls == [(render.render_slack(daily_digest())[0].story_ids, posted.ts)]
    assert [path for path, _ in slack_api.requests].count("/api/chat.postMessage") == 1


def test_a_lost_answer_not_in_history_is_posted_again(slack_api: SlackAPI) -> None:
    """The connection drops and the channel does not have the message: post it again."""
    slack_api.lose_answers(1, hold_seconds=0.2)
    lost = slack_api.messages
    ledger = Ledger()
    n = notifier(slack_api, timeout=10)
    real = n.find_posted

    def forget(keys: Any, since: Any, until: Any = None) -> dict[str, str]:
        lost.clear()  # as if Slack had dropped it after all
        return real(keys, since, until)

    n.find_posted = forget  # type: ignore[method-assign]
    send_digest(n, daily_digest(), ledger)
    [posted] = slack_api.messages  # the second post; the first was dropped
    assert ledger.calls == [(render.render_slack(daily_digest())[0].story_ids, posted.ts)]
    assert [path for path, _ in slack_api.requests].count("/api/chat.postMessage") == 2


def test_unreachable_api_is_a_delivery_error() -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = SlackNotifier("xoxb-x", "#news", base_url=f"http://127.0.0.1:{port}/api/", max_retries=0)
    with pytest.raises(DeliveryError, match="cannot reach the Slack API"):
        send_digest(gone, daily_digest(), Ledger())


def test_empty_digest_posts_one_message_without_stories(slack_api: SlackAPI) -> None:
    ledger = Ledger()
    send_digest(
        notifier(slack_api),
        Digest(name="world", generated_at=daily_digest().generated_at, stories=()),
        ledger,
    )
    assert len(slack_api.messages) == 1
    assert ledger.calls == [((), slack_api.messages[0].ts)]


# --- incoming webhook ---------------------------------------------------------------------------


def test_webhook_posts_every_message(slack_api: SlackAPI) -> None:
    ledger = Ledger()
    d = big_digest(20)
    send_digest(SlackWebhookNotifier(slack_api.webhook_url, max_retries=1), d, ledger)

    expected = render.render_slack(d)
    assert [m["blocks"] for m in slack_api.webhook_messages] == [m.blocks for m in expected]
    assert ledger.story_ids == [ds.story.id for ds in d.stories]
    assert ledger.calls[-1][1] == f"webhook {len(expected)}/{len(expected)}"


def test_webhook_rate_limit_is_retried(slack_api: SlackAPI) -> None:
    slack_api.rate_limit(1, retry_after=3)
    clock = ManualClock(datetime.now(UTC))
    webhook = SlackWebhookNotifier(slack_api.webhook_url, max_retries=1, clock=clock)
    send_digest(webhook, daily_digest(), Ledger())
    assert [status for _, status in slack_api.requests] == [429, 200]
    assert len(slack_api.webhook_messages) == 1
    [waited] = clock.slept
    assert 3 <= waited < 4


def test_revoked_webhook_is_a_delivery_error_without_the_url(slack_api: SlackAPI) -> None:
    url = f"http://127.0.0.1:{slack_api.port}/services/T/B/REVOKED"
    with pytest.raises(DeliveryError) as caught:
        send_digest(
            SlackWebhookNotifier(url, max_retries=0, key="slack_webhook:HOOK"),
            daily_digest(),
            Ledger(),
        )
    assert "no_service" in str(caught.value)
    assert "REVOKED" not in str(caught.value)  # the URL is a secret
    assert caught.value.hint and "revoked" in caught.value.hint


# --- build_notifier -----------------------------------------------------------------------------


def config_with(dest: dict[str, Any], base_url: str = "https://slack.com/api/") -> Any:
    return parse_config(
        {
            "slack": {"base_url": base_url, "max_retries": 0},
            "digest": [
                {
                    "name": "world",
                    "feeds": [{"url": "https://a.example/rss"}],
                    "destinations": [dest],
                }
            ],
        }
    )


def test_build_notifier_reads_the_token_from_the_environment(
    slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_with(
        {"type": "slack", "channel": "#news", "token_env": "TEST_SLACK_TOKEN"}, slack_api.base_url
    )
    dest = config.digest[0].destinations[0]
    monkeypatch.delenv("TEST_SLACK_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TEST_SLACK_TOKEN"):
        build_notifier(dest, config)

    monkeypatch.setenv("TEST_SLACK_TOKEN", slack_api.token)
    built = build_notifier(dest, config)
    assert built.key == "slack:#news"
    ledger = Ledger()
    send_digest(built, daily_digest(), ledger)  # goes to config.slack.base_url: the stand-in
    assert len(slack_api.messages) == 1 and len(ledger.calls) == 1


def test_build_notifier_for_a_webhook(slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_with({"type": "slack_webhook", "url_env": "TEST_HOOK"})
    dest = config.digest[0].destinations[0]
    monkeypatch.setenv("TEST_HOOK", "not a url, but a secret")
    with pytest.raises(ConfigError) as caught:
        build_notifier(dest, config)
    assert "TEST_HOOK" in str(caught.value) and "secret" not in str(caught.value)

    monkeypatch.setenv("TEST_HOOK", slack_api.webhook_url)
    built = build_notifier(dest, config)
    assert built.key == "slack_webhook:TEST_HOOK"
    send_digest(built, daily_digest(), Ledger())
    assert len(slack_api.webhook_messages) == 1


# --- the stand-in refuses what real Slack refuses (so the tests above mean something) ---------


def _post(api: SlackAPI, **params: Any) -> Any:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=api.token, base_url=api.base_url)
    try:
        return client.chat_postMessage(channel="#news", **params).data
    except SlackApiError as e:
        return e.response.data


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"text": "x", "blocks": [_section("x")] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [_section("x" * 3001)]}, "invalid_blocks"),
        (
            {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text",
                                                                  "text": "h" * 151}}]},
            "invalid_blocks",
        ),
        (
            {"text": "x", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]},
            "invalid_blocks",
        ),
        (
            {"text": "x", "blocks": [{"type": "context", "elements": [
                {"type": "mrkdwn", "text": "c"}] * 11}]},
            "invalid_blocks",
        ),
        ({"text": "x", "blocks": [{"type": "section"}]}, "invalid_blocks"),
        ({"text": "x", "blocks": [_section("y" * 2900)] * 5}, "msg_blocks_too_long"),
        ({"text": "x" * 40001}, "msg_too_long"),
    ],
)  # fmt: skip
def test_stand_in_refuses_over_limit_messages(
    slack_api: SlackAPI, params: dict[str, Any], error: str
) -> None:
    assert _post(slack_api, **params)["error"] == error
    assert slack_api.messages == []


def test_stand_in_accepts_form_bodies_and_auth_test(slack_api: SlackAPI) -> None:
    from slack_sdk import WebClient

    client = WebClient(token=slack_api.token, base_url=slack_api.base_url)
    assert client.auth_test()["ok"] is True
    blocks = json.dumps([_section("hello")])
    response = client.api_call(
        "chat.postMessage", data={"channel": "#news", "text": "hi", "blocks": blocks}
    )
    assert response["ok"] is True
    assert slack_api.messages[0].blocks == [_section("hello")]
