"""Broken state: a read-only, damaged or full state gives one line naming the file and what to
do, never a traceback; an email the server accepted while the disk was full is recorded by the
next run instead of sent again; processes opening a fresh state at once (SQLite or Postgres)
migrate it once.

Every case runs the real `digest run` against loopback feeds and a loopback SMTP server. The
full and read-only disks are small tmpfs mounts (root only: skipped with one line elsewhere).
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from smtp_sink import SmtpSink
from state_backends import BACKENDS

from digest.demo import serve_sample
from digest.store import DB_NAME, JOURNAL_NAME, MIGRATIONS, Store


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "8m") -> Iterator[Path]:
    """A tiny tmpfs mounted at `where` for the test (skips when mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()[:100]}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path) -> Path:
    """Write a file until the disk holding `directory` is full; returns it (delete to free)."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (65536, 1):  # then byte by byte: not a page left for anyone
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC
    return filler


def config(tmp_path: Path, state: Path, feeds: list[str], smtp_port: int) -> Path:
    path = tmp_path / "config.toml"
    feed_list = ", ".join(f'{{ url = "{u}" }}' for u in feeds)
    path.write_text(
        f"""
state_dir = "{state}"
[fetch]
allow_private_addresses = true
[summarizer]
backend = "extractive"
[cluster]
enabled = false
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "digest@example.org"
[[digest]]
name = "world"
feeds = [{feed_list}]
destinations = [{{ type = "email", to = ["team@example.org"] }}]
"""
    )
    return path


def run(config_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "digest", "-q", "run", "--config", str(config_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The run failed with `error: ...` lines (and a hint), no traceback; returns stderr."""
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    for needle in needles:
        assert needle in errors[0], done.stderr
    assert "hint: " in done.stderr, done.stderr
    return done.stderr


@pytest.fixture
def site() -> Iterator[list[str]]:
    with serve_sample() as (_, feeds):
        yield feeds


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


def test_full_disk_before_the_run_is_one_line(
    tmp_path: Path, site: list[str], sink: SmtpSink
) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        state = disk / "state"
        Store.open(state).close()
        fill(disk)
        done = run(config(tmp_path, state, site, sink.port))
        err = one_line_error(done, str(state / DB_NAME), "the disk is full")
        assert "free space on the disk" in err
    assert sink.received == []


def test_read_only_state_is_one_line(tmp_path: Path, site: list[str], sink: SmtpSink) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        state = disk / "state"
        Store.open(state).close()
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True
        )
        if remount.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only: {remount.stderr.strip()[:100]}")
        done = run(config(tmp_path, state, site, sink.port))
        err = one_line_error(done, str(state / DB_NAME), "the state database is read-only")
        assert "writable" in err
    assert sink.received == []


def test_damaged_state_is_one_line(tmp_path: Path, site: list[str], sink: SmtpSink) -> None:
    state = tmp_path / "state"
    cfg = config(tmp_path, state, site, sink.port)
    assert run(cfg).returncode == 0
    assert len(sink.received) == 1
    db = state / DB_NAME
    assert not db.with_name(DB_NAME + "-wal").exists()  # checkpointed at close
    data = bytearray(db.read_bytes())
    page = 4096
    # Keep the header page (the schema); overwrite every other page with garbage.
    for start in range(page, len(data), page):
        data[start : start + page] = os.urandom(page)
    db.write_bytes(bytes(data))
    done = run(cfg)
    err = one_line_error(done, str(db), "damaged")
    assert "move the file aside" in err
    assert len(sink.received) == 1


class FillingSink(SmtpSink):
    """Accepts the message, then fills the state's disk before answering "250": the digest is
    out, and the ledger write that follows finds no space."""

    disk: Path | None = None
    filler: Path | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if self.disk is not None and self.filler is None:
            self.filler = fill(self.disk)
        return answer


def test_disk_full_at_the_ledger_write_is_journaled_and_not_sent_again(
    tmp_path: Path, site: list[str]
) -> None:
    with tmpfs(tmp_path / "disk", size="16m") as disk, FillingSink() as sink:
        state = disk / "state"
        cfg = config(tmp_path, state, site, sink.port)
        sink.disk = disk
        done = run(cfg)
        assert len(sink.received) == 1
        message_id = sink.received[0].parse()["Message-ID"]
        err = one_line_error(done, str(state / DB_NAME), "the disk is full", message_id)
        assert f"kept in {state / JOURNAL_NAME}" in err
        assert "email:team@example.org has the message" in err

        assert sink.filler is not None
        sink.filler.unlink()  # the user frees space, as the hint says
        sink.disk = None
        again = run(cfg)
        assert again.returncode == 0, again.stderr
        assert len(sink.received) == 1  # recorded from the journal, not sent again
        store = Store.open(state)
        try:
            assert store.delivered_ids("email:team@example.org")
        finally:
            store.close()


def _open_at_once(directory: str, barrier: Any, errors: Any) -> None:
    barrier.wait()
    try:
        Store.open(directory).close()
    except BaseException as e:  # reported to the parent, which asserts there are none
        errors.put(f"{type(e).__name__}: {e}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_opening_a_fresh_state_at_once_migrate_it_once(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Six processes open one fresh state at once (replicas starting together): on SQLite
    under BEGIN IMMEDIATE, on Postgres under the migration's advisory lock."""
    ctx = multiprocessing.get_context("fork")
    for _ in range(5):
        if backend == "postgres":
            location = request.getfixturevalue("postgres_server").create_database()
        else:
            location = str(tmp_path / uuid.uuid4().hex)
        barrier = ctx.Barrier(6)
        errors = ctx.Queue()
        procs = [
            ctx.Process(target=_open_at_once, args=(location, barrier, errors)) for _ in range(6)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        found = []
        while not errors.empty():
            found.append(errors.get())
        assert found == []
        assert [p.exitcode for p in procs] == [0] * 6
        store = Store.open(location, migrate=False)
        try:
            assert store.applied_migrations() == [m.__name__ for m in MIGRATIONS]
        finally:
            store.close()
