"""The archive: each digest as sent, as JSON with its UTC day (rebuilt by `digest.archive`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .db import Database, ts
from .records import ArchivedDayCount


class Archive(Database):
    """The `archive` table."""

    def archive_digest(
        self, digest: str, kind: str, generated_at: datetime, day: str, data: dict[str, Any]
    ) -> int:
        """Keep one sent digest; returns its archive id."""
        with self.transaction():
            row = self._one(
                "INSERT INTO archive (digest, kind, generated_at, day, data) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (digest, kind, ts(generated_at), day, json.dumps(data)),
            )
        return int(row["id"]) if row else 0

    def archived_day_counts(self, digest: str) -> list[ArchivedDayCount]:
        """The days a digest was sent and how many runs each holds, newest first."""
        rows = self._rows(
            "SELECT day, COUNT(*) AS runs FROM archive WHERE digest = ? "
            "GROUP BY day ORDER BY day DESC",
            (digest,),
        )
        return [ArchivedDayCount(str(r["day"]), int(r["runs"])) for r in rows]

    def archived(
        self, digest: str, *, day: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The archived digests' data: of one day oldest first, else newest first."""
        if day is not None:
            rows = self._rows(
                "SELECT data FROM archive WHERE digest = ? AND day = ? ORDER BY generated_at, id",
                (digest, day),
            )
        else:
            sql = "SELECT data FROM archive WHERE digest = ? ORDER BY generated_at DESC, id DESC"
            args: tuple[object, ...] = (digest,)
            if limit is not None:
                sql, args = sql + " LIMIT ?", (digest, limit)
            rows = self._rows(sql, args)
        out: list[dict[str, Any]] = [json.loads(r["data"]) for r in rows]
        return out
