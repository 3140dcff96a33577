"""Deliver a rendered digest: the port (`base`) and the factory that builds one per destination.

The pipeline renders each destination's messages with the notifier's `renderer`, then the
notifier only transports them and reports each message the destination confirmed through
`on_sent(story_ids, reference)` (see digest.deliver.base). The pipeline writes the delivery
ledger in `on_sent`, so a crash after message 1 of 3 resends only messages 2 and 3.

Adapters, each with its renderer: `slack.SlackNotifier` (bot token, chat.postMessage) and
`slack.SlackWebhookNotifier` (incoming webhook) post `slack.SlackRenderer`'s Block Kit
messages; `email.EmailNotifier` (SMTP) sends `email.EmailRenderer`'s MIME message;
`local.LocalNotifier` writes `local.LocalRenderer`'s HTML file and prints its text; and
`local.MemoryNotifier`, the in-memory twin for tests and dry runs, keeps what it is sent.

A crash after the destination accepted a message but before `on_sent` returned (the in-doubt
window) would resend it. A `ReconcilingNotifier` closes that window: it records an intent before
each post (`IntentLog.begin`), tags the post with the intent's key, and on a later run
`find_posted` looks the keys of intents left open up in the destination, so a message that did
land is recorded instead of posted again. Only the Slack bot token can do that (it can read the
channel history); webhooks stay at-least-once, and email resends with the same Message-ID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..config import (
    Config,
    EmailDestination,
    SlackDestination,
    SlackWebhookDestination,
    destination_key_path,
    secret_from_env,
)
from ..errors import ConfigError
from ..subscribers import unsubscribe_links
from .base import (
    IntentLog,
    Message,
    Notifier,
    OnSent,
    ReconcilingNotifier,
    Renderer,
    delivery_key,
    send_digest,
)
from .email import EmailNotifier
from .slack import SlackNotifier, SlackWebhookNotifier

if TYPE_CHECKING:
    import httpx


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
    "Message",
    "Notifier",
    "OnSent",
    "ReconcilingNotifier",
    "Renderer",
    "build_notifier",
    "delivery_key",
    "send_digest",
]
