"""Slack delivery with slack-sdk: a bot token posting with chat.postMessage, or a webhook.

`SlackRenderer` renders a digest as `render.render_slack`'s Block Kit messages, each with its
delivery key; the pipeline renders, and both notifiers only post those messages as top-level
channel messages, one call per message, confirming each one to the ledger before posting the
next. Rate limits (HTTP 429) are
retried after the server's Retry-After through slack-sdk's retry handlers (a 429 posted
nothing); anything else Slack refuses becomes a DeliveryError with Slack's own error code.

The bot-token notifier closes the in-doubt window (Slack accepted a post, the ledger never heard):
each post carries its delivery key as message metadata (`event_type` "digest_delivery"), and a
key left open by an interrupted post is looked up in conversations.history (which needs the
channels:history scope, groups:history for a private channel). A connection lost after a post
went out, or a 500/503 (Slack may have stored the post first), is settled the same way before
posting again, instead of slack-sdk retrying it blindly. A webhook cannot read history: its
connection failures and 5xx are retried by slack-sdk, at-least-once.
"""

from __future__ import annotations

import http.client
import logging
import random
import re
import socket
import ssl
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..models import Digest
from ..render import SlackMessage, render_slack, truncate
from .base import IntentLog, Message, OnSent, delivery_key

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
_AUTH_HINT = (
    "check the bot token (xoxb-...) in the environment and that it has chat:write "
    "(and channels:history, to find posts an interrupted run left unconfirmed)"
)
_CHANNEL_HINT = "check the channel name and invite the app to it (/invite @your-app)"

# A transport failure after slack-sdk's own retries: the network, TLS, or a broken response.
_TRANSPORT_ERRORS = (OSError, http.client.HTTPException, ssl.SSLError)

# The metadata every post carries: its delivery key, to recognise it in the channel's history.
EVENT_TYPE = "digest_delivery"
# How far before an intent to start reading history: our clock and Slack's may disagree.
HISTORY_MARGIN = timedelta(minutes=10)
HISTORY_PAGE_SIZE = 200
SETTLE_SECONDS = 2.0  # times the attempt number
HISTORY_MAX_PAGES = 5  # a busy channel: give up (and repost) rather than read it all
_LIST_MAX_PAGES = 10
# conversations.history takes an ID (C..., G... for an old private channel), never "#name".
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
_HISTORY_SCOPE = "channels:history (groups:history for a private channel)"
_LIST_SCOPE = "channels:read (groups:read for a private channel)"


class _ClockedRetry(RetryHandler):
    """A slack-sdk retry handler that waits before the next attempt on the notifier's clock.

    slack-sdk's handlers call time.sleep themselves; these wait with `clock.sleep`, so a
    Retry-After or a backoff is waited on the injected clock (a test's ManualClock returns at
    once and records it). Which answers are retried is the slack-sdk handler's own rule.
    """

    def __init__(self, max_retry_count: int, clock: Clock) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.clock = clock

    def wait_seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        """How long to wait before the next attempt: slack-sdk's backoff for this attempt."""
        return float(self.interval_calculator.calculate_sleep_duration(state.current_attempt))

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.clock.sleep(self.wait_seconds(state, response, error))
        state.increment_current_attempt()


class _RateLimitRetry(_ClockedRetry, RateLimitErrorRetryHandler):
    """A 429 (nothing was posted) is retried after its Retry-After."""

    def wait_seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        """Retry-After plus up to a second, as slack-sdk waits (1s and up without the header)."""
        if response is None:
            raise error or RuntimeError("a 429 retry without a response")
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                return int(values[0]) + random.random()
        return 1 + random.random()


class _ConnectionRetry(_ClockedRetry, ConnectionErrorRetryHandler):
    """A lost connection is retried after slack-sdk's backoff."""


class _ServerErrorRetry(_ClockedRetry, ServerErrorRetryHandler):
    """A 500/503 is retried after slack-sdk's backoff (for calls that are safe to repeat)."""


