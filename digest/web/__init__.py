"""The web side of `digest serve --http HOST:PORT`: unsubscribe, preferences, archive, Atom, status.

A WSGI app (Werkzeug routing and requests) served by waitress, both well-kept pure-Python
packages. Pages are Jinja templates in `templates/web/` with autoescape on; every link is built
from `[web] base_url` (the public address, e.g. behind a reverse proxy), else from the request.

Endpoints:
- `POST /unsubscribe?digest=D&address=A&token=T`: RFC 8058 one-click (the mailbox provider's
  button posts `List-Unsubscribe=One-Click`); the confirmation page's form posts here too.
- `GET /unsubscribe?...`: a confirmation page with that form (a GET never unsubscribes: link
  scanners and prefetchers follow GETs).
- `GET|POST /preferences?address=A&token=T`: which digests the address receives, and the topics
  (alert rules) that email it; the form changes the digests.
- `GET /archive/`, `/archive/D/`, `/archive/D/YYYY-MM-DD`: what a digest sent, per UTC day,
  rendered with the email template from the stored digests.
- `GET /feeds/D.atom`: the digest as an Atom feed, one entry per sent digest.
- `GET /status` (and `/status.json`): what `digest status` prints.

Every token is checked with `digest.subscribers` (HMAC, no state); a bad one is a 403 page.
Responses carry a strict Content-Security-Policy and `Referrer-Policy: no-referrer`, since
page addresses hold tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jinja2
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BaseConverter, Map, Rule, ValidationError
from werkzeug.wrappers import Request, Response

from ..archive import archived_days, archived_runs, day_digest
from ..channels import add_email_follow, email_follows, remove_follow, state_rules, status_lines
from ..clock import SYSTEM_CLOCK
from ..errors import ConfigError, StateError
from ..lock import SERVE_LOCK
from ..render import digest_view, render_html, templates_dir
from ..status import digest_statuses, feed_health, format_status, status_json
from ..subscribers import (
    SUBSCRIBED,
    UNSUBSCRIBED,
    bare_address,
    email_destinations,
    preferences_token,
    set_status,
    token_ok,
    unsubscribe_links,
    unsubscribe_token,
    unsubscribed,
)

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store

log = logging.getLogger(__name__)

MAX_TOPIC = 300

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class WebApp:
    """The WSGI application. One store connection, used by one request at a time."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], datetime] = SYSTEM_CLOCK,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        links = unsubscribe_links(config)  # ConfigError now, at start, if the secret is unset
        self.secret = links.secret if links is not None else None
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir() / "web")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.urls = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/unsubscribe", endpoint="unsubscribe", methods=["GET", "POST"]),
                Rule("/preferences", endpoint="preferences", methods=["GET", "POST"]),
                Rule("/archive/", endpoint="archive_index"),
                Rule("/archive/<name>/", endpoint="archive_digest"),
                Rule("/archive/<name>/<day:day>", endpoint="archive_day"),
                Rule("/feeds/<name>.atom", endpoint="atom"),
                Rule("/status", endpoint="status"),
                Rule("/status.json", endpoint="status_json"),
            ],
            converters={"day": _DayConverter},
            strict_slashes=True,
        )

    # --- plumbing --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            adapter = self.urls.bind_to_environ(environ)
            endpoint, values = adapter.match()
            with self._state():
                response = getattr(self, f"on_{endpoint}")(request, **values)
        except NotFound:
            response = self.page("error.html.j2", 404, title="Not found", message="No such page.")
        except HTTPException as e:
            response = e.get_response(environ)
        except ConfigError as e:
            log.error("web: %s", e)
            response = self.page("error.html.j2", 500, title="Error", message=str(e))
        except StateError as e:
            # A read-only, full or locked state: one line naming the file for the operator,
            # a page without server paths for the reader, and nothing half-recorded.
            log.error("web: %s %s: %s", request.method, request.path, e)
            response = self.page(
                "error.html.j2",
                503,
                title="Try again later",
                message="Your request could not be recorded just now. Please try again later.",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    @contextmanager
    def _state(self) -> Iterator[None]:
        with self._lock:
            yield

    def base(self, request: Request) -> str:
        """The public address links are built from: `[web] base_url`, else the request's."""
        if self.config.web is not None:
            return self.config.web.base_url
        return request.host_url.rstrip("/")

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        """A rendered HTML page."""
        html = self.env.get_template(template).render(**context)
        return Response(html, status=status, content_type="text/html; charset=utf-8")

    def _digest_names(self) -> list[str]:
        return [d.name for d in self.config.digest]

    def _list_names(self) -> list[str]:
        # What an unsubscribe link may name: a digest, or an alert rule that emails.
        rules = [r.name for r in self.config.alert]
        followed = [r.name for r in state_rules(self.config, self.store)]
        return [*self._digest_names(), *rules, *followed]

    def _refused(self, base: str) -> Response:
        return self.page(
            "error.html.j2",
            403,
            title="This link is not valid",
            message="The link is incomplete or was not made for this address. Use the link in "
            "the latest email you received.",
            base=base,
        )

    # --- unsubscribe -----------------------------------------------------------------------

    def on_unsubscribe(self, request: Request) -> Response:
        """GET: the confirmation page; POST: unsubscribe (RFC 8058 one-click or the form)."""
        base = self.base(request)
        args = request.form if request.method == "POST" and "token" in request.form else None
        source = args or request.args
        digest = str(source.get("digest") or request.args.get("digest") or "")
        address = bare_address(str(source.get("address") or request.args.get("address") or ""))
        token = str(source.get("token") or request.args.get("token") or "")
        if (
            self.secret is None
            or digest not in self._list_names()
            or not address
            or not token_ok(unsubscribe_token(self.secret, digest, address), token)
        ):
            log.warning("web: refused an unsubscribe for %r with a bad token", digest)
            return self._refused(base)
        prefs = f"{base}/preferences?" + urlencode(
            {"address": address, "token": preferences_token(self.secret, address)}
        )
        if request.method == "GET":
            already = address in unsubscribed(self.store, digest)
            return self.page(
                "unsubscribe.html.j2",
                digest=digest,
                address=address,
                token=token,
                action=f"{base}/unsubscribe",
                already=already,
                preferences=prefs,
                base=base,
            )
        set_status(self.store, digest, address, UNSUBSCRIBED, "web", self.clock())
        log.info("web: %s unsubscribed from %s", address, digest)
        return self.page(
            "unsubscribed.html.j2", digest=digest, address=address, preferences=prefs, base=base
        )

    # --- preferences -----------------------------------------------------------------------

    def on_preferences(self, request: Request) -> Response:
        """The reader's digests (checkboxes) and the alert topics that email them."""
        base = self.base(request)
        source = request.form if request.method == "POST" else request.args
        address = bare_address(str(source.get("address") or ""))
        token = str(source.get("token") or "")
        if (
            self.secret is None
            or not address
            or not token_ok(preferences_token(self.secret, address), token)
        ):
            return self._refused(base)
        names = [n for n in self._digest_names() if email_destinations(self.config, n)]
        saved = False
        problem = ""
        if request.method == "POST":
            wanted = set(request.form.getlist("digest"))
            for name in names:
                status = SUBSCRIBED if name in wanted else UNSUBSCRIBED
                set_status(self.store, name, address, status, "web", self.clock())
            keep = set(request.form.getlist("keep"))
            for f in email_follows(self.store, address):
                if str(f.id) not in keep:
                    remove_follow(self.store, f.id)
            topic = " ".join(str(request.form.get("follow") or "").split())
            if len(topic) > MAX_TOPIC:
                problem = f"A topic may have at most {MAX_TOPIC} characters."
            elif topic and self.config.smtp is not None:
                add_email_follow(self.store, address, topic, self.clock())
            saved = not problem
        rows = []
        for name in names:
            receives = self._receives(name, address)
            rows.append({"name": name, "receives": receives})
        return self.page(
            "preferences.html.j2",
            address=address,
            token=token,
            digests=rows,
            topics=self._topics_for(address),
            follows=email_follows(self.store, address),
            can_follow=self.config.smtp is not None,
            problem=problem,
            action=f"{base}/preferences",
            saved=saved,
            base=base,
        )

    def _receives(self, digest: str, address: str) -> bool:
        status = self.store.subscriber_status(digest, address)
        if status is not None:
            return status == SUBSCRIBED
        return any(
            bare_address(a) == address
            for dest in email_destinations(self.config, digest)
            for a in dest.to
        )

    def _topics_for(self, address: str) -> list[dict[str, str]]:
        """The alert rules that email this address, with what they watch."""
        topics = []
        for rule in self.config.alert:
            emails = [d for d in rule.destinations if d.type == "email"]
            if not any(bare_address(a) == address for d in emails for a in d.to):
                continue
            what = []
            if rule.keywords:
                what += [*rule.keywords.all, *rule.keywords.any]
            if rule.semantic:
                what.append(rule.semantic.query)
            if rule.regex:
                what.append(f"/{rule.regex}/")
            if rule.breaking:
                what.append(f"breaking: {rule.breaking.outlets} outlets")
            topics.append({"name": rule.name, "what": ", ".join(what)})
        return topics

    # --- archive and feed ------------------------------------------------------------------

    def _known(self, name: str) -> None:
        if name not in self._digest_names():
            raise NotFound()

    def on_index(self, request: Request) -> Response:
        return self.page("index.html.j2", digests=self._digest_names(), base=self.base(request))

    def on_archive_index(self, request: Request) -> Response:
        return self.page("index.html.j2", digests=self._digest_names(), base=self.base(request))

    def on_archive_digest(self, request: Request, name: str) -> Response:
        self._known(name)
        days = archived_days(self.store, name)
        return self.page("archive.html.j2", name=name, days=days, base=self.base(request))

    def on_archive_day(self, request: Request, name: str, day: str) -> Response:
        self._known(name)
        digest = day_digest(self.store, name, day)
        if not digest.stories:
            raise NotFound()
        return Response(render_html(digest), content_type="text/html; charset=utf-8")

    def on_atom(self, request: Request, name: str) -> Response:
        self._known(name)
        base = self.base(request)
        runs = archived_runs(self.store, name)
        entries = []
        for run in runs:
            view = digest_view(run)
            day = run.generated_at.astimezone(UTC).strftime("%Y-%m-%d")
            stamp = run.generated_at.astimezone(UTC).isoformat(timespec="seconds")
            entries.append(
                {
                    "id": f"{base}/archive/{name}/{day}#{stamp}",
                    "title": f"{view.title}, {view.date}",
                    "updated": stamp.replace("+00:00", "Z"),
                    "link": f"{base}/archive/{name}/{day}",
                    "content": self.env.get_template("entry.html.j2").render(view=view),
                }
            )
        updated = entries[0]["updated"] if entries else "1970-01-01T00:00:00Z"
        xml = self.env.get_template("feed.atom.j2").render(
            name=name,
            title=digest_view(runs[0]).title if runs else name,
            base=base,
            updated=updated,
            entries=entries,
        )
        return Response(xml, content_type="application/atom+xml; charset=utf-8")

    # --- status ----------------------------------------------------------------------------

    def _status(self) -> tuple[Any, Any, Any, datetime]:
        now = self.clock()
        return (
            digest_statuses(self.config, self.store, now),
            feed_health(self.config, self.store),
            self.store.lock_owner(SERVE_LOCK, now),
            now,
        )

    def on_status(self, request: Request) -> Response:
        statuses, feeds, owner, now = self._status()
        text = "\n".join([format_status(statuses, feeds, owner, now), *status_lines(self.store)])
        return self.page("status.html.j2", text=text, base=self.base(request))

    def on_status_json(self, request: Request) -> Response:
        import json

        statuses, feeds, owner, _ = self._status()
        body = json.dumps(status_json(statuses, feeds, owner), indent=2)
        return Response(body, content_type="application/json")


class _DayConverter(BaseConverter):
    """A UTC day in the archive's URLs: YYYY-MM-DD."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> str:
        # 2026-13-45 fits the pattern but is no day: no route (a 404), not a 500 later on.
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            raise ValidationError() from None
        return value


# --- the server ---------------------------------------------------------------------------------


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:8080`) -> (host, port); ConfigError naming the value."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise ConfigError(f"--http {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port_text)


@dataclass
class WebServer:
    """The web side on a waitress server in a background thread; `start()`/`stop()`."""

    config: Config
    store: Store
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 2
    clock: Callable[[], datetime] = SYSTEM_CLOCK
    poll_seconds: float = 1.0  # how long stop() may wait for the server loop to notice

    def __post_init__(self) -> None:
        self.app = WebApp(self.config, self.store, self.clock)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, scheduler: Any = None) -> WebServer:
        """Listen (ConfigError naming the address when it cannot) and serve in a thread."""
        import waitress  # type: ignore[import-untyped,unused-ignore]

        try:
            self._server = waitress.create_server(
                self.app,
                host=self.host,
                port=self.port,
                threads=self.threads,
                ident="digest",
                asyncore_loop_timeout=self.poll_seconds,
            )
        except OSError as e:
            raise ConfigError(
                f"--http {self.host}:{self.port}: cannot listen: {e.strerror or e}"
            ) from None
        self._thread = threading.Thread(target=self._run, name="digest-web", daemon=True)
        self._thread.start()
        log.info("web: listening on http://%s:%d", self.host, self.bound_port)
        return self

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:  # closed by stop()
            pass

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        return int(self._server.effective_port)

    def stop(self) -> None:
        """Stop listening and let the thread end."""
        if self._server is not None:
            from waitress.channel import HTTPChannel  # type: ignore[import-untyped,unused-ignore]

            server, self._server = self._server, None
            # Keep-alive connections (a browser's) keep the server loop running: close them.
            for channel in list(getattr(server, "_map", {}).values()):
                if isinstance(channel, HTTPChannel):
                    channel.close()
            server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        """Stop, and close the store connection if it is not shared."""
        self.stop()
        if getattr(self.store, "path", None) is not None:
            self.store.close()


__all__ = ["WebApp", "WebServer", "parse_listen"]
