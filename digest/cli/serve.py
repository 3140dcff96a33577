"""`digest serve`: the long-running scheduler, with the web side and the Slack app beside it."""

from __future__ import annotations

from pathlib import Path

import click

from ..readers import services_for
from ..schedule import serve
from .common import build_app_for
from .options import config_and_state_options, summarizer_override_option


@click.command("serve")
@config_and_state_options
@click.option(
    "--grace-minutes",
    type=click.FloatRange(min=0),
    default=None,
    help="Run a digest whose time passed while serve was down if it is this recent "
    "(default 60, or [serve] grace_minutes).",
)
@click.option(
    "--http",
    "http_listen",
    metavar="HOST:PORT",
    default=None,
    help="Also serve the web side (unsubscribe, preferences, archive, Atom, status) here, "
    "e.g. 127.0.0.1:8080.",
)
@click.option(
    "--standby",
    is_flag=True,
    default=None,
    help="When another serve holds the state's lease, wait as a standby replica and take over "
    "when it stops or dies, instead of refusing to start (or [serve] standby = true).",
)
@summarizer_override_option
@click.pass_context
def serve_cmd(
    ctx: click.Context,
    config_path: Path | None,
    state_dir: Path | None,
    grace_minutes: float | None,
    http_listen: str | None,
    standby: bool | None,
    summarizer: str | None,
) -> None:
    """Run every digest on its schedule and send alerts, until SIGTERM or Ctrl-C.

    A digest whose time passed while serve was down runs once on start (within the grace
    time); a period is never delivered twice, whatever the restarts. On SIGTERM the delivery in
    flight finishes and is recorded, then serve exits 0. A second serve on the same state
    refuses to start, unless it is a --standby replica: then it waits for the lease.
    """
    app = build_app_for(ctx, config_path, state_dir, summarizer)
    try:
        settings = app.config.serve
        if grace_minutes is not None:
            settings = settings.model_copy(update={"grace_minutes": grace_minutes})
        if standby:
            settings = settings.model_copy(update={"standby": True})
        services = services_for(app, http_listen)
        try:
            code = serve(app, settings, services=services)
        finally:
            for service in services:
                service.close()
    finally:
        app.close()
    ctx.exit(code)
