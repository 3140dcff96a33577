"""Runs of each digest, named locks (leases with an expiry) and `digest serve` sessions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..errors import StateError
from .db import Database, Row, dt, dt_req, marks, ts
from .records import LockRecord, RunRecord

log = logging.getLogger("digest.store")


def _run(row: Row) -> RunRecord:
    return RunRecord(
        id=int(row["id"]),
        digest=row["digest"],
        period=row["period"],
        started_at=dt_req(row["started_at"]),
        finished_at=dt(row["finished_at"]),
        outcome=row["outcome"],
        error=row["error"],
        stories=int(row["stories"]),
    )


class Runs(Database):
    """The `runs`, `locks` and `serve_sessions` tables."""

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, digest: str, period: str | None, now: datetime) -> int:
        """Record the start of a run; returns its id."""
        with self.transaction():
            row = self._one(
                "INSERT INTO runs (digest, period, started_at) VALUES (?, ?, ?) RETURNING id",
                (digest, period, ts(now)),
            )
        return int(row["id"]) if row else 0

    def failed_attempts(self, digest: str, period: str) -> tuple[int, datetime | None]:
        """How many runs of this digest's period ended "failed", and when the last one ended."""
        row = self._one(
            "SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM runs "
            "WHERE digest = ? AND period = ? AND outcome = 'failed'",
            (digest, period),
        )
        if row is None:
            return 0, None
        return int(row["n"] or 0), dt(row["last"])

    def finish_run(
        self, run_id: int, now: datetime, outcome: str, error: str | None = None, stories: int = 0
    ) -> None:
        """Record how a run ended: "ok", "empty" or "failed"."""
        with self.transaction():
            self._run(
                "UPDATE runs SET finished_at = ?, outcome = ?, error = ?, stories = ? WHERE id = ?",
                (ts(now), outcome, error, stories, run_id),
            )

    def last_run(self, digest: str) -> RunRecord | None:
        """The most recent run of this digest, finished or not."""
        row = self._one(
            "SELECT * FROM runs WHERE digest = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            (digest,),
        )
        return _run(row) if row else None

    def last_finished_run(
        self, digest: str, outcomes: Sequence[str] = ("ok", "empty")
    ) -> RunRecord | None:
        """The most recent run of this digest that ended with one of these outcomes."""
        row = self._one(
            f"SELECT * FROM runs WHERE digest = ? AND outcome IN ({marks(len(outcomes))}) "
            "ORDER BY started_at DESC, id DESC LIMIT 1",
            (digest, *outcomes),
        )
        return _run(row) if row else None

    def first_run_start(self, digest: str) -> datetime | None:
        """When the first recorded run of this digest started, or None."""
        row = self._one("SELECT MIN(started_at) AS first FROM runs WHERE digest = ?", (digest,))
        return dt(row["first"]) if row else None

    def period_done(self, digest: str, period: str) -> bool:
        """Whether a run for this digest and scheduled period finished ("ok" or "empty")."""
        row = self._one(
            "SELECT 1 AS found FROM runs "
            "WHERE digest = ? AND period = ? AND outcome IN ('ok', 'empty')",
            (digest, period),
        )
        return row is not None

    def all_runs(self) -> list[RunRecord]:
        """Every run, oldest first (for export)."""
        return [_run(r) for r in self._rows("SELECT * FROM runs ORDER BY id")]

    # --- locks (leases) -----------------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, ttl_seconds: float, now: datetime) -> bool:
        """Take a named lock if it is free, expired, or already ours; False if someone holds it.

        Taking it again (ours) renews its expiry: a lease held by renewing it within the TTL.
        One statement, so the check and the take are one step on every backend: on Postgres the
        upsert locks the conflicting row and checks the condition on its latest version, so two
        replicas racing for a lapsed lease cannot both win (a SELECT first could not promise
        that under READ COMMITTED).
        """
        expires = ts(now + timedelta(seconds=ttl_seconds))
        with self.transaction():
            taken = self._rows(
                "INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at "
                "WHERE locks.owner = excluded.owner OR locks.expires_at <= ? "
                "RETURNING owner",
                (name, owner, expires, ts(now)),
            )
        return bool(taken)

    def lock_owner(self, name: str, now: datetime) -> str | None:
        """Who holds this lock now, or None when it is free or expired."""
        row = self._one("SELECT owner, expires_at FROM locks WHERE name = ?", (name,))
        if row and row["expires_at"] > ts(now):
            return str(row["owner"])
        return None

    def locks(self, now: datetime) -> list[LockRecord]:
        """Every lock held at `now` (not expired), by name."""
        rows = self._rows(
            "SELECT name, owner, expires_at FROM locks WHERE expires_at > ? ORDER BY name",
            (ts(now),),
        )
        return [
            LockRecord(str(r["name"]), str(r["owner"]), dt(r["expires_at"]) or now) for r in rows
        ]

    def release_lock(self, name: str, owner: str) -> None:
        """Give a lock back (only its owner can).

        When the state cannot be written (a full disk) the lock is left to expire, with one
        warning: the error that stopped the run is the one to report, not this one.
        """
        try:
            with self.transaction():
                self._run("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
        except StateError as e:
            log.warning("state: lock %s not released: %s", name, e)

    # --- serve sessions -----------------------------------------------------------------------

    def record_serve_start(self, owner: str, now: datetime) -> None:
        """A `digest serve` took the serve lock (for the health check's baseline)."""
        with self.transaction():
            self._run(
                "INSERT INTO serve_sessions (owner, started_at) VALUES (?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET started_at = excluded.started_at, "
                "stopped_at = NULL",
                (owner, ts(now)),
            )

    def record_serve_stop(self, owner: str, now: datetime) -> None:
        """That `digest serve` stopped."""
        with self.transaction():
            self._run("UPDATE serve_sessions SET stopped_at = ? WHERE owner = ?", (ts(now), owner))

    def latest_serve_start(self) -> datetime | None:
        """When the most recent `digest serve` on this state started, or None if none ever did."""
        row = self._one("SELECT MAX(started_at) AS last FROM serve_sessions")
        return dt(row["last"]) if row else None
