"""The summary cache: a Quick Looks kept under its content key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .db import Database, ts


class Summaries(Database):
    """The `summaries` table."""

    def cached_summary(self, cache_key: str) -> dict[str, Any] | None:
        """A cached Quick Looks (as a dict) or None."""
        row = self._one("SELECT data FROM summaries WHERE cache_key = ?", (cache_key,))
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row["data"])
        return data

    def cache_summary(
        self, cache_key: str, model: str, data: dict[str, Any], now: datetime
    ) -> None:
        """Remember a Quick Looks under its content key."""
        with self.transaction():
            self._run(
                "INSERT INTO summaries (cache_key, model, data, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (cache_key) DO UPDATE SET model = excluded.model, "
                "data = excluded.data, created_at = excluded.created_at",
                (cache_key, model, json.dumps(data), ts(now)),
            )
