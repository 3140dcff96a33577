"""Fetch feeds and pages over one shared httpx.Client.

A fetch never raises for a network or HTTP problem: it returns a FetchResult with status "error"
and a one-line reason, so one broken feed cannot stop a run. Bodies are streamed and cut off at
`max_bytes`; redirects are followed here, hop by hop, so that every target is checked with
`check_link` (a public page must not bounce the bot into the local network).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from .config import FetchSettings
from .errors import UnsafeURLError
from .urls import Resolver, check_link, unsafe_address

log = logging.getLogger(__name__)

# What a feed reader asks for; servers that do content negotiation then pick the feed.
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch, with the validators stored from the last successful fetch."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    allow_private: bool | None = None  # None: use settings.allow_private_addresses


@dataclass(frozen=True)
class FetchResult:
    """What came back for one URL: the body, or why there is none."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: str  # "ok" | "not_modified" | "error"
    content: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # one line, e.g. "HTTP 404 Not Found", "read timeout after 20s"

    @property
    def ok(self) -> bool:
        """True when a body was fetched."""
        return self.status == "ok"


def build_client(settings: FetchSettings) -> httpx.Client:
    """The one HTTP client of the process: timeouts, User-Agent, redirect limit, pool size."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
        headers={"User-Agent": settings.user_agent, "Accept": DEFAULT_ACCEPT},
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        # Every fetch thread must be able to hold a connection, or threads queue for the pool.
        limits=httpx.Limits(
            max_connections=max(settings.concurrency * 2, 10),
            max_keepalive_connections=max(settings.concurrency, 5),
        ),
    )


class _Failure(Exception):
    """Internal: ends a fetch with a one-line reason."""

    def __init__(self, reason: str, final_url: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final_url = final_url


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:g}s"


class Fetcher:
    """Fetches URLs through the injected client; safe to share between threads."""

    def __init__(
        self,
        client: httpx.Client,
        settings: FetchSettings,
        *,
        resolve: Resolver | None = None,
        total_timeout: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`resolve` replaces DNS for the link checks (tests); `total_timeout` bounds one whole
        fetch, redirects and body included (default: three read timeouts), so a server that
        trickles bytes cannot hold a worker forever."""
        self.client = client
        self.settings = settings
        self.resolve = resolve
        self.total_timeout = (
            total_timeout if total_timeout is not None else 3 * settings.timeout_seconds
        )
        self._monotonic = monotonic
        # Proxies from the environment (httpx's trust_env): the socket's peer is then the proxy.
        self._proxied = bool(getattr(client, "trust_env", True)) and any(
            os.environ.get(name)
            for name in (
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
                "all_proxy",
            )
        )

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET one URL; never raises for network or HTTP problems (status "error" instead).

        With `etag`/`last_modified` the request is conditional and a 304 gives status
        "not_modified". Each redirect target is checked with `check_link` before it is requested.
        """
        if allow_private is None:
            allow_private = self.settings.allow_private_addresses
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        try:
            return self._fetch(url, headers, allow_private, etag, last_modified)
        except _Failure as failure:
            log.debug("fetch failed: %s: %s", url, failure.reason)
            return FetchResult(url, failure.final_url, "error", error=failure.reason)

    def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        allow_private: bool,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        deadline = self._monotonic() + self.total_timeout
        current = url
        chain = [url]
        while True:
            self._check(current, allow_private)
            if self._monotonic() > deadline:
                raise _Failure(f"gave up after {_seconds(self.total_timeout)}", current)
            try:
                request = self.client.build_request("GET", current, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as e:
                raise _Failure(f"invalid URL: {_one_line(str(e))}", current) from None
            try:
                response = self.client.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as e:
                raise _Failure(self._describe(e), current) from None
            try:
                self._check_peer(response, current, allow_private)
                if response.is_redirect and response.next_request is not None:
                    target = str(response.next_request.url)
                    if len(chain) > self.settings.max_redirects:
                        reason = f"too many redirects ({self.settings.max_redirects})"
                        if target in chain:
                            reason += f": a loop back to {target}"
                        raise _Failure(reason, current)
                    chain.append(target)
                    current = target
                    continue
                final_url = str(response.url)
                if response.status_code == 304:
                    return FetchResult(
                        url,
                        final_url,
                        "not_modified",
                        etag=response.headers.get("etag") or etag,
                        last_modified=response.headers.get("last-modified") or last_modified,
                    )
                if not response.is_success:
                    phrase = response.reason_phrase or ""
                    raise _Failure(f"HTTP {response.status_code} {phrase}".strip(), final_url)
                content = self._read_body(response, deadline)
                return FetchResult(
                    url,
                    final_url,
                    "ok",
                    content=content,
                    content_type=response.headers.get("content-type"),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
            finally:
                response.close()

    def _check_peer(self, response: httpx.Response, url: str, allow_private: bool) -> None:
        """Refuse what came from a non-public address the link check did not see.

        A name can resolve to a public address when checked and to a private one when
        connected (DNS rebinding): the address the socket really reached decides, before any
        byte of the body is read. Behind a proxy the peer is the proxy, so there is nothing
        to tell.
        """
        if allow_private or self._proxied:
            return
        stream = response.extensions.get("network_stream")
        try:
            peer = stream.get_extra_info("server_addr") if stream is not None else None
        except Exception:  # a transport without socket details (tests' mock transports)
            peer = None
        if not peer:
            return
        why = unsafe_address(str(peer[0]))
        if why:
            raise _Failure(f"refused: the host answered from a {why} address", url)

    def _check(self, url: str, allow_private: bool) -> None:
        try:
            check_link(url, allow_private=allow_private, resolve=self.resolve)
        except UnsafeURLError as e:
            raise _Failure(f"refused: {e.reason}", url) from None

    def _read_body(self, response: httpx.Response, deadline: float) -> bytes:
        limit = self.settings.max_bytes
        too_big = f"response larger than {limit} bytes"
        declared = response.headers.get("content-length", "")
        # A declared length over the cap fails before reading anything. The streamed count
        # below is what really protects: it counts decoded bytes, so gzip bombs stop too.
        if declared.isdigit() and int(declared) > limit:
            raise _Failure(too_big, str(response.url))
        chunks: list[bytes] = []
        size = 0
        try:
            # No chunk size: httpx would buffer up to it, and the deadline must see every read.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _Failure(too_big, str(response.url))
                if self._monotonic() > deadline:
                    raise _Failure(
                        f"gave up after {_seconds(self.total_timeout)}: body still arriving",
                        str(response.url),
                    )
                chunks.append(chunk)
        except httpx.HTTPError as e:
            raise _Failure(self._describe(e), str(response.url)) from None
        return b"".join(chunks)

    def _describe(self, error: httpx.HTTPError) -> str:
        """One line saying what went wrong, in words a person running the bot understands."""
        s = self.settings
        if isinstance(error, httpx.ConnectTimeout):
            return f"connect timeout after {_seconds(s.connect_timeout_seconds)}"
        if isinstance(error, httpx.ReadTimeout):
            return f"read timeout after {_seconds(s.timeout_seconds)}"
        if isinstance(error, httpx.TimeoutException):
            return f"timeout after {_seconds(s.timeout_seconds)}"
        detail = _one_line(str(error)) or type(error).__name__
        if isinstance(error, httpx.ConnectError):
            return f"cannot connect: {detail}"
        if isinstance(error, httpx.DecodingError):
            return f"cannot decode the response body: {detail}"
        if isinstance(error, httpx.RemoteProtocolError):
            return f"the server broke the HTTP protocol: {detail}"
        if isinstance(error, httpx.UnsupportedProtocol):
            return f"invalid URL: {detail}"
        return f"{type(error).__name__}: {detail}"

    def fetch_many(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Fetch several URLs on up to `settings.concurrency` threads; results keep the order."""
        if not requests:
            return []
        workers = min(self.settings.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            results = list(pool.map(self._fetch_guarded, requests))
        counts = {
            status: sum(r.status == status for r in results)
            for status in ("ok", "not_modified", "error")
        }
        log.info(
            "fetched %d URLs: %d ok, %d not modified, %d failed",
            len(results),
            counts["ok"],
            counts["not_modified"],
            counts["error"],
        )
        return results

    def _fetch_guarded(self, request: FetchRequest) -> FetchResult:
        try:
            return self.fetch(
                request.url,
                etag=request.etag,
                last_modified=request.last_modified,
                allow_private=request.allow_private,
            )
        except Exception as e:  # a bug met on one URL must not lose the results of the others
            log.exception("unexpected error fetching %s", request.url)
            return FetchResult(
                request.url,
                request.url,
                "error",
                error=f"internal error: {type(e).__name__}: {_one_line(str(e))}",
            )
