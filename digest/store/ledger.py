"""The delivery ledger, the intents (the in-doubt window) and what a digest passed over."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from ..errors import StateError
from ..models import DeliveryIntent
from .db import Database, Row, dt, dt_req, like_literal, ts
from .records import LedgerEntry

LEDGER_WRITE_ATTEMPTS = 3

_INSERT_DELIVERY = (
    "INSERT INTO deliveries (destination, story_id, kind, digest, ref, delivered_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (destination, story_id, kind) DO NOTHING"
)


def _entry(r: Row) -> LedgerEntry:
    return LedgerEntry(
        destination=r["destination"],
        story_id=r["story_id"],
        kind=r["kind"],
        digest=r["digest"],
        ref=r["ref"],
        delivered_at=dt_req(r["delivered_at"]),
    )


class Ledger(Database):
    """The `deliveries`, `delivery_intents` and `passed_over` tables."""

    # --- confirmed deliveries -----------------------------------------------------------------

    def is_delivered(self, destination: str, story_id: str, kind: str = "story") -> bool:
        """Whether this story was confirmed delivered to this destination (as this kind)."""
        row = self._one(
            "SELECT 1 AS found FROM deliveries WHERE destination = ? AND story_id = ? AND kind = ?",
            (destination, story_id, kind),
        )
        return row is not None

    def delivered_ids(self, destination: str, kind: str = "story") -> set[str]:
        """Story ids confirmed delivered to this destination (as this kind)."""
        rows = self._rows(
            "SELECT story_id FROM deliveries WHERE destination = ? AND kind = ?",
            (destination, kind),
        )
        return {str(r["story_id"]) for r in rows}

    def last_delivery_time(
        self, destination: str, story_id: str, kind: str = "story"
    ) -> datetime | None:
        """When this story was delivered to this destination, or None."""
        row = self._one(
            "SELECT delivered_at FROM deliveries "
            "WHERE destination = ? AND story_id = ? AND kind = ?",
            (destination, story_id, kind),
        )
        return dt(row["delivered_at"]) if row else None

    def recently_delivered(self, destination: str, limit: int, *, except_ref: str) -> list[str]:
        """Story ids last delivered to this destination with a ref other than `except_ref`,
        newest first."""
        rows = self._rows(
            "SELECT story_id FROM deliveries WHERE destination = ? AND ref <> ? "
            "ORDER BY delivered_at DESC, story_id LIMIT ?",
            (destination, except_ref, limit),
        )
        return [str(r["story_id"]) for r in rows]

    def deliveries_with_ref(self, ref: str, destination_prefix: str = "") -> list[LedgerEntry]:
        """What the ledger holds for one posted message (its ref), by destination and story."""
        rows = self._rows(
            "SELECT * FROM deliveries WHERE ref = ? AND destination LIKE ? ESCAPE '!' "
            "ORDER BY destination, story_id",
            (ref, like_literal(destination_prefix) + "%"),
        )
        return [_entry(r) for r in rows]

    def stories_delivered_since(self, kind: str, since: datetime) -> int:
        """How many distinct stories were delivered as this kind since then (any destination)."""
        row = self._one(
            "SELECT COUNT(DISTINCT story_id) AS n FROM deliveries "
            "WHERE kind = ? AND delivered_at >= ?",
            (kind, ts(since)),
        )
        return int(row["n"]) if row else 0

    def ledger(self) -> list[LedgerEntry]:
        """The whole ledger, in a stable order (for export)."""
        rows = self._rows(
            "SELECT * FROM deliveries ORDER BY delivered_at, destination, story_id, kind"
        )
        return [_entry(r) for r in rows]

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

        The destination already has them, so a failing write is retried, then kept in the
        backend's journal when it has one (the SQLite file beside the database, replayed into
        the ledger when the state next opens). The StateError raised then says the message
        went out and where it was kept.
        """
        rows = [(destination, sid, kind, digest, ref, ts(now)) for sid in story_ids]
        failure: StateError | None = None
        for attempt in range(LEDGER_WRITE_ATTEMPTS):
            if attempt:
                self.clock.sleep(0.2 * attempt)
            try:
                with self.transaction():
                    self._run_many(_INSERT_DELIVERY, rows)
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
            "at": ts(now),
        }
        sent = f"{destination} has the message ({ref}) with {len(story_ids)} stories"
        if self._journal_write(record):
            raise StateError(
                f"{failure}; {sent}: kept in {self.journal_location}, so the next run records "
                "it instead of sending it again",
                hint=failure.hint,
            ) from failure
        raise StateError(
            f"{failure}; {sent} but it could not be recorded, so the next run sends it again",
            hint=failure.hint,
        ) from failure

    def import_ledger(self, entries: Sequence[LedgerEntry]) -> int:
        """Add ledger rows as they are (an import, a replayed journal); rows already there
        stay. Returns how many were new."""
        added = 0
        with self.transaction():
            for e in entries:
                added += self._run(
                    _INSERT_DELIVERY,
                    (e.destination, e.story_id, e.kind, e.digest, e.ref, ts(e.delivered_at)),
                )
        return added

    # --- passed over --------------------------------------------------------------------------

    def passed_over(self, digest: str) -> dict[str, int]:
        """Story id -> article count, for the stories this digest last ranked below its cut."""
        rows = self._rows("SELECT story_id, articles FROM passed_over WHERE digest = ?", (digest,))
        return {str(r["story_id"]): int(r["articles"]) for r in rows}

    def record_cut(
        self,
        digest: str,
        passed: Sequence[tuple[str, int]],
        shown: Sequence[str],
        now: datetime,
    ) -> None:
        """After a run: these (story id, article count) missed the cut, these were shown."""
        with self.transaction():
            self._run_many(
                "DELETE FROM passed_over WHERE digest = ? AND story_id = ?",
                [(digest, sid) for sid in shown],
            )
            self._run_many(
                "INSERT INTO passed_over (digest, story_id, articles, passed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (digest, story_id) DO UPDATE SET "
                "articles = excluded.articles, passed_at = excluded.passed_at",
                [(digest, sid, n, ts(now)) for sid, n in passed],
            )

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
        with self.transaction():
            self._run(
                "INSERT INTO delivery_intents "
                "(destination, key, digest, story_ids, kinds, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (destination, key) DO UPDATE SET "
                "digest = excluded.digest, story_ids = excluded.story_ids, "
                "kinds = excluded.kinds, created_at = excluded.created_at",
                (
                    destination,
                    key,
                    digest,
                    json.dumps(list(story_ids)),
                    json.dumps(list(kinds)),
                    ts(now),
                ),
            )

    def open_intents(self, destination: str | None = None) -> list[DeliveryIntent]:
        """Intents of this destination (of all, when None) never confirmed nor dropped, oldest
        first."""
        where, args = (
            ("WHERE destination = ? ", (destination,)) if destination is not None else ("", ())
        )
        rows = self._rows(
            f"SELECT * FROM delivery_intents {where}ORDER BY created_at, destination, key", args
        )
        return [
            DeliveryIntent(
                destination=r["destination"],
                key=r["key"],
                digest=r["digest"],
                story_ids=tuple(json.loads(r["story_ids"])),
                kinds=tuple(json.loads(r["kinds"])),
                created_at=dt_req(r["created_at"]),
            )
            for r in rows
        ]

    def settle_intent(self, destination: str, key: str, *, ref: str, now: datetime) -> list[str]:
        """Record the stories of an intent as delivered (the destination has its message) and
        clear the intent, in one transaction; return the story ids (none if it was not open)."""
        with self.transaction():
            # Deleting first claims the intent: a second process settling it at once waits,
            # then finds nothing to settle.
            row = self._one(
                "DELETE FROM delivery_intents WHERE destination = ? AND key = ? "
                "RETURNING digest, story_ids, kinds",
                (destination, key),
            )
            if row is None:
                return []
            story_ids = [str(i) for i in json.loads(row["story_ids"])]
            kinds = [str(k) for k in json.loads(row["kinds"])]
            self._run_many(
                _INSERT_DELIVERY,
                [
                    (destination, sid, kind, row["digest"], ref, ts(now))
                    for sid, kind in zip(story_ids, kinds, strict=True)
                ],
            )
        return story_ids

    def drop_intent(self, destination: str, key: str) -> None:
        """Clear an intent: its message was confirmed (inside the caller's transaction that
        recorded it), or the destination was checked and does not have it."""
        with self.transaction():
            self._run(
                "DELETE FROM delivery_intents WHERE destination = ? AND key = ?",
                (destination, key),
            )
