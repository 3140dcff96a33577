"""Order stories for a digest: how many outlets reported it, how fresh it is, feed priority.

    score = OUTLET_WEIGHT * log2(1 + outlets)
          + PRIORITY_WEIGHT * priority
          + RECENCY_WEIGHT * 0.5 ** (age_hours / HALF_LIFE_HOURS)

`outlets` counts distinct outlets, `priority` is the highest feed priority among the members and
`age_hours` is measured from the newest member's publication time. The log makes the fifth
outlet worth less than the second; the half-life lets a fresh single-outlet story outrank a
day-old one but not a day-old story that four outlets carried. Ties break on more outlets,
then newer, then story id, so the order is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from ..clock import as_utc
from ..models import Story

OUTLET_WEIGHT = 2.0
PRIORITY_WEIGHT = 1.0
RECENCY_WEIGHT = 3.0
HALF_LIFE_HOURS = 12.0


def story_score(story: Story, now: datetime) -> float:
    """The ranking score of one story (see the module docstring for the formula)."""
    age_hours = max(0.0, (as_utc(now) - as_utc(story.published)).total_seconds() / 3600)
    freshness: float = 0.5 ** (age_hours / HALF_LIFE_HOURS)
    return (
        OUTLET_WEIGHT * math.log2(1 + len(story.outlets))
        + PRIORITY_WEIGHT * story.priority
        + RECENCY_WEIGHT * freshness
    )


def rank(stories: Sequence[Story], now: datetime) -> list[Story]:
    """All stories, best first; no cap (a digest's `max_stories` is applied by the caller)."""
    return sorted(
        stories,
        key=lambda s: (
            -round(story_score(s, now), 9),
            -len(s.outlets),
            -as_utc(s.published).timestamp(),
            s.id,
        ),
    )
