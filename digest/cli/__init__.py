"""The `digest` command: a thin layer of click commands over the library.

Every command lives in this package, one module per group of commands; the library never
imports it. User errors (DigestError) become one line naming the file, key or URL at fault,
plus a hint; full tracebacks only with --debug (see common.DigestGroup).
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import __version__
from .common import DigestGroup, setup_logging
from .run import check_config, run
from .serve import serve_cmd
from .state import migrate_cmd, state_cmd
from .status import health_cmd, status_cmd
from .subscribers import subscribers_cmd
from .summarize import prepare_model_cmd, summarize_cmd
from .tools import compress, demo, extract
from .worker import worker_cmd

__all__ = ["main"]


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
    setup_logging(debug, quiet)


for _command in (
    run,
    check_config,
    extract,
    demo,
    compress,
    summarize_cmd,
    prepare_model_cmd,
    serve_cmd,
    status_cmd,
    health_cmd,
    subscribers_cmd,
    worker_cmd,
    migrate_cmd,
    state_cmd,
):
    main.add_command(_command)
