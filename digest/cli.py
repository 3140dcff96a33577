"""The `digest` command: a thin layer over digest.pipeline.

User errors (DigestError) become one line naming the file, key or URL at fault, plus a hint; full
tracebacks only with --debug.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import (
    SECRET_HINT,
    Config,
    adhoc_config,
    load_config,
    parse_config,
    secret_problems,
)
from .errors import ConfigError, DigestError
from .options import (
    add_global_options,
    config_option,
    state_dir_option,
    summarizer_override_option,
)

log = logging.getLogger("digest")

FORMATS = ["markdown", "json", "html", "text"]


def _setup_logging(debug: bool | None, quiet: bool | None) -> None:
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("digest").setLevel(level)
    # Libraries' chatter is not the user's business: Python warnings (transformers'
    # "past_key_values is deprecated" FutureWarning), transformers' own log lines and tqdm
    # bars appear only with --debug. Our own INFO lines say what is happening. The variables
    # are read when those libraries are imported, which the commands do later.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.DEBUG if debug else logging.ERROR)
    if not debug:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")


class DigestGroup(click.Group):
    """Turns DigestError into a one-line message and exit code instead of a traceback.

    Every subcommand also takes the group's options (`digest run -q`), and the command list
    shows each command's first sentence in full, wrapped rather than cut with "...".
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        add_global_options(cmd, lambda obj: _setup_logging(obj.get("debug"), obj.get("quiet")))
        super().add_command(cmd, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            (name, cmd.get_short_help_str(limit=1000))
            for name in self.list_commands(ctx)
            if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigestError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for line in str(e).splitlines() or [type(e).__name__]:
                click.echo(f"error: {line}", err=True)
            hint = e.hint
            if hint == ConfigError.hint and ctx.invoked_subcommand == "check-config":
                hint = None  # "run check-config" is no help inside check-config
            if hint:
                click.echo(f"hint: {hint}", err=True)
            ctx.exit(2 if isinstance(e, ConfigError) else 1)


def resolve_config(config_path: Path | None, *, required: bool = True) -> Config:
    """Load --config, else DIGEST_CONFIG, else ./config.toml; defaults if optional and absent."""
    path = config_path or Path(os.environ.get("DIGEST_CONFIG", "config.toml"))
    if not required and config_path is None and not path.exists():
        return parse_config({})
    return load_config(path)


def resolve_state_dir(ctx: click.Context, state_dir: Path | None) -> Path | None:
    """The subcommand's --state-dir, else the group's."""
    return state_dir or (ctx.obj or {}).get("state_dir")


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DIGEST_STATE_DIR",
    default=None,
    help="Folder for the SQLite state (env DIGEST_STATE_DIR).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool, state_dir: Path | None) -> None:
    """A daily news digest and alerting bot: feeds to stories to Quick Looks to Slack or email."""
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, quiet=quiet, state_dir=state_dir)
    _setup_logging(debug, quiet)


def render_digest(digest: Any, fmt: str, *, explain: bool = False) -> str:
    """Render one digest in a CLI output format."""
    from . import render

    if fmt == "json":
        return json.dumps(render.render_json(digest, explain=explain), indent=2, ensure_ascii=False)
    if fmt == "html":
        return render.render_html(digest)
    if fmt == "text":
        return render.render_text(digest)
    return render.render_markdown(digest)


def _print_problems(problems: tuple[str, ...] | list[str]) -> None:
    for line in problems:
        click.echo(f"warning: {line}", err=True)


@main.command()
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
    from .app import build_app
    from .pipeline import run_digest

    if feed_urls:
        base = resolve_config(config_path, required=False) if config_path else None
        config = adhoc_config(list(feed_urls), base)
    else:
        config = resolve_config(config_path)
    if summarizer:
        config = config.model_copy(
            update={"summarizer": config.summarizer.model_copy(update={"backend": summarizer})}
        )
    digests = [config.get_digest(digest_name)] if digest_name else list(config.digest)
    if not digests:
        raise ConfigError(f"{config.source}: no [[digest]] tables", hint="add one, or use --feed")
    # Before any fetching: a missing token found after all the work wastes the run. A dry run
    # sends nothing and needs none.
    missing = [] if dry_run else secret_problems(config, [d.name for d in digests], alerts=False)
    if missing:
        raise ConfigError("\n".join(missing), hint=SECRET_HINT)

    from .deliver.local import LocalNotifier

    local: dict[str, LocalNotifier] = {}  # per digest, to say where its HTML file went

    def local_notifier(d: Any) -> LocalNotifier:
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
    from .schedule import RUN_LOCK, RUN_LOCK_TTL, ServeLock

    failed = False
    run_lock: ServeLock | None = None
    try:
        if not dry_run:
            # Taken before serve's lock is checked; serve takes its own, then waits for this one.
            run_lock = ServeLock(app.store, app.clock, RUN_LOCK_TTL, name=RUN_LOCK)
            run_lock.acquire()
        owner = None if dry_run else app.store.lock_owner("serve", app.clock())
        if owner:
            # Two processes delivering from one state could post a story twice in a narrow window.
            raise DigestError(
                f"{app.store.path}: `digest serve` ({owner}) is running on this state",
                hint="let serve deliver, use --dry-run, or stop serve first",
            )
        for d in digests:
            result = run_digest(app, d, dry_run=dry_run)
            _print_problems(result.problems)
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


