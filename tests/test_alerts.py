"""Alert rules: validation, matching, once per story and rule, quiet hours, rate limits."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from twins import recorder

from digest.alerts import Matcher, keyword_pattern
from digest.app import build_app
from digest.cli import main
from digest.clock import ManualClock
from digest.config import parse_config
from digest.embed import HashingEmbedder
from digest.errors import ConfigError, DeliveryError
from digest.models import Article, Story
from digest.pipeline import check_alerts
from digest.summarize import ExtractiveSummarizer

WORLD = "http://127.0.0.1:9/world.xml"
SPORT = "http://127.0.0.1:9/sport.xml"
T0 = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)

SLACK = {"type": "slack", "channel": "#alerts", "token_env": "UNUSED_TOKEN"}
OTHER = {"type": "slack", "channel": "#oncall", "token_env": "UNUSED_TOKEN"}


def make_app(
    tmp_path,
    rules: list[dict[str, Any]],
    clock: ManualClock,
    embedder: Any = None,
    store: Any = None,
):
    """An App with these alert rules; its state is `store` when given (a backend of
    tests/state_backends.py), else SQLite in tmp_path."""
    config = parse_config(
        {
            "state_dir": str(tmp_path / "state"),
            "summarizer": {"backend": "extractive"},
            "digest": [
                {"name": "world", "feeds": [{"url": WORLD}]},
                {"name": "sport", "feeds": [{"url": SPORT}]},
            ],
            "alert": rules,
        },
        "config.toml",
    )
    recorders = {
        "slack:#alerts": recorder("slack:#alerts"),
        "slack:#oncall": recorder("slack:#oncall"),
    }
    app = build_app(
        config,
        clock=clock,
        store=store,
        summarizer=ExtractiveSummarizer(),
        embedder=embedder or HashingEmbedder(),
        notifier_factory=lambda dest: recorders[dest.key],
    )
    return app, recorders


def article(
    key: str,
    outlet: str,
    title: str,
    text: str,
    *,
    feed: str = WORLD,
    published: datetime | None = T0,
) -> Article:
    return Article(
        key=f"http://127.0.0.1:9/{key}",
        feed_url=feed,
        url=f"http://127.0.0.1:9/{key}",
        title=title,
        text=text,
        outlet=outlet,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        published=published,
    )


def story(sid: str, *articles: Article, now: datetime = T0) -> Story:
    return Story(
        id=sid, headline=articles[0].title, articles=articles, first_seen=now, last_updated=now
    )


def saved(app: Any, s: Story) -> Story:
    app.store.add_articles(s.articles, app.clock())
    app.store.save_story(s)
    return s


BRIDGE = (
    "The Marrow river footbridge in Kestrel Bay was closed on Tuesday after inspectors found "
    "corroded cables.\n\nEngineers said the anti-slip deck would be replaced before the span "
    "reopens, which the council expects in the autumn."
)
MATCH_TEXT = (
    "Crews began clearing land-mines from farmland near Ostrava Vale on Monday, the regional "
    "government said.\n\nVolunteers from three villages joined the survey teams, which expect "
    "to finish the northern fields within a month."
)


# --- validation -------------------------------------------------------------------------------


def config_error(rules: list[dict[str, Any]], **extra: Any) -> str:
    data = {"digest": [{"name": "world", "feeds": [{"url": WORLD}]}], "alert": rules, **extra}
    with pytest.raises(ConfigError) as err:
        parse_config(data, "config.toml")  # rules are validated when the config is read
    return str(err.value)


def test_the_issue_example_rule_is_valid():
    rule = {
        "name": "ukraine-mines",
        "keywords": {"any": ["land mines", "landmines"], "all": ["Ukraine"], "none": ["football"]},
        "regex": "(?i)anti-?personnel",
        "semantic": {"query": "The United States sends weapons to Ukraine", "threshold": 0.5},
        "breaking": {"outlets": 3, "within_hours": 6},
        "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/London"},
        "max_per_hour": 5,
        "feeds": "all",
        "destinations": [{"type": "email", "to": ["oncall@example.com"]}],
    }
    data = {
        "smtp": {"host": "127.0.0.1", "from": "digest@example.com"},
        "digest": [{"name": "world", "feeds": [{"url": WORLD}]}],
        "alert": [rule],
    }
    (parsed,) = parse_config(data, "config.toml").alert
    assert parsed.kind == "alert:ukraine-mines" and parsed.breaking.outlets == 3


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"regex": "(unclosed"}, "config.toml: alert[0].regex: not a valid regular expression"),
        ({"keywords": {"any": ["x"]}, "colour": 1}, "config.toml: alert[0].colour: unknown key"),
        ({}, "config.toml: alert[0]: sets no condition"),
        ({"keywords": {}}, "config.toml: alert[0].keywords: set at least one of all, any, none"),
        (
            {"regex": "x", "quiet_hours": {"start": "25:00", "end": "07:00"}},
            "config.toml: alert[0].quiet_hours.start: must be a time like 22:00",
        ),
        (
            {"regex": "x", "semantic": {"query": "q", "threshold": 1.5}},
            "config.toml: alert[0].semantic.threshold:",
        ),
        ({"regex": "x", "feeds": ["nope"]}, "config.toml: alert[0].feeds[0]: no digest named"),
        (
            {"regex": "x", "destinations": [{"type": "email", "to": ["a@example.com"]}]},
            "config.toml: alert[0].destinations[0]: is email but there is no [smtp] table",
        ),
    ],
)
def test_rule_errors_are_one_line_naming_the_key(rule, expected):
    full = {"name": "r", "destinations": [SLACK], **rule}
    message = config_error([full])
    assert expected in message
    assert len(message.splitlines()) == 1


def test_rule_names_must_be_unique_and_destinations_given():
    message = config_error(
        [
            {"name": "r", "regex": "a", "destinations": [SLACK]},
            {"name": "r", "regex": "b", "destinations": [SLACK]},
        ]
    )
    assert "config.toml: alert[1].name: 'r' is used twice" in message
    assert "alert[0].destinations" in config_error([{"name": "r", "regex": "a"}])


def test_check_config_names_the_key_of_a_bad_rule(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[digest]]\nname = "world"\nfeeds = [{url = "https://a.example/rss"}]\n\n'
        '[[alert]]\nname = "ok"\nregex = "mines"\n'
        'destinations = [{type = "slack", channel = "#a", token_env = "UNUSED_TOKEN"}]\n\n'
        '[[alert]]\nname = "bad"\nkeywords = {any = ["mines"]}\nfeeds = ["sport"]\n'
        'quiet_hours = {start = "22:00", end = "22:00"}\n'
        'destinations = [{type = "slack", channel = "#a", token_env = "UNUSED_TOKEN"}]\n'
    )
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg), "--no-secrets"])
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {cfg}: alert[1].quiet_hours: start and end must differ"]
    assert "Traceback" not in result.output
    # Fixed, the cross-reference is the next problem: a digest the config does not have.
    cfg.write_text(cfg.read_text().replace('end = "22:00"', 'end = "07:00"'))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg), "--no-secrets"])
    assert result.exit_code == 2, result.output
    assert f"error: {cfg}: alert[1].feeds[0]: no digest named 'sport'" in result.stderr
    cfg.write_text(cfg.read_text().replace('["sport"]', '["world"]'))
    result = CliRunner().invoke(main, ["check-config", "--config", str(cfg), "--no-secrets"])
    assert result.exit_code == 0, result.output
    assert "2 alert rules" in result.stdout


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "text", "hit"),
    [
        ("land mines", "Crews cleared LAND MINES near the river", True),
        ("land mines", "clearing land-mines from farmland", True),
        ("land mines", "clearing land\nmines from farmland", True),
        ("mines", "a game of minesweeper", False),
        ("mine", "the mines were cleared", False),
        ("Ukraine", "Ukraine’s government said", True),  # typographic apostrophe
        ("U.S.", "the U.S. embassy", True),
        ("Zürich", "ZÜRICH airport reopened", True),
        ("anti-personnel", "anti‑personnel devices", True),  # non-breaking hyphen in the page
    ],
)
def test_keywords_match_whole_words_case_insensitively(phrase, text, hit):
    from digest.alerts import _normalise

    assert bool(keyword_pattern(phrase).search(_normalise(text))) is hit


def rule_of(tmp_path, **rule: Any):
    app, _ = make_app(tmp_path, [{"name": "r", "destinations": [SLACK], **rule}], ManualClock(T0))
    (parsed,) = app.config.alert
    return app, parsed


def test_all_any_none_must_each_hold(tmp_path):
    app, rule = rule_of(
        tmp_path,
        keywords={
            "any": ["land mines", "landmines"],
            "all": ["Ostrava Vale"],
            "none": ["football"],
        },
    )
    matcher = Matcher(rule)
    yes = story("s1", article("a1", "Harbor Times", "Mine clearance starts", MATCH_TEXT))
    found = matcher.match(yes, T0)
    assert found is not None
    assert "rule r: keywords any=['land mines', 'landmines'] matched 'land-mines'" in found.reason
    assert "all=['Ostrava Vale'] matched" in found.reason
    missing_all = story("s2", article("a2", "Harbor Times", "Landmines", "Landmines elsewhere."))
    assert matcher.match(missing_all, T0) is None
    vetoed = story(
        "s3",
        article("a3", "Harbor Times", "Clearance", MATCH_TEXT + "\n\nThe football pitch is shut."),
    )
    assert matcher.match(vetoed, T0) is None


def test_regex_and_keywords_must_both_hold(tmp_path):
    _, rule = rule_of(tmp_path, keywords={"any": ["land mines"]}, regex=r"(?i)northern\s+fields")
    matcher = Matcher(rule)
    found = matcher.match(story("s", article("a", "Harbor", "Clearance", MATCH_TEXT)), T0)
    assert found is not None and "regex matched 'northern fields'" in found.reason
    other = MATCH_TEXT.replace("northern", "southern")
    assert matcher.match(story("t", article("b", "Harbor", "Clearance", other)), T0) is None


def test_breaking_counts_distinct_outlets_within_the_window(tmp_path):
    _, rule = rule_of(tmp_path, breaking={"outlets": 3, "within_hours": 2})
    matcher = Matcher(rule)
    recent = [
        article("b1", "Harbor Times", "Bridge shut", BRIDGE, published=T0 - timedelta(minutes=90)),
        article(
            "b2", "Coastline", "Footbridge closed", BRIDGE, published=T0 - timedelta(minutes=40)
        ),
        article(
            "b3", "Harbor Times", "Bridge: update", BRIDGE, published=T0 - timedelta(minutes=10)
        ),
    ]
    two_outlets = story("s", *recent)
    assert matcher.match(two_outlets, T0) is None
    late = article("b4", "Meridian", "Cables corroded", BRIDGE, published=T0 - timedelta(minutes=5))
    found = matcher.match(story("s", *recent, late), T0)
    assert found is not None and found.reason == "rule r: 3 outlets in 85m"
    stale = article("b5", "Meridian", "Cables", BRIDGE, published=T0 - timedelta(hours=3))
    assert matcher.match(story("s", *recent[:2], stale), T0) is None


def test_semantic_uses_the_embedder_and_its_threshold(tmp_path):
    query = "Crews began clearing land mines from farmland"
    _, rule = rule_of(tmp_path, semantic={"query": query, "threshold": 0.3})
    matcher = Matcher(rule, HashingEmbedder())
    found = matcher.match(story("s", article("a", "H", "Clearance starts", MATCH_TEXT)), T0)
    assert found is not None and f"similar to {query!r}" in found.reason
    assert matcher.match(story("t", article("b", "H", "Footbridge shut", BRIDGE)), T0) is None
    # The same story under a stricter threshold: the score did not change, the answer does.
    score = float(found.reason.rsplit("(", 1)[1].split(" ")[0])
    _, strict = rule_of(tmp_path, semantic={"query": query, "threshold": min(score + 0.05, 1)})
    stricter = Matcher(strict, HashingEmbedder())
    assert stricter.match(story("s", article("a", "H", "Clearance starts", MATCH_TEXT)), T0) is None


def test_old_stories_never_alert(tmp_path):
    _, rule = rule_of(tmp_path, keywords={"any": ["land mines"]}, max_age_hours=6)
    old = article("a", "H", "Clearance", MATCH_TEXT, published=T0 - timedelta(hours=7))
    assert Matcher(rule).match(story("s", old), T0) is None


# --- check_alerts: once per story and rule, on every state backend --------------------------------


MINES_RULE = {"name": "mines", "keywords": {"any": ["land mines"]}, "destinations": [SLACK]}


def test_an_alert_fires_once_per_story_and_rule_across_restarts(tmp_path, state_backend):
    clock = ManualClock(T0)
    rules = [MINES_RULE, {**MINES_RULE, "name": "mines-oncall", "destinations": [OTHER]}]
    app, rec = make_app(tmp_path, rules, clock, store=state_backend.open())
    s = saved(app, story("s1", article("a1", "Harbor Times", "Clearance starts", MATCH_TEXT)))
    bridge = saved(app, story("s2", article("a2", "Harbor Times", "Footbridge shut", BRIDGE)))

    deliveries = check_alerts(app, [s, bridge])
    assert [(d.destination, d.story_ids, d.ok) for d in deliveries] == [
        ("slack:#alerts", ("s1",), True),
        ("slack:#oncall", ("s1",), True),
    ]
    (message,) = rec["slack:#alerts"].digests
    assert message.kind == "alert" and message.name == "mines"
    assert message.reason == "rule mines: keywords any=['land mines'] matched 'land-mines'"
    (ds,) = message.stories
    assert ds.story.id == "s1" and ds.quick_looks.bullets

    clock.advance(minutes=10)
    assert check_alerts(app, [s, bridge]) == []
    app.close()
    # A restarted process on the same state: still nothing twice.
    app2, rec2 = make_app(tmp_path, rules, clock, store=state_backend.open())
    assert check_alerts(app2, [app2.store.load_story("s1")]) == []
    assert rec2["slack:#alerts"].digests == []
    app2.close()


def test_a_rule_only_watches_its_digests_feeds(tmp_path, state_backend):
    app, rec = make_app(
        tmp_path, [{**MINES_RULE, "feeds": ["sport"]}], ManualClock(T0), store=state_backend.open()
    )
    s = saved(app, story("s1", article("a1", "Harbor", "Clearance", MATCH_TEXT)))
    assert check_alerts(app, [s]) == []
    sport = saved(app, story("s2", article("a2", "Harbor", "Clearance", MATCH_TEXT, feed=SPORT)))
    assert [d.story_ids for d in check_alerts(app, [s, sport])] == [("s2",)]
    app.close()


def test_quiet_hours_hold_alerts_then_release_them_once(tmp_path, state_backend):
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/London"}
    clock = ManualClock(datetime(2026, 6, 2, 23, 30, tzinfo=UTC))  # 00:30 in London (BST)
    app, rec = make_app(
        tmp_path, [{**MINES_RULE, "quiet_hours": quiet}], clock, store=state_backend.open()
    )
    s = saved(
        app,
        story(
            "s1", article("a1", "H", "Clearance", MATCH_TEXT, published=clock.now), now=clock.now
        ),
    )
    assert check_alerts(app, [s]) == []
    assert [q.story_id for q in app.store.queued_alerts("mines")] == ["s1"]
    clock.now = datetime(2026, 6, 3, 5, 50, tzinfo=UTC)  # 06:50 London: still quiet
    assert check_alerts(app, []) == []
    clock.now = datetime(2026, 6, 3, 6, 5, tzinfo=UTC)  # 07:05 London
    # Released although no poll touched the story again: the hold lives in the state.
    assert [d.story_ids for d in check_alerts(app, [])] == [("s1",)]
    assert "matched 'land-mines'" in rec["slack:#alerts"].digests[0].reason
    assert app.store.queued_alerts("mines") == []
    clock.advance(minutes=10)
    assert check_alerts(app, [s]) == []
    assert len(rec["slack:#alerts"].digests) == 1
    app.close()


def test_max_per_hour_holds_the_excess_for_later(tmp_path, state_backend):
    clock = ManualClock(T0)
    app, rec = make_app(
        tmp_path, [{**MINES_RULE, "max_per_hour": 2}], clock, store=state_backend.open()
    )
    stories = [
        saved(app, story(f"s{i}", article(f"a{i}", "H", f"Clearance {i}", MATCH_TEXT + f" {i}")))
        for i in range(3)
    ]
    assert len(check_alerts(app, stories)) == 2
    clock.advance(minutes=30)
    assert check_alerts(app, stories) == []  # still two in the last hour
    clock.advance(minutes=31)
    assert [d.story_ids for d in check_alerts(app, stories)] == [("s2",)]
    assert sorted(rec["slack:#alerts"].story_ids) == ["s0", "s1", "s2"]
    app.close()


def test_a_failed_send_stays_queued_and_is_retried_without_resending(tmp_path, state_backend):
    clock = ManualClock(T0)
    app, rec = make_app(
        tmp_path,
        [{**MINES_RULE, "destinations": [SLACK, OTHER]}],
        clock,
        store=state_backend.open(),
    )
    s = saved(app, story("s1", article("a1", "H", "Clearance", MATCH_TEXT)))
    rec["slack:#oncall"].down = DeliveryError("slack:#oncall", "channel_not_found")
    result = check_alerts(app, [s])
    assert [(d.destination, d.ok) for d in result] == [
        ("slack:#alerts", True),
        ("slack:#oncall", False),
    ]
    rec["slack:#oncall"].down = None
    clock.advance(minutes=10)
    result = check_alerts(app, [])
    assert [(d.destination, d.story_ids) for d in result] == [
        ("slack:#alerts", ()),
        ("slack:#oncall", ("s1",)),
    ]
    assert len(rec["slack:#alerts"].digests) == 1 and len(rec["slack:#oncall"].digests) == 1
    app.close()


@pytest.mark.slow
def test_semantic_rule_with_minilm_finds_a_paraphrase(tmp_path):
    from digest.embed import MiniLMEmbedder

    rule = {
        "name": "arms",
        "semantic": {"query": "The United States sends weapons to Ukraine", "threshold": 0.5},
        "destinations": [SLACK],
    }
    app, rec = make_app(tmp_path, [rule], ManualClock(T0), embedder=MiniLMEmbedder())
    arms = saved(
        app,
        story(
            "arms",
            article(
                "x1",
                "Harbor Times",
                "Washington approves new shipment of missiles and artillery for Kyiv",
                "The Pentagon said on Friday it would deliver another package of air-defence "
                "missiles and artillery shells to Ukraine's armed forces.",
            ),
        ),
    )
    bridge = saved(app, story("bridge", article("x2", "Harbor Times", "Footbridge shut", BRIDGE)))
    assert [d.story_ids for d in check_alerts(app, [arms, bridge])] == [("arms",)]
    assert "similar to" in rec["slack:#alerts"].digests[0].reason
    app.close()
