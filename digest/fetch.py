"""Fetch feeds and pages over one shared httpx.Client.

A fetch never raises for a network or HTTP problem: it returns a FetchResult with status "error"
and a one-line reason, so one broken feed cannot stop a run. Bodies are streamed and cut off at
`max_bytes`; redirects are followed here, hop by hop, so that every target is checked with
`check_link` (a public page must not bounce the bot into the local network).

The client from `build_client` connects through `GuardedBackend`, an httpcore network backend
that does two things httpx's per-operation timeouts and its own DNS lookup cannot:

- one wall-clock deadline per fetch, from the connect to the last byte: every connect, read and
  write is given only the time left, so a server that trickles its headers or body one byte a
  second is cut off at the deadline like any other;
- the name is resolved once, each address is checked, and the socket connects to the checked
  address (the URL, the Host header and the TLS server name stay the name), so a name that
  answers public to one lookup and private to the next (DNS rebinding) never gets a request
  through to the private address.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
import time
import typing
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import ContextVar
from dataclasses import dataclass

import httpcore
import httpx

from .config import FetchSettings
from .errors import UnsafeURLError
from .urls import Resolver, check_link, system_resolve, unsafe_address

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


# --- the guarded network backend ---------------------------------------------------------------


@dataclass(frozen=True)
class _Guard:
    """What the fetch running in this thread allows: its deadline and its address policy."""

    url: str
    deadline: float
    allow_private: bool
    resolve: Resolver | None
    monotonic: Callable[[], float]

    def remaining(self) -> float:
        return self.deadline - self.monotonic()


# Request-scoped, like a decimal context: set by Fetcher around one fetch in its own thread.
_GUARD: ContextVar[_Guard | None] = ContextVar("digest_fetch_guard", default=None)


class DeadlineExceeded(Exception):
    """Internal: the fetch's wall-clock deadline passed during a lookup, connect, read or write."""

    def __init__(self, what: str | None = None) -> None:
        super().__init__(what)
        self.what = what


class RefusedAddress(Exception):
    """Internal: the host resolved to (or the connection is to) an address the fetch refuses."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _budget(timeout: float | None) -> float | None:
    """The operation's timeout cut to the time the current fetch has left."""
    guard = _GUARD.get()
    if guard is None:
        return timeout
    left = guard.remaining()
    if left <= 0:
        raise DeadlineExceeded()
    return left if timeout is None else min(timeout, left)


def _past_deadline() -> bool:
    guard = _GUARD.get()
    return guard is not None and guard.remaining() <= 0


