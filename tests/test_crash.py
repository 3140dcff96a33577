"""A run killed during delivery loses no story and posts none twice (issue 2, done-when), on
every state backend (tests/state_backends.py).

The subprocess test really SIGKILLs `digest run` while it is posting to the second of two Slack
channels (a loopback stand-in holds that request open), then runs it again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from slack_api import SlackAPI
from state_backends import StateBackend
from test_pipeline import make_app

from digest.deliver.local import MemoryNotifier
from digest.demo import serve_sample
from digest.pipeline import run_digest

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


class HoldingSlack(SlackAPI):
    """A Slack stand-in that holds posts to one channel open until released."""

    def __init__(self, hold_channel: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hold_channel = hold_channel
        self.reached = threading.Event()
        self.release = threading.Event()

    def handle(self, path, headers, body):
        if "chat.postMessage" in path and self.hold_channel.encode() in body:
            if not self.release.is_set():
                self.reached.set()
                self.release.wait(60)
                return 503, {}, b"gone"
        return super().handle(path, headers, body)


def slack_config(tmp_path, feeds, base_url, channels=("#first", "#second")) -> str:
    """A config posting to these Slack channels of a loopback stand-in, no model, no clustering."""
    path = tmp_path / "config.toml"
    feed_list = ", ".join(f'{{ url = "{u}" }}' for u in feeds)
    destinations = ",\n".join(
        f'  {{ type = "slack", channel = "{c}", token_env = "TEST_SLACK_TOKEN" }}' for c in channels
    )
    path.write_text(
        f"""
state_dir = "state"
[fetch]
allow_private_addresses = true
[summarizer]
backend = "extractive"
[cluster]
enabled = false
[slack]
base_url = "{base_url}"
max_retries = 0
[[digest]]
name = "world"
feeds = [{feed_list}]
destinations = [
{destinations}
]
"""
    )
    return str(path)


def _posted(api: SlackAPI, channel: str) -> list[str]:
    """The article links each message to a channel carried, message after message.

    A link appearing in two messages to one channel would mean a story posted twice.
    """
    links: list[str] = []
    for m in api.messages:
        if m.channel == channel:
            blob = json.dumps(m.blocks)
            links.extend({part.split("|")[0] for part in blob.split("<http")[1:] if "|" in part})
    return links


def test_sigkill_during_delivery_then_restart(tmp_path, state_backend: StateBackend):
    api = HoldingSlack("#second").start()
    extra, state_env = state_backend.cli_args()
    env = {**os.environ, **state_env, "TEST_SLACK_TOKEN": api.token, "HF_HUB_OFFLINE": "1"}
    try:
        with serve_sample() as (_, feeds):
            config = slack_config(tmp_path, feeds, api.base_url)
            cmd = [sys.executable, "-m", "digest", "-q", "run", *extra, "--config", config]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert api.reached.wait(120), proc.communicate(timeout=5)
                first_before = [m for m in api.messages if m.channel == "#first"]
                assert first_before, "the first channel had confirmed its message"
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert proc.returncode == -signal.SIGKILL
            assert not [m for m in api.messages if m.channel == "#second"]

            api.release.set()  # the destination is healthy again; run once more
            again = subprocess.run(cmd, env=env, capture_output=True, timeout=300, text=True)
            assert again.returncode == 0, again.stderr
    finally:
        api.release.set()
        api.stop()
    first = [m for m in api.messages if m.channel == "#first"]
    second = [m for m in api.messages if m.channel == "#second"]
    assert first == first_before  # nothing posted twice to the channel that had confirmed
    stories_first = _posted(api, "#first")
    stories_second = _posted(api, "#second")
    assert stories_second and sorted(stories_second) == sorted(stories_first)  # nothing lost
    assert len(set(stories_second)) == len(stories_second)
    assert second
    # Both runs kept their ledger in this backend's database (not a SQLite file by default).
    store = state_backend.open()
    assert store.delivered_ids("slack:#first")
    assert store.delivered_ids("slack:#second") == store.delivered_ids("slack:#first")
    assert store.open_intents() == []


def test_crash_mid_destination_resends_only_unconfirmed_messages(
    tmp_path, state_backend: StateBackend
):
    """A destination that takes one story per message, killed after two confirmed messages;
    the next run is another process on the same state."""
    notifier = MemoryNotifier("x", stories_per_message=1, fail_on=3, fail_with=SystemExit(9))
    with serve_sample(NOW) as (_, feeds):
        app, config = make_app(tmp_path, feeds, [notifier], store=state_backend.open())
        # The crash must really happen on message 3 (a swallowed try/except hid a run that
        # never crashed).
        with pytest.raises(SystemExit):
            run_digest(app, config.digest[0])
        confirmed = list(notifier.story_ids)
        assert len(confirmed) == 2
        again, _ = make_app(tmp_path, feeds, [notifier], store=state_backend.open())
        result = run_digest(again, config.digest[0])
    ids = notifier.story_ids
    assert ids[:2] == confirmed
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == set(confirmed) | {ds.story.id for ds in result.digest.stories}
    assert not set(confirmed) & {ds.story.id for ds in result.digest.stories}
