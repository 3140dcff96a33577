"""Deliver a rendered digest: the Notifier port and the factory that builds one per destination.

A Notifier sends a digest as one or more messages and reports each message the destination
confirmed through `on_sent(story_ids, reference)`. The pipeline writes the delivery ledger in
`on_sent`, so a crash after message 1 of 3 resends only messages 2 and 3 on the next run.

Adapters: `slack.SlackNotifier` (bot token, chat.postMessage), `slack.SlackWebhookNotifier`
(incoming webhook), `email.EmailNotifier` (SMTP), `local.LocalNotifier` (terminal + HTML file)
and `local.MemoryNotifier`, the in-memory twin for tests and dry runs.

A crash after the destination accepted a message but before `on_sent` returned (the in-doubt
window) would resend it. A `ReconcilingNotifier` closes that window: it records an intent before
each post (`IntentLog.begin`), tags the post with the intent's key, and on a later run
`find_posted` looks the keys of intents left open up in the destination, so a message that did
land is recorded instead of posted again. Only the Slack bot token can do that (it can read the
channel history); webhooks stay at-least-once, and email resends with the same Message-ID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..clock import as_utc
from ..config import (
    Config,
    EmailDestination,
    SlackDestination,
    SlackWebhookDestination,
    destination_key_path,
    secret_from_env,
)
from ..errors import ConfigError
from ..models import Digest

if TYPE_CHECKING:
    import httpx

OnSent = Callable[[tuple[str, ...], str], None]
"""Called after each confirmed message with its story ids and the destination's reference."""


class Notifier(Protocol):
    """A destination that can be sent a digest, confirming message by message."""

    key: str  # the destination key, e.g. "slack:#news", "email:a@x,b@y", "local"

    def send(self, digest: Digest, on_sent: OnSent) -> None:
        """Deliver the digest, calling on_sent after each confirmed message.

        Raises digest.errors.DeliveryError(key, reason) when it gives up.
        """
        ...


class IntentLog(Protocol):
    """The ledger side of a reconciling notifier's posts (the pipeline backs it with the store)."""

    def begin(self, key: str, story_ids: tuple[str, ...]) -> None:
        """Record, before posting, that the message `key` with these stories is going out."""
        ...

    def confirm(self, key: str, story_ids: tuple[str, ...], reference: str) -> None:
        """The destination has the message: record its stories and clear the intent together."""
        ...


@runtime_checkable
class ReconcilingNotifier(Protocol):
    """A Notifier that can tell whether a message of an interrupted run reached the destination."""

    key: str

    def send(self, digest: Digest, on_sent: OnSent, intents: IntentLog | None = None) -> None:
        """As Notifier.send; with `intents`, each post is bracketed by begin and confirm (which
        replaces on_sent) and carries its key, so `find_posted` can recognise it later."""
        ...

    def find_posted(
        self, keys: Collection[str], since: datetime, until: datetime | None = None
    ) -> dict[str, str]:
        """Of these message keys, those the destination has (posted between `since` and
        `until`), with their references. When the destination cannot be asked, log one warning
        and return what was found so far: the caller posts the rest again (at-least-once), it
        never fails the run."""
        ...


def delivery_key(destination: str, digest: Digest, story_ids: Sequence[str], part: int) -> str:
    """A key for one message: the same for the same destination, digest, day, stories and part.

    Deterministic, so a retry of a message carries the key of its first attempt; sha256 hex, so
    it reveals nothing of the stories when it travels with the message.
    """
    day = as_utc(digest.generated_at).strftime("%Y-%m-%d")
    # An Update of a story is another message than the story itself, on any day.
    updates = {ds.story.id for ds in digest.stories if ds.is_update}
    items = [f"{sid} {'update' if sid in updates else 'story'}" for sid in story_ids]
    material = "\n".join([destination, digest.name, digest.kind, day, f"part {part}", *items])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def build_notifier(
    dest: SlackDestination | SlackWebhookDestination | EmailDestination,
    config: Config,
    *,
    http: httpx.Client | None = None,
) -> Notifier:
    """The Notifier for one configured destination, with its secret read from the environment.

    Raises ConfigError naming the environment variable when a secret is not set. `http` is
    accepted for symmetry with the other stages; Slack and SMTP use their own transports
    (slack-sdk's urllib client and smtplib).
    """
    del http  # see docstring: slack-sdk and smtplib bring their own transports
    if isinstance(dest, SlackDestination):
        from .slack import SlackNotifier

        where = f"{config.source}: {destination_key_path(config, dest)}"
        token = secret_from_env(dest.token_env, f"{where}.token_env")
        if not token:
            raise ConfigError(f"{where}.token_env: is empty")
        return SlackNotifier(
            token,
            dest.channel,
            base_url=config.slack.base_url,
            max_retries=config.slack.max_retries,
            key=dest.key,
        )
    if isinstance(dest, SlackWebhookDestination):
        from .slack import SlackWebhookNotifier

        where = f"{config.source}: {destination_key_path(config, dest)}"
        url = secret_from_env(dest.url_env, f"{where}.url_env") or ""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # Never echo the value: a webhook URL is a secret.
            raise ConfigError(
                f"{where}.url_env: environment variable {dest.url_env} does not hold an "
                "http(s) URL",
                hint="copy the webhook URL from the Slack app's Incoming Webhooks page",
            )
        return SlackWebhookNotifier(url.strip(), max_retries=config.slack.max_retries, key=dest.key)
    if isinstance(dest, EmailDestination):
        from .email import EmailNotifier

        if config.smtp is None:
            raise ConfigError(
                f"{config.source}: destination {dest.key} needs an [smtp] table",
                hint="add [smtp] with host, port, security and from",
            )
        password = secret_from_env(config.smtp.password_env, f"{config.source}: smtp.password_env")
        if config.smtp.username and password is None:
            raise ConfigError(
                f"{config.source}: smtp.username: is set but smtp.password_env is not",
                hint='add password_env = "SMTP_PASSWORD" to [smtp] and export that variable',
            )
        from ..subscribers import unsubscribe_links

        return EmailNotifier(
            config.smtp,
            list(dest.to),
            dest.subject,
            password,
            key=dest.key,
            unsubscribe=unsubscribe_links(config),
        )
    raise ConfigError(f"unknown destination type: {type(dest).__name__}")


__all__ = [
    "IntentLog",
    "Notifier",
    "OnSent",
    "ReconcilingNotifier",
    "build_notifier",
    "delivery_key",
]
