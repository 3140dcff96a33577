"""Email subscribers kept in the state, and the signed links that let a reader leave in one click.

A digest's recipients are the config's `to` plus the addresses `digest subscribers add` (or the
web preferences page) put in the state, minus every address that unsubscribed: an
unsubscription holds for a `to` address of the config too, until `digest subscribers add`
brings it back. Each recipient is its own destination (`email:<address>`), so each gets their
own message (nobody sees the others' addresses) and the delivery ledger is kept per recipient:
a crash after the third of ten messages resends none of the first three.

Unsubscribe links carry an HMAC-SHA256 token over (purpose, digest, address) keyed with a
secret from the environment (`[web] secret_env`), so the web side verifies a link without any
state, and a token copied onto another address or another digest is refused. Each email gets
`List-Unsubscribe: <https://…>, <mailto:…>` and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058), which mailbox providers show as their own
"Unsubscribe" button.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from .config import MIN_SECRET_LENGTH, Config, EmailDestination, secret_from_env
from .errors import ConfigError
from .store.records import Subscriber

if TYPE_CHECKING:
    from .store import Store

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"


# --- addresses ---------------------------------------------------------------------------------


def bare_address(address: str) -> str:
    """The address part of `Name <a@b>` (or `a@b`), lower-cased: what tokens and the state use."""
    return parseaddr(address)[1].strip().lower()


def check_address(address: str) -> str:
    """A plain email address, normalised; ConfigError naming it when it is not one."""
    bare = bare_address(address)
    local, _, domain = bare.rpartition("@")
    if (
        not local
        or "." not in domain
        or any(c.isspace() or c in "<>,;\"'\\" for c in bare)
        or len(bare) > 254
    ):
        raise ConfigError(f"{address!r}: not an email address", hint="give it as name@example.com")
    return bare


# --- tokens ------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign(secret: str, purpose: str, *parts: str) -> str:
    """An HMAC-SHA256 token over the purpose and parts (unambiguous: parts are length-prefixed)."""
    material = "".join(f"{len(p)}:{p}" for p in (purpose, *parts)).encode("utf-8")
    return _b64(hmac.new(secret.encode("utf-8"), material, hashlib.sha256).digest())


def unsubscribe_token(secret: str, digest: str, address: str) -> str:
    """The token of one address's unsubscribe link from one digest."""
    return sign(secret, "unsubscribe", digest, bare_address(address))


def preferences_token(secret: str, address: str) -> str:
    """The token of one address's preferences page (every digest it could receive)."""
    return sign(secret, "preferences", bare_address(address))


def token_ok(expected: str, given: str | None) -> bool:
    """Compare tokens in constant time."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Builds the signed links of one deployment: `[web] base_url` and the secret."""

    base_url: str
    secret: str
    mailto: str

    def unsubscribe_url(self, digest: str, address: str) -> str:
        """The one-click URL (POST per RFC 8058; GET shows a confirmation page)."""
        query = urlencode(
            {
                "digest": digest,
                "address": bare_address(address),
                "token": unsubscribe_token(self.secret, digest, address),
            }
        )
        return f"{self.base_url}/unsubscribe?{query}"

    def preferences_url(self, address: str) -> str:
        """The reader's preferences page."""
        query = urlencode(
            {"address": bare_address(address), "token": preferences_token(self.secret, address)}
        )
        return f"{self.base_url}/preferences?{query}"

    def mailto_url(self, digest: str, address: str) -> str:
        """The mailto alternative: a message to `mailto` whose subject carries the token."""
        token = unsubscribe_token(self.secret, digest, address)
        subject = quote(f"unsubscribe {digest} {bare_address(address)} {token}")
        return f"mailto:{self.mailto}?subject={subject}"

    def headers(self, digest: str, to: Sequence[str]) -> list[tuple[str, str]]:
        """The RFC 2369 / RFC 8058 headers for a message to exactly one address (none else:
        a token binds one address, and a message to several would unsubscribe the wrong one)."""
        if len(to) != 1:
            return []
        (address,) = to
        links = f"<{self.unsubscribe_url(digest, address)}>, <{self.mailto_url(digest, address)}>"
        return [
            ("List-Unsubscribe", links),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]

    def footers(self, digest: str, to: Sequence[str], text: str, html: str) -> tuple[str, str]:
        """The text and HTML bodies with the unsubscribe and preferences links at the end."""
        if len(to) != 1:
            return text, html
        (address,) = to
        leave, prefs = self.unsubscribe_url(digest, address), self.preferences_url(address)
        text = f"{text.rstrip()}\n\n--\nUnsubscribe: {leave}\nPreferences: {prefs}\n"
        footer = Markup(
            '<p style="margin:0;padding:0 12px 24px 12px;text-align:center;font-size:12px;'
            "line-height:18px;color:#59636e;background-color:#eef0f3;font-family:Helvetica,"
            'Arial,sans-serif;"><a href="{}" style="color:#59636e;">Unsubscribe</a> · '
            '<a href="{}" style="color:#59636e;">Preferences</a></p>\n'
        ).format(leave, prefs)
        head, body_end, tail = html.rpartition("</body>")
        html = f"{head}{footer}{body_end}{tail}" if body_end else html + footer
        return text, html


