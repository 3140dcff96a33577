"""The state API's backends, as fixtures: every test that takes `state` (or `state_backend`)
runs once per backend in BACKENDS.

`state_backend.open()` opens the backend's database again, as another process would; `state`
is one such store, closed after the test. The Postgres one is a fresh database on the real
server tests/servers.py starts (skipped with one line when none can be started).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from digest.store import SqliteStore, Store

# Adding a backend here runs the whole state suite on it too.
BACKENDS = ["sqlite", "postgres"]


@dataclass
class StateBackend:
    """One database of one backend, opened as often as a test likes."""

    name: str
    opener: Callable[[], Store]
    folder: Path  # the state folder: a SQLite one's database, a Postgres one's files only
    url: str | None = None  # a Postgres one's database
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        """A new store on the same database (a second connection, as another process)."""
        store = self.opener()
        self.opened.append(store)
        return store

    def cli_args(self) -> tuple[list[str], dict[str, str]]:
        """The `digest` options and environment that point a command at this database.

        The state folder is given on both backends, so that nothing a command keeps in files
        lands outside the test's folder; on Postgres DIGEST_DATABASE_URL wins for the state.
        """
        return ["--state-dir", str(self.folder)], {"DIGEST_DATABASE_URL": self.url or ""}

    def close_all(self) -> None:
        for store in self.opened:
            try:
                store.close()
            except Exception:  # already closed by the test
                pass


def make_backend(name: str, request: pytest.FixtureRequest, folder: Path) -> StateBackend:
    """A fresh database of the backend `name` (a Postgres one skips when none can start)."""
    if name == "sqlite":
        return StateBackend("sqlite", lambda: SqliteStore.open(folder), folder)
    if name == "postgres":
        url = request.getfixturevalue("postgres_url")  # skips with one line when none starts
        return StateBackend("postgres", lambda: Store.open(url), folder, url=url)
    raise AssertionError(f"unknown state backend {name}")


@pytest.fixture(params=BACKENDS)
def state_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateBackend]:
    """A fresh database of each backend."""
    backend = make_backend(request.param, request, tmp_path / "state")
    yield backend
    backend.close_all()


@pytest.fixture
def state(state_backend: StateBackend) -> Store:
    """A migrated, empty store of each backend."""
    return state_backend.open()
