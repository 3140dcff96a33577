"""The heavy stages as Dramatiq tasks on Redis: the sending side (`QueueWork`) and the workers'.

One message per article page (keyed by the feed item's identity), per batch of texts to embed
(keyed by the embedder and the texts) and per story to summarise (keyed by the story's
content, as the summary cache is). The message id is derived from that key, so the result key
(Dramatiq's Results middleware) is the same however often a job is sent: a job a restarted run
sends again finds its result waiting, and a redelivered copy writes the same value twice.

The holder of the digest period sends, waits, then stores and delivers: workers never write
state. A worker SIGKILLed mid-task loses nothing: Dramatiq's Redis broker keeps every fetched
message in the worker's ack set until it is acknowledged, and once the worker's heartbeat is
older than `[queue] heartbeat_seconds` any live worker's queue maintenance puts those messages
back on the queue. A task that still has no result after `[queue] timeout_seconds` costs its
item (one line in the run's problems), never the run.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import (
    EmbedderSettings,
    ExtractSettings,
    FetchSettings,
    QueueSettings,
    SummarizerSettings,
)
from ..errors import DigestError
from ..extract import ExtractedPage, drop_site_repeats, extract_page
from ..models import Article, QuickLooks
from . import Extracted, PageRequest
from .codec import (
    article_from_dict,
    article_to_dict,
    job_id,
    page_from_dict,
    page_to_dict,
    texts_digest,
    vectors_from_data,
    vectors_to_data,
)

log = logging.getLogger(__name__)

PAGES_QUEUE = "digest-pages"
EMBED_QUEUE = "digest-embed"
SUMMARY_QUEUE = "digest-summaries"
QUEUES = {"pages": PAGES_QUEUE, "embed": EMBED_QUEUE, "summaries": SUMMARY_QUEUE}
PAGE_ACTOR, EMBED_ACTOR, SUMMARY_ACTOR = "digest_page", "digest_embed", "digest_summary"

EMBED_BATCH = 64  # texts per embedding message: big enough for the model's batches
# Out of a million broker commands, how many also run queue maintenance (the step that gives a
# dead worker's unacknowledged messages back to the queue). Dramatiq's default, 1,000 (0.1%),
# means minutes before a dead worker's tasks are seen at a few commands a second; at 5% a
# worker polling once a second per queue finds them within seconds of the heartbeat timeout.
MAINTENANCE_CHANCE = 50_000
# A message delivered this many times (retries after an exception, redeliveries after its
# worker died) is given up on: a page that crashes every worker that reads it must not go on
# killing them after its run stopped waiting.
MAX_DELIVERIES = 10
MAX_RETRIES = 2  # an exception in a task (a bug, a model error) is retried twice, then reported
# The sender is told which results are in (each worker pushes a finished message's id onto
# the list the message names) and reads only those; every SWEEP_SECONDS it also reads all the
# results it still waits for, in case a tell went astray (a worker killed between storing a
# result and telling is redelivered and tells then; this is for what nobody foresaw). Reading
# every pending result key on every poll instead cost the holder about half a core while
# thousands of pages were in flight, CPU the workers needed.
REPLY_OPTION = "digest_reply"
SWEEP_SECONDS = 10.0
WAIT_SECONDS = 0.25  # longest block on the reply list before the deadline is looked at again
WORKER_SETTINGS_ENV = "DIGEST_WORKER_SETTINGS"


class QueueError(DigestError):
    """The queue (Redis) cannot be reached, or a worker cannot do what a task asks."""

    hint = "check [queue] url / DIGEST_QUEUE_URL, and that Redis and `digest worker` run"


class WorkMismatch(Exception):
    """A task asks for a summarizer or embedder this worker cannot provide (not retried)."""


class GivenUp(Exception):
    """A message delivered MAX_DELIVERIES times (not retried)."""


def build_broker(url: str, settings: QueueSettings) -> tuple[Any, Any]:
    """A Dramatiq Redis broker with the Results middleware, and its result backend."""
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import CurrentMessage
    from dramatiq.results import Results
    from dramatiq.results.backends.redis import RedisBackend

    broker = RedisBroker(
        url=url,
        namespace=settings.namespace,
        heartbeat_timeout=int(settings.heartbeat_seconds * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    backend = RedisBackend(url=url, namespace=f"{settings.namespace}-results")
    # Before Results: Dramatiq runs the after-hooks in reverse order, so a result is stored
    # before the sender is told it is there.
    broker.add_middleware(_replies(backend, _result_ttl_ms(settings)))
    broker.add_middleware(Results(backend=backend, result_ttl=_result_ttl_ms(settings)))
    broker.add_middleware(CurrentMessage())
    return broker, backend


def _replies_middleware() -> Any:
    from dramatiq.middleware import Middleware

    class Replies(Middleware):
        """Pushes a message's id onto the list named by its REPLY_OPTION once its result (or
        its final failure) is stored, so the sender reads only results that are there."""

        def __init__(self, backend: Any, ttl_ms: int) -> None:
            self.backend = backend
            self.ttl = max(1, ttl_ms // 1000)

        def _tell(self, message: Any) -> None:
            reply = (message.options or {}).get(REPLY_OPTION)
            if not reply:
                return
            with self.backend.client.pipeline(transaction=False) as pipe:
                pipe.rpush(reply, message.message_id)
                pipe.expire(reply, self.ttl)
                pipe.execute()

        def after_process_message(
            self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
        ) -> None:
            if exception is None:
                self._tell(message)

        def after_skip_message(self, broker: Any, message: Any) -> None:
            self._tell(message)

        def after_nack(self, broker: Any, message: Any) -> None:
            if message.failed:  # retries used up: Results stored the exception
                self._tell(message)

    return Replies


def _replies(backend: Any, ttl_ms: int) -> Any:
    """The Replies middleware (dramatiq is imported only when a queue is used)."""
    return _replies_middleware()(backend, ttl_ms)


def _result_ttl_ms(settings: QueueSettings) -> int:
    # Results are deleted once the sender has read them; the TTL only bounds what a sender
    # that died leaves behind (long enough for its restart to find them).
    return int(max(3600.0, 4 * settings.timeout_seconds) * 1000)


def check_reachable(url: str) -> None:
    """QueueError naming the URL when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as e:
        raise QueueError(f"queue {_safe(url)}: cannot reach Redis: {e}") from None
    finally:
        client.close()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


