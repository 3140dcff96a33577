"""The story index: what the clusterer keeps per article, and the port it reads and writes.

`StoryIndex` is all the clusterer knows of the state; every backend's store implements it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..models import Article, MergeReason, Story
from .db import Database, Row, dt_req, marks, ts
from .records import IndexedArticle, StoryWrite
from .stories import Stories

_CHUNK = 500


class StoryIndex(Protocol):
    """The clusterer's port to the state."""

    def clustered_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these article keys the index already holds (already clustered)."""
        ...

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these article keys are stored."""
        ...

    def add_articles(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        """Store new articles; return those that were new."""
        ...

    def articles(self, keys: Sequence[str]) -> list[Article]:
        """These stored articles, in the order asked."""
        ...

    def load_window(self, lo: datetime, hi: datetime) -> list[IndexedArticle]:
        """Index entries whose time is within [lo, hi], by time then key."""
        ...

    def index_rows(self, keys: Sequence[str]) -> list[IndexedArticle]:
        """The index entries of these article keys (those it holds), in no set order."""
        ...

    def find_identical(
        self, *, ident_url: str | None = None, content_hash: str | None = None
    ) -> str | None:
        """The story of the first article clustered with this page URL (or this text hash)."""
        ...

    def story_keys(self, story_id: str) -> list[str]:
        """The keys the index holds for this story."""
        ...

    def update_vectors(self, model: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        """Replace stored vectors (key, float32 bytes) with ones made by `model`."""
        ...

    def story_headline(self, story_id: str) -> str | None:
        """A story's stored headline, or None."""
        ...

    def story_in_use(self, story_id: str) -> bool:
        """Whether anything outside the clusterer refers to this story (it keeps its id)."""
        ...

    def save_assignments(self, write: StoryWrite, now: datetime) -> None:
        """Write the clustering results of one batch in one transaction."""
        ...

    def load_story(self, story_id: str) -> Story | None:
        """A story with its members and merge reasons."""
        ...

    def merge_reasons(self, story_id: str) -> list[MergeReason]:
        """Why each member after the first joined, in order."""
        ...

    def thin_reasons(self, article_key: str) -> tuple[str, ...]:
        """Why an article was kept from merging on thin evidence."""
        ...


_INDEX_COLUMNS = "key, story_id, at, ident_url, content_hash, thin, model, vector, minhash, terms"


def _indexed(r: Row) -> IndexedArticle:
    return IndexedArticle(
        key=r["key"],
        story_id=r["story_id"],
        at=dt_req(r["at"]),
        ident_url=r["ident_url"],
        content_hash=r["content_hash"],
        thin=tuple(r["thin"].split("; ")) if r["thin"] else (),
        model=r["model"],
        vector=bytes(r["vector"]) if r["vector"] else b"",
        minhash=bytes(r["minhash"]) if r["minhash"] else None,
        terms=json.loads(r["terms"]),
    )


class Index(Stories, Database):
    """The `cluster_features` table (written by `Stories.save_assignments`)."""

    def clustered_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these article keys the index already holds (already clustered)."""
        return self._keys_in("cluster_features", keys)

    def load_window(self, lo: datetime, hi: datetime) -> list[IndexedArticle]:
        """Index entries whose time is within [lo, hi], by time then key."""
        rows = self._rows(
            f"SELECT {_INDEX_COLUMNS} FROM cluster_features WHERE at BETWEEN ? AND ? "
            "ORDER BY at, key",
            (ts(lo), ts(hi)),
        )
        return [_indexed(r) for r in rows]

    def index_rows(self, keys: Sequence[str]) -> list[IndexedArticle]:
        """The index entries of these article keys (those it holds), in no set order."""
        found: list[IndexedArticle] = []
        for i in range(0, len(keys), _CHUNK):
            chunk = list(keys[i : i + _CHUNK])
            rows = self._rows(
                f"SELECT {_INDEX_COLUMNS} FROM cluster_features WHERE key IN ({marks(len(chunk))})",
                chunk,
            )
            found += [_indexed(r) for r in rows]
        return found

    def find_identical(
        self, *, ident_url: str | None = None, content_hash: str | None = None
    ) -> str | None:
        """The story of the first article clustered with this page URL (or this text hash)."""
        column, value = ("ident_url", ident_url) if ident_url else ("content_hash", content_hash)
        if not value:
            return None
        row = self._one(
            f"SELECT story_id FROM cluster_features WHERE {column} = ? "
            "ORDER BY clustered_at, key LIMIT 1",
            (value,),
        )
        return None if row is None else str(row["story_id"])

    def story_keys(self, story_id: str) -> list[str]:
        """The keys the index holds for this story."""
        rows = self._rows(
            "SELECT key FROM cluster_features WHERE story_id = ? ORDER BY key", (story_id,)
        )
        return [str(r["key"]) for r in rows]

    def update_vectors(self, model: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        """Replace stored vectors (key, float32 bytes) with ones made by `model`."""
        with self.transaction():
            self._run_many(
                "UPDATE cluster_features SET model = ?, vector = ? WHERE key = ?",
                [(model, v, key) for key, v in vectors],
            )

    def thin_reasons(self, article_key: str) -> tuple[str, ...]:
        """Why an article was kept from merging on thin evidence (empty when it was not)."""
        row = self._one("SELECT thin FROM cluster_features WHERE key = ?", (article_key,))
        return tuple(row["thin"].split("; ")) if row and row["thin"] else ()

    def clustered_count(self) -> int:
        """How many articles the index holds."""
        row = self._one("SELECT COUNT(*) AS n FROM cluster_features")
        return int(row["n"]) if row else 0
