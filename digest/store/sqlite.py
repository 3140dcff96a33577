"""The SQLite backend: one file in the state folder, the embedded default.

WAL mode, `BEGIN IMMEDIATE` per unit of work (so a crash at any line leaves state the next run
can resume from), failures told as one line naming the file (a full disk, a read-only or
damaged file, a lock held too long), a lock met while opening a fresh state waited out, and
the delivery journal beside the database for deliveries a full disk kept out of the ledger.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

from ..errors import StateError
from .api import Store
from .db import Params, Row, dt_req
from .records import LedgerEntry

DB_NAME = "state.sqlite3"
# Beside the database: deliveries a destination accepted while the database could not record them
# (a full disk). Allocated in full when the state opens, so writing it needs no new disk space.
JOURNAL_NAME = "deliveries.journal"
JOURNAL_BYTES = 256 * 1024

log = logging.getLogger("digest.store")


# --- state failures as one line ---------------------------------------------------------------


OPEN_LOCK_WAIT_SECONDS = 30  # as long as a statement waits for a lock (the connect timeout)


def _is_lock_error(error: StateError) -> bool:
    """Whether a StateError came from SQLite's "database is locked" / "busy"."""
    cause = error.__cause__
    text = str(cause).lower() if isinstance(cause, sqlite3.OperationalError) else ""
    return "locked" in text or "busy" in text


def state_error(path: Path | str | None, error: sqlite3.Error) -> StateError:
    """A StateError naming the database file, what went wrong and what to do about it."""
    where = str(path) if path else "the state database"
    text = str(error)
    low = text.lower()
    if "full" in low or ("i/o" in low and _disk_full(path)):
        folder = Path(where).parent if path else "the state folder"
        return StateError(
            f"{where}: the disk is full ({text})",
            hint=f"free space on the disk that holds {folder}, then run again",
        )
    if "readonly" in low or "read-only" in low or ("unable to open" in low and _read_only(path)):
        return StateError(
            f"{where}: the state database is read-only ({text})",
            hint="make the file and its folder writable by this user, or point --state-dir "
            "(DIGEST_STATE_DIR) at a writable folder",
        )
    if "malformed" in low or "not a database" in low or "encrypted" in low or "corrupt" in low:
        return StateError(
            f"{where}: the state database is damaged ({text})",
            hint="move the file aside to start with a fresh state (delivered stories may then "
            "be sent again) or restore a backup; `sqlite3 FILE .recover` often saves the rest",
        )
    if "locked" in low or "busy" in low:
        return StateError(
            f"{where}: the state database is locked by another process ({text})",
            hint="wait for the other digest process to finish, then run again",
        )
    if "unable to open" in low or "disk i/o" in low:
        return StateError(
            f"{where}: cannot read or write the state database ({text})",
            hint="check the disk and the permissions of the file and its folder",
        )
    return StateError(f"{where}: state database error: {text}")


def _disk_full(path: Path | str | None) -> bool:
    """Whether the disk holding the state has (next to) no space left: SQLite reports a full
    disk as a plain I/O error when the WAL or its index cannot grow."""
    if not path:
        return False
    try:
        stats = os.statvfs(Path(path).parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def _read_only(path: Path | str | None) -> bool:
    """Whether the state file or its folder cannot be written (a read-only mount or mode): SQLite
    then often says only that it is "unable to open database file" (its -wal/-shm files)."""
    if not path:
        return False
    file, folder = Path(path), Path(path).parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not os.access(folder, os.W_OK) or (file.exists() and not os.access(file, os.W_OK))


_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


class _StateCursor(sqlite3.Cursor):
    """A cursor whose database failures (also while stepping through rows) are StateErrors."""

    path: Path | None = None

    def _wrap(self, call: Callable[[], object]) -> object:
        try:
            return call()
        except _BUGS:
            raise
        except sqlite3.DatabaseError as e:
            raise state_error(self.path, e) from e

    def execute(self, sql: str, parameters: object = (), /) -> _StateCursor:
        self._wrap(lambda: super(_StateCursor, self).execute(sql, parameters))  # type: ignore[arg-type]
        return self

    def executemany(self, sql: str, seq: object, /) -> _StateCursor:
        self._wrap(lambda: super(_StateCursor, self).executemany(sql, seq))  # type: ignore[arg-type]
        return self

    def fetchone(self) -> object:
        return self._wrap(super().fetchone)

    def fetchall(self) -> list[object]:
        return self._wrap(super().fetchall)  # type: ignore[return-value]

    def fetchmany(self, size: int | None = 1) -> list[object]:
        return self._wrap(lambda: super(_StateCursor, self).fetchmany(size))  # type: ignore[return-value]

    def __next__(self) -> object:
        return self._wrap(super().__next__)


class StateConnection(sqlite3.Connection):
    """sqlite3.Connection whose failures name the file and say what to do (a StateError):
    a full disk, a read-only or damaged file, a lock held too long."""

    path: Path | None = None

    def execute(self, sql: str, parameters: object = (), /) -> _StateCursor:
        cursor = self.cursor(_StateCursor)
        cursor.path = self.path
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, seq: object, /) -> _StateCursor:
        cursor = self.cursor(_StateCursor)
        cursor.path = self.path
        return cursor.executemany(sql, seq)


def _connect(target: str | Path, path: Path | None, **kwargs: object) -> StateConnection:
    conn = sqlite3.connect(target, factory=StateConnection, **kwargs)  # type: ignore[call-overload]
    assert isinstance(conn, StateConnection)
    conn.path = path
    conn.row_factory = sqlite3.Row
    return conn


# --- migrations -------------------------------------------------------------------------------

