"""The Slack app end to end: slash commands and reactions through a real WebSocket (the Socket
Mode stand-in), the Web API stand-in receiving the replies, alerts and digests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_api import SlackAPI, channel_id_for
from slack_socket import SocketMode

from digest.app import build_app
from digest.channels import preferences, rule_spec, status_lines, tailor
from digest.config import parse_config
from digest.demo import serve_sample
from digest.embed import HashingEmbedder
from digest.errors import ConfigError
from digest.fetch import build_client
from digest.models import Article, Bullet, Digest, DigestStory, QuickLooks, Story
from digest.pipeline import run_digest
from digest.schedule import alert_poller_for
from digest.slackapp import SlackApp
from digest.summarize import ExtractiveSummarizer

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
NEWS = channel_id_for("#news")
OTHER = channel_id_for("#other")


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SlackAPI, SocketMode]]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test-token")
    with SlackAPI() as api, SocketMode(api) as socket:
        yield api, socket


@pytest.fixture
def world(
    tmp_path: Path, slack: tuple[SlackAPI, SocketMode]
) -> Iterator[tuple[Any, SlackAPI, SocketMode]]:
    api, socket = slack
    with serve_sample(NOW) as (_, feeds):
        config = parse_config(
            {
                "state_dir": str(tmp_path / "state"),
                "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
                "summarizer": {"backend": "extractive"},
                "slack": {
                    "base_url": api.base_url,
                    "app_token_env": "SLACK_APP_TOKEN",
                    "max_retries": 0,
                },
                "digest": [
                    {
                        "name": "world",
                        "feeds": [{"url": u} for u in feeds],
                        "destinations": [
                            {"type": "slack", "channel": "#news"},
                            {"type": "slack", "channel": "#other"},
                        ],
                    }
                ],
                "alert": [
                    {
                        "name": "batteries",
                        "keywords": {"any": ["sodium-ion"]},
                        "destinations": [{"type": "slack", "channel": "#news"}],
                    }
                ],
            },
            "slack.toml",
        )
        app = build_app(
            config,
            clock=lambda: NOW,
            http_client=build_client(config.fetch),
            summarizer=ExtractiveSummarizer(),
            embedder=HashingEmbedder(),
        )
        service = SlackApp(app, app.store).start()
        try:
            assert socket.wait_connected()
            yield app, api, socket
        finally:
            service.close()
            app.close()


def command(socket: SocketMode, text: str, channel: str = NEWS, name: str = "news") -> str:
    return str(socket.slash_command(text, channel_id=channel, channel_name=name)["text"])


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def headlines(api: SlackAPI, channel: str) -> str:
    return "\n".join(str(m.blocks) for m in api.channel_messages(channel))


# --- follow ---------------------------------------------------------------------------------------


def test_follow_from_slack_then_the_next_matching_story_alerts_the_channel(
    world: tuple[Any, SlackAPI, SocketMode],
) -> None:
    app, api, socket = world
    # The client opened the URL apps.connections.open gave it, with the app-level token.
    assert socket.paths and socket.paths[0].startswith("/link/?ticket=")
    assert ("apps.connections.open", {}) in [(m, {}) for m, _ in api.calls]
    reply = command(socket, "follow Skylark Air")
    assert reply.startswith('Following 1: keywords "Skylark Air"')
    listed = command(socket, "list")
    # Config rules and Slack follows together.
    assert 'config rule batteries: "sodium-ion"' in listed
    assert '1. keywords "Skylark Air" (followed by <@U0READER>)' in listed
    poller = alert_poller_for(app)
    assert poller is not None
    poller(app, NOW)
    alerts = [m for m in api.channel_messages("#news") if "Skylark" in str(m.blocks)]
    assert alerts, "the followed topic's story was not alerted"
    assert "rule slack-1" in str(alerts[0].blocks)
    assert any("sodium" in str(m.blocks).lower() for m in api.channel_messages("#news"))
    # Once only, whatever the polls.
    before = len(api.channel_messages("#news"))
    poller(app, NOW)
    assert len(api.channel_messages("#news")) == before
    assert command(socket, "unfollow 1") == 'No longer following keywords "Skylark Air".'
    assert "1. keywords" not in command(socket, "list")
    assert command(socket, "unfollow 7").startswith("There is no followed topic 7 here")


def test_a_long_sentence_is_a_semantic_query_and_phrases_are_keywords() -> None:
    assert rule_spec("flood barrier") == {"keywords": {"any": ["flood barrier"]}}
    assert rule_spec('"Port Ellison", sea wall') == {
        "keywords": {"any": ["Port Ellison", "sea wall"]}
    }
    spec = rule_spec("news about  cheaper batteries for the grid")
    assert spec == {
        "semantic": {"query": "news about cheaper batteries for the grid", "threshold": 0.5}
    }


# --- mute -----------------------------------------------------------------------------------------


def test_mute_an_outlet_and_the_channel_stops_seeing_it(
    world: tuple[Any, SlackAPI, SocketMode],
) -> None:
    app, api, socket = world
    reply = command(socket, "mute Harbor Gazette")
    assert reply.startswith('Muted "Harbor Gazette"')
    assert '1. muted: "Harbor Gazette"' in command(socket, "list")
    result = run_digest(app, app.config.digest[0])
    assert not result.failed
    news, other = headlines(api, "#news"), headlines(api, "#other")
    assert "Harbor Gazette" in other  # the other channel is not muted
    assert "Harbor Gazette" not in news and news  # #news got its digest, without that outlet
    muted = app.store.conn.execute(
        "SELECT COUNT(*) FROM deliveries WHERE destination = 'slack:#news' AND ref = 'muted'"
    ).fetchone()[0]
    assert muted >= 1
    assert command(socket, "unmute 1") == 'No longer muting "Harbor Gazette".'


# --- reactions ------------------------------------------------------------------------------------


def test_reactions_are_recorded_per_channel_undone_and_shown_by_status(
    world: tuple[Any, SlackAPI, SocketMode], tmp_path: Path
) -> None:
    app, api, socket = world
    run_digest(app, app.config.digest[0])
    message = api.channel_messages("#news")[0]
    item = {"type": "message", "channel": NEWS, "ts": message.ts}
    socket.event({"type": "reaction_added", "user": "U0READER", "reaction": "+1", "item": item})
    prefs = eventually(lambda: preferences(app.store, "slack:#news"))
    assert all(v == 1 for v in prefs.outlets.values()) and prefs.outlets
    assert not preferences(app.store, "slack:#other")  # per channel
    lines = "\n".join(status_lines(app.store))
    assert "slack channels:" in lines and "#news" in lines and "reactions by outlet:" in lines
    # ... and `digest status` prints them.
    from click.testing import CliRunner

    from digest.cli import main

    config = tmp_path / "status.toml"
    config.write_text('[[digest]]\nname = "world"\nfeeds = [{url = "https://x.example/rss"}]\n')
    printed = (
        CliRunner()
        .invoke(
            main, ["status", "--config", str(config), "--state-dir", str(app.store.path.parent)]
        )
        .output
    )
    assert printed.index("slack channels:") > printed.index("feeds:")
    assert "  #news\n" in printed and "reactions by outlet: " in printed
    assert "(undo: remove the reaction, or /digest forget)" in printed
    # An emoji that is neither 👍 nor 👎 counts for nothing; removing the 👍 undoes it.
    socket.event({"type": "reaction_added", "user": "U2", "reaction": "tada", "item": item})
    socket.event({"type": "reaction_removed", "user": "U0READER", "reaction": "+1", "item": item})
    eventually(lambda: not preferences(app.store, "slack:#news"))
    socket.event({"type": "reaction_added", "user": "U0READER", "reaction": "-1", "item": item})
    eventually(lambda: preferences(app.store, "slack:#news"))
    assert command(socket, "forget").startswith("Forgot 1 reaction(s)")
    assert not preferences(app.store, "slack:#news")


def _story(sid: str, outlet: str, headline: str, hours_ago: float) -> DigestStory:
    a = Article(
        key=sid,
        feed_url="https://x.example/rss",
        url=f"https://x.example/{sid}",
        title=headline,
        text="",
        outlet=outlet,
        content_hash=sid,
        published=NOW.replace(hour=7 - int(hours_ago)),
    )
    s = Story(sid, headline, (a,), NOW, NOW)
    return DigestStory(s, QuickLooks(headline, (Bullet("", "x"),), "extractive"))


def test_a_dislike_moves_that_outlets_stories_down_in_that_channel_only(
    world: tuple[Any, SlackAPI, SocketMode],
) -> None:
    app, _, _ = world
    store = app.store
    for sid, outlet, title in (
        ("s1", "Loud Post", "Mayor opens bridge"),
        ("s2", "Quiet Times", "Library hours extended"),
    ):
        story = _story(sid, outlet, title, 1).story
        store.add_articles(story.articles, NOW)
        store.save_story(story)
    store.record_delivery("slack:#news", ["s1"], kind="story", digest="world", ref="111.1", now=NOW)
    digest = Digest(
        "world",
        NOW,
        (
            _story("s3", "Loud Post", "Council votes", 1),
            _story("s4", "Quiet Times", "Park reopens", 2),
        ),
    )
    unchanged, _ = tailor(store, "slack:#news", digest, NOW)
    assert [ds.story.id for ds in unchanged.stories] == ["s3", "s4"]  # the fresher first
    store.conn.execute(
        "INSERT INTO slack_reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (NEWS, "111.1", "U1", "-1", -1, '["s1"]', "2026-11-20T06:00:00+00:00", "slack:#news"),
    )
    store.conn.execute(
        "INSERT INTO slack_reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (NEWS, "111.1", "U2", "-1", -1, '["s1"]', "2026-11-20T06:00:00+00:00", "slack:#news"),
    )
    moved, _ = tailor(store, "slack:#news", digest, NOW)
    assert [ds.story.id for ds in moved.stories] == ["s4", "s3"]
    other, _ = tailor(store, "slack:#other", digest, NOW)
    assert [ds.story.id for ds in other.stories] == ["s3", "s4"]
    assert preferences(store, "slack:#news").shift(digest.stories[0].story) == -1.0


# --- now, why, refusals and escaping --------------------------------------------------------------


def test_now_replies_only_to_the_caller_and_why_explains(
    world: tuple[Any, SlackAPI, SocketMode],
) -> None:
    app, api, socket = world
    from digest.pipeline import collect

    collect(app, app.config.digest[0].feeds)
    ack = command(socket, "now")
    assert ack.startswith("Looking for the stories")
    path, reply = eventually(lambda: api.responses and api.responses[0])
    assert path == "/response/1"
    assert reply["response_type"] == "ephemeral"
    assert "Skylark" in str(reply["blocks"])
    assert not api.channel_messages("#news")  # nothing posted in the channel
    run_digest(app, app.config.digest[0])
    why = command(socket, "why Skylark")
    assert why.startswith("*") and "Ranking: score" in why and "Merged:" in why
    assert "same_event" in why or "near_duplicate" in why or "identical" in why
    assert command(socket, "why no such words here").startswith("No story posted here matches")


def test_a_channel_the_app_does_not_post_to_is_refused_politely(
    world: tuple[Any, SlackAPI, SocketMode],
) -> None:
    _, _, socket = world
    reply = command(socket, "follow storms", channel="C0STRANGER", name="random")
    assert reply.startswith("Sorry, digest does not post in this channel")
    assert "Following" not in reply


def test_replies_escape_user_text(world: tuple[Any, SlackAPI, SocketMode]) -> None:
    _, _, socket = world
    reply = command(socket, "mute <!channel> & <https://evil.example|click>")
    assert (
        "<!channel>" not in reply
        and "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in reply
    )
    listed = command(socket, "list")
    assert "<!channel>" not in listed and "&lt;!channel&gt;" in listed
    assert "I do not know `&lt;b&gt;`" in command(socket, "<b> x")
    # A mention typed into a follow is user text too: only our own "(followed by <@U…>)" pings.
    command(socket, "follow <@U0VICTIM> (followed by <@U0OTHER>)")
    listed = command(socket, "list")
    assert "<@U0VICTIM>" not in listed and "<@U0OTHER>" not in listed, listed
    assert "&lt;@U0VICTIM&gt;" in listed and "&lt;@U0OTHER&gt;" in listed
    # "²" and "¹" are str.isdigit() but not numbers int() takes: a plain answer, not a failure.
    for odd in ("²", "¹"):
        assert command(socket, f"unfollow {odd}").startswith("There is no followed topic")
    assert command(socket, "follow " + "x" * 301).startswith("That is too long")


def test_a_bot_token_where_the_app_token_belongs_is_a_config_error(
    tmp_path: Path, slack: tuple[SlackAPI, SocketMode], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, _ = slack
    config = parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "slack": {"base_url": api.base_url, "app_token_env": "SLACK_APP_TOKEN"},
        },
        "slack.toml",
    )
    app = build_app(config, summarizer=ExtractiveSummarizer(), embedder=HashingEmbedder())
    try:
        monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-test-token")
        with pytest.raises(ConfigError, match="does not hold an app-level token"):
            SlackApp(app, app.store)
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-wrong")
        with pytest.raises(
            ConfigError, match=r"Slack refused the app-level token \(invalid_auth\)"
        ):
            SlackApp(app, app.store).start()
        api.socket_url = "wss://127.0.0.1:9/link/"  # nothing listens there
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test-token")
        unreachable = SlackApp(app, app.store).start()  # logs, retries, does not stop serve
        assert not unreachable.connected
        unreachable.stop()
    finally:
        app.close()


def test_digest_serve_connects_the_slack_app_and_stops_cleanly(
    tmp_path: Path, slack: tuple[SlackAPI, SocketMode]
) -> None:
    import threading

    from digest.channels import follows
    from digest.config import ServeSettings
    from digest.readers import services_for
    from digest.schedule import serve

    api, socket = slack
    config = parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "summarizer": {"backend": "extractive"},
            "slack": {"base_url": api.base_url, "app_token_env": "SLACK_APP_TOKEN"},
            "digest": [
                {
                    "name": "world",
                    "schedule": "0 7 1 1 *",
                    "feeds": [{"url": "http://127.0.0.1:9/rss"}],
                    "destinations": [{"type": "slack", "channel": "#news"}],
                }
            ],
        },
        "serve.toml",
    )
    app = build_app(config, summarizer=ExtractiveSummarizer(), embedder=HashingEmbedder())
    services = services_for(app, None)
    assert [type(s).__name__ for s in services] == ["SlackApp"]
    stop = threading.Event()
    result: dict[str, int] = {}

    def run() -> None:
        options = ServeSettings(grace_minutes=0)
        result["code"] = serve(app, options, stop=stop, handle_signals=False, services=services)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert socket.wait_connected(30), "serve did not connect the Slack app"
        reply = socket.slash_command("follow ferries", channel_id=NEWS, channel_name="news")
        assert reply["text"].startswith('Following 1: keywords "ferries"')
    finally:
        stop.set()
        thread.join(30)
        for service in services:
            service.close()
    assert result == {"code": 0}
    assert [f.text for f in follows(app.store, "#news")] == ["ferries"]
    app.close()