# --- the sending side ----------------------------------------------------------------------------


@dataclass
class _Sent:
    message: Any
    key: str  # the result key
    what: str  # names the item in a problem line


class QueueWork:
    """The Work port on Dramatiq workers: send the jobs, wait for the results, report the lost."""

    def __init__(
        self,
        url: str,
        settings: QueueSettings,
        *,
        fetch: FetchSettings,
        extract: ExtractSettings,
        summarizer: SummarizerSettings,
        summarizer_name: str,
        summarizer_embedder: str | None,
        embedder: EmbedderSettings,
        embedder_name: str,
        local_embedder: Callable[[], Any] | None = None,
    ) -> None:
        check_reachable(url)
        self.url = url
        self.settings = settings
        self.broker, self.backend = build_broker(url, settings)
        self.fetch = fetch.model_dump(mode="json")
        self.favor_precision = extract.favor_precision
        self.summarizer = summarizer.model_dump(mode="json")
        self.summarizer_name = summarizer_name
        self.summarizer_embedder = summarizer_embedder
        self.embedder_name = embedder_name
        self.embedder = embedder.model_dump(mode="json")
        self._local_embedder = local_embedder
        self._warned_idle = False

    # the three stages

    def fetch_pages(self, requests: Sequence[PageRequest]) -> list[Extracted]:
        """One task per page; the site-repeat filter then runs here over the whole batch, as
        it does in process."""
        jobs = []
        for r in requests:
            job = {
                "key": r.key,
                "url": r.url,
                "allow_private": r.allow_private,
                "fetch": self.fetch,
                "favor_precision": self.favor_precision,
            }
            jobs.append((job_id("page", job), job, f"page {r.url}"))
        results = self._run(PAGES_QUEUE, PAGE_ACTOR, jobs)
        outcomes: list[Extracted] = []
        urls: list[str | None] = []
        for r, (value, error) in zip(requests, results, strict=True):
            if error is not None:
                outcomes.append(error)
                urls.append(r.url)
            elif "page" in value:
                outcomes.append(page_from_dict(value["page"]))
                urls.append(value["final_url"])
            else:
                outcomes.append(str(value["error"]))
                urls.append(value["final_url"])
        return drop_site_repeats(outcomes, urls)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Batches of EMBED_BATCH texts; a batch that does not come back is embedded here."""
        batches = [list(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
        jobs = []
        for n, batch in enumerate(batches):
            key = {"embedder": self.embedder_name, "texts": texts_digest(batch)}
            job = {"embedder": self.embedder_name, "with": self.embedder, "texts": batch}
            jobs.append((job_id("embed", key), job, f"embedding batch {n + 1}/{len(batches)}"))
        results = self._run(EMBED_QUEUE, EMBED_ACTOR, jobs)
        rows: list[np.ndarray] = []
        for batch, (value, error) in zip(batches, results, strict=True):
            if error is None:
                rows.append(vectors_from_data(value))
                continue
            if self._local_embedder is None:
                raise QueueError(f"queue: an embedding batch: {error}")
            log.warning("queue: embedding batch: %s; its %d texts embedded here", error, len(batch))
            rows.append(np.asarray(self._local_embedder().embed(batch), np.float32))
        if not rows:
            return np.zeros((0, 384), np.float32)
        return np.vstack(rows)

    def summarise(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks | None]:
        """One task per story; a story whose summary is lost is None (left out of this digest,
        so it stays undelivered and competes again next run)."""
        from ..summarize import quicklooks_from_dict

        jobs = []
        for articles in stories:
            job = {
                "settings": self.summarizer,
                "summarizer": self.summarizer_name,
                "embedder": self.summarizer_embedder,
                "with": self.embedder,
                "articles": [article_to_dict(a) for a in articles],
            }
            lead = articles[0].title if articles else "(empty)"
            jobs.append((job_id("summary", job), job, f"story {lead[:80]!r}"))
        results = self._run(SUMMARY_QUEUE, SUMMARY_ACTOR, jobs)
        out: list[QuickLooks | None] = []
        for (_, _, what), (value, error) in zip(jobs, results, strict=True):
            if error is not None:
                log.warning("queue: %s: %s", what, error)
            out.append(quicklooks_from_dict(value) if error is None else None)
        return out

    def close(self) -> None:
        """Close the broker's connections."""
        self.broker.close()
        self.backend.client.close()

    # sending and waiting

    def _run(
        self,
        queue: str,
        actor: str,
        jobs: Sequence[tuple[str, dict[str, Any], str]],
    ) -> list[tuple[Any, str | None]]:
        """Send every job, wait up to timeout_seconds; (value, None) or (None, why) per job.

        QueueError when Redis goes away meanwhile: the run fails with one line, nothing is
        stored from it, and the next run sends the same jobs again.
        """
        import redis
        from dramatiq.errors import BrokerConnectionError

        try:
            return self._send_and_wait(queue, actor, jobs)
        except (redis.RedisError, BrokerConnectionError) as e:
            raise QueueError(f"queue {_safe(self.url)}: lost Redis: {e}") from None

    def _send_and_wait(
        self,
        queue: str,
        actor: str,
        jobs: Sequence[tuple[str, dict[str, Any], str]],
    ) -> list[tuple[Any, str | None]]:
        from dramatiq import Message

        if not jobs:
            return []
        self._warn_if_no_worker()
        reply = f"{self.settings.namespace}:replies:{uuid.uuid4().hex}"
        sent = []
        for mid, job, what in jobs:
            message: Message[Any] = Message(
                queue_name=queue,
                actor_name=actor,
                args=(job,),
                kwargs={},
                options={REPLY_OPTION: reply},
                message_id=mid,
            )
            self.broker.enqueue(message)
            sent.append(_Sent(message, self.backend.build_message_key(message), what))
        started = time.monotonic()
        try:
            values = self._wait(sent, started + self.settings.timeout_seconds, reply)
        finally:
            self.backend.client.delete(reply)
        out: list[tuple[Any, str | None]] = []
        lost = 0
        missing = (
            f"no result from the workers within {self.settings.timeout_seconds:g}s "
            "([queue] timeout_seconds)"
        )
        for v in values:
            if isinstance(v, _Missing):
                lost += 1
                out.append((None, missing))
            elif isinstance(v, _Failed):
                out.append((None, f"the worker failed: {v.reason}"))
            else:
                out.append((v, None))
        log.info(
            "queue: %d %s tasks in %.1fs (%d lost)",
            len(sent),
            actor.removeprefix("digest_"),
            time.monotonic() - started,
            lost,
        )
        return out

    def _wait(self, sent: Sequence[_Sent], deadline: float, reply: str) -> list[Any]:
        """Read each result once the workers say it is in, until all are or the deadline.

        All pending results are read at the start (a restarted run finds what its predecessor
        left) and every SWEEP_SECONDS; in between only those whose ids come off `reply`.
        """
        client = self.backend.client
        values: list[Any] = [_Missing()] * len(sent)
        position: dict[str, list[int]] = {}  # two jobs alike share a message id and result
        for i, s in enumerate(sent):
            position.setdefault(s.message.message_id, []).append(i)
        todo = set(range(len(sent)))
        self._read(sent, sorted(todo), values, todo)
        sweep_at = time.monotonic() + SWEEP_SECONDS
        while todo:
            now = time.monotonic()
            if now >= deadline:
                break
            popped = client.blpop([reply], timeout=max(0.01, min(WAIT_SECONDS, deadline - now)))
            told: list[int] = []
            if popped is not None:
                with client.pipeline(transaction=True) as pipe:  # take the rest at once
                    pipe.lrange(reply, 0, -1)
                    pipe.delete(reply)
                    rest = pipe.execute()[0]
                for raw in [popped[1], *rest]:
                    mid = raw.decode() if isinstance(raw, bytes) else str(raw)
                    told += [i for i in position.get(mid, ()) if i in todo]
            if told:
                self._read(sent, sorted(set(told)), values, todo)
            if todo and time.monotonic() >= sweep_at:
                self._read(sent, sorted(todo), values, todo)
                sweep_at = time.monotonic() + SWEEP_SECONDS
        return values

    def _read(
        self, sent: Sequence[_Sent], indices: Sequence[int], values: list[Any], todo: set[int]
    ) -> None:
        """Read these results (pipelined); those found go into `values`, leave `todo` and are
        deleted from Redis."""
        from dramatiq.results import ResultFailure

        client = self.backend.client
        found: list[int] = []
        for start in range(0, len(indices), 1000):
            chunk = indices[start : start + 1000]
            with client.pipeline(transaction=False) as pipe:
                for i in chunk:
                    pipe.lindex(sent[i].key, 0)
                raw = pipe.execute()
            for i, data in zip(chunk, raw, strict=True):
                if data is None:
                    continue
                try:
                    values[i] = self.backend.unwrap_result(self.backend.encoder.decode(data))
                except ResultFailure as e:
                    values[i] = _Failed(f"{e.orig_exc_type}: {e.orig_exc_msg}")
                found.append(i)
                todo.discard(i)
        # Deleted once all are read: two jobs alike share one result key.
        for start in range(0, len(found), 1000):
            with client.pipeline(transaction=False) as pipe:
                for i in found[start : start + 1000]:
                    pipe.delete(sent[i].key)
                pipe.execute()

    def _warn_if_no_worker(self) -> None:
        if self._warned_idle:
            return
        now_ms = time.time() * 1000
        ids = self.broker.client.zrangebyscore(
            f"{self.settings.namespace}:__heartbeats__",
            now_ms - self.settings.heartbeat_seconds * 1000,
            "+inf",
        )
        if not [i for i in ids if i.decode() != self.broker.broker_id]:
            self._warned_idle = True
            log.warning(
                "queue: no worker polls %s; tasks wait (up to %gs) for `digest worker`",
                _safe(self.url),
                self.settings.timeout_seconds,
            )


