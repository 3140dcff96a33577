"""`digest worker`: run Dramatiq worker processes for the queued stages."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from ..errors import ConfigError
from ..work import QUEUE_URL_ENV, queue_url
from ..work.queue import QUEUES, WORKER_SETTINGS_ENV, WorkerSettings, check_reachable
from .common import resolve_config
from .options import config_option

log = logging.getLogger(__name__)

DEFAULT_THREADS = 8  # per process: page fetches mostly wait on the network


@click.command("worker")
@config_option
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes (default: one per usable CPU, from affinity and cgroup quota).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 1024),
    default=DEFAULT_THREADS,
    show_default=True,
    help="Threads per process: tasks in flight at once (page fetches wait on the network).",
)
@click.option(
    "--queues",
    "queues",
    type=click.Choice(sorted(QUEUES)),
    multiple=True,
    help="Only these stages (repeatable; default: all), e.g. summaries on a model box.",
)
def worker_cmd(
    config_path: Path | None, processes: int | None, threads: int, queues: tuple[str, ...]
) -> None:
    """Run workers that fetch and extract pages, embed texts and summarise stories for
    `digest run` / `serve` processes, through the queue at [queue] url (env DIGEST_QUEUE_URL).

    Workers need no database and no destination secrets: they hand results back through
    Redis, and the process that holds the digest stores and delivers them. Stop with Ctrl-C
    or SIGTERM (unfinished tasks go back on the queue); a worker killed outright loses nothing
    either: its tasks are given to another worker after [queue] heartbeat_seconds.
    """
    # An idle consumer polls Redis at most this often (Dramatiq's default is 1 s): the clusterer
    # sends one small embedding task per 100 articles and waits for it, so a second of
    # pick-up latency per task would add minutes to a first digest. Read at Dramatiq's import.
    os.environ.setdefault("dramatiq_worker_timeout", "100")
    import dramatiq.cli

    from ..app import model_cache_dir
    from ..runtime import usable_cpus

    config = resolve_config(config_path, required=False)
    url = queue_url(config)
    if not url:
        raise ConfigError(
            f"{config.source}: no queue configured: set [queue] url or {QUEUE_URL_ENV}",
            hint='e.g. [queue] url = "redis://127.0.0.1:6379/0"',
        )
    check_reachable(url)
    cpus = usable_cpus(config.runtime.threads or None)
    processes = processes or cpus
    settings = WorkerSettings(
        url=url,
        queue=config.queue.model_dump(mode="json"),
        model_cache=str(model_cache_dir(config)),
        # The models' threads share the CPUs among the processes instead of each taking all.
        torch_threads=max(1, cpus // processes),
    )
    os.environ[WORKER_SETTINGS_ENV] = settings.to_env()
    argv = [
        "digest.work.queue:worker_broker",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--worker-shutdown-timeout",
        str(int(config.queue.timeout_seconds * 1000)),
    ]
    if queues:
        argv += ["--queues", *(QUEUES[q] for q in queues)]
    log.info(
        "worker: %d processes x %d threads on %s (%d usable CPUs)",
        processes,
        threads,
        ", ".join(QUEUES[q] for q in (queues or sorted(QUEUES))),
        cpus,
    )
    if log.getEffectiveLevel() <= logging.DEBUG:
        argv.append("--verbose")
    # Dramatiq's processes log through pipes to its parent: let it install its own handler
    # (logging.basicConfig does nothing while the root logger has ours).
    logging.getLogger().handlers.clear()
    for noisy in ("httpx", "httpcore"):  # one INFO line per request otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.exit(dramatiq.cli.main(dramatiq.cli.make_argument_parser().parse_args(argv)))
