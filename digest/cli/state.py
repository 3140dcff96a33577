"""`digest migrate` and `digest state export|import`: the state's schema, and moving a
deployment between SQLite and PostgreSQL with its ledger intact."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from ..app import state_location
from ..errors import StateError
from ..store import Store
from .common import resolve_config, resolve_state_dir
from .options import config_and_state_options


def _open(
    ctx: click.Context, config_path: Path | None, state_dir: Path | None, *, migrate: bool
) -> Store:
    config = resolve_config(config_path, required=False)
    return Store.open(state_location(config, resolve_state_dir(ctx, state_dir)), migrate=migrate)


@click.command("migrate")
@config_and_state_options
@click.pass_context
def migrate_cmd(ctx: click.Context, config_path: Path | None, state_dir: Path | None) -> None:
    """Apply the state's schema migrations not yet applied (run and serve also do it on start).

    Safe while other processes start: on PostgreSQL the migrations run under an advisory
    lock, on SQLite in one write transaction, so each is applied once.
    """
    store = _open(ctx, config_path, state_dir, migrate=False)
    try:
        applied = store.migrate()
        where = store.location
        total = len(store.applied_migrations())
    finally:
        store.close()
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"{where}: {total} migrations, {len(applied)} applied now")


@click.group("state")
def state_cmd() -> None:
    """Export the state to a file, or import one: to move from SQLite to PostgreSQL and back."""


@state_cmd.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@config_and_state_options
@click.pass_context
def export_cmd(
    ctx: click.Context, output: Path | None, config_path: Path | None, state_dir: Path | None
) -> None:
    """Write every table of the state (the ledger, stories, runs, readers...) as JSON lines."""
    store = _open(ctx, config_path, state_dir, migrate=True)
    try:
        if output is None:
            rows = _write(store, sys.stdout)
        else:
            try:
                with open(output, "w", encoding="utf-8") as f:
                    rows = _write(store, f)
            except OSError as e:
                raise StateError(f"{output}: cannot write the export: {e.strerror}") from None
        where = store.location
    finally:
        store.close()
    click.echo(f"exported {rows} rows from {where}", err=True)


def _write(store: Store, out: TextIO) -> int:
    rows = -1  # the header is not a row
    for record in store.export_state():
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        rows += 1
    return rows


@state_cmd.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@config_and_state_options
@click.pass_context
def import_cmd(
    ctx: click.Context, source: Path, config_path: Path | None, state_dir: Path | None
) -> None:
    """Load an export into this (fresh) state: what was delivered is never delivered again."""
    try:
        handle = open(source, encoding="utf-8")
    except OSError as e:
        raise StateError(f"{source}: cannot read the export: {e.strerror}") from None
    store = _open(ctx, config_path, state_dir, migrate=True)
    try:
        with handle:
            counts = store.import_state(_records(handle, source), str(source))
        where = store.location
    finally:
        store.close()
    total = sum(counts.values())
    detail = ", ".join(f"{n} {table}" for table, n in sorted(counts.items()))
    click.echo(f"imported {total} rows into {where}" + (f" ({detail})" if detail else ""))


def _records(handle: TextIO, source: Path) -> Iterator[dict[str, Any]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as e:
            raise StateError(f"{source}:{line}: not JSON ({e})") from None
        if not isinstance(record, dict):
            raise StateError(f"{source}:{line}: not a record")
        yield record
