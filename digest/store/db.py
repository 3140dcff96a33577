"""What every backend gives the shared SQL: run a statement, read rows, one unit of work.

The shared SQL (the other modules of this package) is written in the subset SQLite 3.40 and
PostgreSQL 15 both accept: `INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE`, `RETURNING`
instead of `lastrowid`, `?` placeholders, no date functions (timestamps are ISO 8601 UTC text,
which sorts as time), no `rowid`, booleans as 0/1. A backend implements the few abstract
methods of `Database`; what only one database has (PRAGMA, `BEGIN IMMEDIATE`, a journal
file beside it, pools, advisory locks) stays in that backend's module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..clock import SYSTEM_CLOCK, Clock, iso_seconds, parse_iso

Params = Sequence[object]


class Row(Protocol):
    """A result row, read by column name (sqlite3.Row, a psycopg dict row)."""

    def __getitem__(self, key: str, /) -> Any: ...


# Times are stored in digest.clock's one form (ISO 8601 UTC to the second, which sorts as
# text) and read back aware; these are the names the shared SQL uses for it.
ts = ts_or_none = iso_seconds
dt = dt_req = parse_iso


class Database(ABC):
    """The primitives a backend provides; the state API is built on nothing else."""

    # DDL words that differ by dialect, substituted into `{name}` in migrations' DDL.
    DDL_WORDS: ClassVar[Mapping[str, str]] = {}

    path: Path | None = None  # the database file, for a backend that has one
    # What the state waits on (a lock at open, a ledger write retried) and stamps its own
    # bookkeeping with; a test may set a ManualClock on the class or the instance.
    clock: Clock = SYSTEM_CLOCK

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the state lives, for messages (a file, or a URL without its password)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One unit of work: committed whole or not at all. Nested calls join the outer one."""

    @abstractmethod
    def close(self) -> None:
        """Let go of the connection(s)."""

    @abstractmethod
    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement (a query, or a write with RETURNING) and return its rows."""

    @abstractmethod
    def _run(self, sql: str, params: Params = ()) -> int:
        """Run one statement that returns no rows; how many rows it changed."""

    @abstractmethod
    def _run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row."""

    def _one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _script(self, ddl: str) -> None:
        """Run `;`-separated DDL inside the current transaction, dialect words substituted."""
        for statement in ddl.format_map(self.DDL_WORDS).split(";"):
            if statement.strip():
                self._run(statement)

    def _lock_for_migrations(self) -> None:
        """Inside the migration transaction: keep other processes from migrating at once."""
        return None  # one writer at a time already (SQLite's BEGIN IMMEDIATE)

    def _has_table(self, name: str) -> bool:
        """Whether the table exists (asked before any CREATE, which needs more rights)."""
        raise NotImplementedError

    def _number_legacy_merges(self) -> None:
        """m009: number the story_merges rows written before `seq` existed, in write order
        (a database that never had them has nothing to do)."""
        return None

    def _snapshot(self) -> None:
        """First in a read transaction that must see one moment (an export)."""
        return None  # SQLite's transaction already does

    def _after_import(self, numbered: Sequence[str]) -> None:
        """After rows were imported with their ids: numbering of these tables goes on after them."""
        return None  # SQLite's AUTOINCREMENT already follows the largest id

    def _journal_write(self, record: dict[str, Any]) -> bool:
        """Keep a delivery the database could not record somewhere else (False: nowhere)."""
        return False

    @property
    def journal_location(self) -> str | None:
        """Where `_journal_write` keeps deliveries, if anywhere."""
        return None


def marks(n: int) -> str:
    """`?, ?, ?` for an IN list of n values (`NULL` for none, which matches nothing)."""
    return ",".join("?" * n) or "NULL"


def like_literal(text: str) -> str:
    """Text matched as itself in a LIKE pattern with ESCAPE '!'."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
