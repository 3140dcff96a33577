"""URL identity and link safety.

`canonical_url` turns a link into the identity of an article (courlan does the normalising).
`check_link` decides whether a link may be fetched at all: only http(s), and never an address on
the machine's own networks (loopback, private, link-local, ...) unless that is explicitly allowed.
A feed is content written by strangers, so a link inside it must not make the bot fetch
`http://169.254.169.254/` or the admin page of the router.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit, urlunsplit

from courlan import normalize_url

from .errors import UnsafeURLError

Resolver = Callable[[str], list[str]]
"""Maps a host name to the IP addresses it resolves to (strings); raises OSError when it cannot."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_WEB_SCHEMES = ("http", "https")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts


def canonical_url(url: str) -> str | None:
    """Normalised URL used as identity; None when it is not an http(s) URL with a host.

    Lower-cases scheme and host, drops the default port, the fragment and tracking parameters
    (utm_*, fbclid, gclid, ...), sorts the query and gives an empty path as "/".
    """
    parts = _split(url)
    if parts is None or parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return None
    # The fragment never names a different document, so it is not part of the identity.
    parts = parts._replace(fragment="")
    try:
        value = normalize_url(parts)
        # courlan's output is not always a fixed point (query re-encoding, unicode hosts):
        # a second pass makes the key stable, which identity needs more than anything.
        value = normalize_url(value)
    except (ValueError, UnicodeError):
        return None
    again = _split(value)
    if again is None or not again.hostname:
        return None
    if not again.path:
        again = again._replace(path="/")
    return urlunsplit(again)


def _parse_ip(host: str) -> IPAddress | None:
    """An IP address written in any form the OS resolver would accept, else None.

    Covers dotted quads, IPv6 (with or without a zone), and the legacy IPv4 forms that
    `inet_aton` takes: `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    # Only bother inet_aton with strings made of digits, dots and hex letters: a real name
    # like "deadbeef.com" contains letters outside a-f or a dot-separated TLD that is not hex.
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _unsafe_kind(address: IPAddress) -> tuple[str, IPAddress] | None:
    """(kind, address) when this address is not public, e.g. ("loopback", 127.0.0.1); else None.

    For IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64, Teredo) the verdict is
    the embedded address's, and that address is returned.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            # 64:ff9b::a.b.c.d is a.b.c.d reached through a NAT64 gateway.
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return _unsafe_kind(embedded)
    checks = (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    )
    for attribute, label in checks:
        if getattr(address, attribute):
            return label, address
    if not address.is_global:
        # e.g. 100.64.0.0/10 (carrier-grade NAT): not "private" to ipaddress, still not public.
        return "non-public", address
    return None


def system_resolve(host: str) -> list[str]:
    """The addresses the operating system's resolver gives for a host name."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _host_addresses(host: str, resolve: Resolver | None) -> list[IPAddress]:
    """The addresses a host stands for; [] when the name does not resolve."""
    literal = _parse_ip(host)
    if literal is not None:
        return [literal]
    try:
        names = (resolve or system_resolve)(host)
    except (OSError, UnicodeError):
        # A name that does not resolve cannot reach anything; the fetch fails on its own.
        return []
    addresses = []
    for name in names:
        parsed = _parse_ip(name)
        if parsed is not None:
            addresses.append(parsed)
    return addresses


def unsafe_address(address: str) -> str | None:
    """Why a connected peer's IP address may not be read from ("loopback 127.0.0.1"), or None.

    The same verdict as `check_link` gives for a resolved name, for an address a socket
    actually connected to: DNS can answer differently between the check and the connect.
    """
    parsed = _parse_ip(address)
    if parsed is None:
        return None
    verdict = _unsafe_kind(parsed)
    return None if verdict is None else f"{verdict[0]} {verdict[1]}"


def check_link(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> str:
    """Return `url` when it may be fetched; raise UnsafeURLError saying why it may not.

    Only http and https with a host are accepted. Unless `allow_private`, every address the host
    resolves to must be public (not loopback, private, link-local, multicast, reserved or
    unspecified, also when hidden in IPv4-mapped IPv6 or written in decimal/hex). A name that
    does not resolve is not unsafe: the fetch will fail with its own error.
    """
    parts = _split(url)
    if parts is None:
        raise UnsafeURLError(url, "not a valid URL")
    scheme = parts.scheme.lower()
    if scheme not in _WEB_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise UnsafeURLError(url, f"only http and https links are followed, not {shown}")
    host = parts.hostname
    if not host:
        raise UnsafeURLError(url, "the link has no host")
    if allow_private:
        return url
    literal = _parse_ip(host) is not None
    for address in _host_addresses(host, resolve):
        verdict = _unsafe_kind(address)
        if verdict is None:
            continue
        kind, culprit = verdict
        article = "an" if kind[0] in "aeiou" else "a"
        if not literal:
            where = f"{host} resolves to {culprit},"
        elif str(culprit) == host:
            where = f"{host} is"
        else:
            # Written in decimal, hex or short form, or an IPv4 address inside IPv6.
            where = f"{host} is {culprit},"
        raise UnsafeURLError(url, f"{where} {article} {kind} address")
    return url


def is_private_url(url: str, *, resolve: Resolver | None = None) -> bool:
    """True if the URL's host is, or resolves to, a non-public address."""
    parts = _split(url)
    if parts is None or not parts.hostname:
        return False
    return any(_unsafe_kind(a) is not None for a in _host_addresses(parts.hostname, resolve))


def user_url_allows_private(url: str, allow_private_addresses: bool = False) -> bool:
    """Whether fetching a URL the user gave (a configured or `--feed` feed, a URL typed to
    `digest extract` / `summarize`) may reach private addresses, its redirects included.

    The user's own URL on a loopback or intranet host is trusted; one on a public host keeps
    the rule, so its redirects may not lead into the private network. Links found inside
    feeds are never trusted this way.
    """
    return allow_private_addresses or is_private_url(url)


def host_of(url: str | None) -> str | None:
    """The host of a URL, lower-cased and without a leading "www.", or None."""
    if not url:
        return None
    parts = _split(url)
    if parts is None or not parts.hostname:
        return None
    host = parts.hostname.lower()
    return host[4:] if host.startswith("www.") else host
