"""The state API: one class with every typed method, the same over every backend.

`Store` is abstract: the SQL is shared (written once, in the dialect both databases accept),
and a backend (`sqlite.SqliteStore`, `postgres.PostgresStore`) supplies the connection, the
transaction and its dialect words. Code outside this package holds a `Store` and calls its
methods; it never sees a connection or a row.
"""

from __future__ import annotations

import os
from abc import ABC
from collections.abc import Callable
from typing import ClassVar, TypeVar

from ..errors import StateError
from .alerts import AlertQueue
from .archive import Archive
from .feeds import Feeds
from .index import Index
from .ledger import Ledger
from .migrations import Migrations
from .readers import Readers
from .runs import Runs
from .summaries import Summaries
from .transfer import Transfer

S = TypeVar("S", bound="Store")


class Store(
    Migrations,
    Feeds,
    Index,
    Summaries,
    Ledger,
    Runs,
    AlertQueue,
    Readers,
    Archive,
    Transfer,
    ABC,
):
    """The project's state. Build it once (in `digest.app`) and pass it down."""

    # The backends, by name, each registered by its own module (imported by the package).
    backends: ClassVar[dict[str, type[Store]]] = {}

    @classmethod
    def register(cls, name: str) -> Callable[[type[S]], type[S]]:
        """Class decorator: make a backend available to `Store.open`."""

        def add(backend: type[S]) -> type[S]:
            Store.backends[name] = backend
            return backend

        return add

    @classmethod
    def handles(cls, location: str | os.PathLike[str]) -> bool:
        """Whether this backend opens that location."""
        return False

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, migrate: bool = True) -> Store:
        """Open (creating if needed) the state at `location` and migrate it (unless told not
        to): a `postgresql://` URL, else a folder for the SQLite file."""
        for backend in Store.backends.values():
            if backend.handles(location):
                return backend.open(location, migrate=migrate)
        raise StateError(f"{location}: no state backend opens this", hint="check state_url")

    @classmethod
    def memory(cls) -> Store:
        """An in-memory store (the twin for tests and dry runs without state): SQLite's."""
        return Store.backends["sqlite"].memory()
