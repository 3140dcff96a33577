"""What every command shares: the group class, logging set-up, and config/state/App from options.

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

from .. import render
from ..app import App, build_app, state_location
from ..config import Config, load_config, parse_config
from ..errors import ConfigError, DigestError
from ..models import Digest
from ..store import Store
from .options import add_global_options

FORMATS = ["markdown", "json", "html", "text"]


def setup_logging(debug: bool | None, quiet: bool | None) -> None:
    """Our INFO lines on stderr (WARNING with -q, DEBUG with --debug); libraries kept quiet."""
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
        add_global_options(cmd, lambda obj: setup_logging(obj.get("debug"), obj.get("quiet")))
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


def with_summarizer(config: Config, summarizer: str | None) -> Config:
    """The config with `--summarizer` overriding [summarizer] backend, when given."""
    if not summarizer:
        return config
    return config.model_copy(
        update={"summarizer": config.summarizer.model_copy(update={"backend": summarizer})}
    )


def open_state(
    ctx: click.Context, config_path: Path | None, state_dir: Path | None
) -> tuple[Config, Store]:
    """The config and the state store the CLI options point at (no models, no HTTP client)."""
    config = resolve_config(config_path)
    return config, Store.open(state_location(config, resolve_state_dir(ctx, state_dir)))


def build_app_for(
    ctx: click.Context,
    config_path: Path | None,
    state_dir: Path | None,
    summarizer: str | None = None,
) -> App:
    """The App for a long-running command, built from the CLI options."""
    config = with_summarizer(resolve_config(config_path), summarizer)
    return build_app(config, state_dir=resolve_state_dir(ctx, state_dir))


def render_digest(digest: Digest, fmt: str, *, explain: bool = False) -> str:
    """Render one digest in a CLI output format."""
    if fmt == "json":
        return json.dumps(render.render_json(digest, explain=explain), indent=2, ensure_ascii=False)
    if fmt == "html":
        return render.render_html(digest)
    if fmt == "text":
        return render.render_text(digest)
    return render.render_markdown(digest)


def print_problems(problems: tuple[str, ...] | list[str]) -> None:
    """Each of a run's problems as a `warning:` line on stderr."""
    for line in problems:
        click.echo(f"warning: {line}", err=True)
