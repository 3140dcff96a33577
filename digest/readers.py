"""What `digest serve` runs beside the scheduler for readers: the web side and the Slack app.

Each service has `start(scheduler)`, `stop()` and `close()`; `serve` starts them once it holds
the state lock and stops them on the way out. Each gets its own SQLite connection, so a request
never joins a transaction a digest run holds open on the app's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .runtime import usable_cpus
from .slackapp import build_slack_app
from .store import Store
from .web import WebServer, parse_listen

if TYPE_CHECKING:
    from .app import App


def own_store(app: App) -> Any:
    """A second connection to the app's state (the app's own store when it is in memory)."""
    path = getattr(app.store, "path", None)
    return Store.open(path.parent) if path is not None else app.store


def services_for(app: App, http_listen: str | None) -> list[Any]:
    """The services the config and `--http` ask for; ConfigError (one line) on a bad setting."""
    services: list[Any] = []
    if http_listen:
        host, port = parse_listen(http_listen)
        services.append(
            WebServer(
                app.config,
                own_store(app),
                host,
                port,
                threads=max(2, min(8, 2 * usable_cpus())),
                clock=app.clock,
            )
        )
    if app.config.slack.app_token_env:
        services.append(build_slack_app(app, own_store(app)))
    return services
