"""The state API: one class with every typed method, the same over every backend.

`Store` is abstract: the SQL is shared (written once, in the dialect both databases accept),
and a backend (`sqlite.SqliteStore`; later Postgres) supplies the connection, the transaction
and its dialect words. Code outside this package holds a `Store` and calls its methods; it
never sees a connection or a row.
"""

from __future__ import annotations

import os
from abc import ABC

from .alerts import AlertQueue
from .archive import Archive
from .feeds import Feeds
from .index import Index
from .ledger import Ledger
from .migrations import Migrations
from .readers import Readers
from .runs import Runs
from .summaries import Summaries


class Store(Migrations, Feeds, Index, Summaries, Ledger, Runs, AlertQueue, Readers, Archive, ABC):
    """The project's state. Build it once (in `digest.app`) and pass it down."""

    @classmethod
    def open(cls, location: str | os.PathLike[str]) -> Store:
        """Open (creating if needed) the state at `location` and migrate it: a folder for the
        SQLite file."""
        # The backends import this module for the base class, so they are looked up here.
        from .sqlite import SqliteStore

        return SqliteStore.open(location)

    @classmethod
    def memory(cls) -> Store:
        """An in-memory store (the twin for tests and dry runs without state)."""
        from .sqlite import SqliteStore

        return SqliteStore.memory()
