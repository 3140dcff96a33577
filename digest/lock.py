"""The state's lock: one `digest serve` per state, and one delivering `digest run` at a time.

The owner is `host:pid:start-token`, renewed within a TTL. A lock whose owner is gone is taken
over at once when that can be told (same host, the pid dead or reused); a holder on another host
sharing the volume is waited out until its lock expires.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .errors import StateError

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

SERVE_LOCK = "serve"
# Held by a delivering `digest run`: two of them (a cron tick overlapping a slow run), or a run
# and a serve, would otherwise post the same new story from one state.
RUN_LOCK = "run"
RUN_LOCK_TTL = timedelta(hours=6)
# `standby:<owner>`: held by each standby replica while it waits for the serve lease.
STANDBY_PREFIX = "standby:"

# --- the lock -------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc), or None where unknown.

    With the pid it names one process for good: a pid reused later has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), counted from 3


def _default_owner() -> str:
    # The token tells two locks of one process apart (each serve is its own owner).
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '?'}-{secrets.token_hex(4)}"


@dataclass
class ServeLock:
    """The one-serve-per-state lock: owner `host:pid:start-token`, renewed within its TTL.

    A lock whose owner is gone is taken over at once when that can be told: same host, and the
    pid is dead or now names another process (a restarted container is pid 1 again). A holder
    on another host (a shared volume) is waited out: its lock expires after the TTL.
    """

    store: Store
    clock: Callable[[], datetime]
    ttl: timedelta
    owner: str = field(default_factory=_default_owner)
    name: str = SERVE_LOCK
    # When the lock was last taken or renewed (monotonic seconds): a holder trusts it for two
    # thirds of the TTL from then, so it stops starting work before anyone may take over.
    renewed: float | None = field(default=None, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    def held(self) -> bool:
        """Whether the lock is surely still ours: renewed within two thirds of its TTL."""
        if self.renewed is None:
            return False
        return self.monotonic() - self.renewed < self.ttl.total_seconds() * 2 / 3

    def try_acquire(self) -> str | None:
        """Take the lock (and record this serve's start); None when taken, else its holder."""
        now = self.clock()
        if self._take(now):
            return None
        holder = self.store.lock_owner(self.name, now)
        if holder and self._holder_is_gone(holder):
            log.warning(
                "%s: taking over the lock of %s, which is no longer running", self.name, holder
            )
            self.store.release_lock(self.name, holder)
            if self._take(now):
                return None
            holder = self.store.lock_owner(self.name, now)
        return holder or "?"  # "?": freed and retaken between two statements

    def wait(self, stop: threading.Event, every: float) -> bool:
        """As a standby, try every `every` seconds until the lock is ours (True) or `stop`.

        Meanwhile a `standby:<owner>` lock, renewed at every try, shows the standby in
        `digest status`; it is given back when the wait ends (or lapses with the process).
        """
        holder = self.try_acquire()
        if holder is None:
            return True
        mark = STANDBY_PREFIX + self.owner
        log.info(
            "serve: standing by: %s holds the lease; trying every %.1fs",
            describe_owner(holder),
            every,
        )
        try:
            while True:
                self.store.acquire_lock(mark, self.owner, self.ttl.total_seconds(), self.clock())
                if stop.wait(every):
                    return False
                previous, holder = holder, self.try_acquire()
                if holder is None:
                    log.info("serve: took over the lease from %s", describe_owner(previous))
                    return True
        finally:
            self.store.release_lock(mark, self.owner)

    def acquire(self) -> None:
        """Take the lock (and record this serve's start) or raise StateError naming the holder."""
        holder = self.try_acquire()
        if holder is None:
            return
        # The state's file or database URL (without its password): a Postgres state has no path.
        raise StateError(
            f"{self.store.location}: another `digest {self.name}` ({describe_owner(holder)}) is "
            "running on this state",
            hint="wait for it or stop it, or give this one its own state (--state-dir, or "
            "another database in DIGEST_DATABASE_URL); the lock of a crashed process expires "
            f"after {int(self.ttl.total_seconds())}s",
        )

    def _take(self, now: datetime) -> bool:
        started = self.monotonic()
        if not self.store.acquire_lock(self.name, self.owner, self.ttl.total_seconds(), now):
            return False
        self.renewed = started
        if self.name != SERVE_LOCK:
            return True
        self.store.record_serve_start(self.owner, now)
        return True

    def _holder_is_gone(self, holder: str) -> bool:
        try:
            host, pid_text, started = holder.rsplit(":", 2)
            pid = int(pid_text)
        except ValueError:
            return False
        if host != socket.gethostname():
            return False  # another machine sharing the volume: only the TTL can tell
        if not _pid_alive(pid):
            return True
        now_started = _process_start(pid)
        started = started.split("-", 1)[0]
        return now_started is not None and started != "?" and now_started != started

    def refresh(self) -> bool:
        """Renew the lock; False if another process has taken it (we stalled past the TTL)."""
        started = self.monotonic()
        if not self.store.acquire_lock(
            self.name, self.owner, self.ttl.total_seconds(), self.clock()
        ):
            self.renewed = None
            return False
        self.renewed = started
        return True

    def release(self) -> None:
        """Give the lock back and record the stop."""
        self.store.release_lock(self.name, self.owner)
        if self.name != SERVE_LOCK:
            return
        self.store.record_serve_stop(self.owner, self.clock())


def describe_owner(owner: str | None) -> str:
    """A lock owner for people: `pid 12 on host-a`."""
    parts = (owner or "").rsplit(":", 2)
    if len(parts) != 3:
        return owner or "unknown owner"
    return f"pid {parts[1]} on {parts[0]}"


def latest_serve_start(store: Store) -> datetime | None:
    """When the most recent `digest serve` on this state started, or None if none ever did."""
    return store.latest_serve_start()


@dataclass(frozen=True)
class Replicas:
    """Which `digest serve` replica holds the lease, since when and until when, and which
    stand by: what `digest status` shows."""

    leader: str | None
    since: datetime | None  # when the leader took the lease
    expires: datetime | None  # when it lapses unless renewed
    standbys: tuple[str, ...]


def replicas(store: Store, now: datetime) -> Replicas:
    """The replicas on this state at `now`, from the locks they hold."""
    held = {lock.name: lock for lock in store.locks(now)}
    serve = held.get(SERVE_LOCK)
    standbys = tuple(
        sorted(lock.owner for name, lock in held.items() if name.startswith(STANDBY_PREFIX))
    )
    if serve is None:
        return Replicas(None, None, None, standbys)
    # Each take of the lease records a serve start: the latest is the leader's.
    return Replicas(serve.owner, latest_serve_start(store), serve.expires_at, standbys)


def wait_for_run(store: Store, clock: Callable[[], datetime], stop: threading.Event) -> None:
    """Block while a live `digest run` holds the run lock (a crashed one's lock is taken over)."""
    waiting = False
    while not stop.is_set():
        holder = store.lock_owner(RUN_LOCK, clock())
        if holder is None:
            return
        probe = ServeLock(store, clock, RUN_LOCK_TTL, name=RUN_LOCK)
        if probe._holder_is_gone(holder):
            store.release_lock(RUN_LOCK, holder)
            continue
        if not waiting:
            log.info("serve: waiting for `digest run` (%s) to finish", describe_owner(holder))
            waiting = True
        stop.wait(2.0)
