"""Schema changes as ordered functions, each recorded in `_migrations` once applied (the
sqlite-utils / llm pattern). Append new migrations at the end; never edit an applied one.

Migrations are shared by every backend: their DDL names dialect words as `{serial}` (an
auto-numbered primary key), `{blob}` and `{real}`, which each backend's `DDL_WORDS` fills in.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import StateError
from .db import Database, ts


def m001_initial(db: Database) -> None:
    """Feeds, articles, stories, summaries, the delivery ledger, runs and locks."""
    db._script(
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
            score {real} NOT NULL,
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
            id {serial},
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


def m002_alerts_and_serve(db: Database) -> None:
    """Alerts held by quiet hours or a rate limit, and `digest serve` starts (for health)."""
    db._script(
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


def m003_cluster_features(db: Database) -> None:
    """What the clusterer compares, kept per article so a restart never re-embeds history."""
    db._script(
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
            vector {blob} NOT NULL,
            minhash {blob},
            terms TEXT NOT NULL
        );
        CREATE INDEX cluster_features_at ON cluster_features(at);
        CREATE INDEX cluster_features_url ON cluster_features(ident_url);
        CREATE INDEX cluster_features_hash ON cluster_features(content_hash);
        CREATE INDEX cluster_features_story ON cluster_features(story_id, clustered_at);
        """,
    )


def m004_delivery_intents(db: Database) -> None:
    """Messages about to be posted, so a post that landed just before a crash can be found in the
    destination and recorded instead of posted twice (the in-doubt window)."""
    db._script(
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


def m005_readers(db: Database) -> None:
    """What readers change themselves: email subscriptions (and unsubscriptions, which also hold
    for addresses of the config's `to`), the digests as sent (the web archive), and the Slack
    app's followed topics, mutes and reactions, per channel."""
    db._script(
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
            id {serial},
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            generated_at TEXT NOT NULL,
            day TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX archive_digest_day ON archive(digest, day);
        CREATE TABLE slack_follows (
            id {serial},
            channel_id TEXT NOT NULL,
            channel_name TEXT NOT NULL,
            text TEXT NOT NULL,
            rule TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE slack_mutes (
            id {serial},
            channel_id TEXT NOT NULL,
            channel_name TEXT NOT NULL,
            text TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE slack_reactions (
            channel_id TEXT NOT NULL,
            ts TEXT NOT NULL,
            "user" TEXT NOT NULL,
            reaction TEXT NOT NULL,
            vote INTEGER NOT NULL,
            story_ids TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, ts, "user", reaction)
        );
        """,
    )


def m006_passed_over(db: Database) -> None:
    """Stories a digest ranked below its cut, and at how many articles: they are not new at the
    next run unless they grow, so unchanged feeds never send a digest of leftovers."""
    db._script(
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


def m007_slack_destinations(db: Database) -> None:
    """The ledger destination (`slack:<channel as configured>`) of each follow, mute and
    reaction, so a channel named `#news` in the config and `C0123` in Slack's events is one."""
    db._script(
        """
        ALTER TABLE slack_follows ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        ALTER TABLE slack_mutes ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        ALTER TABLE slack_reactions ADD COLUMN destination TEXT NOT NULL DEFAULT '';
        CREATE INDEX deliveries_ref ON deliveries(ref)
        """,
    )


def m008_email_ledger_per_recipient(db: Database) -> None:
    """Email destinations became one per recipient (`email:a@x` instead of `email:a@x,b@y`):
    copy what the ledger holds for a group to each of its addresses, so an upgrade never sends
    anyone a story they already received. Display names with commas cannot be split back and
    are left alone (those stories go out once more)."""
    rows = db._rows(
        "SELECT destination, story_id, kind, digest, ref, delivered_at FROM deliveries "
        "WHERE destination LIKE 'email:%,%'"
    )
    for r in rows:
        parts = str(r["destination"]).removeprefix("email:").split(",")
        if not all("@" in p for p in parts):
            continue  # a display name with a comma in it
        db._run_many(
            "INSERT INTO deliveries (destination, story_id, kind, digest, ref, delivered_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (destination, story_id, kind) DO NOTHING",
            [
                (f"email:{p}", r["story_id"], r["kind"], r["digest"], r["ref"], r["delivered_at"])
                for p in parts
                if p
            ],
        )


def m009_merge_order(db: Database) -> None:
    """The order members joined a story, as a column: `explain` lists merges by it (it was the
    SQLite rowid, which no other database has)."""
    db._script(
        """
        ALTER TABLE story_merges ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX story_merges_seq ON story_merges(seq)
        """
    )
    db._number_legacy_merges()


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial,
    m002_alerts_and_serve,
    m003_cluster_features,
    m004_delivery_intents,
    m005_readers,
    m006_passed_over,
    m007_slack_destinations,
    m008_email_ledger_per_recipient,
    m009_merge_order,
]


class Migrations(Database):
    """Applying MIGRATIONS: ordered, each recorded in `_migrations` once applied."""

    def migrate(self, *, until: str | None = None) -> list[str]:
        """Apply the migrations not yet recorded (those before `until`, if given); return their
        names.

        All of it runs in one write transaction (under the backend's migration lock), the list
        of applied migrations read inside it: two processes opening a fresh state at once
        apply each migration once (the second waits for the first, then finds nothing to do).
        """
        applied = []
        with self.transaction():
            self._lock_for_migrations()
            # Asked first: on PostgreSQL even CREATE ... IF NOT EXISTS needs the right to
            # create, which a user given only read/write grants on a migrated state lacks.
            if not self._has_table("_migrations"):
                self._run(
                    "CREATE TABLE _migrations "
                    "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            done = {int(r["id"]) for r in self._rows("SELECT id FROM _migrations")}
            if done and max(done) > len(MIGRATIONS):
                raise StateError(
                    f"{self.location}: state was written by a newer version of digest "
                    f"(migration {max(done)} > {len(MIGRATIONS)})",
                    hint="upgrade digest, or point --state-dir at a fresh folder",
                )
            for number, migration in enumerate(MIGRATIONS, start=1):
                if migration.__name__ == until:
                    break
                if number in done:
                    continue
                migration(self)
                self._run(
                    "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
                    (number, migration.__name__, ts(self.clock())),
                )
                applied.append(migration.__name__)
        return applied

    def applied_migrations(self) -> list[str]:
        """The names of the migrations this state has, in order."""
        return [str(r["name"]) for r in self._rows("SELECT name FROM _migrations ORDER BY id")]
