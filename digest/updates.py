"""Updates: a story already delivered that later gains facts comes back once, new bullets only.

A story's members are split at the time it was first delivered: the articles stored before
then ("old") and after ("fresh"). The fresh articles are cut down to the sentences that state a
number, date or proper noun the old articles never mention, and only those are summarised. No
new fact, no Update: a new outlet retelling the same story sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from .extract import content_hash
from .models import Article, QuickLooks, Story
from .store import Store
from .summarize.grounding import SourceIndex, ungrounded_in_text
from .summarize.text import split_sentences


@dataclass(frozen=True)
class UpdateCandidate:
    """A delivered story with articles that arrived after its delivery."""

    story: Story
    delivered_at: datetime
    old: tuple[Article, ...]
    fresh: tuple[Article, ...]


def find_candidates(
    store: Store, stories: Sequence[Story], destinations: Sequence[str]
) -> list[UpdateCandidate]:
    """Stories delivered to some destination (not yet as an Update) with articles since then."""
    delivered = {k: store.delivered_ids(k) for k in destinations}
    updated = {k: store.delivered_ids(k, "update") for k in destinations}
    out = []
    for story in stories:
        holders = [
            k for k in destinations if story.id in delivered[k] and story.id not in updated[k]
        ]
        times = [t for k in holders if (t := store.last_delivery_time(k, story.id)) is not None]
        if not times:
            continue
        when = min(times)
        fresh_keys = set(store.article_keys_since(story.id, when))
        if not fresh_keys:
            continue
        old = tuple(a for a in story.articles if a.key not in fresh_keys)
        fresh = tuple(a for a in story.articles if a.key in fresh_keys)
        if old:
            out.append(UpdateCandidate(story, when, old, fresh))
    return out


def fresh_facts(candidate: UpdateCandidate) -> tuple[Article, ...]:
    """The fresh articles cut down to their sentences with facts the old articles lack."""
    old_index = SourceIndex.build(a.title + "\n" + a.text for a in candidate.old)
    out = []
    for article in candidate.fresh:
        kept = [s for s in split_sentences(article.text) if ungrounded_in_text(s, old_index)]
        if kept:
            text = " ".join(kept)
            out.append(replace(article, text=text, content_hash=content_hash(text)))
    return tuple(out)


def as_update(story: Story, delta: QuickLooks) -> QuickLooks:
    """An Update's Quick Looks: the story's headline over the bullets of the new facts only."""
    # The story's headline is its founding article's title: the link goes to that article.
    url = next((a.url for a in story.articles if a.title == story.headline and a.url), None)
    return replace(delta, headline=story.headline, deep_look=None, url=url)
