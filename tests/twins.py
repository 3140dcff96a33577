"""Test twins the test files share, where the package has no twin of its own to use.

The package's own twins come first: `digest.clock.ManualClock` for time and
`digest.deliver.local.MemoryNotifier` for a destination. What is here only fits them to
what tests look at.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from digest.clock import SYSTEM_CLOCK, Clock
from digest.deliver.local import MemoryNotifier
from digest.models import Article
from digest.store import Store

ROOT = Path(__file__).resolve().parents[1]

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
    fence: Any = None  # as App.fence: None, or whether this process may still deliver


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


def eval_script(name: str) -> ModuleType:
    """`eval/<name>.py` loaded as the module `eval_<name>` (eval/ holds scripts, not a package).

    Registered in sys.modules before it runs, as dataclasses defined in it need.
    """
    module_name = f"eval_{name}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "eval" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class VectorsByMarker:
    """Each text gets the vector of the first marker it contains."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {
            m: np.asarray(v, np.float32) / np.linalg.norm(v) for m, v in vectors.items()
        }
        self.name = "fixed-headlines"

    def embed(self, texts):
        return np.vstack([next(v for m, v in self.vectors.items() if m in t) for t in texts])