@main.command("check-config")
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
    config = resolve_config(config_path)
    if config.alert:
        from .alerts import parse_rules

        parse_rules(config)  # raises ConfigError naming alert[i].key
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


@main.command()
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: title, outlet line and body as read; json: url, title, text, author, "
    "published, outlet.",
)
@config_option
def extract(source: str, fmt: str, config_path: Path | None) -> None:
    """Show what the pipeline would extract from one page (URL or HTML file)."""
    from .extract import extract_page
    from .fetch import Fetcher, build_client
    from .urls import user_url_allows_private

    config = resolve_config(config_path, required=False)
    if source.startswith(("http://", "https://")):
        with build_client(config.fetch) as client:
            # A URL typed by the user is trusted like a configured feed: loopback and intranet
            # hosts are fine; the private-address rule is for links found inside feeds.
            allow = user_url_allows_private(source, config.fetch.allow_private_addresses)
            result = Fetcher(client, config.fetch).fetch(source, allow_private=allow)
        if result.status != "ok" or result.content is None:
            raise DigestError(f"{source}: {result.error or 'no content'}")
        html: bytes = result.content
        url: str | None = result.final_url
    else:
        path = Path(source)
        try:
            html = path.read_bytes()
        except OSError as e:
            raise DigestError(f"{source}: cannot read file: {e.strerror}") from None
        url = None
    page = extract_page(html, url, favor_precision=config.extract.favor_precision)
    outlet = page.site_name or (url and _host(url)) or None
    if fmt == "json":
        data = {
            "url": page.canonical_url or url,
            "title": page.title,
            "text": page.text,
            "author": page.author,
            "published": page.published.isoformat() if page.published else None,
            "outlet": outlet,
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        if page.title:
            click.echo(page.title)
            click.echo("=" * min(len(page.title), 80))
        meta = [m for m in (outlet, page.author, page.published and page.published.date()) if m]
        if meta:
            click.echo(" · ".join(str(m) for m in meta))
        click.echo()
        click.echo(page.text)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").removeprefix("www.")


@main.command()
@state_dir_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option(
    "--summarizer",
    type=click.Choice(["model", "extractive"]),
    default="model",
    show_default=True,
    help="extractive needs no model and starts at once.",
)
@click.pass_context
def demo(ctx: click.Context, state_dir: Path | None, fmt: str, summarizer: str) -> None:
    """Serve bundled sample feeds on 127.0.0.1 and run the whole pipeline on them, offline."""
    from .demo import run_demo

    digest_obj = run_demo(
        state_dir=resolve_state_dir(ctx, state_dir), summarizer_backend=summarizer
    )
    click.echo(render_digest(digest_obj, fmt))


@main.command()
@click.option(
    "--compressor",
    "kind",
    type=click.Choice(["auto", "minilm", "rules"]),
    default="auto",
    show_default=True,
    help="minilm: the shipped keep/delete classifier; rules: no model; auto: minilm, else rules.",
)
@click.option(
    "--batch-size", type=click.IntRange(1), default=256, show_default=True, help="Lines a batch."
)
def compress(kind: str, batch_size: int) -> None:
    """Shorten sentences by deleting words: one sentence a line on stdin, one compression a line
    on stdout, in order (a blank line in gives a blank line out).

    Each output is made only of its input's own words, in their order. Input may be plain text
    or tokenised with spaces ("Smith 's dog , did n't bark .").
    """
    from .summarize.compress import load_compressor

    compressor = load_compressor(kind)
    stdin = sys.stdin
    batch: list[str] = []

    def flush() -> None:
        for line in compressor.compress(batch):
            click.echo(line)
        batch.clear()

    for line in stdin:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= batch_size:
            flush()
    flush()


def _register_stage_commands() -> None:
    """Commands that live beside their stage's module."""
    from .schedule import serve_cmd
    from .status import health_cmd, status_cmd
    from .subscribers import subscribers_cmd
    from .summarize.cli import summarize_cmd

    for cmd in (summarize_cmd, serve_cmd, status_cmd, health_cmd, subscribers_cmd):
        main.add_command(cmd)


_register_stage_commands()
