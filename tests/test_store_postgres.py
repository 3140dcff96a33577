"""What only the PostgreSQL backend has: its one-line diagnosis of a database it cannot use,
told at once, the password never shown. Against the real server tests/servers.py starts.

PostgreSQL-only on purpose: SQLite's own diagnosis (a damaged, read-only or full file) is in
tests/test_store_sqlite.py and tests/test_broken_state.py; the state API itself runs on both
backends in tests/test_store.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from servers import Postgres, free_port

from digest.errors import StateError
from digest.store import Store

psycopg = pytest.importorskip("psycopg")


def _refusal(url: str) -> StateError:
    with pytest.raises(StateError) as caught:
        Store.open(url)
    return caught.value


def test_a_missing_database_is_named_with_how_to_make_it(postgres_server: Postgres) -> None:
    url = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/no_such_db"
    error = _refusal(url)
    assert str(error).startswith(f"{url}: the state database does not exist")
    assert error.hint and "createdb" in error.hint


def test_an_unknown_user_is_refused_not_an_unreachable_server(postgres_server: Postgres) -> None:
    url = f"postgresql://nobody@127.0.0.1:{postgres_server.port}/postgres"
    error = _refusal(url)
    assert str(error).startswith(f"{url}: the state database refused this user")
    assert error.hint and "user and password" in error.hint


def test_a_user_without_grants_is_refused_in_one_line(postgres_url: str) -> None:
    """PostgreSQL 15 lets only the owner create in `public`: a user given no grants meets
    "permission denied" while migrating, which is the deployment's to fix, not a crash."""
    Store.open(postgres_url).close()  # migrated by its owner
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE digest_no_grants LOGIN")
    try:
        url = postgres_url.replace("//postgres@", "//digest_no_grants@")
        error = _refusal(url)
        assert str(error).startswith(f"{url}: the state database refused this user")
        assert "permission denied" in str(error) and "grants" in (error.hint or "")
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP ROLE digest_no_grants")


def test_a_user_with_read_write_grants_opens_a_migrated_state(postgres_url: str) -> None:
    """The least-privilege deployment: the owner runs `digest migrate`, replicas connect as a
    user who may read and write the tables but not create any. Opening must not try to."""
    Store.open(postgres_url).close()  # migrated by its owner
    grants = (
        "CREATE ROLE digest_rw LOGIN",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO digest_rw",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO digest_rw",
    )
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for grant in grants:
            admin.execute(grant)
    try:
        store = Store.open(postgres_url.replace("//postgres@", "//digest_rw@"))
        try:
            assert store.applied_migrations()[-1] == "m009_merge_order"
        finally:
            store.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP OWNED BY digest_rw")
            admin.execute("DROP ROLE digest_rw")


def test_no_server_is_one_line_without_the_password() -> None:
    url = f"postgresql://digest:s3cret-pw@127.0.0.1:{free_port()}/digest"
    error = _refusal(url)
    assert "s3cret-pw" not in str(error) and "s3cret-pw" not in (error.hint or "")
    assert str(error).startswith(f"postgresql://digest@127.0.0.1:{url.rsplit(':', 1)[1]}: ")
    assert "cannot connect to the state database" in str(error)
    assert error.hint and "server is running" in error.hint


def test_digest_run_on_a_missing_database_is_one_line(postgres_server: Postgres, tmp_path) -> None:
    url = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/gone"
    feed = f"http://127.0.0.1:{free_port()}/rss.xml"  # never reached: the state comes first
    cmd = [sys.executable, "-m", "digest", "run", "--state-dir", str(tmp_path / "state")]
    done = subprocess.run(
        [*cmd, "--feed", feed, "--summarizer", "extractive"],
        cwd=tmp_path,
        env={**os.environ, "DIGEST_DATABASE_URL": url, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith(f"error: {url}: the state database does not exist (")
    [hint] = [line for line in done.stderr.splitlines() if line.startswith("hint: ")]
    assert "createdb" in hint


def test_a_host_that_does_not_resolve_is_told_as_cannot_connect() -> None:
    """libpq's own words for a name that does not resolve (no lookup made here: loopback only)."""
    from digest.store.postgres import _state_error

    reason = "failed to resolve host 'db.example': [Errno -2] Name or service not known"
    error = _state_error("postgresql://d@db.example/x", psycopg.OperationalError(reason))
    assert str(error).startswith("postgresql://d@db.example/x: cannot connect to the state")
    assert error.hint and "server is running" in error.hint


def test_connections_the_server_dropped_are_replaced_unseen(postgres_url: str) -> None:
    """A server restart (or an idle-session timeout) ends the pool's connections: the next
    unit of work must get a live one, not fail on the dead one."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    store = Store.open(postgres_url)
    try:
        assert store.acquire_lock("serve", "host-a:1:1", 60, now)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            [ended] = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended >= 1  # the pool's connection was there and is gone
        assert store.lock_owner("serve", now) == "host-a:1:1"
        assert store.acquire_lock("serve", "host-a:1:1", 60, now)
    finally:
        store.close()