# --- the store --------------------------------------------------------------------------------


@Store.register("sqlite")
class SqliteStore(Store):
    """The state in one SQLite file (or in memory, the twin for tests and dry runs)."""

    DDL_WORDS: ClassVar[Mapping[str, str]] = {
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "blob": "BLOB",
        "real": "REAL",
    }

    def __init__(self, conn: StateConnection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def handles(cls, location: str | os.PathLike[str]) -> bool:
        """A folder (anything that is not a URL)."""
        return "://" not in str(location)

    @property
    def location(self) -> str:
        """The database file (or `:memory:`)."""
        return str(self.path) if self.path is not None else ":memory:"

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, migrate: bool = True) -> SqliteStore:
        """Open (creating if needed) the state database under the folder `location` and
        migrate it (unless told not to)."""
        directory = Path(location)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(
                f"{directory}: cannot create the state directory: {e.strerror}",
                hint="set state_dir in the config, --state-dir or DIGEST_STATE_DIR",
            ) from None
        path = directory / DB_NAME
        if not migrate:
            return cls.connect(path)
        # SQLite does not call its busy handler for some lock waits on a fresh file (switching
        # it to WAL, a lock upgrade it refuses to avoid deadlock), so processes opening a new
        # state at once could fail with "database is locked" (1 run in 6 of
        # test_processes_opening_a_fresh_state_at_once_migrate_it_once). The set-up is safe
        # to repeat (migrations run in one transaction), so a lock is waited out here.
        deadline = cls.clock() + timedelta(seconds=OPEN_LOCK_WAIT_SECONDS)
        pause = 0.02
        while True:
            try:
                return cls._open_once(path)
            except StateError as e:
                if not _is_lock_error(e) or cls.clock() + timedelta(seconds=pause) > deadline:
                    raise
            cls.clock.sleep(pause)
            pause = min(pause * 2, 0.5)

    @classmethod
    def connect(cls, path: Path) -> SqliteStore:
        """The database file as it is: no migration, no journal replay (for tests of upgrades)."""
        try:
            conn = _connect(path, path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.DatabaseError as e:
            raise state_error(path, e) from e
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @classmethod
    def _open_once(cls, path: Path) -> SqliteStore:
        store = cls.connect(path)
        try:
            store.migrate()
            store.replay_journal()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def memory(cls) -> SqliteStore:
        """An in-memory store (the twin for tests and dry runs without state)."""
        conn = _connect(":memory:", None, isolation_level=None, check_same_thread=False)
        store = cls(conn)
        store.migrate()
        return store

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One unit of work: committed whole or not at all. Nested calls join the outer one."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            # SQLite rolls back by itself after some failures (a full disk): then there is
            # nothing left to roll back, and trying would hide the real error.
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except StateError:
                    pass
            raise
        self.conn.execute("COMMIT")

    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        return cast(list[Row], self.conn.execute(sql, params).fetchall())

    def _run(self, sql: str, params: Params = ()) -> int:
        return int(self.conn.execute(sql, params).rowcount)

    def _run_many(self, sql: str, rows: Iterable[Params]) -> None:
        self.conn.executemany(sql, rows)

    def _has_table(self, name: str) -> bool:
        return (
            self._one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
            is not None
        )

    def _number_legacy_merges(self) -> None:
        # Reasons were listed in rowid order, which is the order they were written.
        self._run("UPDATE story_merges SET seq = rowid")

    # --- the delivery journal (a full disk after a destination accepted a message) -------------

    @property
    def journal_path(self) -> Path | None:
        """The journal file beside the database (None for an in-memory store)."""
        return self.path.with_name(JOURNAL_NAME) if self.path is not None else None

    @property
    def journal_location(self) -> str | None:
        """The journal file, for messages."""
        return str(self.journal_path) if self.journal_path is not None else None

    def _journal_read(self) -> tuple[bytes, list[dict[str, Any]]]:
        path = self.journal_path
        if path is None or not path.exists():
            return b"", []
        used = path.read_bytes().split(b"\0", 1)[0]
        records = []
        for line in used.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a record cut short by a crash while writing it
        return used, records

    def replay_journal(self) -> int:
        """Record in the ledger the deliveries an earlier run could only journal; then make
        sure the journal is allocated in full for the next time. Returns how many rows."""
        path = self.journal_path
        if path is None:
            return 0
        _, records = self._journal_read()
        rows = [
            LedgerEntry(r["destination"], sid, r["kind"], r["digest"], r["ref"], dt_req(r["at"]))
            for r in records
            for sid in r["story_ids"]
        ]
        if rows:
            self.import_ledger(rows)
            log.warning(
                "state: recorded %d deliveries that an earlier run could not write to the "
                "database (from %s); they are not sent again",
                len(rows),
                path,
            )
        try:
            if rows or not path.exists() or path.stat().st_size < JOURNAL_BYTES:
                with open(path, "wb") as f:
                    f.write(b"\0" * JOURNAL_BYTES)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as e:  # a read-only or full disk: the ledger itself will say so
            log.debug("state: cannot prepare %s: %s", path, e)
        return len(rows)

    def _journal_write(self, record: dict[str, Any]) -> bool:
        """Add one record to the pre-allocated journal, in place; False when it cannot."""
        path = self.journal_path
        if path is None:
            return False
        try:
            used, _ = self._journal_read()
            line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
            if len(used) + len(line) >= JOURNAL_BYTES:
                return False
            fd = os.open(path, os.O_WRONLY)
            try:
                os.pwrite(fd, line, len(used))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            log.debug("state: cannot write %s: %s", path, e)
            return False
        return True
