"""The digests as sent, kept in the state for the web archive and the Atom feed.

A run that delivered something stores its Digest (stories, Quick Looks, sources; not the
articles' full text) as JSON in the `archive` table, with its UTC day. The web side rebuilds
Digest records from it and renders them with the same templates as the email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .clock import iso_seconds, parse_iso
from .models import Article, Bullet, Delivery, Digest, DigestStory, MergeReason, QuickLooks, Story

if TYPE_CHECKING:
    from .store import Store

ARCHIVE_VERSION = 1


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    """A Digest as JSON-ready data (article texts left out: the archive shows Quick Looks)."""
    return {
        "version": ARCHIVE_VERSION,
        "name": digest.name,
        "kind": digest.kind,
        "reason": digest.reason,
        "generated_at": iso_seconds(digest.generated_at),
        "notes": list(digest.notes),
        "stories": [
            {
                "id": ds.story.id,
                "headline": ds.story.headline,
                "first_seen": iso_seconds(ds.story.first_seen),
                "last_updated": iso_seconds(ds.story.last_updated),
                "is_update": ds.is_update,
                "articles": [
                    {
                        "key": a.key,
                        "feed_url": a.feed_url,
                        "url": a.url,
                        "title": a.title,
                        "outlet": a.outlet,
                        "published": iso_seconds(a.published),
                    }
                    for a in ds.story.articles
                ],
                "merges": [[m.article_key, m.level, m.score, m.evidence] for m in ds.story.merges],
                "quick_looks": {
                    "headline": ds.quick_looks.headline,
                    "bullets": [[b.label, b.text, list(b.sources)] for b in ds.quick_looks.bullets],
                    "model": ds.quick_looks.model,
                    "deep_look": ds.quick_looks.deep_look,
                },
            }
            for ds in digest.stories
        ],
    }


def digest_from_dict(data: dict[str, Any]) -> Digest:
    """The Digest `digest_to_dict` wrote."""
    stories = []
    for s in data["stories"]:
        articles = tuple(
            Article(
                key=a["key"],
                feed_url=a["feed_url"],
                url=a["url"],
                title=a["title"],
                text="",
                outlet=a["outlet"],
                content_hash="",
                published=parse_iso(a["published"]),
            )
            for a in s["articles"]
        )
        ql = s["quick_looks"]
        story = Story(
            id=s["id"],
            headline=s["headline"],
            articles=articles,
            first_seen=parse_iso(s["first_seen"]) or datetime.now(UTC),
            last_updated=parse_iso(s["last_updated"]) or datetime.now(UTC),
            merges=tuple(MergeReason(*m) for m in s["merges"]),
        )
        quick = QuickLooks(
            headline=ql["headline"],
            bullets=tuple(Bullet(b[0], b[1], tuple(b[2])) for b in ql["bullets"]),
            model=ql["model"],
            deep_look=ql["deep_look"],
        )
        stories.append(DigestStory(story, quick, is_update=bool(s["is_update"])))
    return Digest(
        name=data["name"],
        generated_at=parse_iso(data["generated_at"]) or datetime.now(UTC),
        stories=tuple(stories),
        notes=tuple(data.get("notes", ())),
        kind=data.get("kind", "digest"),
        reason=data.get("reason"),
    )


def record_sent(store: Store, digest: Digest, deliveries: Sequence[Delivery]) -> bool:
    """Keep the digest in the archive when a destination received any of its stories."""
    sent = {sid for d in deliveries if d.ok for sid in d.story_ids}
    if not sent or not digest.stories:
        return False
    day = digest.generated_at.astimezone(UTC).strftime("%Y-%m-%d")
    store.archive_digest(digest.name, digest.kind, digest.generated_at, day, digest_to_dict(digest))
    return True


@dataclass(frozen=True)
class ArchivedDay:
    """One digest's day in the archive: how many runs and stories it holds."""

    digest: str
    day: str
    runs: int
    stories: int


def archived_days(store: Store, digest: str) -> list[ArchivedDay]:
    """The days a digest was sent, newest first."""
    out = []
    for r in store.archived_day_counts(digest):
        stories = len(day_digest(store, digest, r.day).stories)
        out.append(ArchivedDay(digest, r.day, r.runs, stories))
    return out


def archived_runs(store: Store, digest: str, limit: int = 50) -> list[Digest]:
    """The digest's archived runs, newest first."""
    return [digest_from_dict(data) for data in store.archived(digest, limit=limit)]


def day_digest(store: Store, digest: str, day: str) -> Digest:
    """Everything a digest sent on one UTC day, as one Digest (each story once, latest copy)."""
    runs = [digest_from_dict(data) for data in store.archived(digest, day=day)]
    if not runs:
        return Digest(
            name=digest, generated_at=datetime.fromisoformat(day + "T00:00:00+00:00"), stories=()
        )
    stories: dict[str, DigestStory] = {}
    for run in runs:
        for ds in run.stories:
            stories.pop(ds.story.id, None)
            stories[ds.story.id] = ds
    return Digest(name=digest, generated_at=runs[-1].generated_at, stories=tuple(stories.values()))