class _Missing:
    """No result yet."""


@dataclass
class _Failed:
    reason: str


# --- the workers' side ---------------------------------------------------------------------------


@dataclass
class WorkerSettings:
    """What `digest worker` hands its processes (through the environment, as JSON)."""

    url: str
    queue: dict[str, Any]
    model_cache: str
    torch_threads: int

    def to_env(self) -> str:
        """The JSON for WORKER_SETTINGS_ENV."""
        return json.dumps(self.__dict__)

    @classmethod
    def from_env(cls) -> WorkerSettings:
        """The settings `digest worker` put in the environment."""
        raw = os.environ.get(WORKER_SETTINGS_ENV)
        if not raw:
            raise QueueError(f"{WORKER_SETTINGS_ENV} is not set: start it with `digest worker`")
        return cls(**json.loads(raw))


@dataclass
class WorkerContext:
    """The models and HTTP clients one worker process builds on first use and then reuses."""

    settings: WorkerSettings
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _fetchers: dict[str, Any] = field(default_factory=dict)
    _embedders: dict[str, Any] = field(default_factory=dict)
    _summarizers: dict[str, Any] = field(default_factory=dict)
    # One model call at a time per process (re-entrant: a summarizer calls its embedder).
    _model_lock: threading.RLock = field(default_factory=threading.RLock)

    def fetcher(self, settings: dict[str, Any]) -> Any:
        """A Fetcher for the sender's [fetch] settings (one client per distinct settings)."""
        from ..fetch import Fetcher, build_client

        key = json.dumps(settings, sort_keys=True)
        with self._lock:
            if key not in self._fetchers:
                parsed = FetchSettings.model_validate(settings)
                self._fetchers[key] = Fetcher(build_client(parsed), parsed)
            return self._fetchers[key]

    def embedder(self, name: str, settings: dict[str, Any]) -> Any:
        """The embedder called `name`, built here from the sender's [embedder] settings."""
        from ..embed import build_embedder, embedder_for

        with self._lock:
            if name not in self._embedders:
                if name.startswith("hashing-"):  # the twin, which tests and dry runs pass in
                    made = build_embedder("hashing", dim=int(name.removeprefix("hashing-")))
                else:
                    parsed = EmbedderSettings.model_validate(settings)
                    made = embedder_for(parsed, threads=self.settings.torch_threads)
                if made.name != name:
                    raise WorkMismatch(f"this worker's embedder is {made.name!r}, not {name!r}")
                self._embedders[name] = _Locked(made, self._model_lock)
            return self._embedders[name]

    def summarizer(
        self,
        settings: dict[str, Any],
        name: str,
        embedder: str | None,
        embedder_settings: dict[str, Any],
    ) -> Any:
        """The summarizer the sender's [summarizer] settings build, checked to be `name`."""
        from ..summarize import build_summarizer

        key = json.dumps([settings, embedder], sort_keys=True)
        emb = self.embedder(embedder, embedder_settings) if embedder else None
        with self._lock:
            if key not in self._summarizers:
                parsed = SummarizerSettings.model_validate(settings)
                made = build_summarizer(
                    parsed,
                    Path(self.settings.model_cache),
                    embedder=emb,
                    threads=self.settings.torch_threads,
                )
                if made.name != name:
                    raise WorkMismatch(f"this worker's summarizer is {made.name!r}, not {name!r}")
                self._summarizers[key] = _Locked(made, self._model_lock)
            return self._summarizers[key]


