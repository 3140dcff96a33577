"""Where the heavy stages run: in this process, or on `digest worker` processes via a queue.

Three stages do the work that grows with the number of feeds: fetching and extracting article
pages, embedding texts for clustering, and summarising the stories of a digest. They go through
the `Work` port. `InProcessWork` is exactly what the pipeline did before there was a queue;
`digest.work.queue.QueueWork` sends each page, batch of texts and story to Dramatiq workers on
Redis and waits for their results.

Workers are stateless: they compute and hand the result back (Dramatiq's Results middleware);
the process that holds the digest period stores it and delivers, so workers never touch the
database and the ledger's guarantees do not change. `build_work` picks one from `[queue] url`
(or DIGEST_QUEUE_URL); with neither, everything runs here, as before.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..extract import ExtractedPage, extract_pages
from ..fetch import Fetcher, FetchRequest
from ..models import Article, QuickLooks

if TYPE_CHECKING:
    from ..config import Config, ExtractSettings

log = logging.getLogger(__name__)

QUEUE_URL_ENV = "DIGEST_QUEUE_URL"


@dataclass(frozen=True)
class PageRequest:
    """One article page to fetch and extract, named by its feed item's identity key."""

    key: str  # FeedItem.key: what makes the task idempotent
    url: str
    allow_private: bool | None = None  # None: [fetch] allow_private_addresses


Extracted = ExtractedPage | str
"""The extracted page, or one line saying why there is none (the item keeps the feed's text)."""


class Work(Protocol):
    """The stages whose cost grows with the feeds, wherever they run."""

    def fetch_pages(self, requests: Sequence[PageRequest]) -> list[Extracted]:
        """Fetch and extract each page; one outcome per request, in order."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text (the embedder's own vectors)."""
        ...

    def summarise(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks | None]:
        """One QuickLooks per story; None for a story whose summary did not come back."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class InProcessWork:
    """Today's behaviour: the pages on this process's fetcher and extraction pool, the models
    in this process."""

    def __init__(
        self,
        fetcher: Fetcher,
        extract: ExtractSettings,
        embedder: Any,
        summarizer: Any,
        *,
        cpus: int | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.extract = extract
        self.embedder = embedder
        self.summarizer = summarizer
        self.cpus = cpus

    def fetch_pages(self, requests: Sequence[PageRequest]) -> list[Extracted]:
        """All pages fetched at once (bounded concurrency), then extracted in a process pool."""
        results = self.fetcher.fetch_many(
            [FetchRequest(r.url, allow_private=r.allow_private) for r in requests]
        )
        outcomes: list[Extracted] = [r.error or "no content" for r in results]
        fetched = [
            (i, (r.content, r.final_url))
            for i, r in enumerate(results)
            if r.status == "ok" and r.content is not None
        ]
        extracted = extract_pages(
            [job for _, job in fetched],
            favor_precision=self.extract.favor_precision,
            processes=self.extract.processes,
            cpus=self.cpus,
        )
        for (i, _), outcome in zip(fetched, extracted, strict=True):
            outcomes[i] = outcome
        return outcomes

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The embedder's vectors."""
        return np.asarray(self.embedder.embed(texts))

    def summarise(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks | None]:
        """The summarizer's Quick Looks (never None here)."""
        return list(self.summarizer.summarize(stories))

    def close(self) -> None:
        """Nothing to release: the App owns the fetcher's client."""


class WorkEmbedder:
    """The Embedder port over a Work: what the clusterer calls when embedding is queued.

    Its `name` is the embedder the workers use, so thresholds and stored vectors stay those of
    that model.
    """

    def __init__(self, work: Work, name: str, dim: int = 384) -> None:
        self.work = work
        self.name = name
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The workers' vectors for the texts."""
        return self.work.embed(texts)


def queue_url(config: Config) -> str | None:
    """DIGEST_QUEUE_URL, else `[queue] url`; None means run everything in this process."""
    return os.environ.get(QUEUE_URL_ENV, "").strip() or config.queue.url


__all__ = [
    "InProcessWork",
    "Extracted",
    "PageRequest",
    "QUEUE_URL_ENV",
    "Work",
    "WorkEmbedder",
    "queue_url",
]
