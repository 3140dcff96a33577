"""Serve fixture feeds and pages from a real HTTP server on 127.0.0.1 (pytest-httpserver).

Fixture files may contain the placeholder `{{BASE}}`; it is replaced with the server's base URL
(e.g. `http://127.0.0.1:40123`) when served, so a feed can link to pages on the same server.
Every served file answers conditional GETs (ETag / Last-Modified -> 304), like a real site.

    from webfixtures import running_server, serve_fixture_site

    with running_server() as server:
        base = serve_fixture_site(server)          # /feeds/... and /pages/... from tests/data
        feed_url = f"{base}/feeds/harbour-times.rss"

or, inside pytest, build a fixture around `running_server()` in your test module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

DATA = Path(__file__).resolve().parent / "data"
FEEDS = DATA / "feeds"
PAGES = DATA / "pages"
PLACEHOLDER = b"{{BASE}}"
# Fixed, so that a test can send it back in If-Modified-Since and get a 304.
LAST_MODIFIED = "Wed, 12 Mar 2025 06:00:00 GMT"

# Content types as real servers send them; no charset parameter, so the file's own
# declaration (XML prolog, <meta charset>) decides, as it does on most sites.
CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".json": "application/feed+json",
    ".html": "text/html",
    ".txt": "text/plain; charset=utf-8",
}


def base_url(server: HTTPServer) -> str:
    """The server's base URL without a trailing slash, e.g. http://127.0.0.1:40123."""
    return server.url_for("/").rstrip("/")


def render(content: bytes, base: str) -> bytes:
    """Fixture bytes with every `{{BASE}}` replaced by `base`."""
    return content.replace(PLACEHOLDER, base.encode("ascii"))


def etag_for(body: bytes) -> str:
    """The ETag the fixture server sends for a body."""
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _handler(body: bytes, content_type: str) -> Callable[[Request], Response]:
    etag = etag_for(body)

    def handle(request: Request) -> Response:
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag or (
            request.headers.get("If-Modified-Since") == LAST_MODIFIED
            and "If-None-Match" not in request.headers
        ):
            return Response(status=304, headers=headers)
        return Response(body, status=200, headers=headers, content_type=content_type)

    return handle


def serve_directory(
    server: HTTPServer,
    directory: Path,
    *,
    prefix: str = "/",
    content_types: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Serve every file under `directory` at `prefix` + its relative path.

    Returns {relative path: URL}. Files are read once, `{{BASE}}` substituted.
    """
    types = {**CONTENT_TYPES, **(content_types or {})}
    base = base_url(server)
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    urls = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        body = render(path.read_bytes(), base)
        content_type = types.get(path.suffix.lower(), "application/octet-stream")
        server.expect_request(prefix + relative, method="GET").respond_with_handler(
            _handler(body, content_type)
        )
        urls[relative] = base + prefix + relative
    return urls


def serve_fixture_site(server: HTTPServer) -> str:
    """Serve tests/data/feeds at /feeds/ and tests/data/pages at /pages/; return the base URL."""
    serve_directory(server, FEEDS, prefix="/feeds/")
    serve_directory(server, PAGES, prefix="/pages/")
    return base_url(server)


@contextmanager
def running_server(*, threaded: bool = True) -> Iterator[HTTPServer]:
    """A started HTTPServer on 127.0.0.1 (threaded: a slow handler does not block others)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=threaded)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
