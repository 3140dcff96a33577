"""The alert queue: matches held by quiet hours or a rate limit, or not yet confirmed."""

from __future__ import annotations

from datetime import datetime

from .db import Database, dt_req, ts
from .records import QueuedAlert


class AlertQueue(Database):
    """The `alert_queue` table."""

    def queue_alert(self, rule: str, story_id: str, reason: str, now: datetime) -> None:
        """Queue a match; a story already queued for the rule keeps its first reason."""
        with self.transaction():
            self._run(
                "INSERT INTO alert_queue (rule, story_id, reason, queued_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (rule, story_id) DO NOTHING",
                (rule, story_id, reason, ts(now)),
            )

    def queued_alerts(self, rule: str | None = None) -> list[QueuedAlert]:
        """The matches queued for a rule (for every rule, when None), oldest first."""
        where, args = ("WHERE rule = ? ", (rule,)) if rule is not None else ("", ())
        rows = self._rows(
            "SELECT rule, story_id, reason, queued_at FROM alert_queue "
            f"{where}ORDER BY queued_at, story_id, rule",
            args,
        )
        return [
            QueuedAlert(r["rule"], r["story_id"], r["reason"], dt_req(r["queued_at"])) for r in rows
        ]

    def unqueue_alert(self, rule: str, story_id: str) -> None:
        """Drop a queued match (sent, or expired)."""
        with self.transaction():
            self._run("DELETE FROM alert_queue WHERE rule = ? AND story_id = ?", (rule, story_id))
