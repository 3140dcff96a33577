"""`digest run` and `digest check-config`: one delivery of the digests, and the config checked."""

from __future__ import annotations

from pathlib import Path

import click

from ..app import build_app
from ..config import SECRET_HINT, DigestConfig, adhoc_config, secret_problems
from ..deliver.local import LocalNotifier
from ..errors import ConfigError, DigestError
from ..lock import RUN_LOCK, RUN_LOCK_TTL, SERVE_LOCK, ServeLock
from ..pipeline import run_digest
from .common import (
    FORMATS,
    print_problems,
    render_digest,
    resolve_config,
    resolve_state_dir,
    with_summarizer,
)
from .options import config_option, state_dir_option, summarizer_override_option


@click.command()
@config_option
@state_dir_option
@click.option("--digest", "digest_name", default=None, help="Run only the digest with this name.")
@click.option(
    "--feed",
    "feed_urls",
    multiple=True,
    metavar="URL",
    help="Ad-hoc digest over these feeds, no config needed (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Render and print; deliver and record nothing.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="markdown",
    show_default=True,
    help="What to print for --dry-run (and for the terminal when no destination is set).",
)
@click.option("--explain", is_flag=True, help="With --format json: why articles were merged.")
@summarizer_override_option
@click.pass_context
def run(
    ctx: click.Context,
    config_path: Path | None,
    state_dir: Path | None,
    digest_name: str | None,
    feed_urls: tuple[str, ...],
    dry_run: bool,
    fmt: str,
    explain: bool,
    summarizer: str | None,
) -> None:
    """Fetch, group, summarise and deliver the digests once (for cron and CronJobs).

    Each digest's stories go to its destinations; a story is never sent twice to one
    destination. With no destination, the digest is printed and written as an HTML file.
    """
    if feed_urls:
        base = resolve_config(config_path, required=False) if config_path else None
        config = adhoc_config(list(feed_urls), base)
    else:
        config = resolve_config(config_path)
    config = with_summarizer(config, summarizer)
    digests = [config.get_digest(digest_name)] if digest_name else list(config.digest)
    if not digests:
        raise ConfigError(f"{config.source}: no [[digest]] tables", hint="add one, or use --feed")
    # Before any fetching: a missing token found after all the work wastes the run. A dry run
    # sends nothing and needs none.
    missing = [] if dry_run else secret_problems(config, [d.name for d in digests], alerts=False)
    if missing:
        raise ConfigError("\n".join(missing), hint=SECRET_HINT)

    local: dict[str, LocalNotifier] = {}  # per digest, to say where its HTML file went

    def local_notifier(d: DigestConfig) -> LocalNotifier:
        local[d.name] = LocalNotifier(
            config.resolve_path(config.output.html_dir),
            render=lambda dg: render_digest(dg, fmt, explain=explain),
        )
        return local[d.name]

    app = build_app(
        config,
        state_dir=resolve_state_dir(ctx, state_dir),
        local_notifier_factory=local_notifier,
    )
    failed = False
    run_lock: ServeLock | None = None
    try:
        if not dry_run:
            # Taken before serve's lock is checked; serve takes its own, then waits for this one.
            run_lock = ServeLock(app.store, app.clock, RUN_LOCK_TTL, name=RUN_LOCK)
            run_lock.acquire()
        owner = None if dry_run else app.store.lock_owner(SERVE_LOCK, app.clock())
        if owner:
            # Two processes delivering from one state could post a story twice in a narrow window.
            raise DigestError(
                f"{app.store.location}: `digest serve` ({owner}) is running on this state",
                hint="let serve deliver, use --dry-run, or stop serve first",
            )
        for d in digests:
            result = run_digest(app, d, dry_run=dry_run)
            print_problems(result.problems)
            if dry_run:
                click.echo(render_digest(result.digest, fmt, explain=explain))
                continue
            for delivery in result.deliveries:
                written = local[d.name].last_path if d.name in local else None
                if delivery.ok:
                    click.echo(
                        f"{d.name}: {delivery.destination}: "
                        + (
                            f"delivered {len(delivery.story_ids)} stories"
                            if delivery.story_ids
                            else delivery.detail or "nothing new"
                        )
                        + (
                            f"; HTML copy: {written.resolve()}"
                            if delivery.destination == "local" and written
                            else ""
                        ),
                        err=True,
                    )
                else:
                    failed = True
                    click.echo(f"error: {d.name}: {delivery.detail}", err=True)
            if not result.digest.stories:
                click.echo(
                    f"{d.name}: no new stories"
                    + (f" ({len(result.problems)} problems above)" if result.problems else ""),
                    err=True,
                )
    finally:
        if run_lock is not None:
            run_lock.release()
        app.close()
    if failed:
        ctx.exit(1)


@click.command("check-config")
@config_option
@click.option(
    "--no-secrets",
    is_flag=True,
    help="Do not check that the secrets' environment variables are set (for build-time checks).",
)
@click.pass_context
def check_config(ctx: click.Context, config_path: Path | None, no_secrets: bool) -> None:
    """Validate the config file without fetching, sending or writing anything.

    Every schedule is parsed as `digest serve` would, and every destination's secret must be
    set in the environment (unless --no-secrets). Exit 2 when anything is wrong.
    """
    config = resolve_config(config_path)  # alert rules too: a bad one names alert[i].key
    problems = [] if no_secrets else secret_problems(config)
    if problems:
        for line in problems:
            click.echo(f"error: {line}", err=True)
        click.echo(f"hint: {SECRET_HINT}, or pass --no-secrets", err=True)
        ctx.exit(2)
    feeds = sum(len(d.feeds) for d in config.digest)
    dests = sum(len(d.destinations) for d in config.digest)
    click.echo(
        f"{config.source}: ok: {len(config.digest)} digests, {feeds} feeds, "
        f"{dests} destinations, {len(config.alert)} alert rules"
    )
