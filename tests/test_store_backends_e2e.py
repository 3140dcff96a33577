"""A run end to end, and a crash mid-delivery, on every state backend (tests/state_backends.py)."""

from __future__ import annotations

import pytest
from test_pipeline import NOW

from digest.app import build_app
from digest.config import parse_config
from digest.deliver.local import MemoryNotifier
from digest.demo import serve_sample
from digest.embed import HashingEmbedder
from digest.pipeline import run_digest
from digest.summarize import ExtractiveSummarizer


def _app(tmp_path, feeds, notifier, store):
    config = parse_config(
        {
            "state_dir": str(tmp_path / "files"),
            "fetch": {"allow_private_addresses": True, "timeout_seconds": 5},
            "summarizer": {"backend": "extractive"},
            "digest": [
                {
                    "name": "world",
                    "max_stories": 20,
                    "feeds": [{"url": u} for u in feeds],
                    "destinations": [{"type": "slack", "channel": "#x", "token_env": "X"}],
                }
            ],
        },
        "test.toml",
    )
    app = build_app(
        config,
        clock=lambda: NOW,
        store=store,
        summarizer=ExtractiveSummarizer(),
        embedder=HashingEmbedder(),
        notifier_factory=lambda dest: notifier,
    )
    return app, config


def test_a_run_delivers_once_then_nothing(tmp_path, state_backend):
    notifier = MemoryNotifier("x")
    with serve_sample(NOW) as (_, feeds):
        app, config = _app(tmp_path, feeds, notifier, state_backend.open())
        result = run_digest(app, config.digest[0])
        assert not result.failed and notifier.story_ids
        sent = list(notifier.story_ids)
        # Another process on the same state finds everything delivered.
        again, _ = _app(tmp_path, feeds, notifier, state_backend.open())
        run_digest(again, config.digest[0])
    assert notifier.story_ids == sent
    assert {e.story_id for e in state_backend.open().ledger()} == set(sent)


def test_a_crash_mid_destination_resends_only_unconfirmed_messages(tmp_path, state_backend):
    notifier = MemoryNotifier("x", stories_per_message=1, fail_on=3, fail_with=SystemExit(9))
    with serve_sample(NOW) as (_, feeds):
        app, config = _app(tmp_path, feeds, notifier, state_backend.open())
        with pytest.raises(SystemExit):
            run_digest(app, config.digest[0])
        confirmed = list(notifier.story_ids)
        assert len(confirmed) == 2
        # The next run is another process on the same state.
        app2, _ = _app(tmp_path, feeds, notifier, state_backend.open())
        result = run_digest(app2, config.digest[0])
    ids = notifier.story_ids
    assert ids[:2] == confirmed
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == set(confirmed) | {ds.story.id for ds in result.digest.stories}
