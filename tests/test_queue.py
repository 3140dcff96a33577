"""The queued stages for real: Redis, `digest worker` subprocesses, the loopback news web.

A digest made through two workers equals the in-process digest, and SIGKILLing workers at
random moments during runs loses no page, summary or delivery and doubles none.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from smtp_sink import SmtpSink

from digest.app import build_app
from digest.config import parse_config
from digest.embed import HashingEmbedder
from digest.pipeline import run_digest
from digest.summarize import quicklooks_to_dict
from digest.urls import canonical_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.newsweb import NewsWeb, NewsWebServer  # noqa: E402

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HEARTBEAT_SECONDS = 3  # short, so a killed worker's tasks come back within seconds


@contextmanager
def news_web(feeds: int, items: int, *, latency: float = 0.0) -> Iterator[NewsWebServer]:
    server = NewsWebServer(NewsWeb(feeds, items, seed=5, now=NOW), latency=latency)
    server.prerender()
    with server:
        yield server


def config_data(
    tmp_path: Path,
    feeds: list[str],
    *,
    queue: dict[str, Any] | None = None,
    smtp_port: int | None = None,
    stories: int = 12,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "state_dir": str(tmp_path / "state"),
        "fetch": {"allow_private_addresses": True, "timeout_seconds": 10},
        "summarizer": {"backend": "extractive"},
        "digest": [{"name": "world", "max_stories": stories, "feeds": [{"url": u} for u in feeds]}],
    }
    if queue is not None:
        data["queue"] = queue
    if smtp_port is not None:
        data["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from": "digest@example.com",
        }
        data["digest"][0]["destinations"] = [{"type": "email", "to": ["team@example.com"]}]
    return data


def make_app(tmp_path: Path, data: dict[str, Any]) -> Any:
    config = parse_config(data, str(tmp_path / "config.toml"))
    return build_app(config, clock=lambda: NOW, embedder=HashingEmbedder()), config


def queue_settings(redis_url: str) -> dict[str, Any]:
    return {
        "url": redis_url,
        "namespace": f"t{uuid.uuid4().hex[:10]}",  # tests share the session's Redis
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "timeout_seconds": 120,
    }


class Workers:
    """`digest worker` subprocesses, each in its own process group (SIGKILL takes it whole)."""

    def __init__(self, tmp_path: Path, queue: dict[str, Any], count: int, threads: int = 4):
        self.dir = tmp_path / "worker"
        self.dir.mkdir(exist_ok=True)
        lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in queue.items()]
        self.config = self.dir / "config.toml"
        self.config.write_text("[queue]\n" + "\n".join(lines) + "\n")
        self.threads = threads
        self.spawned = 0
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []
        for _ in range(count):
            self.procs.append(self._spawn())

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Path]:
        self.spawned += 1
        log = self.dir / f"worker-{self.spawned}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGEST_QUEUE_URL": ""}
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "digest", "worker", "--config", str(self.config)]
                + ["--processes", "1", "--threads", str(self.threads)],
                cwd=self.dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return proc, log

    def ready(self, i: int) -> bool:
        """Worker i's Dramatiq process has said it is consuming."""
        return b"ready for action" in self.procs[i][1].read_bytes()

    def kill(self, i: int) -> None:
        """SIGKILL worker i's whole process group (Dramatiq's parent and its worker process),
        as a lost node or an OOM kill would, then start a fresh one in its place."""
        proc = self.procs[i][0]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
        self.procs[i] = self._spawn()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.ready(i) for i in range(len(self.procs))):
            if time.monotonic() > deadline:
                raise AssertionError(f"workers not ready after {timeout}s: {self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        return " | ".join(log.read_text(errors="replace")[-1500:] for _, log in self.procs)

    def stop(self) -> None:
        for proc, _ in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc, _ in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def digest_view(result: Any) -> list[tuple[Any, ...]]:
    """What a reader sees: each story, its sources and its Quick Looks text."""
    return [
        (
            ds.story.id,
            ds.story.headline,
            tuple(sorted((a.url or "", a.outlet, a.content_hash) for a in ds.story.articles)),
            quicklooks_to_dict(ds.quick_looks),
            ds.is_update,
        )
        for ds in result.digest.stories
    ]


def task_counts(client: redis.Redis, namespace: str) -> dict[str, int]:
    """Deliveries of each kind of task, as the workers counted them."""
    counts: dict[str, int] = {}
    for key in client.scan_iter(f"{namespace}:deliveries:*"):
        kind = key.decode().rsplit(":", 1)[1].split("-", 1)[0]
        counts[kind] = counts.get(kind, 0) + int(client.get(key) or 0)
    return counts


def test_a_digest_through_two_workers_equals_the_in_process_digest(tmp_path, redis_server):
    client = redis.Redis.from_url(redis_server.url)
    queue = queue_settings(redis_server.url)
    workers = Workers(tmp_path, queue, 2)
    try:
        with news_web(8, 5) as web:
            local_app, local_config = make_app(
                tmp_path / "local", config_data(tmp_path / "local", web.feed_urls)
            )
            local = run_digest(local_app, local_config.digest[0], dry_run=True)
            local_app.close()
            workers.wait_ready()
            data = config_data(tmp_path / "queued", web.feed_urls, queue=queue)
            app, config = make_app(tmp_path / "queued", data)
            queued = run_digest(app, config.digest[0], dry_run=True)
            app.close()
    finally:
        workers.stop()
    assert local.digest.stories, "the news web gave no stories"
    assert digest_view(queued) == digest_view(local)
    assert queued.problems == local.problems
    assert queued.new_articles == local.new_articles
    # The work was done by the workers: every page, embedding batch and story was a task.
    counts = task_counts(client, queue["namespace"])
    assert counts.get("page", 0) >= local.new_articles * 0.5, counts
    assert counts.get("embed", 0) >= 1 and counts.get("summary", 0) >= len(local.digest.stories)


def test_with_no_worker_each_task_costs_its_item_not_the_run(tmp_path, redis_server):
    """Nobody consumes: every page falls back to the feed's text with one line naming it, the
    clustering texts are embedded here, and each story without a summary waits, undelivered."""
    queue = {**queue_settings(redis_server.url), "timeout_seconds": 1}
    with news_web(3, 3) as web:
        app, config = make_app(tmp_path, config_data(tmp_path, web.feed_urls, queue=queue))
        result = run_digest(app, config.digest[0], dry_run=True)
        app.close()
    pages = [p for p in result.problems if p.startswith("page ")]
    assert pages and all("no result from the workers within 1s" in p for p in pages)
    assert all("(used the feed's text)" in p and "\n" not in p for p in pages)
    assert result.new_articles == 9  # stored all the same, from the feeds' own text
    waiting = [p for p in result.problems if "its summary did not come back" in p]
    assert waiting and result.digest.stories == ()


def test_the_worker_command_has_help():
    from digest.cli import main

    result = CliRunner().invoke(main, ["worker", "--help"])
    assert result.exit_code == 0
    assert "Run workers that fetch and extract pages" in result.output
    assert "--processes" in result.output and "--threads" in result.output


def run_worker_command(cwd: Path, queue_url: str) -> subprocess.CompletedProcess[str]:
    """`digest worker` with DIGEST_QUEUE_URL set to `queue_url` (empty: none), as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGEST_QUEUE_URL": queue_url}
    return subprocess.run(
        [sys.executable, "-m", "digest", "worker"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("queue_url", "status", "message"),
    [
        ("", 2, "no queue configured: set [queue] url or DIGEST_QUEUE_URL"),
        ("redis://127.0.0.1:9/0", 1, "queue redis://127.0.0.1:9/0: cannot reach Redis"),
    ],
    ids=["no-queue", "unreachable-redis"],
)
def test_the_worker_command_explains_what_is_wrong(tmp_path, queue_url, status, message):
    done = run_worker_command(tmp_path, queue_url)
    assert done.returncode == status
    assert message in done.stderr
    assert "Traceback" not in done.stderr


KILLS = 20


@pytest.mark.slow  # about a minute: twenty workers start, and each is killed
def test_sigkilled_workers_lose_nothing_and_double_nothing(tmp_path, redis_server):
    """>= 20 SIGKILLs of a worker at random moments while digests run: every page comes back,
    every story is summarised, stored and emailed exactly once."""
    rng = random.Random(13)
    client = redis.Redis.from_url(redis_server.url)
    queue = queue_settings(redis_server.url)
    workers = Workers(tmp_path, queue, 3, threads=2)
    kills = 0
    results = []
    with SmtpSink() as sink, news_web(24, 6, latency=0.25) as web:
        data = config_data(tmp_path, web.feed_urls, queue=queue, smtp_port=sink.port, stories=8)
        app, config = make_app(tmp_path, data)
        try:
            workers.wait_ready()
            for run in range(8):
                if run:
                    web.web.add_items(30)
                done = threading.Event()
                outcome: list[Any] = []

                def digest_run(outcome: list[Any] = outcome, done: threading.Event = done) -> None:
                    try:
                        outcome.append(run_digest(app, config.digest[0]))
                    except BaseException as e:  # reported below, in the test's thread
                        outcome.append(e)
                    finally:
                        done.set()

                runner = threading.Thread(target=digest_run)
                runner.start()
                # Each worker dies at a random moment 0.3-4 s after it starts consuming.
                due: list[float | None] = [None] * len(workers.procs)
                while not done.wait(0.05):
                    for i in range(len(workers.procs)):
                        when = due[i]
                        if when is None:
                            if workers.ready(i):
                                due[i] = time.monotonic() + rng.uniform(0.3, 4.0)
                        elif kills < KILLS and time.monotonic() >= when:
                            workers.kill(i)
                            kills += 1
                            due[i] = None
                runner.join()
                if isinstance(outcome[0], BaseException):
                    raise outcome[0]
                results.append(outcome[0])
                if kills >= KILLS:
                    break
            store = app.store
            keys = [canonical_url(web.url(item)) for item in web.web.items]
        finally:
            workers.stop()
        received = list(sink.received)
        delivered_ledger = store.delivered_ids("email:team@example.com")
        known = store.known_keys(keys)
        app.close()
    assert kills >= KILLS, f"only {kills} kills: the runs were too quick"
    lost = [p for r in results for p in r.problems if "workers" in p or "summary" in p]
    assert not lost, lost[:5]
    # Every item stored, once (its key is unique); none fell back to the feed's teaser for
    # want of a result (that would be a "workers" problem above).
    assert set(known) == set(keys)
    assert sum(r.new_articles for r in results) == len(keys)
    # Every story shown was emailed once: the runs' deliveries, the ledger and the sink agree.
    sent = [sid for r in results for d in r.deliveries for sid in d.story_ids]
    shown = [ds.story.id for r in results for ds in r.digest.stories]
    assert len(sent) == len(set(sent)) == len(shown) and set(sent) == set(shown)
    assert set(delivered_ledger) == set(sent)
    assert len(received) == sum(1 for r in results if r.digest.stories)
    bodies = [m.parse().get_body(("plain",)).get_content() for m in received]  # type: ignore[union-attr]
    for r in results:
        for ds in r.digest.stories:
            hits = sum(ds.quick_looks.headline in b for b in bodies)
            assert hits == 1, (ds.quick_looks.headline, hits)
    counts = task_counts(client, queue["namespace"])
    print(f"{kills} kills over {len(results)} runs; task deliveries {counts}; ", end="")
    print(f"{len(keys)} articles, {len(sent)} stories emailed in {len(received)} messages")
