"""The real servers other tests stand on start, answer, and give each test its own database."""

import shutil
import subprocess

import pytest
from servers import Postgres, _postgres_bin


def _psql(server: Postgres, url: str, sql: str) -> str:
    psql = _postgres_bin("psql")
    if psql is None:
        pytest.skip("postgres: psql not found (apt-get install postgresql-client)")
    done = subprocess.run(
        [psql, url, "-At", "-c", sql], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def test_each_test_gets_an_empty_database_of_its_own(postgres_server: Postgres) -> None:
    first = postgres_server.create_database()
    second = postgres_server.create_database()
    assert first != second
    _psql(postgres_server, first, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
    assert _psql(postgres_server, first, "SELECT count(*) FROM t") == "1"
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    assert _psql(postgres_server, second, tables) == "0"
    assert _psql(postgres_server, first, "SHOW server_version").split(".")[0] >= "15"


def test_redis_answers_ping(redis_server) -> None:
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis: redis-cli not found (apt-get install redis-tools)")
    done = subprocess.run(
        [cli, "-p", str(redis_server.port), "PING"], capture_output=True, text=True, timeout=10
    )
    assert done.stdout.strip() == "PONG"