class _GuardedStream(httpcore.NetworkStream):
    """A socket stream whose every operation fits in the current fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, peer_refusal: str | None) -> None:
        self._inner = inner
        # Why this connection's peer would be refused (None: public). A pooled connection made
        # for a fetch that allowed private addresses must not carry one that does not.
        self._peer_refusal = peer_refusal

    def _check_policy(self) -> None:
        guard = _GUARD.get()
        if guard is not None and not guard.allow_private and self._peer_refusal:
            raise RefusedAddress(self._peer_refusal)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, _budget(timeout))
        except httpcore.TimeoutException:
            if _past_deadline():
                raise DeadlineExceeded() from None
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._check_policy()
        try:
            self._inner.write(buffer, _budget(timeout))
        except httpcore.TimeoutException:
            if _past_deadline():
                raise DeadlineExceeded() from None
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, _budget(timeout))
        except httpcore.TimeoutException:
            if _past_deadline():
                raise DeadlineExceeded() from None
            raise
        return _GuardedStream(inner, self._peer_refusal)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync socket backend with one deadline per fetch and resolve-check-connect.

    Outside a Fetcher's fetch (no guard set) it behaves like httpcore's SyncBackend, except
    that it still connects to the addresses it resolved itself.
    """

    def __init__(self) -> None:
        self._plain = httpcore.SyncBackend()
        # getaddrinfo cannot be interrupted: a lookup runs here so the fetch can stop waiting
        # for it at the deadline (the lookup itself ends with the system resolver's timeout).
        self._lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")

    def _lookup(self, host: str, resolve: Resolver, guard: _Guard | None) -> list[str]:
        if guard is None:
            return list(resolve(host))
        future = self._lookups.submit(resolve, host)
        try:
            return list(future.result(timeout=max(guard.remaining(), 0.0)))
        except FutureTimeout:
            raise DeadlineExceeded(f"{host} did not resolve") from None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        guard = _GUARD.get()
        timeout = _budget(timeout)
        resolve = (guard.resolve if guard else None) or system_resolve
        try:
            # One lookup: the addresses checked are the addresses connected to.
            addresses = (
                [host] if _is_ip(host) else list(dict.fromkeys(self._lookup(host, resolve, guard)))
            )
        except (OSError, UnicodeError) as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        refusals = {a: unsafe_address(a) for a in addresses}
        allow_private = guard.allow_private if guard else True
        if not allow_private:
            for why in refusals.values():
                if why:
                    kind, _, culprit = why.rpartition(" ")
                    article = "an" if kind[:1] in "aeiou" else "a"
                    if culprit == host:
                        raise RefusedAddress(f"{host} is {article} {kind} address")
                    raise RefusedAddress(f"{host} resolves to {culprit}, {article} {kind} address")
        last: Exception | None = None
        for address in addresses:
            try:
                inner = self._plain.connect_tcp(
                    address,
                    port,
                    timeout=_budget(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                if _past_deadline():
                    raise DeadlineExceeded() from None
                raise
            except httpcore.ConnectError as e:
                last = e
                continue
            return _GuardedStream(inner, refusals[address])
        assert last is not None
        raise last

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedClient(httpx.Client):
    """An httpx.Client whose connections go through GuardedBackend (see the module docstring)."""


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx does not take a network backend, but its pool does: rebuild the pool with ours
        # (same SSL context and limits as httpx gave its own).
        ssl_context = self._pool._ssl_context
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )


def _proxies_in_environment() -> bool:
    return any(
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


def build_client(settings: FetchSettings) -> httpx.Client:
    """The one HTTP client of the process: timeouts, User-Agent, redirect limit, pool size.

    Without a proxy in the environment it is a GuardedClient; behind a proxy the proxy makes
    the connections, so httpx's own (proxy-aware) transport is kept.
    """
    # Every fetch thread must be able to hold a connection, or threads queue for the pool.
    limits = httpx.Limits(
        max_connections=max(settings.concurrency * 2, 10),
        max_keepalive_connections=max(settings.concurrency, 5),
    )
    options: dict[str, typing.Any] = dict(
        timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
        headers={"User-Agent": settings.user_agent, "Accept": DEFAULT_ACCEPT},
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        limits=limits,
    )
    if _proxies_in_environment():
        return httpx.Client(**options)
    return GuardedClient(transport=_GuardedTransport(limits), **options)


class _Failure(Exception):
    """Internal: ends a fetch with a one-line reason."""

    def __init__(self, reason: str, final_url: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final_url = final_url


def _no_lookup(host: str) -> list[str]:
    """A resolver that knows no names: check_link then judges literal addresses only."""
    return []


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
        self._proxied = bool(getattr(client, "trust_env", True)) and _proxies_in_environment()
        # A guarded client checks the addresses it connects to; the link check then needs no
        # lookup of its own (one lookup, so check and connect cannot see different answers).
        self._guarded = isinstance(client, GuardedClient)

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
        deadline = self._monotonic() + self.total_timeout
        token = _GUARD.set(_Guard(url, deadline, allow_private, self.resolve, self._monotonic))
        try:
            return self._fetch(url, headers, allow_private, etag, last_modified, deadline)
        except _Failure as failure:
            log.debug("fetch failed: %s: %s", url, failure.reason)
            return FetchResult(url, failure.final_url, "error", error=failure.reason)
        finally:
            _GUARD.reset(token)

    def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        allow_private: bool,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> FetchResult:
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
            except DeadlineExceeded as e:
                what = e.what or "no complete response headers"
                raise _Failure(self._gave_up(what), current) from None
            except RefusedAddress as e:
                raise _Failure(f"refused: {e.reason}", current) from None
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
        # Through a guarded client names are checked where they are resolved, at the connect;
        # here only the scheme, the host and literal addresses.
        resolve = _no_lookup if self._guarded else self.resolve
        try:
            check_link(url, allow_private=allow_private, resolve=resolve)
        except UnsafeURLError as e:
            raise _Failure(f"refused: {e.reason}", url) from None

    def _gave_up(self, what: str) -> str:
        return f"gave up after {_seconds(self.total_timeout)}: {what}"

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
                    raise _Failure(self._gave_up("body still arriving"), str(response.url))
                chunks.append(chunk)
        except httpx.HTTPError as e:
            raise _Failure(self._describe(e), str(response.url)) from None
        except DeadlineExceeded:
            raise _Failure(self._gave_up("body still arriving"), str(response.url)) from None
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
