"""Fetcher against a real HTTP server on 127.0.0.1: every failure is a one-line result."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from netns_fetch import PUBLIC, run_scenario
from pytest_httpserver import HTTPServer
from webfixtures import LAST_MODIFIED, etag_for, running_server, serve_fixture_site
from werkzeug import Request, Response

from digest.config import DEFAULT_USER_AGENT, FetchSettings
from digest.fetch import Fetcher, FetchRequest, FetchResult, build_client


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    with running_server() as s:
        yield s


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so a handler that waits on it never outlives its test."""
    event = threading.Event()
    yield event
    event.set()


def make_fetcher(**overrides: object) -> Fetcher:
    settings = FetchSettings(**{"allow_private_addresses": True, **overrides})
    return Fetcher(build_client(settings), settings)


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def test_fetch_ok_returns_body_type_validators_and_sends_user_agent(http: HTTPServer) -> None:
    http.expect_request("/feed.xml").respond_with_data(
        b"<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": LAST_MODIFIED},
    )
    result = make_fetcher().fetch(http.url_for("/feed.xml"))
    assert result.status == "ok" and result.ok
    assert result.content == b"<rss/>"
    assert result.content_type == "application/rss+xml"
    assert result.etag == '"v1"'
    assert result.last_modified == LAST_MODIFIED
    assert result.final_url == result.url == http.url_for("/feed.xml")
    assert result.error is None
    request, _ = http.log[-1]
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert "application/rss+xml" in request.headers["Accept"]


def test_fetch_404_is_a_one_line_error(http: HTTPServer) -> None:
    http.expect_request("/missing").respond_with_data("gone", status=404)
    result = make_fetcher().fetch(http.url_for("/missing"))
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("HTTP 404")
    assert result.content is None


def test_fetch_500_is_a_one_line_error(http: HTTPServer) -> None:
    http.expect_request("/broken").respond_with_data("oops\ntraceback...", status=500)
    result = make_fetcher().fetch(http.url_for("/broken"))
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("HTTP 500")
    assert "\n" not in result.error


def test_fetch_read_timeout(http: HTTPServer, release: threading.Event) -> None:
    def slow(request: Request) -> Response:
        release.wait(10)  # far beyond the 0.2 s read timeout; the test's end releases it
        return Response("too late")

    http.expect_request("/slow").respond_with_handler(slow)
    result = make_fetcher(timeout_seconds=0.2).fetch(http.url_for("/slow"))
    assert result.status == "error"
    assert result.error == "read timeout after 0.2s"


