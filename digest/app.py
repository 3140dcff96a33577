"""Build the pieces of a run in one place: config, store, HTTP client, models, notifiers.

Nothing here is module-level state: the CLI (or a test) calls `build_app` and passes the App down.
Heavy models are never loaded here; the summariser and embedder load themselves on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from .clock import SYSTEM_CLOCK
from .cluster import Clusterer
from .config import Config, Destination, DigestConfig
from .deliver import Notifier, build_notifier
from .deliver.local import LocalNotifier
from .embed import Embedder, embedder_for
from .extract import auto_processes
from .fetch import Fetcher, build_client
from .models import Article, Clock, Story
from .runtime import usable_cpus
from .store import Store
from .summarize import Summarizer, build_summarizer
from .work import InProcessWork, Work, WorkEmbedder, queue_url

NotifierFactory = Callable[[Destination], Notifier]
"""Builds the Notifier of one configured destination (digest.deliver.build_notifier)."""
LocalNotifierFactory = Callable[[DigestConfig], Notifier]
"""Builds the Notifier of a digest without destinations (the terminal and an HTML file)."""


class StoryGrouper(Protocol):
    """Assigns newly stored articles to stories (the Clusterer, or the one-per-article twin)."""

    def add(self, articles: Sequence[Article]) -> list[Story]: ...

    def session(self) -> AbstractContextManager[None]:
        """Consecutive `add` calls of one backlog (the Clusterer keeps its window meanwhile)."""
        ...


class SingletonGrouper:
    """Every article is its own story: used when `[cluster] enabled = false`."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def add(self, articles: Sequence[Article]) -> list[Story]:
        """Make one story per article, keyed by the article's key."""
        now = self.clock()
        stories = []
        for a in articles:
            story = Story(
                id=a.key, headline=a.title, articles=(a,), first_seen=now, last_updated=now
            )
            self.store.save_story(story)
            stories.append(story)
        return stories

    def session(self) -> AbstractContextManager[None]:
        """Nothing to keep between calls."""
        return nullcontext()


@dataclass
class App:
    """Everything a pipeline run needs, built once per process."""

    config: Config
    store: Store
    http: httpx.Client
    fetcher: Fetcher
    summarizer: Summarizer
    embedder: Embedder
    grouper: StoryGrouper
    clock: Clock
    notifier_factory: NotifierFactory
    local_notifier_factory: LocalNotifierFactory
    cpus: int = 1  # what torch and the extraction pool are sized for (digest.runtime)
    # Where pages are fetched+extracted, texts embedded and stories summarised: this process,
    # or `digest worker`s through [queue] url (digest.work). None: this process, as built here.
    work: Work | None = None
    # Set by `digest serve` to its lease (digest.lock): whether this process may still deliver.
    # Checked before each destination, so a replica that stalled past its lease sends nothing
    # more once it runs again. None: nothing to check (a lone `digest run`).
    fence: Callable[[], bool] | None = None

    def close(self) -> None:
        """Release the HTTP client, the queue's connections and the database."""
        if self.work is not None:
            self.work.close()
        self.http.close()
        self.store.close()


def state_location(config: Config, override: str | os.PathLike[str] | None = None) -> str | Path:
    """Where the state lives: DIGEST_DATABASE_URL, else the config's `state_url` (PostgreSQL),
    else the state folder (SQLite)."""
    url = os.environ.get("DIGEST_DATABASE_URL") or config.state_url
    return url if url else state_dir_for(config, override)


def state_dir_for(config: Config, override: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: --state-dir / DIGEST_STATE_DIR, else the config's (relative to it)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("DIGEST_STATE_DIR")
    if env:
        return Path(env).expanduser()
    return config.resolve_path(config.state_dir)


def default_model_cache() -> Path:
    """The user's cache folder for the dequantised model (~/.cache/digest/models on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("digest", appauthor=False)) / "models"


def model_cache_dir(config: Config, state_dir: Path | None = None) -> Path:
    """Where dequantised weights are cached: [summarizer] cache_dir, DIGEST_MODEL_CACHE, else
    the user's cache folder.

    Not the state folder: one copy serves every state (`digest demo`'s throwaway one, each
    `--state-dir`), so the ~40 s build happens once per user, not once per folder.
    """
    del state_dir  # the cache no longer depends on it; kept for callers that pass it
    if config.summarizer.cache_dir:
        return config.resolve_path(config.summarizer.cache_dir)
    env = os.environ.get("DIGEST_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return default_model_cache()


def build_app(
    config: Config,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
    http_client: httpx.Client | None = None,
    summarizer: Summarizer | None = None,
    embedder: Embedder | None = None,
    notifier_factory: NotifierFactory | None = None,
    local_notifier_factory: LocalNotifierFactory | None = None,
) -> App:
    """Build an App from a config; every part can be replaced (tests pass twins)."""
    cpus = usable_cpus(config.runtime.threads or None)
    clock = clock or SYSTEM_CLOCK
    directory = state_dir_for(config, state_dir)
    store = store or Store.open(state_location(config, state_dir))
    http = http_client or build_client(config.fetch)
    fetcher = Fetcher(http, config.fetch)
    if embedder is None:
        embedder = embedder_for(config.embedder, threads=cpus)
    if summarizer is None:
        # The clustering stage's MiniLM also keeps two wordings of one fact out of the bullets.
        summarizer = build_summarizer(
            config.summarizer, model_cache_dir(config, directory), embedder=embedder, threads=cpus
        )
    work = _build_work(config, fetcher, embedder, summarizer, cpus)
    grouper: StoryGrouper
    if config.cluster.enabled:
        # With a queue, the clusterer's texts are embedded by the workers (same model, by name).
        cluster_embedder = (
            embedder if isinstance(work, InProcessWork) else WorkEmbedder(work, embedder.name)
        )
        # Reading articles for clustering is CPU work per article: a pool as big as the page
        # extraction's (the CPUs this process may use, at most 4).
        grouper = Clusterer(
            store, cluster_embedder, config.cluster, clock, processes=auto_processes(cpus)
        )
    else:
        grouper = SingletonGrouper(store, clock)

    def _notifier(dest: Destination) -> Notifier:
        return build_notifier(dest, config, http=http)

    def _local(digest: DigestConfig) -> Notifier:
        return LocalNotifier(config.resolve_path(config.output.html_dir))

    return App(
        config=config,
        store=store,
        http=http,
        fetcher=fetcher,
        summarizer=summarizer,
        embedder=embedder,
        grouper=grouper,
        clock=clock,
        notifier_factory=notifier_factory or _notifier,
        local_notifier_factory=local_notifier_factory or _local,
        cpus=cpus,
        work=work,
    )


def _build_work(
    config: Config, fetcher: Fetcher, embedder: Embedder, summarizer: Summarizer, cpus: int
) -> Work:
    """In-process work, or QueueWork when [queue] url / DIGEST_QUEUE_URL names a Redis."""
    url = queue_url(config)
    if not url:
        return InProcessWork(fetcher, config.extract, embedder, summarizer, cpus=cpus)
    from .work.queue import QueueWork

    return QueueWork(
        url,
        config.queue,
        fetch=config.fetch,
        extract=config.extract,
        summarizer=config.summarizer,
        summarizer_name=summarizer.name,
        summarizer_embedder=getattr(getattr(summarizer, "embedder", None), "name", None),
        embedder=config.embedder,
        embedder_name=embedder.name,
        local_embedder=lambda: embedder,
    )