def unsubscribe_links(config: Config) -> UnsubscribeLinks | None:
    """The links for this config's emails; None without `[web]`. ConfigError when the secret's
    variable is unset or too short to be a secret."""
    web = config.web
    if web is None:
        return None
    secret = secret_from_env(web.secret_env, f"{config.source}: web.secret_env") or ""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{config.source}: web.secret_env: {web.secret_env} holds {len(secret)} characters; "
            f"use at least {MIN_SECRET_LENGTH}",
            hint=f'export {web.secret_env}="$(python -c "import secrets; '
            'print(secrets.token_urlsafe(32))")"',
        )
    mailto = web.unsubscribe_mailto
    if mailto is None:
        mailto = bare_address(config.smtp.from_) if config.smtp is not None else ""
    if not mailto:
        raise ConfigError(
            f"{config.source}: web.unsubscribe_mailto: required when there is no [smtp] from"
        )
    return UnsubscribeLinks(web.base_url, secret, mailto)


# --- the state --------------------------------------------------------------------------------


def set_status(
    store: Store, digest: str, address: str, status: str, source: str, now: datetime
) -> bool:
    """Record that an address is (un)subscribed from a digest; True when that changed anything."""
    return store.set_subscriber(digest, bare_address(address), status, source, now)


def state_subscribers(store: Store, digest: str | None = None) -> list[Subscriber]:
    """The state's rows (subscribed and unsubscribed), by digest and address."""
    return store.subscribers(digest)


def unsubscribed(store: Store, digest: str) -> set[str]:
    """Addresses that left this digest."""
    return store.addresses_with_status(digest, UNSUBSCRIBED)


def email_destinations(config: Config, digest: str) -> list[EmailDestination]:
    """The email destinations of a configured digest."""
    d = config.get_digest(digest)
    return [dest for dest in d.destinations if isinstance(dest, EmailDestination)]


def recipients(config: Config, store: Store, digest: str) -> list[Subscriber]:
    """Everyone the digest reaches by email and everyone who left it: config `to` first."""
    left = unsubscribed(store, digest)
    out: dict[str, Subscriber] = {}
    try:
        dests = email_destinations(config, digest)
    except ConfigError:
        dests = []
    for dest in dests:
        for address in dest.to:
            bare = bare_address(address)
            status = UNSUBSCRIBED if bare in left else SUBSCRIBED
            out.setdefault(bare, Subscriber(digest, address, status, "config"))
    for sub in state_subscribers(store, digest):
        if bare_address(sub.address) not in out:
            out[sub.address] = sub
    return list(out.values())


def expand_destinations(
    store: Store, name: str, destinations: Sequence[Any], *, with_state: bool = True
) -> list[Any]:
    """The destinations with each email one split into one destination per current recipient.

    `name` is the digest (or alert rule) the recipients belong to. The state's subscribers join
    the first email destination (`with_state`); every address that unsubscribed is left out.
    """
    left = unsubscribed(store, name)
    extra = (
        [
            s.address
            for s in state_subscribers(store, name)
            if s.status == SUBSCRIBED and s.address not in left
        ]
        if with_state
        else []
    )
    seen: set[str] = set()
    out: list[Any] = []
    for dest in destinations:
        if not isinstance(dest, EmailDestination):
            out.append(dest)
            continue
        addresses = [*dest.to, *extra]
        extra = []  # only the first email destination takes the state's subscribers
        for address in addresses:
            bare = bare_address(address)
            if bare in left or bare in seen:
                continue
            seen.add(bare)
            out.append(dest.model_copy(update={"to": [address]}))
    return out
