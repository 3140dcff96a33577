"""The whole pipeline over real HTTP on 127.0.0.1, with in-memory twins for models and notifiers,
on every state backend (tests/state_backends.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twins import recorder, sends

from digest.app import build_app
from digest.config import parse_config
from digest.demo import serve_sample
from digest.embed import HashingEmbedder
from digest.errors import DeliveryError
from digest.fetch import build_client
from digest.pipeline import run_digest
from digest.summarize import ExtractiveSummarizer

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def make_app(tmp_path, feeds, notifiers, *, statuses=None, extra=None, store=None):
    """An App over these feeds with one Slack destination per notifier (by its key); its state
    is `store` when given (one of tests/state_backends.py), else the config's (tmp_path/state)."""
    data = {
        "state_dir": str(tmp_path / "state"),
        "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
        "summarizer": {"backend": "extractive"},
        "digest": [
            {
                "name": "world",
                "max_stories": 20,
                "feeds": [{"url": u} for u in feeds],
                "destinations": [
                    {"type": "slack", "channel": f"#{n.key}", "token_env": "X"} for n in notifiers
                ],
            }
        ],
        **(extra or {}),
    }
    config = parse_config(data, "test.toml")
    client = build_client(config.fetch)
    if statuses is not None:
        client.event_hooks["response"].append(
            lambda r: statuses.append((str(r.url), r.status_code))
        )
    by_key = {f"slack:#{n.key}": n for n in notifiers}
    return build_app(
        config,
        clock=lambda: NOW,
        store=store,
        http_client=client,
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: by_key[dest.key],
    ), config


def test_run_delivers_stories_with_quick_looks(tmp_path, state_backend):
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(tmp_path, feeds, [slack], store=state_backend.open())
        result = run_digest(app, config.digest[0])
    assert not result.failed
    assert result.new_articles == 8
    stories = result.digest.stories
    assert 4 <= len(stories) <= 8
    assert len(sends(slack)) == 1 and set(sends(slack)[0]) == {ds.story.id for ds in stories}
    for ds in stories:
        assert ds.quick_looks.headline
        assert ds.quick_looks.bullets
        # Extracted from the page, not the one-line teaser in the feed.
        assert all(not a.from_feed_only for a in ds.story.articles)
    for stage in ("fetch", "extract", "cluster", "rank", "summarise", "deliver"):
        assert stage in result.timings


def test_second_run_on_unchanged_feeds_gets_304s_and_delivers_nothing(tmp_path, state_backend):
    statuses: list[tuple[str, int]] = []
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(
            tmp_path, feeds, [slack], statuses=statuses, store=state_backend.open()
        )
        first = run_digest(app, config.digest[0])
        statuses.clear()
        second = run_digest(app, config.digest[0])
    assert first.digest.stories and len(sends(slack)) == 1
    assert sorted(statuses) == sorted((u, 304) for u in feeds)  # one 304 per feed, no pages
    assert second.new_articles == 0
    assert [d.detail for d in second.deliveries] == ["nothing new"]
    assert len(sends(slack)) == 1
    assert app.store.last_run("world").outcome == "empty"  # ran fine, nothing new
    # Another connection (another process) reads the same ledger.
    assert {e.story_id for e in state_backend.open().ledger()} == set(sends(slack)[0])


def test_dry_run_delivers_and_records_nothing(tmp_path, state_backend):
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(tmp_path, feeds, [slack], store=state_backend.open())
        dry = run_digest(app, config.digest[0], dry_run=True)
        assert dry.digest.stories and sends(slack) == []
        assert app.store.delivered_ids("slack:#a") == set()
        real = run_digest(app, config.digest[0])
    assert {ds.story.id for ds in real.digest.stories} == {ds.story.id for ds in dry.digest.stories}
    assert len(sends(slack)) == 1


def test_crash_between_destinations_resumes_without_resending(tmp_path, state_backend):
    with serve_sample(NOW) as (_, feeds):
        first, second = recorder("a"), recorder("b", down=KeyboardInterrupt())
        app, config = make_app(tmp_path, feeds, [first, second], store=state_backend.open())
        with pytest.raises(KeyboardInterrupt):
            run_digest(app, config.digest[0])
        sent_to_first = sends(first)[0]
        assert app.store.last_run("world").outcome == "failed"
        second.down = None  # the process is restarted: another connection to the state
        again, _ = make_app(tmp_path, feeds, [first, second], store=state_backend.open())
        run_digest(again, config.digest[0])
    assert sends(first) == [sent_to_first]  # nothing twice
    assert sends(second) == [sent_to_first]  # nothing lost


def test_failed_destination_keeps_its_stories_pending(tmp_path, state_backend):
    with serve_sample(NOW) as (_, feeds):
        good, bad = recorder("a"), recorder("b", down=DeliveryError("slack:#b", "invalid_auth"))
        app, config = make_app(tmp_path, feeds, [good, bad], store=state_backend.open())
        result = run_digest(app, config.digest[0])
        assert result.failed
        assert [d.ok for d in result.deliveries] == [True, False]
        assert "invalid_auth" in result.deliveries[1].detail
        assert app.store.last_run("world").outcome == "failed"
        bad.down = None
        again = run_digest(app, config.digest[0])
    assert not again.failed
    assert sends(bad) == sends(good)


def test_bad_feeds_are_named_and_the_rest_still_delivers(tmp_path, state_backend, httpserver):
    httpserver.expect_request("/gone.xml").respond_with_data("nope", status=404)
    httpserver.expect_request("/page.xml").respond_with_data(
        "<html><body><h1>Welcome</h1><p>Not a feed.</p></body></html>", content_type="text/html"
    )
    httpserver.expect_request("/broken.xml").respond_with_data(
        "<rss><channel><title>x</ti", content_type="application/rss+xml"
    )
    bad = [httpserver.url_for(p) for p in ("/gone.xml", "/page.xml", "/broken.xml")]
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(tmp_path, [*bad, *feeds], [slack], store=state_backend.open())
        result = run_digest(app, config.digest[0])
    assert result.digest.stories and sends(slack)
    for url in bad:
        lines = [p for p in result.problems if url in p]
        assert len(lines) == 1, (url, result.problems)
        assert "\n" not in lines[0]
    health = app.store.feed_state(bad[0])
    assert health.consecutive_failures == 1 and "404" in (health.last_error or "")


def test_max_stories_caps_the_digest(tmp_path, state_backend):
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(tmp_path, feeds, [slack], store=state_backend.open())
        digest = config.digest[0].model_copy(update={"max_stories": 2})
        first = run_digest(app, digest)
        second = run_digest(app, digest)
    assert len(first.digest.stories) == 2
    # What did not fit is not new next time: no digest of leftovers on unchanged feeds
    # (issue 14; tests/test_newcomer.py has the case where something new arrives).
    assert second.digest.stories == ()
    assert len(sends(slack)) == 1
