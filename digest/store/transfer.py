"""Export and import: every table as rows, to move a deployment between backends (SQLite to
PostgreSQL and back) with its ledger intact.

The export is JSON lines: a header naming the format and the migrations the state had, then
one `{"table": ..., "row": {...}}` per row (bytes as base64). Importing writes the rows as they
are into a fresh, migrated state, so after an import nothing already delivered (or in doubt)
is delivered again. Locks are left out: a lease belongs to the processes of one deployment.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import StateError
from .db import Database

FORMAT = "digest-state"
FORMAT_VERSION = 1

# table -> (columns, primary key), as of the last migration; `user` is quoted everywhere.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "feeds": (
        (
            "url",
            "title",
            "etag",
            "last_modified",
            "last_attempt",
            "last_success",
            "consecutive_failures",
            "last_error",
        ),
        ("url",),
    ),
    "articles": (
        (
            "key",
            "feed_url",
            "url",
            "title",
            "text",
            "outlet",
            "content_hash",
            "author",
            "published",
            "priority",
            "from_feed_only",
            "first_seen",
            "story_id",
        ),
        ("key",),
    ),
    "stories": (("id", "headline", "first_seen", "last_updated"), ("id",)),
    "story_merges": (
        ("story_id", "article_key", "level", "score", "evidence", "seq"),
        ("story_id", "article_key"),
    ),
    "cluster_features": (
        (
            "key",
            "story_id",
            "at",
            "clustered_at",
            "ident_url",
            "content_hash",
            "thin",
            "model",
            "vector",
            "minhash",
            "terms",
        ),
        ("key",),
    ),
    "summaries": (("cache_key", "model", "data", "created_at"), ("cache_key",)),
    "deliveries": (
        ("destination", "story_id", "kind", "digest", "ref", "delivered_at"),
        ("destination", "story_id", "kind"),
    ),
    "delivery_intents": (
        ("destination", "key", "digest", "story_ids", "kinds", "created_at"),
        ("destination", "key"),
    ),
    "passed_over": (("digest", "story_id", "articles", "passed_at"), ("digest", "story_id")),
    "runs": (
        ("id", "digest", "period", "started_at", "finished_at", "outcome", "error", "stories"),
        ("id",),
    ),
    "alert_queue": (("rule", "story_id", "reason", "queued_at"), ("rule", "story_id")),
    "serve_sessions": (("owner", "started_at", "stopped_at"), ("owner",)),
    "subscribers": (
        ("digest", "address", "status", "source", "changed_at"),
        ("digest", "address"),
    ),
    "archive": (("id", "digest", "kind", "generated_at", "day", "data"), ("id",)),
    "slack_follows": (
        (
            "id",
            "channel_id",
            "channel_name",
            "text",
            "rule",
            "created_by",
            "created_at",
            "destination",
        ),
        ("id",),
    ),
    "slack_mutes": (
        ("id", "channel_id", "channel_name", "text", "created_by", "created_at", "destination"),
        ("id",),
    ),
    "slack_reactions": (
        (
            "channel_id",
            "ts",
            "user",
            "reaction",
            "vote",
            "story_ids",
            "created_at",
            "destination",
        ),
        ("channel_id", "ts", "user", "reaction"),
    ),
}
# Tables whose `id` the database numbers: after an import its counter must pass the rows'.
NUMBERED = ("runs", "archive", "slack_follows", "slack_mutes")
# What makes a state not fresh: importing into it could mix two deployments' rows.
CONTENT = ("articles", "deliveries", "delivery_intents", "runs", "archive", "subscribers")


def _q(column: str) -> str:
    return f'"{column}"'


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$b64"}:
        return base64.b64decode(value["$b64"])
    return value


class Transfer(Database):
    """Every table out as rows, and back in."""

    def export_state(self) -> Iterator[dict[str, Any]]:
        """The header, then one record per row of every table (in one read transaction)."""
        with self.transaction():
            self._snapshot()
            names = [str(r["name"]) for r in self._rows("SELECT name FROM _migrations ORDER BY id")]
            yield {"format": FORMAT, "version": FORMAT_VERSION, "migrations": names}
            for table, (columns, key) in TABLES.items():
                rows = self._rows(
                    f"SELECT {', '.join(map(_q, columns))} FROM {table} "
                    f"ORDER BY {', '.join(map(_q, key))}"
                )
                for r in rows:
                    yield {"table": table, "row": {c: _encode(r[c]) for c in columns}}

    def import_state(self, records: Iterable[Mapping[str, Any]], source: str) -> dict[str, int]:
        """Write exported records into this (fresh, migrated) state in one transaction; rows
        per table. A record that does not fit is a StateError naming `source` and its line."""
        counts: dict[str, int] = {}
        with self.transaction():
            for name in CONTENT:
                if self._one(f"SELECT 1 AS found FROM {name} LIMIT 1"):
                    raise StateError(
                        f"{self.location}: the state is not empty (it has {name}); "
                        f"not importing {source} into it",
                        hint="import into a fresh state (a new folder or an empty database)",
                    )
            have = [str(r["name"]) for r in self._rows("SELECT name FROM _migrations ORDER BY id")]
            header_seen = False
            for line, record in enumerate(records, start=1):
                if not header_seen:
                    if record.get("format") != FORMAT:
                        raise StateError(f"{source}:{line}: not a digest state export")
                    theirs = list(record.get("migrations", []))
                    if theirs != have[: len(theirs)]:
                        raise StateError(
                            f"{source}: written by a newer or different version of digest "
                            f"(migrations {', '.join(theirs[len(have) :]) or theirs})",
                            hint="import with the version of digest that exported it",
                        )
                    header_seen = True
                    continue
                table = record.get("table")
                row = record.get("row")
                if table not in TABLES or not isinstance(row, dict):
                    raise StateError(f"{source}:{line}: not a row of a known table")
                columns, key = TABLES[str(table)]
                unknown = sorted(set(row) - set(columns))
                if unknown:
                    raise StateError(f"{source}:{line}: {table} has no column {unknown[0]}")
                given = [c for c in columns if c in row]
                self._run(
                    f"INSERT INTO {table} ({', '.join(map(_q, given))}) "
                    f"VALUES ({', '.join('?' * len(given))}) "
                    f"ON CONFLICT ({', '.join(map(_q, key))}) DO NOTHING",
                    [_decode(row[c]) for c in given],
                )
                counts[str(table)] = counts.get(str(table), 0) + 1
            if not header_seen:
                raise StateError(f"{source}: empty, not a digest state export")
            self._after_import(NUMBERED)
        return counts
