"""Click options that several commands share, defined once.

`digest run`, `serve`, `status`, `health` and `subscribers` live in different modules of this
package; they take these options from here rather than each spelling them out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

Decorator = Callable[..., Any]


def state_dir_option(f: Decorator) -> Decorator:
    """--state-dir on a subcommand (also accepted before the subcommand, and as an env var)."""
    return click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for the SQLite state (overrides the config; env DIGEST_STATE_DIR).",
    )(f)


def config_option(f: Decorator) -> Decorator:
    """--config PATH, defaulting to ./config.toml (env DIGEST_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: ./config.toml, or env DIGEST_CONFIG).",
    )(f)


def config_and_state_options(f: Decorator) -> Decorator:
    """--config and --state-dir, as on `digest run`."""
    return config_option(state_dir_option(f))


def summarizer_override_option(f: Decorator) -> Decorator:
    """--summarizer model|extractive, overriding [summarizer] backend."""
    return click.option(
        "--summarizer",
        type=click.Choice(["model", "extractive"]),
        default=None,
        help="Override [summarizer] backend (extractive needs no model).",
    )(f)


# --- the group's options, accepted after the subcommand too ------------------------------------


def _remember(name: str, setup: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value in (None, False):
            return
        ctx.ensure_object(dict)
        ctx.obj[name] = value
        setup(ctx.obj)

    return callback


def add_global_options(cmd: click.Command, setup: Callable[[dict[str, Any]], None]) -> None:
    """Give a subcommand (and a subgroup's commands) the group's --debug, -q/--quiet and
    --state-dir, so `digest run -q` works like `digest -q run`.

    The values land in the shared `ctx.obj`, where the group puts its own; `setup` is called
    with it to reconfigure logging. A command that has its own --state-dir keeps it.
    """
    names = {p.name for p in cmd.params}
    extra: list[click.Parameter] = []
    if "debug" not in names:
        extra.append(
            click.Option(
                ["--debug"],
                is_flag=True,
                expose_value=False,
                callback=_remember("debug", setup),
                help="Show full tracebacks and debug logs.",
            )
        )
    if "quiet" not in names:
        extra.append(
            click.Option(
                ["-q", "--quiet"],
                is_flag=True,
                expose_value=False,
                callback=_remember("quiet", setup),
                help="Only warnings and errors on stderr.",
            )
        )
    if "state_dir" not in names:
        extra.append(
            click.Option(
                ["--state-dir"],
                type=click.Path(file_okay=False, path_type=Path),
                expose_value=False,
                callback=_remember("state_dir", lambda obj: None),
                help="Folder for the SQLite state (env DIGEST_STATE_DIR).",
            )
        )
    cmd.params.extend(extra)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            add_global_options(sub, setup)
