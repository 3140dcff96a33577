"""`digest subscribers add|remove|list`: a digest's email recipients kept in the state."""

from __future__ import annotations

from pathlib import Path

import click

from ..clock import SYSTEM_CLOCK
from ..config import Config
from ..errors import ConfigError
from ..subscribers import (
    SUBSCRIBED,
    UNSUBSCRIBED,
    check_address,
    email_destinations,
    recipients,
    set_status,
)
from .common import open_state
from .options import config_and_state_options


@click.group("subscribers")
def subscribers_cmd() -> None:
    """Email subscribers of a digest kept in the state (besides the config's `to`)."""


def _email_digest(config: Config, digest: str) -> None:
    if not email_destinations(config, digest):
        raise ConfigError(
            f"{config.source}: digest {digest!r} has no email destination",
            hint='add {type = "email", to = []} to its destinations (and an [smtp] table)',
        )


@subscribers_cmd.command("add")
@click.argument("digest")
@click.argument("email")
@config_and_state_options
@click.pass_context
def add_cmd(
    ctx: click.Context, digest: str, email: str, config_path: Path | None, state_dir: Path | None
) -> None:
    """Send DIGEST to EMAIL from its next run (also undoes an unsubscribe)."""
    _set_status_cmd(ctx, digest, email, config_path, state_dir, SUBSCRIBED)


@subscribers_cmd.command("remove")
@click.argument("digest")
@click.argument("email")
@config_and_state_options
@click.pass_context
def remove_cmd(
    ctx: click.Context, digest: str, email: str, config_path: Path | None, state_dir: Path | None
) -> None:
    """Stop sending DIGEST to EMAIL (an address of the config's `to` too)."""
    _set_status_cmd(ctx, digest, email, config_path, state_dir, UNSUBSCRIBED)


def _set_status_cmd(
    ctx: click.Context,
    digest: str,
    email: str,
    config_path: Path | None,
    state_dir: Path | None,
    status: str,
) -> None:
    """What `subscribers add` and `remove` share: check, record `status`, say what changed."""
    config, store = open_state(ctx, config_path, state_dir)
    try:
        _email_digest(config, digest)
        address = check_address(email)
        changed = set_status(store, digest, address, status, "cli", SYSTEM_CLOCK())
    finally:
        store.close()
    if status == SUBSCRIBED:
        said = "subscribed to" if changed else "already receives"
    else:
        said = "removed from" if changed else "already not receiving"
    click.echo(f"{address}: {said} {digest}")


@subscribers_cmd.command("list")
@click.argument("digest", required=False)
@config_and_state_options
@click.pass_context
def list_cmd(
    ctx: click.Context, digest: str | None, config_path: Path | None, state_dir: Path | None
) -> None:
    """List each digest's email recipients: address, status and where it comes from."""
    config, store = open_state(ctx, config_path, state_dir)
    try:
        names = [digest] if digest else [d.name for d in config.digest]
        if digest:
            config.get_digest(digest)
        lines = []
        for name in names:
            for sub in recipients(config, store, name):
                lines.append(f"{name}\t{sub.address}\t{sub.status}\t{sub.source}")
    finally:
        store.close()
    click.echo("\n".join(lines) if lines else "no email subscribers")