def test_fetch_gives_up_on_a_body_that_trickles_forever(
    http: HTTPServer, release: threading.Event
) -> None:
    def trickle(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            while not release.is_set():
                yield b"x"
                time.sleep(0.05)

        return Response(body(), content_type="text/html")

    http.expect_request("/trickle").respond_with_handler(trickle)
    settings = FetchSettings(allow_private_addresses=True, timeout_seconds=2)
    fetcher = Fetcher(build_client(settings), settings, total_timeout=0.3)
    result = fetcher.fetch(http.url_for("/trickle"))
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("gave up after 0.3s")


@pytest.fixture
def trickling_headers(release: threading.Event) -> Iterator[int]:
    """A raw TCP server that answers `HTTP/1.1 200 OK` and then one header byte every 0.1 s,
    for at most 5 s (so a fetch without a total deadline ends, later, with another error)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        while not release.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                started = time.monotonic()
                try:
                    while not release.is_set() and time.monotonic() - started < 5:
                        conn.sendall(b"X")
                        time.sleep(0.1)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    release.set()
    thread.join(5)
    listener.close()


def test_fetch_gives_up_on_headers_that_trickle_in(
    http: HTTPServer, trickling_headers: int
) -> None:
    """Each header byte arrives well inside the read timeout; the total deadline still ends the
    fetch, naming the URL's problem in one line, and the other feeds are fetched as usual."""
    http.expect_request("/feed.xml").respond_with_data(b"<rss/>")
    settings = FetchSettings(allow_private_addresses=True, timeout_seconds=2)
    fetcher = Fetcher(build_client(settings), settings, total_timeout=0.5)
    slow_url = f"http://127.0.0.1:{trickling_headers}/feed"
    slow, good = fetcher.fetch_many(
        [FetchRequest(slow_url), FetchRequest(http.url_for("/feed.xml"))]
    )
    assert slow.status == "error" and slow.url == slow_url
    assert slow.error == "gave up after 0.5s: no complete response headers"
    assert good.status == "ok" and good.content == b"<rss/>"


def test_fetch_gives_up_on_a_name_that_never_resolves(release: threading.Event) -> None:
    """A lookup that hangs (a DNS server that never answers) ends at the deadline too."""
    asked: list[str] = []

    def hanging(host: str) -> list[str]:
        asked.append(host)
        release.wait(10)
        return ["127.0.0.1"]

    settings = FetchSettings(allow_private_addresses=True, timeout_seconds=2)
    fetcher = Fetcher(build_client(settings), settings, resolve=hanging, total_timeout=0.5)
    result = fetcher.fetch("http://slow-dns.example/feed")
    assert asked == ["slow-dns.example"]
    assert result.status == "error"
    assert result.error == "gave up after 0.5s: slow-dns.example did not resolve"


def test_fetch_refuses_a_declared_length_over_the_cap(http: HTTPServer) -> None:
    http.expect_request("/big").respond_with_data(b"a" * 5000, content_type="text/html")
    result = make_fetcher(max_bytes=1000).fetch(http.url_for("/big"))
    assert result.status == "error"
    assert result.error == "response larger than 1000 bytes"


def test_fetch_stops_a_streamed_body_at_the_cap(http: HTTPServer) -> None:
    def chunked(request: Request) -> Response:
        # A generator body: no Content-Length, so only the streamed count can stop it.
        return Response((b"b" * 512 for _ in range(100)), content_type="text/html")

    http.expect_request("/stream").respond_with_handler(chunked)
    result = make_fetcher(max_bytes=2000).fetch(http.url_for("/stream"))
    assert result.status == "error"
    assert result.error == "response larger than 2000 bytes"


def test_fetch_counts_decompressed_bytes_against_the_cap(http: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 2_000_000)  # ~2 KB on the wire, 2 MB once decoded
    http.expect_request("/bomb").respond_with_data(
        bomb, content_type="application/xml", headers={"Content-Encoding": "gzip"}
    )
    result = make_fetcher(max_bytes=100_000).fetch(http.url_for("/bomb"))
    assert result.status == "error"
    assert result.error == "response larger than 100000 bytes"


def test_fetch_body_exactly_at_the_cap_is_fine(http: HTTPServer) -> None:
    http.expect_request("/exact").respond_with_data(b"c" * 1000)
    result = make_fetcher(max_bytes=1000).fetch(http.url_for("/exact"))
    assert result.status == "ok" and result.content == b"c" * 1000


def test_fetch_redirect_loop(http: HTTPServer) -> None:
    http.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    http.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    result = make_fetcher(max_redirects=5).fetch(http.url_for("/a"))
    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("too many redirects (5)")
    assert "loop" in result.error
    assert requests_to(http, "/a") + requests_to(http, "/b") == 6  # first request + 5 hops


def test_fetch_follows_redirects_within_the_limit(http: HTTPServer) -> None:
    http.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/mid"})
    http.expect_request("/mid").respond_with_data("", status=307, headers={"Location": "/new"})
    http.expect_request("/new").respond_with_data("here", content_type="text/plain")
    result = make_fetcher(max_redirects=2).fetch(http.url_for("/old"))
    assert result.status == "ok" and result.content == b"here"
    assert result.url == http.url_for("/old")
    assert result.final_url == http.url_for("/new")
    too_few = make_fetcher(max_redirects=1).fetch(http.url_for("/old"))
    assert too_few.error == "too many redirects (1)"


def _netns(name: str) -> dict:
    outcome = run_scenario(name)
    if isinstance(outcome, str):
        pytest.skip(f"no private network namespace: {outcome}")
    return outcome


def test_fetch_refuses_a_redirect_from_a_public_page_into_loopback() -> None:
    """A public page (a public address served in a private network namespace) redirects into
    127.0.0.1: refused before the request, and the private server never hears of it."""
    seen = _netns("redirect_into_loopback")
    assert seen["status"] == "error"
    assert seen["error"] == "refused: 127.0.0.1 is a loopback address"
    assert [r["path"] for r in seen["public_log"]] == ["/start"]
    assert seen["private_log"] == []


def test_dns_rebinding_never_reaches_the_private_server() -> None:
    """The name answers public to the first lookup and loopback to any later one: the fetch
    looks it up once and connects to the address it checked, keeping the name as Host."""
    seen = _netns("rebinding")
    assert seen["private_log"] == []
    assert seen["lookups"] == [PUBLIC]
    assert seen["status"] == "ok" and seen["content"] == "public feed"
    [request] = seen["public_log"]
    assert request["host"].startswith("localhost:")


def test_https_to_the_checked_address_keeps_the_name_for_tls() -> None:
    """Connected by address, but the TLS server name (SNI), the certificate check and the Host
    header are the URL's name: a certificate for news.example verifies."""
    pytest.importorskip("cryptography", reason="cryptography is needed to make a test cert")
    seen = _netns("tls_server_name")
    assert seen["status"] == "ok", seen["error"]
    assert seen["content"] == "public feed over TLS"
    assert seen["server_names"] == ["news.example"]
    assert [r["host"].split(":")[0] for r in seen["public_log"]] == ["news.example"]


def test_fetch_refuses_a_name_that_resolves_to_loopback_without_a_request(
    http: HTTPServer,
) -> None:
    http.expect_request("/feed").respond_with_data("internal admin page")
    settings = FetchSettings(allow_private_addresses=False)
    fetcher = Fetcher(build_client(settings), settings, resolve=lambda host: ["127.0.0.1"])
    result = fetcher.fetch(f"http://intranet.example:{http.port}/feed")
    assert result.status == "error" and result.content is None
    assert result.error == "refused: intranet.example resolves to 127.0.0.1, a loopback address"
    assert requests_to(http, "/feed") == 0
    allowed = fetcher.fetch(f"http://intranet.example:{http.port}/feed", allow_private=True)
    assert allowed.status == "ok" and allowed.content == b"internal admin page"


def test_a_pooled_private_connection_is_not_reused_for_a_fetch_that_refuses_private(
    http: HTTPServer,
) -> None:
    http.expect_request("/feed").respond_with_data("intranet feed")
    settings = FetchSettings(allow_private_addresses=False)
    fetcher = Fetcher(build_client(settings), settings, resolve=lambda host: ["127.0.0.1"])
    url = f"http://intranet.example:{http.port}/feed"
    assert fetcher.fetch(url, allow_private=True).status == "ok"  # leaves a pooled connection
    refused = fetcher.fetch(url)
    assert refused.status == "error" and (refused.error or "").startswith("refused: ")
    assert requests_to(http, "/feed") == 1


def test_fetch_refuses_a_private_url_before_requesting_it(http: HTTPServer) -> None:
    http.expect_request("/feed").respond_with_data("secret")
    fetcher = make_fetcher(allow_private_addresses=False)
    result = fetcher.fetch(http.url_for("/feed").replace("localhost", "127.0.0.1"))
    assert result.status == "error"
    assert result.error == "refused: 127.0.0.1 is a loopback address"
    assert requests_to(http, "/feed") == 0


def test_fetch_refuses_non_web_schemes_without_raising() -> None:
    result = make_fetcher().fetch("javascript:alert(1)")
    assert result.status == "error"
    assert result.error == "refused: only http and https links are followed, not javascript:"


def test_fetch_conditional_get_gives_not_modified(http: HTTPServer) -> None:
    http.expect_request("/feed.xml", headers={"If-None-Match": '"v7"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v7"'}
    )
    http.expect_request("/feed.xml").respond_with_data("full body", headers={"ETag": '"v7"'})
    fetcher = make_fetcher()
    first = fetcher.fetch(http.url_for("/feed.xml"))
    assert first.status == "ok" and first.etag == '"v7"'
    second = fetcher.fetch(http.url_for("/feed.xml"), etag=first.etag)
    assert second.status == "not_modified"
    assert second.content is None
    assert second.etag == '"v7"'


def test_fetch_conditional_get_with_last_modified(http: HTTPServer) -> None:
    http.expect_request("/lm", headers={"If-Modified-Since": LAST_MODIFIED}).respond_with_data(
        "", status=304
    )
    result = make_fetcher().fetch(http.url_for("/lm"), last_modified=LAST_MODIFIED)
    assert result.status == "not_modified"
    assert result.last_modified == LAST_MODIFIED  # kept, although the 304 did not repeat it


def test_fetch_connection_refused_is_an_error_not_an_exception() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = make_fetcher().fetch(f"http://127.0.0.1:{port}/feed")
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("cannot connect")


def test_fetch_invalid_url_is_an_error_not_an_exception() -> None:
    result = make_fetcher().fetch("http://exa mple.com:99999/")
    assert result.status == "error"
    assert result.error is not None and result.error.startswith(("refused", "invalid URL"))


def test_fetch_many_keeps_order_and_isolates_failures(http: HTTPServer) -> None:
    for name in ("one", "two", "three"):
        http.expect_request(f"/{name}").respond_with_data(name)
    http.expect_request("/bad").respond_with_data("", status=500)
    urls = [http.url_for(p) for p in ("/one", "/bad", "/two", "/three")]
    results = make_fetcher(concurrency=3).fetch_many([FetchRequest(u) for u in urls])
    assert [r.url for r in results] == urls
    assert [r.status for r in results] == ["ok", "error", "ok", "ok"]
    assert [r.content for r in results if r.ok] == [b"one", b"two", b"three"]
    assert make_fetcher().fetch_many([]) == []


def test_fetch_many_runs_requests_concurrently(http: HTTPServer) -> None:
    # Both handlers must be inside the server at once to pass the barrier; fetched one after
    # the other, the first would time out at the barrier and answer 500.
    barrier = threading.Barrier(2, timeout=5)

    def meet(request: Request) -> Response:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Response("alone", status=500)
        return Response("together")

    http.expect_request("/meet").respond_with_handler(meet)
    fetcher = make_fetcher(concurrency=2, timeout_seconds=10)
    results = fetcher.fetch_many([FetchRequest(http.url_for("/meet"))] * 2)
    assert [r.content for r in results] == [b"together", b"together"]


def test_fetch_many_passes_validators_and_allow_private(http: HTTPServer) -> None:
    http.expect_request("/v", headers={"If-None-Match": '"e"'}).respond_with_data("", status=304)
    url = http.url_for("/v").replace("localhost", "127.0.0.1")
    fetcher = make_fetcher(allow_private_addresses=False)
    refused, allowed = fetcher.fetch_many(
        [FetchRequest(url, etag='"e"'), FetchRequest(url, etag='"e"', allow_private=True)]
    )
    assert refused.status == "error" and refused.error is not None
    assert allowed.status == "not_modified"


def test_fetch_many_turns_an_unexpected_exception_into_an_error_result() -> None:
    class Exploding(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise RuntimeError("bug in a transport")

    settings = FetchSettings(allow_private_addresses=True)
    fetcher = Fetcher(httpx.Client(transport=Exploding()), settings)
    [result] = fetcher.fetch_many([FetchRequest("http://127.0.0.1:9/x")])
    assert result == FetchResult(
        "http://127.0.0.1:9/x",
        "http://127.0.0.1:9/x",
        "error",
        error="internal error: RuntimeError: bug in a transport",
    )


def test_fixture_site_answers_conditional_gets(server: HTTPServer) -> None:
    server.clear()
    base = serve_fixture_site(server)
    fetcher = make_fetcher()
    first = fetcher.fetch(f"{base}/feeds/harbour-times.rss")
    assert first.status == "ok" and first.content is not None
    assert b"{{BASE}}" not in first.content and base.encode() in first.content
    assert first.etag == etag_for(first.content)
    again = fetcher.fetch(f"{base}/feeds/harbour-times.rss", etag=first.etag)
    assert again.status == "not_modified"


def test_a_run_with_a_trickling_feed_ends_and_delivers_the_other_feeds(
    tmp_path, trickling_headers: int
) -> None:
    """The whole run: the trickling feed is one warning naming its URL, the rest is delivered."""
    from test_pipeline import NOW, make_app
    from twins import recorder, sends

    from digest.demo import serve_sample
    from digest.pipeline import run_digest

    slow_url = f"http://127.0.0.1:{trickling_headers}/feed"
    extra = {"fetch": {"allow_private_addresses": True, "timeout_seconds": 0.5}}
    with serve_sample(NOW) as (_, feeds):
        slack = recorder("a")
        app, config = make_app(tmp_path, [slow_url, *feeds], [slack], extra=extra)
        result = run_digest(app, config.digest[0])
    assert f"feed {slow_url}: gave up after 1.5s: no complete response headers" in result.problems
    assert result.digest.stories and not result.failed
    assert len(sends(slack)) == 1
