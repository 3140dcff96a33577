"""Feeds: validators for conditional GET and each feed's health."""

from __future__ import annotations

from datetime import datetime

from .db import Database, dt, ts
from .records import FeedState


class Feeds(Database):
    """The `feeds` table."""

    def feed_state(self, url: str) -> FeedState:
        """Validators and health of one feed (empty state for a feed never seen)."""
        row = self._one("SELECT * FROM feeds WHERE url = ?", (url,))
        if row is None:
            return FeedState()
        return FeedState(
            etag=row["etag"],
            last_modified=row["last_modified"],
            title=row["title"],
            last_attempt=dt(row["last_attempt"]),
            last_success=dt(row["last_success"]),
            consecutive_failures=int(row["consecutive_failures"]),
            last_error=row["last_error"],
        )

    def all_feed_states(self) -> list[tuple[str, FeedState]]:
        """Every feed the store has seen, by URL."""
        urls = [str(r["url"]) for r in self._rows("SELECT url FROM feeds ORDER BY url")]
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
        with self.transaction():
            self._run(
                """
                INSERT INTO feeds (url, title, etag, last_modified, last_attempt, last_success,
                                   consecutive_failures, last_error)
                VALUES (?, ?, ?, ?, ?, ?, 0, NULL)
                ON CONFLICT (url) DO UPDATE SET
                    title = COALESCE(excluded.title, feeds.title),
                    etag = excluded.etag, last_modified = excluded.last_modified,
                    last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                    consecutive_failures = 0, last_error = NULL
                """,
                (url, title, etag, last_modified, ts(now), ts(now)),
            )

    def record_feed_failure(self, url: str, now: datetime, error: str) -> None:
        """A failed fetch or parse: count it and keep the one-line reason."""
        with self.transaction():
            self._run(
                """
                INSERT INTO feeds (url, last_attempt, consecutive_failures, last_error)
                VALUES (?, ?, 1, ?)
                ON CONFLICT (url) DO UPDATE SET
                    last_attempt = excluded.last_attempt,
                    consecutive_failures = feeds.consecutive_failures + 1,
                    last_error = excluded.last_error
                """,
                (url, ts(now), error),
            )