class _Locked:
    """A model used by one thread at a time: torch's own threads already fill the CPUs."""

    def __init__(self, inner: Any, lock: threading.RLock) -> None:
        self.inner = inner
        self.lock = lock
        self.name = inner.name

    def __getattr__(self, attr: str) -> Any:  # what else the models read (MiniLM's encoder)
        return getattr(self.inner, attr)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self.lock:
            return np.asarray(self.inner.embed(texts))

    def summarize(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks]:
        with self.lock:
            return list(self.inner.summarize(stories))


def page_task(ctx: WorkerContext, job: dict[str, Any]) -> dict[str, Any]:
    """Fetch one page and extract it; network and extraction problems are results, not errors."""
    from ..errors import ExtractError

    fetcher = ctx.fetcher(job["fetch"])
    url = job["url"]
    result = fetcher.fetch(url, allow_private=job["allow_private"])
    if result.status != "ok" or result.content is None:
        return {"error": result.error or "no content", "final_url": result.final_url}
    try:
        page: ExtractedPage = extract_page(
            result.content, result.final_url, favor_precision=job["favor_precision"]
        )
    except ExtractError as e:
        return {"error": str(e), "final_url": result.final_url}
    return {"page": page_to_dict(page), "final_url": result.final_url}


def embed_task(ctx: WorkerContext, job: dict[str, Any]) -> dict[str, Any]:
    """The vectors of one batch of texts."""
    return vectors_to_data(ctx.embedder(job["embedder"], job["with"]).embed(job["texts"]))


