"""The state API's backends, as fixtures: every test that takes `state` (or `state_backend`)
runs once per backend in BACKENDS.

`state_backend.open()` opens the backend's database again, as another process would; `state`
is one such store, closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from digest.store import SqliteStore, Store

# Adding a backend here runs the whole state suite on it too.
BACKENDS = ["sqlite"]


@dataclass
class StateBackend:
    """One database of one backend, opened as often as a test likes."""

    name: str
    opener: Callable[[], Store]
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        """A new store on the same database (a second connection, as another process)."""
        store = self.opener()
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            try:
                store.close()
            except Exception:  # already closed by the test
                pass


def _sqlite(tmp_path: Path) -> Callable[[], Store]:
    return lambda: SqliteStore.open(tmp_path / "state")


@pytest.fixture(params=BACKENDS)
def state_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateBackend]:
    """A fresh database of each backend."""
    if request.param == "sqlite":
        backend = StateBackend("sqlite", _sqlite(tmp_path))
    else:  # pragma: no cover - a backend listed without a way to open it
        raise AssertionError(f"unknown state backend {request.param}")
    yield backend
    backend.close_all()


@pytest.fixture
def state(state_backend: StateBackend) -> Store:
    """A migrated, empty store of each backend."""
    return state_backend.open()
