"""Typed records that flow between the stages of the pipeline.

feeds -> FeedItem -> Article -> Story -> QuickLooks -> Digest -> Delivery
Every record is frozen: a stage returns new records, it never edits the ones it was given.
Every datetime in a record is timezone-aware; a naive one is refused where the record is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .clock import Clock as Clock  # the port stages are given for the time and for waiting
from .clock import require_aware


def _require_aware(record: object, *fields: str) -> None:
    for name in fields:
        value = getattr(record, name)
        if value is not None:
            require_aware(value, f"{type(record).__name__}.{name}")


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the feed describes it (before the page is fetched)."""

    # identity: canonical URL, else "guid:<feed url>#<guid>" (bare GUIDs like "42" collide
    # between feeds), else "sha256:<content hash>"
    key: str
    feed_url: str
    feed_title: str | None
    url: str | None  # the entry's link, None when missing or refused as unsafe
    guid: str | None
    title: str
    summary_html: str  # the feed's own text for the entry (summary or full content), HTML
    author: str | None = None
    published: datetime | None = None
    priority: int = 0  # from the feed's config; higher is more important

    def __post_init__(self) -> None:
        _require_aware(self, "published")


@dataclass(frozen=True)
class Article:
    """A fetched and extracted article: what every later stage reads."""

    key: str
    feed_url: str
    url: str | None
    title: str
    text: str  # plain text, paragraphs separated by blank lines
    outlet: str  # site name, else feed title, else host
    content_hash: str  # sha256 of the normalised text, keys the summary cache
    author: str | None = None
    published: datetime | None = None
    priority: int = 0
    from_feed_only: bool = False  # True when the page failed and the feed text was used

    def __post_init__(self) -> None:
        _require_aware(self, "published")


@dataclass(frozen=True)
class MergeReason:
    """Why an article joined a story: the level of sameness, its score and the evidence."""

    article_key: str
    level: str  # "identical" | "near_duplicate" | "same_event"
    score: float
    evidence: str


@dataclass(frozen=True)
class Story:
    """One event, with every article (outlet) that reported it."""

    id: str  # stable across runs: a delivered story keeps its id when new outlets join
    headline: str
    articles: tuple[Article, ...]
    first_seen: datetime
    last_updated: datetime
    merges: tuple[MergeReason, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self, "first_seen", "last_updated")

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlet names in order of first appearance."""
        return tuple(dict.fromkeys(a.outlet for a in self.articles))

    @property
    def url(self) -> str | None:
        """The link of the lead article."""
        return next((a.url for a in self.articles if a.url), None)

    @property
    def priority(self) -> int:
        """The highest feed priority among the articles."""
        return max((a.priority for a in self.articles), default=0)

    @property
    def published(self) -> datetime:
        """The newest publication time of any member, else when it was first seen."""
        dates = [a.published for a in self.articles if a.published is not None]
        return max(dates) if dates else self.first_seen


@dataclass(frozen=True)
class Bullet:
    """One Quick Looks bullet: `Label: text`, with the source sentences it rests on."""

    label: str
    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuickLooks:
    """A story's summary: short headline, 3-5 bullets, optional Deep Look paragraph."""

    headline: str
    bullets: tuple[Bullet, ...]
    model: str
    deep_look: str | None = None
    url: str | None = None  # the article whose title (or lead) the headline is: its link


@dataclass(frozen=True)
class DigestStory:
    """A story as it appears in one digest."""

    story: Story
    quick_looks: QuickLooks
    is_update: bool = False  # an Update carries only the bullets that are new since delivery


@dataclass(frozen=True)
class Digest:
    """What gets rendered and delivered: a named, timestamped list of stories."""

    name: str
    generated_at: datetime
    stories: tuple[DigestStory, ...]
    notes: tuple[str, ...] = field(default=())  # one-line problems met during the run
    kind: str = "digest"  # "digest" | "alert"
    reason: str | None = None  # for an alert: which rule fired and why

    def __post_init__(self) -> None:
        _require_aware(self, "generated_at")


@dataclass(frozen=True)
class DeliveryIntent:
    """A message about to be posted, recorded before the post and cleared with its confirmation.

    One still open at the start of a run marks the in-doubt window: the process died after it
    posted and before the ledger heard, so the destination may or may not have the message.
    """

    destination: str
    key: str  # deterministic per message (see deliver.delivery_key); the post carries it
    digest: str
    story_ids: tuple[str, ...]
    kinds: tuple[str, ...]  # the ledger kind of each story id, in the same order
    created_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self, "created_at")


@dataclass(frozen=True)
class Delivery:
    """The outcome of delivering a digest to one destination."""

    destination: str  # the destination's stable key, e.g. "slack:#news"
    story_ids: tuple[str, ...]
    ok: bool
    detail: str = ""
