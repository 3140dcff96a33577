"""What only the SQLite backend has: the file, WAL, its one-line diagnosis, the upgrade of
a state written before the merge order was a column.

SQLite-only on purpose: PostgreSQL has no state file, journal mode or rowid, and its states
never predate the merge-order column. Everything else about the state API runs on both
backends (tests/test_store.py); a full disk, a read-only or damaged file and the delivery
journal beside the database, also SQLite's alone, are in tests/test_broken_state.py."""

import sqlite3
from datetime import UTC, datetime

import pytest

from digest.errors import StateError
from digest.store import MIGRATIONS, SqliteStore, Store

_T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def test_open_creates_wal_db_and_records_migrations(tmp_path):
    store = Store.open(tmp_path / "s")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "s" / "state.sqlite3").exists()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.applied_migrations() == [m.__name__ for m in MIGRATIONS]
    store.close()


def test_not_a_database_is_a_state_error(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="damaged"):
        Store.open(tmp_path)


def test_merge_reasons_written_before_the_order_column_keep_their_order(tmp_path):
    # A state at m008: story_merges had no seq, its order was the rowid.
    old = SqliteStore.connect(tmp_path / "state.sqlite3")
    old.migrate(until="m009_merge_order")
    rows = [("s1", "c", "same_event"), ("s1", "a", "identical"), ("s1", "b", "near_duplicate")]
    for sid, key, level in rows:
        old.conn.execute(
            "INSERT INTO story_merges (story_id, article_key, level, score, evidence) "
            "VALUES (?, ?, ?, 1.0, 'e')",
            (sid, key, level),
        )
    old.close()
    store = Store.open(tmp_path)
    try:
        assert [m.article_key for m in store.merge_reasons("s1")] == ["c", "a", "b"]
    finally:
        store.close()


def test_a_committed_delivery_is_in_the_file_for_any_sqlite_client(tmp_path):
    """Committed means in the file: a plain sqlite3 connection (not the state API) reads it."""
    store = Store.open(tmp_path)
    store.record_delivery("k", ["s2"], kind="story", digest="d", ref="r", now=_T0)
    other = sqlite3.connect(tmp_path / "state.sqlite3")
    try:
        assert other.execute("SELECT story_id FROM deliveries").fetchall() == [("s2",)]
    finally:
        other.close()
        store.close()
