"""Deliver a rendered digest: the Notifier port and the factory that builds one per destination.

A Notifier sends a digest as one or more messages and reports each message the destination
confirmed through `on_sent(story_ids, reference)`. The pipeline writes the delivery ledger in
`on_sent`, so a crash after message 1 of 3 resends only messages 2 and 3 on the next run.

Adapters: `slack.SlackNotifier` (bot token, chat.postMessage), `slack.SlackWebhookNotifier`
(incoming webhook), `email.EmailNotifier` (SMTP), `local.LocalNotifier` (terminal + HTML file)
and `local.MemoryNotifier`, the in-memory twin for tests and dry runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from ..config import (
    Config,
    EmailDestination,
    SlackDestination,
    SlackWebhookDestination,
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

        token = secret_from_env(dest.token_env, f"destination {dest.key}")
        if not token:
            raise ConfigError(f"{config.source}: destination {dest.key}: token_env is empty")
        return SlackNotifier(
            token,
            dest.channel,
            base_url=config.slack.base_url,
            max_retries=config.slack.max_retries,
            key=dest.key,
        )
    if isinstance(dest, SlackWebhookDestination):
        from .slack import SlackWebhookNotifier

        url = secret_from_env(dest.url_env, f"destination {dest.key}") or ""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # Never echo the value: a webhook URL is a secret.
            raise ConfigError(
                f"destination {dest.key}: environment variable {dest.url_env} does not hold an "
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
        password = secret_from_env(config.smtp.password_env, "smtp.password_env")
        if config.smtp.username and password is None:
            raise ConfigError(
                f"{config.source}: smtp.username is set but smtp.password_env is not",
                hint='add password_env = "SMTP_PASSWORD" to [smtp] and export that variable',
            )
        return EmailNotifier(config.smtp, list(dest.to), dest.subject, password, key=dest.key)
    raise ConfigError(f"unknown destination type: {type(dest).__name__}")


__all__ = ["Notifier", "OnSent", "build_notifier"]