def retry_handlers(max_retries: int, clock: Clock = SYSTEM_CLOCK) -> list[RetryHandler]:
    """Retry handlers for calls safe to repeat: 429 after Retry-After, connection errors and
    500/503 after a backoff, each waited on `clock`."""
    return [
        _RateLimitRetry(max_retries, clock),
        _ConnectionRetry(max_retries, clock),
        _ServerErrorRetry(max_retries, clock),
    ]


def _never_sent(error: BaseException) -> bool:
    """Whether a failed call surely never reached Slack: no connection was ever made."""
    reason = getattr(error, "reason", None) or error
    return isinstance(
        reason, (ConnectionRefusedError, socket.gaierror, ssl.SSLCertVerificationError)
    )


class _UnsentConnectionErrorRetryHandler(_ConnectionRetry):
    """Retries a post only when the connection failed before the request went out.

    A reset or a timeout after the request went out may follow a post Slack already accepted:
    slack-sdk would repeat it blindly, a doubled post. SlackNotifier settles those against the
    channel's history instead.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return error is not None and response is None and _never_sent(error)


def post_retry_handlers(max_retries: int, clock: Clock = SYSTEM_CLOCK) -> list[RetryHandler]:
    """Retry handlers for chat.postMessage: a 429 (nothing was posted) after Retry-After, and a
    lost connection only when the post never left (see _UnsentConnectionErrorRetryHandler).

    A 500/503 is not retried here: Slack may have stored the post before failing, so
    SlackNotifier settles it against the channel's history before posting again.
    """
    return [
        _RateLimitRetry(max_retries, clock),
        _UnsentConnectionErrorRetryHandler(max_retries, clock),
    ]


class _InDoubt(Exception):
    """A post whose fate is unknown: the connection failed after the request went out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _LookupFailed(Exception):
    """Slack could not be asked whether it has a message (scope, channel, network)."""

    def __init__(self, reason: str, scope: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.scope = scope


def _lookup_failure(error: Exception, scope: str) -> _LookupFailed:
    """A _LookupFailed naming Slack's error code and, for a scope problem, the scope to add."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        needed = error.response.get("needed")
        if code == "missing_scope":
            return _LookupFailed(code, str(needed) if needed else scope)
        return _LookupFailed(truncate(code, 200))
    reason = getattr(error, "reason", None) or error
    return _LookupFailed(truncate(f"cannot reach the Slack API: {reason}", 200))


def _refused(key: str, code: str, what: str) -> DeliveryError:
    error = DeliveryError(key, f"{what}: {truncate(code, 200)}")
    if code in _AUTH_ERRORS:
        error.hint = _AUTH_HINT
    elif code in _CHANNEL_ERRORS:
        error.hint = _CHANNEL_HINT
    elif code in ("ratelimited", "rate_limited"):
        error.hint = "Slack is rate limiting this app; the next run sends what is left"
    return error


class SlackRenderer:
    """Renders a digest as Slack Block Kit messages (`render.render_slack`), split between
    stories to fit Slack's limits, each keyed by `delivery_key` for this destination."""

    def __init__(self, destination: str) -> None:
        self.destination = destination

    def render(self, digest: Digest) -> list[Message[SlackMessage]]:
        """One Message per chat.postMessage call, in posting order."""
        return [
            Message(delivery_key(self.destination, digest, m.story_ids, part), m.story_ids, m)
            for part, m in enumerate(render_slack(digest), start=1)
        ]


class SlackNotifier:
    """Posts rendered messages to a channel with a bot token (chat.postMessage), one by one.

    It is a ReconcilingNotifier: given an IntentLog, it records an intent before each post and
    confirms it after, and `find_posted` finds the posts of an interrupted run in the channel.
    """

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
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.key = key or f"slack:{channel}"
        self.renderer = SlackRenderer(self.key)
        self.clock = clock
        self.channel = channel
        self._max_retries = max_retries
        # Before looking for an in-doubt post in the channel: Slack may still be storing it.
        self.settle_seconds = SETTLE_SECONDS
        # The channel's ID, which conversations.history needs: Slack names it in every answer.
        self._channel_id: str | None = channel if _CHANNEL_ID.match(channel) else None

        def client(handlers: list[RetryHandler]) -> WebClient:
            return WebClient(
                token=token,
                base_url=base_url,
                timeout=timeout,
                ssl=ssl_context,
                logger=log,
                retry_handlers=handlers,
            )

        self._client = client(post_retry_handlers(max_retries, clock))
        # Reading is safe to repeat, so the reader keeps every retry.
        self._reader = client(retry_handlers(max_retries, clock))

    def send(
        self,
        messages: Sequence[Message[SlackMessage]],
        on_sent: OnSent,
        intents: IntentLog | None = None,
    ) -> None:
        """Post each message; confirm it to the ledger once Slack returns its ts.

        With `intents`, the intent of each message is recorded before its post and confirmed
        (with the ledger entry, in one transaction) after, instead of calling on_sent.
        """
        for message in messages:
            if intents is not None:
                intents.begin(message.key, message.story_ids)
            ts = self._post_settled(message.body, message.key)
            if intents is not None:
                intents.confirm(message.key, message.story_ids, ts)
            else:
                on_sent(message.story_ids, ts)
        log.info(
            "slack: posted %d message(s) with %d stories to %s",
            len(messages),
            sum(len(m.story_ids) for m in messages),
            self.channel,
        )

    def _post_settled(self, message: SlackMessage, key: str) -> str:
        """Post once, even across a lost connection or a 5xx: before posting again, wait a
        moment (Slack may still be storing the post) and look in the channel."""
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._post(message, key)
            except _InDoubt as e:
                self.clock.sleep(self.settle_seconds * attempt)
                found = self.find_posted({key}, started, self.clock() + HISTORY_MARGIN)
                if key in found:
                    log.info(
                        "slack: %s: the answer to a post was lost (%s) but the channel has it "
                        "(ts %s); not posting it again",
                        self.channel,
                        e.reason,
                        found[key],
                    )
                    return found[key]
                if attempt > self._max_retries:
                    raise DeliveryError(self.key, f"cannot reach the Slack API: {e.reason}") from e
                log.warning("slack: %s: %s; posting again", self.channel, e.reason)

    def _post(self, message: SlackMessage, key: str) -> str:
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
                # The key lets a later run recognise this post in the channel's history.
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
            )
        except SlackApiError as e:
            status = int(getattr(e.response, "status_code", 0) or 0)
            code = str(e.response.get("error") or f"HTTP {status}")
            if status >= 500:
                raise _InDoubt(f"Slack answered HTTP {status}") from e
            raise _refused(self.key, code, "Slack refused the message") from None
        except SlackClientError as e:
            raise DeliveryError(self.key, f"Slack client error: {truncate(str(e), 200)}") from e
        except _TRANSPORT_ERRORS as e:
            reason = truncate(str(getattr(e, "reason", None) or e), 200)
            if _never_sent(e):
                raise DeliveryError(self.key, f"cannot reach the Slack API: {reason}") from e
            raise _InDoubt(reason) from e
        channel = response.get("channel")
        if isinstance(channel, str) and _CHANNEL_ID.match(channel):
            self._channel_id = channel
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            raise DeliveryError(self.key, "Slack accepted the message but returned no ts")
        return ts

    # --- reconciliation ---------------------------------------------------------------------

    def find_posted(
        self, keys: Collection[str], since: datetime, until: datetime | None = None
    ) -> dict[str, str]:
        """Which of these message keys the channel has, with their ts, reading its history from
        `until` (if given) back to `since` (less a margin) through at most HISTORY_MAX_PAGES
        pages.

        Never raises: when Slack cannot be asked (no channels:history scope, ...) it logs one
        WARNING naming the cause and returns what it found, so the rest is posted again.
        """
        wanted = set(keys)
        found: dict[str, str] = {}
        if not wanted:
            return found
        oldest = (since - HISTORY_MARGIN).timestamp()
        latest = f"{until.timestamp():.6f}" if until is not None else None
        try:
            channel = self._resolve_channel()
            cursor: str | None = None
            for _ in range(HISTORY_MAX_PAGES):
                try:
                    response = self._reader.conversations_history(
                        channel=channel,
                        oldest=f"{max(oldest, 0.0):.6f}",
                        latest=latest,
                        include_all_metadata=True,
                        limit=HISTORY_PAGE_SIZE,
                        cursor=cursor,
                    )
                except (SlackApiError, SlackClientError, *_TRANSPORT_ERRORS) as e:
                    raise _lookup_failure(e, _HISTORY_SCOPE) from e
                for m in response.get("messages") or []:
                    posted_key = _metadata_key(m)
                    if posted_key is not None and posted_key in wanted and m.get("ts"):
                        found.setdefault(posted_key, str(m["ts"]))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if found.keys() >= wanted or not response.get("has_more") or not cursor:
                    break
        except _LookupFailed as e:
            scope = f"; add the {e.scope} scope to the app" if e.scope else ""
            log.warning(
                "slack: %s: cannot look in the channel for %d message(s) whose post was "
                "interrupted (%s%s); counting them as not posted (at-least-once: one may "
                "show twice)",
                self.channel,
                len(wanted) - len(found),
                e.reason,
                scope,
            )
        return found

    def _resolve_channel(self) -> str:
        """The channel's ID: configured, learned from a post, or found by name (channels:read)."""
        if self._channel_id:
            return self._channel_id
        name = self.channel.removeprefix("#")
        # Public channels first: asking for both kinds at once needs groups:read as well, which
        # a bot posting to a public channel may not have.
        for kind, scope in (("public_channel", _LIST_SCOPE), ("private_channel", "groups:read")):
            cursor: str | None = None
            for _ in range(_LIST_MAX_PAGES):
                try:
                    response = self._reader.conversations_list(
                        types=kind, exclude_archived=True, limit=1000, cursor=cursor
                    )
                except (SlackApiError, SlackClientError, *_TRANSPORT_ERRORS) as e:
                    raise _lookup_failure(e, scope) from e
                for c in response.get("channels") or []:
                    if c.get("name") == name and isinstance(c.get("id"), str):
                        self._channel_id = str(c["id"])
                        return self._channel_id
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        raise _LookupFailed(
            f"no channel named {truncate(name, 80)} in conversations.list; configure the "
            "channel by its ID (C...)"
        )


