"""What the state API returns and takes: frozen records, never database rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import MergeReason


@dataclass(frozen=True)
class FeedState:
    """What the store knows about one feed: validators for conditional GET and its health."""

    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class LockRecord:
    """One held lock (a lease): its name, owner and when it lapses unless renewed."""

    name: str
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One run of one digest."""

    id: int
    digest: str
    period: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None  # "ok" | "empty" | "failed" | None while running (or crashed)
    error: str | None
    stories: int


@dataclass(frozen=True)
class LedgerEntry:
    """One confirmed delivery: this story reached this destination as this kind."""

    destination: str
    story_id: str
    kind: str
    digest: str
    ref: str | None
    delivered_at: datetime


# --- the story index (what the clusterer keeps per article) -----------------------------------


@dataclass(frozen=True)
class IndexedArticle:
    """What the clusterer compares, kept per article so a restart never re-embeds history."""

    key: str
    story_id: str
    at: datetime
    ident_url: str | None
    content_hash: str | None
    thin: tuple[str, ...]
    model: str
    vector: bytes
    minhash: bytes | None
    terms: dict[str, Any]


@dataclass(frozen=True)
class StoryHead:
    """A story's own row: created with these times, or given a new headline and update time."""

    id: str
    headline: str
    first_seen: datetime
    last_updated: datetime


@dataclass(frozen=True)
class FragmentMerge:
    """Two stories found to be one: `absorbed` joins `kept`, whose id stays."""

    kept: str
    absorbed: str
    score: float
    evidence: str
    founder: str | None = None  # the article the absorbed id was made from, if stored


@dataclass(frozen=True)
class StoryWrite:
    """One write of clustering results, applied in one transaction, in this order:

    the articles' index entries, each article's story, the reasons members joined (in the
    order they joined), stories merged into others, then the stories' own rows.
    """

    stories: Sequence[StoryHead]
    members: Sequence[tuple[str, str]]  # (article key, story id)
    reasons: Sequence[tuple[str, MergeReason]] = ()  # (story id, why the article joined)
    indexed: Sequence[IndexedArticle] = ()
    fragments: Sequence[FragmentMerge] = ()


# --- alerts, readers, the archive -------------------------------------------------------------


@dataclass(frozen=True)
class QueuedAlert:
    """A match held back (quiet hours, a rate limit) or not yet confirmed."""

    rule: str
    story_id: str
    reason: str
    queued_at: datetime


@dataclass(frozen=True)
class Subscriber:
    """One address of one digest, where it comes from and whether it still receives it."""

    digest: str
    address: str
    status: str  # "subscribed" | "unsubscribed"
    source: str  # "config" | "cli" | "web"
    changed_at: datetime | None = None


@dataclass(frozen=True)
class FollowRecord:
    """A followed topic as stored: its alerts go to `destination` (a Slack channel or email)."""

    id: int
    destination: str
    channel_id: str
    channel_name: str
    text: str
    rule: dict[str, Any]
    created_by: str


@dataclass(frozen=True)
class MuteRecord:
    """An outlet or words a channel muted."""

    id: int
    destination: str
    text: str


@dataclass(frozen=True)
class ReactionRecord:
    """A vote on a posted message and the stories it carried."""

    destination: str
    vote: int
    story_ids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ArchivedDayCount:
    """How many runs of a digest the archive holds for one UTC day."""

    day: str
    runs: int
