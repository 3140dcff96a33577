"""The SQLite store: migrations, feed health, the ledger, runs and locks."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from digest.errors import StateError
from digest.models import Article, MergeReason, Story
from digest.store import MIGRATIONS, Store

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def article(key: str, **kw) -> Article:
    base = dict(
        key=key,
        feed_url="https://f.example/rss",
        url=f"https://f.example/{key}",
        title=f"Title {key}",
        text=f"Text of {key}.",
        outlet="F",
        content_hash=f"h-{key}",
    )
    base.update(kw)
    return Article(**base)


def test_open_creates_wal_db_and_records_migrations(tmp_path):
    store = Store.open(tmp_path / "s")
    assert (tmp_path / "s" / "state.sqlite3").exists()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY id")]
    assert names == [m.__name__ for m in MIGRATIONS]
    store.close()
    # Reopening applies nothing twice.
    again = Store.open(tmp_path / "s")
    assert again.migrate() == []


def test_state_from_newer_version_is_refused(tmp_path):
    store = Store.open(tmp_path)
    store.conn.execute(
        "INSERT INTO _migrations (id, name, applied_at) VALUES (?, 'future', 'x')",
        (len(MIGRATIONS) + 1,),
    )
    store.close()
    with pytest.raises(StateError, match="newer version"):
        Store.open(tmp_path)


def test_not_a_database_is_a_state_error(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError):
        Store.open(tmp_path)


def test_feed_health_counts_failures_and_resets(tmp_path):
    store = Store.memory()
    url = "https://f.example/rss"
    store.record_feed_failure(url, T0, "HTTP 500")
    store.record_feed_failure(url, T0 + timedelta(minutes=1), "read timeout")
    state = store.feed_state(url)
    assert state.consecutive_failures == 2 and state.last_error == "read timeout"
    assert state.last_success is None
    store.record_feed_success(url, T0, etag='"v1"', last_modified="Fri, 20 Nov 2026 07:00:00 GMT")
    state = store.feed_state(url)
    assert (state.consecutive_failures, state.last_error, state.etag) == (0, None, '"v1"')
    assert state.last_success == T0


def test_articles_are_added_once(tmp_path):
    store = Store.memory()
    assert [a.key for a in store.add_articles([article("a"), article("b")], T0)] == ["a", "b"]
    assert [a.key for a in store.add_articles([article("a"), article("c")], T0)] == ["c"]
    assert store.known_keys(["a", "x", "c"]) == {"a", "c"}
    assert {a.key for a in store.unclustered_articles()} == {"a", "b", "c"}


def test_story_round_trip_with_merges():
    store = Store.memory()
    a, b = article("a"), article("b", outlet="G")
    store.add_articles([a, b], T0)
    story = Story(
        id="s1",
        headline="H",
        articles=(a, b),
        first_seen=T0,
        last_updated=T0 + timedelta(hours=1),
        merges=(MergeReason("b", "same_event", 0.83, "titles share 'flood barrier'"),),
    )
    store.save_story(story)
    loaded = store.load_story("s1")
    assert loaded is not None
    assert [x.key for x in loaded.articles] == ["a", "b"]
    assert loaded.outlets == ("F", "G")
    assert loaded.merges == story.merges
    assert store.unclustered_articles() == []
    assert [s.id for s in store.stories_updated_since(T0, ["https://f.example/rss"])] == ["s1"]
    assert store.stories_updated_since(T0 + timedelta(hours=2), ["https://f.example/rss"]) == []
    assert store.stories_updated_since(T0, ["https://other.example/"]) == []


def test_ledger_is_per_destination_and_kind():
    store = Store.memory()
    store.record_delivery("slack:#a", ["s1", "s2"], kind="story", digest="d", ref="1.2", now=T0)
    assert store.is_delivered("slack:#a", "s1")
    assert not store.is_delivered("email:x@y", "s1")
    assert not store.is_delivered("slack:#a", "s1", kind="update")
    assert store.delivered_ids("slack:#a") == {"s1", "s2"}
    # Recording again is harmless and keeps the first time.
    store.record_delivery(
        "slack:#a", ["s1"], kind="story", digest="d", ref="9", now=T0 + timedelta(1)
    )
    assert store.last_delivery_time("slack:#a", "s1") == T0


def test_ledger_survives_a_crash_mid_transaction(tmp_path):
    store = Store.open(tmp_path)
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO deliveries VALUES ('k', 's', 'story', 'd', 'r', '2026-01-01')"
            )
            raise RuntimeError("crash")
    assert not store.is_delivered("k", "s")
    # A second connection (another process) sees committed rows only.
    store.record_delivery("k", ["s2"], kind="story", digest="d", ref="r", now=T0)
    other = sqlite3.connect(tmp_path / "state.sqlite3")
    assert other.execute("SELECT story_id FROM deliveries").fetchall() == [("s2",)]


def test_delivery_intents_open_settle_and_drop(tmp_path):
    store = Store.open(tmp_path)
    store.record_intent(
        "slack:#a", "k1", digest="d", story_ids=["s1", "s2"], kinds=["story", "update"], now=T0
    )
    store.record_intent("slack:#a", "k2", digest="d", story_ids=["s3"], kinds=["story"], now=T0)
    store.record_intent("slack:#b", "k1", digest="d", story_ids=["s9"], kinds=["story"], now=T0)
    [first, second] = store.open_intents("slack:#a")
    assert (first.key, first.story_ids, first.kinds, first.created_at) == (
        "k1",
        ("s1", "s2"),
        ("story", "update"),
        T0,
    )
    # A reopened database (the next run after a crash) still has them.
    store.close()
    store = Store.open(tmp_path)
    # Settling records each story with its own kind and clears the intent, together.
    assert store.settle_intent("slack:#a", "k1", ref="1.5", now=T0) == ["s1", "s2"]
    assert store.delivered_ids("slack:#a") == {"s1"}
    assert store.delivered_ids("slack:#a", "update") == {"s2"}
    assert [i.key for i in store.open_intents("slack:#a")] == ["k2"]
    assert store.settle_intent("slack:#a", "k1", ref="1.5", now=T0) == []  # already settled
    store.drop_intent("slack:#a", "k2")
    assert store.open_intents("slack:#a") == []
    assert not store.is_delivered("slack:#a", "s3")
    assert [i.story_ids for i in store.open_intents("slack:#b")] == [("s9",)]


def test_runs_and_periods():
    store = Store.memory()
    run = store.start_run("world", "2026-11-20T07:00:00+00:00", T0)
    assert store.last_run("world").outcome is None
    assert not store.period_done("world", "2026-11-20T07:00:00+00:00")
    store.finish_run(run, T0 + timedelta(minutes=2), "ok", None, 5)
    last = store.last_run("world")
    assert (last.outcome, last.stories) == ("ok", 5)
    assert store.period_done("world", "2026-11-20T07:00:00+00:00")
    failed = store.start_run("world", None, T0 + timedelta(days=1))
    store.finish_run(failed, T0 + timedelta(days=1), "failed", "boom")
    assert store.last_run("world").outcome == "failed"
    assert store.last_finished_run("world").id == run


def test_locks_exclude_others_until_expiry():
    store = Store.memory()
    assert store.acquire_lock("serve", "pid-1", 60, T0)
    assert not store.acquire_lock("serve", "pid-2", 60, T0 + timedelta(seconds=30))
    assert store.lock_owner("serve", T0) == "pid-1"
    assert store.acquire_lock("serve", "pid-1", 60, T0 + timedelta(seconds=30))  # refresh
    assert store.acquire_lock("serve", "pid-2", 60, T0 + timedelta(minutes=5))  # stale
    store.release_lock("serve", "pid-1")  # not the owner: no effect
    assert store.lock_owner("serve", T0 + timedelta(minutes=5)) == "pid-2"
    store.release_lock("serve", "pid-2")
    assert store.lock_owner("serve", T0 + timedelta(minutes=5)) is None


def test_summary_cache():
    store = Store.memory()
    assert store.cached_summary("k") is None
    store.cache_summary("k", "m", {"headline": "H", "bullets": []}, T0)
    assert store.cached_summary("k") == {"headline": "H", "bullets": []}