def summary_task(ctx: WorkerContext, job: dict[str, Any]) -> dict[str, Any]:
    """The Quick Looks of one story."""
    from ..summarize import quicklooks_to_dict

    summarizer = ctx.summarizer(job["settings"], job["summarizer"], job["embedder"], job["with"])
    articles = [article_from_dict(a) for a in job["articles"]]
    return quicklooks_to_dict(summarizer.summarize([articles])[0])


def _once(
    broker: Any, backend: Any, namespace: str, task: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Wrap a task: a job whose result is already stored is not computed again, and one
    delivered MAX_DELIVERIES times is given up on."""
    from dramatiq.middleware import CurrentMessage

    def run(job: dict[str, Any]) -> dict[str, Any]:
        message = CurrentMessage.get_current_message()
        if message is not None:
            client = backend.client
            stored = client.lindex(backend.build_message_key(message), 0)
            if stored is not None:
                value = backend.encoder.decode(stored)
                if not (isinstance(value, dict) and "__dramatiq_exception_type__" in value):
                    log.debug("queue: %s already done", message.message_id)
                    return value
            counter = f"{namespace}:deliveries:{message.message_id}"
            with client.pipeline() as pipe:
                pipe.incr(counter)
                pipe.expire(counter, 86_400)
                deliveries = pipe.execute()[0]
            if deliveries > MAX_DELIVERIES:
                raise GivenUp(f"delivered {deliveries - 1} times without a result; given up")
        return task(job)

    return run


def worker_broker() -> Any:
    """Build this worker process's broker and actors (`digest worker` points Dramatiq here)."""
    import dramatiq

    from ..runtime import quiet_openmp_waits

    quiet_openmp_waits()
    settings = WorkerSettings.from_env()
    queue = QueueSettings.model_validate(settings.queue)
    broker, backend = build_broker(settings.url, queue)
    ctx = WorkerContext(settings)
    options: dict[str, Any] = {
        "store_results": True,
        "result_ttl": _result_ttl_ms(queue),
        "max_retries": MAX_RETRIES,
        "min_backoff": 1000,
        "max_backoff": 10_000,
        "time_limit": int(queue.timeout_seconds * 1000),
        "throws": (WorkMismatch, GivenUp),
    }
    for name, queue_name, task in (
        (PAGE_ACTOR, PAGES_QUEUE, page_task),
        (EMBED_ACTOR, EMBED_QUEUE, embed_task),
        (SUMMARY_ACTOR, SUMMARY_QUEUE, summary_task),
    ):

        def bound(job: dict[str, Any], task: Any = task) -> dict[str, Any]:
            return task(ctx, job)

        dramatiq.actor(actor_name=name, queue_name=queue_name, broker=broker, **options)(
            _once(broker, backend, queue.namespace, bound)
        )
    dramatiq.set_broker(broker)
    return broker


__all__ = [
    "QUEUES",
    "QueueError",
    "QueueWork",
    "WorkerSettings",
    "build_broker",
    "check_reachable",
    "worker_broker",
]
