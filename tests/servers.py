"""Real servers for tests: a throwaway PostgreSQL cluster and a Redis, both on loopback.

Each is started once per test session from Debian's packages (`postgresql`, `redis-server`;
`.ci/run` installs them) and stopped at the end. A test that needs one and cannot get it skips
with one line saying why. Nothing here is a stand-in: these are the real servers.

PostgreSQL's `initdb` refuses to run as root, so as root the cluster is made and run by the
`postgres` user in a directory of its own under /tmp. Set DIGEST_TEST_POSTGRES_URL to use a
server you already run instead (each test still gets a database of its own).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 30.0


class ServerUnavailable(Exception):
    """The server's binaries are missing or it would not start; the message says which."""


def unavailable(message: str) -> None:
    """Skip the test with one line, or fail it where the servers are required (`.ci/run`)."""
    if os.environ.get("DIGEST_REQUIRE_SERVERS"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerUnavailable(f"{what} exited with status {process.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerUnavailable(f"{what} took over {START_TIMEOUT_SECONDS:.0f}s to accept connections")


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


@dataclass
class Postgres:
    """One running cluster; `url` reaches its `postgres` database as the superuser."""

    host: str
    port: int
    user: str
    _names: Iterator[int]

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/postgres"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        name = f"digest_test_{os.getpid()}_{next(self._names)}"
        createdb = _postgres_bin("createdb")
        if createdb is None:
            raise ServerUnavailable("createdb not found (apt-get install postgresql)")
        subprocess.run(
            [createdb, "-h", self.host, "-p", str(self.port), "-U", self.user, name],
            check=True,
            capture_output=True,
        )
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"


def _as_postgres_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root and runuser is missing: cannot run initdb")
    return [runuser, "-u", "postgres", "--", *args]


def start_postgres(workdir: Path) -> tuple[Postgres, subprocess.Popen[bytes]]:
    initdb = _postgres_bin("initdb")
    postgres = _postgres_bin("postgres")
    if initdb is None or postgres is None:
        raise ServerUnavailable("initdb/postgres not found (apt-get install postgresql)")
    data = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    init = subprocess.run(
        _as_postgres_user(
            [initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]
        ),
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        last = (init.stderr.strip().splitlines() or ["no output"])[-1]
        raise ServerUnavailable(f"initdb failed: {last}")
    port = free_port()
    log = open(workdir / "postgres.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        _as_postgres_user(
            [
                postgres,
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={workdir}",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process, "postgres")
    except ServerUnavailable:
        process.kill()
        raise
    return Postgres("127.0.0.1", port, "postgres", itertools.count(1)), process


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A real PostgreSQL for the whole session, or a one-line skip."""
    given = os.environ.get("DIGEST_TEST_POSTGRES_URL")
    if given:
        from urllib.parse import urlsplit

        parts = urlsplit(given)
        yield Postgres(
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            parts.username or "postgres",
            itertools.count(1),
        )
        return
    workdir = Path(tempfile.mkdtemp(prefix="digest-pg-"))
    try:
        server, process = start_postgres(workdir)
    except ServerUnavailable as error:
        shutil.rmtree(workdir, ignore_errors=True)
        unavailable(f"postgres: {error}")
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL."""
    return postgres_server.create_database()


@dataclass
class Redis:
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """A real Redis for the whole session (no persistence), or a one-line skip."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis: redis-server not found (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server")
    except ServerUnavailable as error:
        process.kill()
        unavailable(f"redis: {error}")
    try:
        yield Redis(port)
    finally:
        process.terminate()
        process.wait(timeout=15)