def _metadata_key(message: Any) -> str | None:
    """The delivery key a message from conversations.history carries, if it is one of ours."""
    if not isinstance(message, dict):
        return None
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


class SlackWebhookNotifier:
    """Posts rendered messages through a Slack incoming webhook (one fixed channel), one by one.

    A webhook can neither tag a message nor read the channel, so a post whose answer was lost
    (or a crash before the ledger heard of it) is sent again: at-least-once, by design.
    """

    def __init__(
        self,
        url: str,
        max_retries: int = 3,
        *,
        key: str = "slack_webhook",
        timeout: int = 30,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.key = key
        self.renderer = SlackRenderer(key)
        self._client = WebhookClient(
            url,
            timeout=timeout,
            ssl=ssl_context,
            logger=log,
            retry_handlers=retry_handlers(max_retries, clock),
        )

    def send(self, messages: Sequence[Message[SlackMessage]], on_sent: OnSent) -> None:
        """Post each message; a webhook returns no ts, so the reference is `webhook <n>/<total>`."""
        for n, message in enumerate(messages, start=1):
            try:
                response = self._client.send(
                    text=message.body.text,
                    blocks=message.body.blocks,
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


__all__ = [
    "EVENT_TYPE",
    "SlackNotifier",
    "SlackRenderer",
    "SlackWebhookNotifier",
    "post_retry_handlers",
    "retry_handlers",
]
