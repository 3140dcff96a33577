"""Test twins the test files share, where the package has no twin of its own to use.

The package's own twins come first: `digest.clock.ManualClock` for time and
`digest.deliver.local.MemoryNotifier` for a destination. What is here only fits them to
what tests look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digest.clock import SYSTEM_CLOCK, Clock
from digest.deliver.local import MemoryNotifier
from digest.models import Article
from digest.store import Store

# A destination that takes a whole digest in one message, as most tests want to see it.
WHOLE_DIGEST = 10_000


def recorder(key: str, **kwargs: Any) -> MemoryNotifier:
    """A MemoryNotifier that sends each digest as one message."""
    return MemoryNotifier(key, stories_per_message=WHOLE_DIGEST, **kwargs)


def sends(notifier: MemoryNotifier) -> list[tuple[str, ...]]:
    """The story ids of each confirmed message, in the order sent."""
    return [m.story_ids for m in notifier.messages]


@dataclass
class FakeApp:
    """The parts of an App that the scheduler and `pipeline.deliver` use."""

    config: Any  # digest.config.Config; None where the code under test does not read it
    store: Store
    clock: Clock = SYSTEM_CLOCK


class Ledger:
    """An `on_sent` callback that records its calls the way the pipeline's ledger would."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str]] = []

    def __call__(self, story_ids: tuple[str, ...], reference: str) -> None:
        self.calls.append((story_ids, reference))

    @property
    def story_ids(self) -> list[str]:
        """Every confirmed story id, in the order confirmed."""
        return [sid for ids, _ in self.calls for sid in ids]


def article(**fields: Any) -> Article:
    """An Article with placeholder values for every field the test does not name."""
    defaults: dict[str, Any] = {
        "key": "k",
        "feed_url": "f",
        "url": None,
        "title": "t",
        "text": "x",
        "outlet": "o",
        "content_hash": "h",
    }
    return Article(**{**defaults, **fields})
