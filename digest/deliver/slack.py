"""Slack delivery with slack-sdk: a bot token posting with chat.postMessage, or a webhook.

Both post the messages from `render.render_slack` as top-level channel messages, one call per
message, and confirm each one to the ledger before posting the next. Rate limits (HTTP 429) are
retried after the server's Retry-After, connection failures and 500/503 with backoff, all through
slack-sdk's retry handlers; anything else Slack refuses becomes a DeliveryError with Slack's own
error code.
"""

from __future__ import annotations

import http.client
import logging
import ssl

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from ..errors import DeliveryError
from ..models import Digest
from ..render import SlackMessage, render_slack, truncate
from . import OnSent

log = logging.getLogger(__name__)

# Slack error codes that no retry can fix, with what the user should do about them.
_AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
        "ekm_access_denied",
    }
)
_CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"}
)
# What a webhook answers when it no longer exists (app removed, webhook revoked).
_WEBHOOK_GONE = frozenset({"no_service", "invalid_token", "no_team", "team_disabled"})
_AUTH_HINT = "check the bot token (xoxb-...) in the environment and that it has chat:write"
_CHANNEL_HINT = "check the channel name and invite the app to it (/invite @your-app)"

# A transport failure after slack-sdk's own retries: the network, TLS, or a broken response.
_TRANSPORT_ERRORS = (OSError, http.client.HTTPException, ssl.SSLError)


def retry_handlers(max_retries: int) -> list[RetryHandler]:
    """slack-sdk retry handlers: 429 after Retry-After, connection errors and 500/503 backoff."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def _refused(key: str, code: str, what: str) -> DeliveryError:
    error = DeliveryError(key, f"{what}: {truncate(code, 200)}")
    if code in _AUTH_ERRORS:
        error.hint = _AUTH_HINT
    elif code in _CHANNEL_ERRORS:
        error.hint = _CHANNEL_HINT
    elif code in ("ratelimited", "rate_limited"):
        error.hint = "Slack is rate limiting this app; the next run sends what is left"
    return error


class SlackNotifier:
    """Posts a digest to a channel with a bot token (chat.postMessage), message by message."""

    def __init__(
        self,
        token: str,
        channel: str,
        base_url: str = "https://slack.com/api/",
        max_retries: int = 3,
        *,
        key: str | None = None,
        timeout: int = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.key = key or f"slack:{channel}"
        self.channel = channel
        self._client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            ssl=ssl_context,
            logger=log,
            retry_handlers=retry_handlers(max_retries),
        )

    def send(self, digest: Digest, on_sent: OnSent) -> None:
        """Post each message of the digest; confirm it to the ledger once Slack returns its ts."""
        messages = render_slack(digest)
        for message in messages:
            ts = self._post(message)
            on_sent(message.story_ids, ts)
        log.info(
            "slack: posted %d message(s) with %d stories to %s",
            len(messages),
            sum(len(m.story_ids) for m in messages),
            self.channel,
        )

    def _post(self, message: SlackMessage) -> str:
        try:
            response = self._client.chat_postMessage(
                channel=self.channel,
                text=message.text,
                blocks=message.blocks,
                # A digest links many articles: unfurling them would bury the text in previews.
                unfurl_links=False,
                unfurl_media=False,
                # Never turn "@channel"-like words into mentions; feed text is already escaped.
                link_names=False,
            )
        except SlackApiError as e:
            code = str(e.response.get("error") or f"HTTP {e.response.status_code}")
            raise _refused(self.key, code, "Slack refused the message") from None
        except SlackClientError as e:
            raise DeliveryError(self.key, f"Slack client error: {truncate(str(e), 200)}") from e
        except _TRANSPORT_ERRORS as e:
            reason = getattr(e, "reason", None) or e
            raise DeliveryError(
                self.key, f"cannot reach the Slack API: {truncate(str(reason), 200)}"
            ) from e
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            raise DeliveryError(self.key, "Slack accepted the message but returned no ts")
        return ts


class SlackWebhookNotifier:
    """Posts a digest through a Slack incoming webhook (one fixed channel), message by message."""

    def __init__(
        self,
        url: str,
        max_retries: int = 3,
        *,
        key: str = "slack_webhook",
        timeout: int = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.key = key
        self._client = WebhookClient(
            url,
            timeout=timeout,
            ssl=ssl_context,
            logger=log,
            retry_handlers=retry_handlers(max_retries),
        )

    def send(self, digest: Digest, on_sent: OnSent) -> None:
        """Post each message; a webhook returns no ts, so the reference is `webhook <n>/<total>`."""
        messages = render_slack(digest)
        for n, message in enumerate(messages, start=1):
            try:
                response = self._client.send(
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except _TRANSPORT_ERRORS as e:
                # The webhook URL is a secret: name only the reason, never the URL.
                reason = getattr(e, "reason", None) or type(e).__name__
                raise DeliveryError(
                    self.key, f"cannot reach the Slack webhook: {truncate(str(reason), 200)}"
                ) from None
            body = (response.body or "").strip()
            if response.status_code != 200 or body != "ok":
                status = response.status_code
                error = _refused(
                    self.key, body or f"HTTP {status}", f"Slack webhook refused it (HTTP {status})"
                )
                if body in _WEBHOOK_GONE:
                    error.hint = "the webhook was removed or revoked: create a new one"
                raise error
            on_sent(message.story_ids, f"webhook {n}/{len(messages)}")
        log.info(
            "slack: posted %d message(s) with %d stories through %s",
            len(messages),
            sum(len(m.story_ids) for m in messages),
            self.key,
        )


__all__ = ["SlackNotifier", "SlackWebhookNotifier", "retry_handlers"]
