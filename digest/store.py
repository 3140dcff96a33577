"""SQLite state: feeds and their health, articles, stories, the summary cache, the delivery ledger,
runs and locks.

WAL mode; one transaction per unit of work, so a crash at any line leaves state the next run
can resume from. Schema changes are ordered functions in MIGRATIONS, each recorded in
`_migrations` once applied (the sqlite-utils / llm pattern). Append new migrations at the
end; never edit an applied one.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .errors import StateError
from .models import Article, DeliveryIntent, MergeReason, Story

DB_NAME = "state.sqlite3"
# Beside the database: deliveries a destination accepted while the database could not record them
# (a full disk). Allocated in full when the state opens, so writing it needs no new disk space.
JOURNAL_NAME = "deliveries.journal"
JOURNAL_BYTES = 256 * 1024
LEDGER_WRITE_ATTEMPTS = 3

log = logging.getLogger(__name__)


def _ts(value: datetime | None) -> str | None:
    """Store datetimes as ISO 8601 UTC strings, which sort as text."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run `;`-separated DDL inside the current transaction (executescript would commit it)."""
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


def m001_initial(conn: sqlite3.Connection) -> None:
    """Feeds, articles, stories, summaries, the delivery ledger, runs and locks."""
    run_script(
        conn,
        """
        CREATE TABLE feeds (
            url TEXT PRIMARY KEY,
            title TEXT,
            etag TEXT,
            last_modified TEXT,
            last_attempt TEXT,
            last_success TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE TABLE articles (
            key TEXT PRIMARY KEY,
            feed_url TEXT NOT NULL,
            url TEXT,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            outlet TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            author TEXT,
            published TEXT,
            priority INTEGER NOT NULL DEFAULT 0,
            from_feed_only INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL,
            story_id TEXT
        );
        CREATE INDEX articles_story ON articles(story_id);
        CREATE INDEX articles_first_seen ON articles(first_seen);
        CREATE INDEX articles_hash ON articles(content_hash);
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            headline TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_updated TEXT NOT NULL
        );
        CREATE INDEX stories_updated ON stories(last_updated);
        CREATE TABLE story_merges (
            story_id TEXT NOT NULL,
            article_key TEXT NOT NULL,
            level TEXT NOT NULL,
            score REAL NOT NULL,
            evidence TEXT NOT NULL,
            PRIMARY KEY (story_id, article_key)
        );
        CREATE TABLE summaries (
            cache_key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            destination TEXT NOT NULL,
            story_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            digest TEXT NOT NULL,
            ref TEXT,
            delivered_at TEXT NOT NULL,
            PRIMARY KEY (destination, story_id, kind)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL,
            period TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            error TEXT,
            stories INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_digest ON runs(digest, started_at);
        CREATE TABLE locks (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        """,
    )


def m002_alerts_and_serve(conn: sqlite3.Connection) -> None:
    """Alerts held by quiet hours or a rate limit, and `digest serve` starts (for health)."""
    run_script(
        conn,
        """
        CREATE TABLE alert_queue (
            rule TEXT NOT NULL,
            story_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            PRIMARY KEY (rule, story_id)
        );
        CREATE TABLE serve_sessions (
            owner TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            stopped_at TEXT
        );
        CREATE INDEX deliveries_kind_time ON deliveries(kind, delivered_at);
        """,
    )


def m003_cluster_features(conn: sqlite3.Connection) -> None:
    """What the clusterer compares, kept per article so a restart never re-embeds history."""
    run_script(
        conn,
        """
        CREATE TABLE cluster_features (
            key TEXT PRIMARY KEY,
            story_id TEXT NOT NULL,
            at TEXT NOT NULL,
            clustered_at TEXT NOT NULL,
            ident_url TEXT,
            content_hash TEXT,
            thin TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            minhash BLOB,
            terms TEXT NOT NULL
        );
        CREATE INDEX cluster_features_at ON cluster_features(at);
        CREATE INDEX cluster_features_url ON cluster_features(ident_url);
        CREATE INDEX cluster_features_hash ON cluster_features(content_hash);
        CREATE INDEX cluster_features_story ON cluster_features(story_id, clustered_at);
        """,
    )


