"""`digest status` and `digest health`: read the state only (no model, no fetch)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from ..channels import status_lines
from ..lock import SERVE_LOCK, replicas
from ..status import digest_statuses, feed_health, format_status, health_problems, status_json
from .common import open_state
from .options import config_and_state_options


@click.command("status")
@config_and_state_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def status_cmd(
    ctx: click.Context, config_path: Path | None, state_dir: Path | None, fmt: str
) -> None:
    """Show each digest's last run, outcome and next scheduled time, and each feed's health."""
    config, store = open_state(ctx, config_path, state_dir)
    try:
        now = datetime.now(UTC)
        statuses = digest_statuses(config, store, now)
        feeds = feed_health(config, store)
        owner = store.lock_owner(SERVE_LOCK, now)
        serving = replicas(store, now)  # who holds the lease, who stands by
        channels = status_lines(store)  # follows, mutes and reactions from Slack
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(status_json(statuses, feeds, owner, serving), indent=2))
    else:
        text = format_status(statuses, feeds, owner, now, serving)
        click.echo("\n".join([text, *channels]))


@click.command("health")
@config_and_state_options
@click.option(
    "--margin-minutes",
    type=click.FloatRange(min=0),
    default=None,
    help="How late a scheduled run may finish before it counts as overdue "
    "(default 30, or [serve] health_margin_minutes).",
)
@click.pass_context
def health_cmd(
    ctx: click.Context,
    config_path: Path | None,
    state_dir: Path | None,
    margin_minutes: float | None,
) -> None:
    """Exit 1 when a digest's last run failed or a scheduled run is overdue (for health checks)."""
    config, store = open_state(ctx, config_path, state_dir)
    settings = config.serve
    if margin_minutes is not None:
        settings = settings.model_copy(update={"health_margin_minutes": margin_minutes})
    try:
        problems = health_problems(config, store, datetime.now(UTC), settings)
    finally:
        store.close()
    if problems:
        for line in problems:
            click.echo(f"unhealthy: {line}", err=True)
        ctx.exit(1)
    click.echo(f"healthy: {len(config.digest)} digests")
