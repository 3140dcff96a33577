"""Click options that several commands share, defined once.

`digest run`, `serve`, `status` and `health` live in different modules (cli, schedule, status);
they take these options from here rather than each spelling them out.
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