def m004_delivery_intents(conn: sqlite3.Connection) -> None:
    """Messages about to be posted, so a post that landed just before a crash can be found in the
    destination and recorded instead of posted twice (the in-doubt window)."""
    run_script(
        conn,
        """
        CREATE TABLE delivery_intents (
            destination TEXT NOT NULL,
            key TEXT NOT NULL,
            digest TEXT NOT NULL,
            story_ids TEXT NOT NULL,
            kinds TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (destination, key)
        );
        """,
    )


def m005_readers(conn: sqlite3.Connection) -> None:
    """What readers change themselves: email subscriptions (and unsubscriptions, which also hold
    for addresses of the config's `to`), the digests as sent (the web archive), and the Slack
    app's followed topics, mutes and reactions, per channel."""
    run_script(
        conn,
        """
        CREATE TABLE subscribers (
            digest TEXT NOT NULL,
            address TEXT NOT NULL,
            status TEXT NOT NULL,
            source TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            PRIMARY KEY (digest, address)
        );
        CREATE TABLE archive (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            generated_at TEXT NOT NULL,
            day TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX archive_digest_day ON archive(digest, day);
        CREATE TABLE slack_follows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel_id TEXT NOT NULL,
            channel_name TEXT NOT NULL,
            text TEXT NOT NULL,
            rule TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE slack_mutes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel_id TEXT NOT NULL,
            channel_name TEXT NOT NULL,
            text TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE slack_reactions (
            channel_id TEXT NOT NULL,
            ts TEXT NOT NULL,
            user TEXT NOT NULL,
            reaction TEXT NOT NULL,
            vote INTEGER NOT NULL,
            story_ids TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, ts, user, reaction)
        );
        """,
    )


def m006_passed_over(conn: sqlite3.Connection) -> None:
    """Stories a digest ranked below its cut, and at how many articles: they are not new at the
    next run unless they grow, so unchanged feeds never send a digest of leftovers."""
    run_script(
        conn,
        """
        CREATE TABLE passed_over (
            digest TEXT NOT NULL,
            story_id TEXT NOT NULL,
            articles INTEGER NOT NULL,
            passed_at TEXT NOT NULL,
            PRIMARY KEY (digest, story_id)
        );
        """,
    )


def m007_slack_destinations(conn: sqlite3.Connection) -> None:
    """The ledger destination (`slack:<channel as configured>`) of each follow, mute and
    reaction, so a channel named `#news` in the config and `C0123` in Slack's events is one."""
    run_script(
        conn,
        """
        ALTER TABLE slack_follows ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        ALTER TABLE slack_mutes ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        ALTER TABLE slack_reactions ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        CREATE INDEX deliveries_ref ON deliveries(ref)
        """,
    )


