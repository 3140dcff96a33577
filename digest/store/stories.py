"""Articles and stories, and the one path that writes stories: `save_assignments`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from ..models import Article, MergeReason, Story
from .db import Database, Row, dt, dt_req, like_literal, marks, ts, ts_or_none
from .records import StoryHead, StoryWrite

_CHUNK = 500  # values per IN list


def _article(row: Row) -> Article:
    return Article(
        key=row["key"],
        feed_url=row["feed_url"],
        url=row["url"],
        title=row["title"],
        text=row["text"],
        outlet=row["outlet"],
        content_hash=row["content_hash"],
        author=row["author"],
        published=dt(row["published"]),
        priority=int(row["priority"]),
        from_feed_only=bool(row["from_feed_only"]),
    )


class Stories(Database):
    """The `articles`, `stories` and `story_merges` tables (and `cluster_features`, written
    with them)."""

    # --- articles -----------------------------------------------------------------------------

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these article keys are already stored."""
        return self._keys_in("articles", keys)

    def _keys_in(self, table: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), _CHUNK):
            chunk = list(keys[i : i + _CHUNK])
            found.update(
                str(r["key"])
                for r in self._rows(
                    f"SELECT key FROM {table} WHERE key IN ({marks(len(chunk))})", chunk
                )
            )
        return found

    def add_articles(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        """Store new articles (story_id NULL until clustered); return those that were new."""
        added = []
        with self.transaction():
            for a in articles:
                changed = self._run(
                    """
                    INSERT INTO articles (key, feed_url, url, title, text, outlet,
                        content_hash, author, published, priority, from_feed_only, first_seen)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO NOTHING
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
                        ts_or_none(a.published),
                        a.priority,
                        int(a.from_feed_only),
                        ts(now),
                    ),
                )
                if changed:
                    added.append(a)
        return added

    def articles(self, keys: Sequence[str]) -> list[Article]:
        """These stored articles, in the order asked (keys not stored are left out)."""
        found: dict[str, Article] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = list(keys[i : i + _CHUNK])
            for r in self._rows(
                f"SELECT * FROM articles WHERE key IN ({marks(len(chunk))})", chunk
            ):
                found[str(r["key"])] = _article(r)
        return [found[k] for k in keys if k in found]

    def unclustered_articles(self) -> list[Article]:
        """Articles stored but not yet assigned to a story (e.g. after a crash mid-run)."""
        rows = self._rows("SELECT * FROM articles WHERE story_id IS NULL ORDER BY first_seen, key")
        return [_article(r) for r in rows]

    def article_keys_since(self, story_id: str, when: datetime) -> list[str]:
        """Keys of this story's articles first stored after `when`."""
        rows = self._rows(
            "SELECT key FROM articles WHERE story_id = ? AND first_seen > ? "
            "ORDER BY first_seen, key",
            (story_id, ts(when)),
        )
        return [str(r["key"]) for r in rows]

    # --- the story write path -----------------------------------------------------------------

    def save_story(self, story: Story) -> None:
        """Insert or update a story, its members' story_id and its merge reasons."""
        self.save_assignments(
            StoryWrite(
                stories=[StoryHead(story.id, story.headline, story.first_seen, story.last_updated)],
                members=[(a.key, story.id) for a in story.articles],
                reasons=[(story.id, m) for m in story.merges],
            ),
            story.last_updated,
        )

    def save_assignments(self, write: StoryWrite, now: datetime) -> None:
        """Apply one write of clustering results in one transaction (see `StoryWrite`).

        A story row is created with its head's times; an existing one keeps its first_seen and
        takes the new headline and update time. A member that joins again keeps one reason,
        the latest, moved to the end of the story's order.
        """
        with self.transaction():
            self._run_many(
                "INSERT INTO cluster_features (key, story_id, at, clustered_at, ident_url, "
                "content_hash, thin, model, vector, minhash, terms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET story_id = excluded.story_id, "
                "at = excluded.at, clustered_at = excluded.clustered_at, "
                "ident_url = excluded.ident_url, content_hash = excluded.content_hash, "
                "thin = excluded.thin, model = excluded.model, vector = excluded.vector, "
                "minhash = excluded.minhash, terms = excluded.terms",
                [
                    (
                        f.key,
                        f.story_id,
                        ts(f.at),
                        ts(now),
                        f.ident_url,
                        f.content_hash,
                        "; ".join(f.thin),
                        f.model,
                        f.vector,
                        f.minhash,
                        json.dumps(f.terms, ensure_ascii=False),
                    )
                    for f in write.indexed
                ],
            )
            self._run_many(
                "UPDATE articles SET story_id = ? WHERE key = ?",
                [(sid, key) for key, sid in write.members],
            )
            for sid, reason in write.reasons:
                self._add_reason(sid, reason)
            for mg in write.fragments:
                # Everyone keeps the reason they joined for; the absorbed story's founder (the
                # article its id was made from) joins with the merge as its reason.
                for table in ("cluster_features", "articles", "story_merges"):
                    self._run(
                        f"UPDATE {table} SET story_id = ? WHERE story_id = ?",
                        (mg.kept, mg.absorbed),
                    )
                if mg.founder is not None:
                    self._add_reason(
                        mg.kept, MergeReason(mg.founder, "same_event", mg.score, mg.evidence)
                    )
                self._run("DELETE FROM stories WHERE id = ?", (mg.absorbed,))
            self._run_many(
                "INSERT INTO stories (id, headline, first_seen, last_updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET headline = excluded.headline, "
                "last_updated = excluded.last_updated",
                [(s.id, s.headline, ts(s.first_seen), ts(s.last_updated)) for s in write.stories],
            )

    def _add_reason(self, story_id: str, m: MergeReason) -> None:
        # `seq` numbers reasons in the order they were written (one writer at a time per
        # transaction on SQLite; on a tie elsewhere the article key orders them).
        self._run(
            "INSERT INTO story_merges (story_id, article_key, level, score, evidence, seq) "
            "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM story_merges)) "
            "ON CONFLICT (story_id, article_key) DO UPDATE SET level = excluded.level, "
            "score = excluded.score, evidence = excluded.evidence, seq = excluded.seq",
            (story_id, m.article_key, m.level, m.score, m.evidence),
        )

    # --- reading stories ----------------------------------------------------------------------

    def merge_reasons(self, story_id: str) -> list[MergeReason]:
        """Why each member after the first joined the story, in the order they joined."""
        rows = self._rows(
            "SELECT article_key, level, score, evidence FROM story_merges "
            "WHERE story_id = ? ORDER BY seq, article_key",
            (story_id,),
        )
        return [
            MergeReason(r["article_key"], r["level"], float(r["score"]), r["evidence"])
            for r in rows
        ]

    def story_headline(self, story_id: str) -> str | None:
        """The stored headline of a story, or None when there is no such story."""
        row = self._one("SELECT headline FROM stories WHERE id = ?", (story_id,))
        return None if row is None else str(row["headline"])

    def load_story(self, story_id: str) -> Story | None:
        """A story with its member articles and merge reasons, or None."""
        row = self._one("SELECT * FROM stories WHERE id = ?", (story_id,))
        if row is None:
            return None
        members = [
            _article(r)
            for r in self._rows(
                "SELECT * FROM articles WHERE story_id = ? ORDER BY first_seen, key", (story_id,)
            )
        ]
        return Story(
            id=row["id"],
            headline=row["headline"],
            articles=tuple(members),
            first_seen=dt_req(row["first_seen"]),
            last_updated=dt_req(row["last_updated"]),
            merges=tuple(self.merge_reasons(story_id)),
        )

    def stories_updated_since(self, since: datetime, feed_urls: Sequence[str]) -> list[Story]:
        """Stories updated at or after `since` with at least one member from these feeds."""
        rows = self._rows(
            f"""
            SELECT DISTINCT s.id, s.last_updated FROM stories s
            JOIN articles a ON a.story_id = s.id
            WHERE s.last_updated >= ? AND a.feed_url IN ({marks(len(feed_urls))})
            ORDER BY s.last_updated DESC, s.id
            """,
            (ts(since), *feed_urls),
        )
        stories = (self.load_story(str(r["id"])) for r in rows)
        return [s for s in stories if s is not None]

    def story_in_use(self, story_id: str) -> bool:
        """Whether anything outside the clusterer refers to this story id.

        A delivery (or one in flight), a queued alert, a digest that passed it over, a Slack
        vote or an archived digest: such a story must keep its id, so it is never merged away.
        """
        for table in ("deliveries", "alert_queue", "passed_over"):
            if self._one(f"SELECT 1 AS found FROM {table} WHERE story_id = ? LIMIT 1", (story_id,)):
                return True
        # The id as a JSON string, matched as itself: a story id is a URL, whose `_` and `%`
        # are LIKE wildcards, and SQLite's LIKE ignores case where PostgreSQL's does not. LIKE
        # narrows the rows; the exact test is made here, the same on both backends.
        needle = json.dumps(story_id)
        pattern = f"%{like_literal(needle)}%"
        for table, column in (
            ("delivery_intents", "story_ids"),
            ("slack_reactions", "story_ids"),
            ("archive", "data"),
        ):
            rows = self._rows(
                f"SELECT {column} AS v FROM {table} WHERE {column} LIKE ? ESCAPE '!'", (pattern,)
            )
            if any(needle in str(r["v"]) for r in rows):
                return True
        return False