def m008_email_ledger_per_recipient(conn: sqlite3.Connection) -> None:
    """Email destinations became one per recipient (`email:a@x` instead of `email:a@x,b@y`):
    copy what the ledger holds for a group to each of its addresses, so an upgrade never sends
    anyone a story they already received. Display names with commas cannot be split back and
    are left alone (those stories go out once more)."""
    rows = conn.execute(
        "SELECT destination, story_id, kind, digest, ref, delivered_at FROM deliveries "
        "WHERE destination LIKE 'email:%,%'"
    ).fetchall()
    for destination, story_id, kind, digest, ref, delivered_at in rows:
        parts = destination.removeprefix("email:").split(",")
        if not all("@" in p for p in parts):
            continue  # a display name with a comma in it
        conn.executemany(
            "INSERT OR IGNORE INTO deliveries (destination, story_id, kind, digest, ref, "
            "delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(f"email:{p}", story_id, kind, digest, ref, delivered_at) for p in parts if p],
        )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_initial,
    m002_alerts_and_serve,
    m003_cluster_features,
    m004_delivery_intents,
    m005_readers,
    m006_passed_over,
    m007_slack_destinations,
    m008_email_ledger_per_recipient,
]


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedState:
    """What the store knows about one feed: validators for conditional GET and its health."""

    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run of one digest."""

    id: int
    digest: str
    period: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None  # "ok" | "empty" | "failed" | None while running (or crashed)
    error: str | None
    stories: int


class Store:
    """The project's SQLite state. Build it once (in `digest.app`) and pass it down."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, state_dir: str | os.PathLike[str]) -> Store:
        """Open (creating if needed) the state database under `state_dir` and migrate it."""
        directory = Path(state_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(
                f"{directory}: cannot create the state directory: {e.strerror}",
                hint="set state_dir in the config, --state-dir or DIGEST_STATE_DIR",
            ) from None
        path = directory / DB_NAME
        # SQLite does not call its busy handler for some lock waits on a fresh file (switching
        # it to WAL, a lock upgrade it refuses to avoid deadlock), so processes opening a new
        # state at once could fail with "database is locked" (1 run in 6 of
        # test_processes_opening_a_fresh_state_at_once_migrate_it_once). The set-up is safe
        # to repeat (migrations run in one transaction), so a lock is waited out here.
        deadline = time.monotonic() + OPEN_LOCK_WAIT_SECONDS
        pause = 0.02
        while True:
            try:
                return cls._open_once(path)
            except StateError as e:
                if not _is_lock_error(e) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    @classmethod
    def _open_once(cls, path: Path) -> Store:
        try:
            conn = _connect(path, path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.DatabaseError as e:
            raise state_error(path, e) from e
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn, path)
            store.migrate()
            store.replay_journal()
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def memory(cls) -> Store:
        """An in-memory store (the twin for tests and dry runs without state)."""
        conn = _connect(":memory:", None, isolation_level=None, check_same_thread=False)
        store = cls(conn)
        store.migrate()
        return store

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One unit of work: committed whole or not at all. Nested calls join the outer one."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
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

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; return their names.

        All of it runs in one write transaction, the list of applied migrations read inside
        it: two processes opening a fresh state at once apply each migration once (the second
        waits for the first, then finds nothing left to do).
        """
        applied = []
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations "
                "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT id FROM _migrations")}
            if done and max(done) > len(MIGRATIONS):
                raise StateError(
                    f"{self.path}: state was written by a newer version of digest "
                    f"(migration {max(done)} > {len(MIGRATIONS)})",
                    hint="upgrade digest, or point --state-dir at a fresh folder",
                )
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number in done:
                    continue
                migration(conn)
                conn.execute(
                    "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
                    (number, migration.__name__, _ts(datetime.now(UTC))),
                )
                applied.append(migration.__name__)
        return applied

    # --- the delivery journal (a full disk after a destination accepted a message) -------------

    @property
    def journal_path(self) -> Path | None:
        """The journal file beside the database (None for an in-memory store)."""
        return self.path.with_name(JOURNAL_NAME) if self.path is not None else None

    def _journal_read(self) -> tuple[bytes, list[dict]]:
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
            (r["destination"], sid, r["kind"], r["digest"], r["ref"], r["at"])
            for r in records
            for sid in r["story_ids"]
        ]
        if rows:
            with self.transaction() as conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO deliveries (destination, story_id, kind, digest, ref, "
                    "delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
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

    def _journal_write(self, record: dict) -> bool:
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

    # --- feeds --------------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        """Validators and health of one feed (empty state for a feed never seen)."""
        row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        if row is None:
            return FeedState()
        return FeedState(
            etag=row["etag"],
            last_modified=row["last_modified"],
            title=row["title"],
            last_attempt=_dt(row["last_attempt"]),
            last_success=_dt(row["last_success"]),
            consecutive_failures=row["consecutive_failures"],
            last_error=row["last_error"],
        )

    def all_feed_states(self) -> list[tuple[str, FeedState]]:
        """Every feed the store has seen, by URL."""
        urls = [r[0] for r in self.conn.execute("SELECT url FROM feeds ORDER BY url")]
        return [(u, self.feed_state(u)) for u in urls]

    def record_feed_success(
        self,
        url: str,
        now: datetime,
        *,
        etag: str | None,
        last_modified: str | None,
        title: str | None = None,
    ) -> None:
        """A fetch that returned a feed (or a 304): keep its validators, reset the failure count."""
        with self.transaction() as conn:
            conn.execute(
                """
                INSERT INTO feeds (url, title, etag, last_modified, last_attempt, last_success,
                                   consecutive_failures, last_error)
                VALUES (?, ?, ?, ?, ?, ?, 0, NULL)
                ON CONFLICT(url) DO UPDATE SET
                    title = COALESCE(excluded.title, feeds.title),
                    etag = excluded.etag, last_modified = excluded.last_modified,
                    last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                    consecutive_failures = 0, last_error = NULL
                """,
                (url, title, etag, last_modified, _ts(now), _ts(now)),
            )

    def record_feed_failure(self, url: str, now: datetime, error: str) -> None:
        """A failed fetch or parse: count it and keep the one-line reason."""
        with self.transaction() as conn:
            conn.execute(
                """
                INSERT INTO feeds (url, last_attempt, consecutive_failures, last_error)
                VALUES (?, ?, 1, ?)
                ON CONFLICT(url) DO UPDATE SET
                    last_attempt = excluded.last_attempt,
                    consecutive_failures = feeds.consecutive_failures + 1,
                    last_error = excluded.last_error
                """,
                (url, _ts(now), error),
            )

    # --- articles and stories -----------------------------------------------------------------

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these article keys are already stored."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT key FROM articles WHERE key IN ({marks})", chunk
                )
            )
        return found

    def add_articles(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        """Store new articles (story_id NULL until clustered); return those that were new."""
        added = []
        with self.transaction() as conn:
            for a in articles:
                cur = conn.execute(
                    """
                    INSERT OR IGNORE INTO articles (key, feed_url, url, title, text, outlet,
                        content_hash, author, published, priority, from_feed_only, first_seen)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (
                        a.key,
                        a.feed_url,
                        a.url,
                        a.title,
                        a.text,
                        a.outlet,
                        a.content_hash,
                        a.author,
                        _ts(a.published),
                        a.priority,
                        int(a.from_feed_only),
                        _ts(now),
                    ),
                )
                if cur.rowcount:
                    added.append(a)
        return added

    @staticmethod
    def row_to_article(row: sqlite3.Row) -> Article:
        """An Article from a row of the articles table."""
        return Article(
            key=row["key"],
            feed_url=row["feed_url"],
            url=row["url"],
            title=row["title"],
            text=row["text"],
            outlet=row["outlet"],
            content_hash=row["content_hash"],
            author=row["author"],
            published=_dt(row["published"]),
            priority=row["priority"],
            from_feed_only=bool(row["from_feed_only"]),
        )

    def unclustered_articles(self) -> list[Article]:
        """Articles stored but not yet assigned to a story (e.g. after a crash mid-run)."""
        rows = self.conn.execute(
            "SELECT * FROM articles WHERE story_id IS NULL ORDER BY first_seen, key"
        )
        return [self.row_to_article(r) for r in rows]

    def save_story(self, story: Story) -> None:
        """Insert or update a story, its members' story_id and its merge reasons."""
        with self.transaction() as conn:
            conn.execute(
                """
                INSERT INTO stories (id, headline, first_seen, last_updated) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET headline = excluded.headline,
                    last_updated = excluded.last_updated
                """,
                (story.id, story.headline, _ts(story.first_seen), _ts(story.last_updated)),
            )
            for a in story.articles:
                conn.execute("UPDATE articles SET story_id = ? WHERE key = ?", (story.id, a.key))
            for m in story.merges:
                conn.execute(
                    """
                    INSERT OR REPLACE INTO story_merges
                        (story_id, article_key, level, score, evidence)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    (story.id, m.article_key, m.level, m.score, m.evidence),
                )

    def load_story(self, story_id: str) -> Story | None:
        """A story with its member articles and merge reasons, or None."""
        row = self.conn.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None:
            return None
        members = [
            self.row_to_article(r)
            for r in self.conn.execute(
                "SELECT * FROM articles WHERE story_id = ? ORDER BY first_seen, key", (story_id,)
            )
        ]
        merges = tuple(
            MergeReason(r["article_key"], r["level"], r["score"], r["evidence"])
            for r in self.conn.execute(
                "SELECT * FROM story_merges WHERE story_id = ? ORDER BY rowid", (story_id,)
            )
        )
        return Story(
            id=row["id"],
            headline=row["headline"],
            articles=tuple(members),
            first_seen=_dt(row["first_seen"]) or datetime.now(UTC),
            last_updated=_dt(row["last_updated"]) or datetime.now(UTC),
            merges=merges,
        )

    def article_keys_since(self, story_id: str, when: datetime) -> list[str]:
        """Keys of this story's articles first stored after `when`."""
        rows = self.conn.execute(
            "SELECT key FROM articles WHERE story_id = ? AND first_seen > ? ORDER BY first_seen",
            (story_id, _ts(when)),
        )
        return [r[0] for r in rows]

    def stories_updated_since(self, since: datetime, feed_urls: Sequence[str]) -> list[Story]:
        """Stories updated at or after `since` with at least one member from these feeds."""
        marks = ",".join("?" * len(feed_urls)) or "NULL"
        ids = [
            r[0]
            for r in self.conn.execute(
                f"""
                SELECT DISTINCT s.id FROM stories s JOIN articles a ON a.story_id = s.id
                WHERE s.last_updated >= ? AND a.feed_url IN ({marks})
                ORDER BY s.last_updated DESC, s.id
                """,
                (_ts(since), *feed_urls),
            )
        ]
        return [s for s in (self.load_story(i) for i in ids) if s is not None]

    # --- summary cache ------------------------------------------------------------------------

    def cached_summary(self, cache_key: str) -> dict | None:
        """A cached Quick Looks (as a dict) or None."""
        row = self.conn.execute(
            "SELECT data FROM summaries WHERE cache_key = ?", (cache_key,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def cache_summary(self, cache_key: str, model: str, data: dict, now: datetime) -> None:
        """Remember a Quick Looks under its content key."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO summaries (cache_key, model, data, created_at) "
                "VALUES (?, ?, ?, ?)",
                (cache_key, model, json.dumps(data), _ts(now)),
            )

    # --- delivery ledger ----------------------------------------------------------------------

    def is_delivered(self, destination: str, story_id: str, kind: str = "story") -> bool:
        """Whether this story was confirmed delivered to this destination (as this kind)."""
        row = self.conn.execute(
            "SELECT 1 FROM deliveries WHERE destination = ? AND story_id = ? AND kind = ?",
            (destination, story_id, kind),
        ).fetchone()
        return row is not None

    def story_in_use(self, story_id: str) -> bool:
        """Whether anything outside the clusterer refers to this story id.

        A delivery (or one in flight), a queued alert, a digest that passed it over, a Slack
        vote or an archived digest: such a story must keep its id, so it is never merged away.
        """
        for table in ("deliveries", "alert_queue", "passed_over"):
            found = self.conn.execute(
                f"SELECT 1 FROM {table} WHERE story_id = ? LIMIT 1", (story_id,)
            ).fetchone()
            if found:
                return True
        quoted = f'%"{story_id}"%'
        for table, column in (
            ("delivery_intents", "story_ids"),
            ("slack_reactions", "story_ids"),
            ("archive", "data"),
        ):
            found = self.conn.execute(
                f"SELECT 1 FROM {table} WHERE {column} LIKE ? LIMIT 1", (quoted,)
            ).fetchone()
            if found:
                return True
        return False

    def delivered_ids(self, destination: str, kind: str = "story") -> set[str]:
        """Story ids confirmed delivered to this destination (as this kind)."""
        rows = self.conn.execute(
            "SELECT story_id FROM deliveries WHERE destination = ? AND kind = ?",
            (destination, kind),
        )
        return {r[0] for r in rows}

    def record_delivery(
        self,
        destination: str,
        story_ids: Sequence[str],
        *,
        kind: str,
        digest: str,
        ref: str,
        now: datetime,
    ) -> None:
        """Record, in one transaction, that these stories were confirmed at this destination.

        The destination already has them, so a failing write is retried, then written to the
        journal beside the database (replayed into the ledger when the state next opens). The
        StateError raised then says the message went out and where it was kept.
        """
        rows = [(destination, sid, kind, digest, ref, _ts(now)) for sid in story_ids]
        failure: StateError | None = None
        for attempt in range(LEDGER_WRITE_ATTEMPTS):
            if attempt:
                time.sleep(0.2 * attempt)
            try:
                with self.transaction() as conn:
                    conn.executemany(
                        "INSERT OR IGNORE INTO deliveries (destination, story_id, kind, digest, "
                        "ref, delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                return
            except StateError as e:
                failure = e
        assert failure is not None
        record = {
            "destination": destination,
            "story_ids": list(story_ids),
            "kind": kind,
            "digest": digest,
            "ref": ref,
            "at": _ts(now),
        }
        sent = f"{destination} has the message ({ref}) with {len(story_ids)} stories"
        if self._journal_write(record):
            raise StateError(
                f"{failure}; {sent}: kept in {self.journal_path}, so the next run records it "
                "instead of sending it again",
                hint=failure.hint,
            ) from failure
        raise StateError(
            f"{failure}; {sent} but it could not be recorded, so the next run sends it again",
            hint=failure.hint,
        ) from failure

    def passed_over(self, digest: str) -> dict[str, int]:
        """Story id -> article count, for the stories this digest last ranked below its cut."""
        rows = self.conn.execute(
            "SELECT story_id, articles FROM passed_over WHERE digest = ?", (digest,)
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def record_cut(
        self,
        digest: str,
        passed: Sequence[tuple[str, int]],
        shown: Sequence[str],
        now: datetime,
    ) -> None:
        """After a run: these (story id, article count) missed the cut, these were shown."""
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM passed_over WHERE digest = ? AND story_id = ?",
                [(digest, sid) for sid in shown],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO passed_over (digest, story_id, articles, passed_at) "
                "VALUES (?, ?, ?, ?)",
                [(digest, sid, n, _ts(now)) for sid, n in passed],
            )

    def last_delivery_time(
        self, destination: str, story_id: str, kind: str = "story"
    ) -> datetime | None:
        """When this story was delivered to this destination, or None."""
        row = self.conn.execute(
            "SELECT delivered_at FROM deliveries "
            "WHERE destination = ? AND story_id = ? AND kind = ?",
            (destination, story_id, kind),
        ).fetchone()
        return _dt(row[0]) if row else None

    # --- delivery intents (the in-doubt window) ------------------------------------------------

    def record_intent(
        self,
        destination: str,
        key: str,
        *,
        digest: str,
        story_ids: Sequence[str],
        kinds: Sequence[str],
        now: datetime,
    ) -> None:
        """Note, before posting, the message `key` carrying these stories (kind per story).

        Committed before the post goes out, so a crash after the destination accepted it leaves
        this row behind for the next run to look for. Writing the same key again (a retry)
        restarts its clock.
        """
        if len(story_ids) != len(kinds):
            raise ValueError("one kind per story id")
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO delivery_intents "
                "(destination, key, digest, story_ids, kinds, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    destination,
                    key,
                    digest,
                    json.dumps(list(story_ids)),
                    json.dumps(list(kinds)),
                    _ts(now),
                ),
            )

    def open_intents(self, destination: str) -> list[DeliveryIntent]:
        """Intents of this destination never confirmed nor dropped, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM delivery_intents WHERE destination = ? ORDER BY created_at, key",
            (destination,),
        )
        return [
            DeliveryIntent(
                destination=r["destination"],
                key=r["key"],
                digest=r["digest"],
                story_ids=tuple(json.loads(r["story_ids"])),
                kinds=tuple(json.loads(r["kinds"])),
                created_at=_dt(r["created_at"]) or datetime.now(UTC),
            )
            for r in rows
        ]

    def settle_intent(self, destination: str, key: str, *, ref: str, now: datetime) -> list[str]:
        """Record the stories of an intent as delivered (the destination has its message) and
        clear the intent, in one transaction; return the story ids (none if it was not open)."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM delivery_intents WHERE destination = ? AND key = ?",
                (destination, key),
            ).fetchone()
            if row is None:
                return []
            story_ids = [str(i) for i in json.loads(row["story_ids"])]
            kinds = [str(k) for k in json.loads(row["kinds"])]
            conn.executemany(
                "INSERT OR IGNORE INTO deliveries (destination, story_id, kind, digest, ref, "
                "delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (destination, sid, kind, row["digest"], ref, _ts(now))
                    for sid, kind in zip(story_ids, kinds, strict=True)
                ],
            )
            conn.execute(
                "DELETE FROM delivery_intents WHERE destination = ? AND key = ?",
                (destination, key),
            )
        return story_ids

    def drop_intent(self, destination: str, key: str) -> None:
        """Clear an intent: its message was confirmed (inside the caller's transaction that
        recorded it), or the destination was checked and does not have it."""
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM delivery_intents WHERE destination = ? AND key = ?",
                (destination, key),
            )

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, digest: str, period: str | None, now: datetime) -> int:
        """Record the start of a run; returns its id."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (digest, period, started_at) VALUES (?, ?, ?)",
                (digest, period, _ts(now)),
            )
            return int(cur.lastrowid or 0)

    def failed_attempts(self, digest: str, period: str) -> tuple[int, datetime | None]:
        """How many runs of this digest's period ended "failed", and when the last one ended."""
        row = self.conn.execute(
            "SELECT COUNT(*), MAX(finished_at) FROM runs "
            "WHERE digest = ? AND period = ? AND outcome = 'failed'",
            (digest, period),
        ).fetchone()
        return int(row[0] or 0), _dt(row[1])

    def finish_run(
        self, run_id: int, now: datetime, outcome: str, error: str | None = None, stories: int = 0
    ) -> None:
        """Record how a run ended: "ok", "empty" or "failed"."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, error = ?, stories = ? WHERE id = ?",
                (_ts(now), outcome, error, stories, run_id),
            )

    def _run(self, row: sqlite3.Row) -> RunRecord:
        return RunRecord(
            id=row["id"],
            digest=row["digest"],
            period=row["period"],
            started_at=_dt(row["started_at"]) or datetime.now(UTC),
            finished_at=_dt(row["finished_at"]),
            outcome=row["outcome"],
            error=row["error"],
            stories=row["stories"],
        )

    def last_run(self, digest: str) -> RunRecord | None:
        """The most recent run of this digest, finished or not."""
        row = self.conn.execute(
            "SELECT * FROM runs WHERE digest = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            (digest,),
        ).fetchone()
        return self._run(row) if row else None

    def last_finished_run(
        self, digest: str, outcomes: Sequence[str] = ("ok", "empty")
    ) -> RunRecord | None:
        """The most recent run of this digest that ended with one of these outcomes."""
        marks = ",".join("?" * len(outcomes))
        row = self.conn.execute(
            f"SELECT * FROM runs WHERE digest = ? AND outcome IN ({marks}) "
            "ORDER BY started_at DESC, id DESC LIMIT 1",
            (digest, *outcomes),
        ).fetchone()
        return self._run(row) if row else None

    def period_done(self, digest: str, period: str) -> bool:
        """Whether a run for this digest and scheduled period finished ("ok" or "empty")."""
        row = self.conn.execute(
            "SELECT 1 FROM runs WHERE digest = ? AND period = ? AND outcome IN ('ok', 'empty')",
            (digest, period),
        ).fetchone()
        return row is not None

    # --- locks --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float, now: datetime) -> bool:
        """Take a named lock if it is free, expired, or already ours; False if someone holds it."""
        expires = _ts(now + timedelta(seconds=ttl_seconds))
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM locks WHERE name = ?", (name,)
            ).fetchone()
            if row and row["owner"] != owner and row["expires_at"] > (_ts(now) or ""):
                return False
            conn.execute(
                "INSERT OR REPLACE INTO locks (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, expires),
            )
        return True

    def lock_owner(self, name: str, now: datetime) -> str | None:
        """Who holds this lock now, or None when it is free or expired."""
        row = self.conn.execute(
            "SELECT owner, expires_at FROM locks WHERE name = ?", (name,)
        ).fetchone()
        if row and row["expires_at"] > (_ts(now) or ""):
            return str(row["owner"])
        return None

    def release_lock(self, name: str, owner: str) -> None:
        """Give a lock back (only its owner can).

        When the state cannot be written (a full disk) the lock is left to expire, with one
        warning: the error that stopped the run is the one to report, not this one.
        """
        try:
            with self.transaction() as conn:
                conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
        except StateError as e:
            log.warning("state: lock %s not released: %s", name, e)
