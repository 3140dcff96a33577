"""A loopback stand-in for the Slack Web API and incoming webhooks, for tests.

It speaks enough of Slack to test a real slack-sdk client against: `auth.test`,
`chat.postMessage` (JSON or form bodies, `Authorization: Bearer <token>`, message metadata),
`conversations.history` (newest first, paginated, metadata only with `include_all_metadata`) and
`conversations.list`, Block Kit checks with the limits and error codes real Slack uses, the bot's
scopes (`missing_scope` with `needed`), HTTP 429 with Retry-After on demand, and an
incoming-webhook endpoint. Accepted messages are recorded for assertions, per channel ID: like
Slack, a post may name the channel (`#news`) but history wants its ID.

`lose_answers` opens the in-doubt window for real: the next posts are stored, then their HTTP
answer is withheld and the connection dropped, so the client cannot know they were accepted.

Use the fixtures from another test module with
`from slack_api import slack_api, slack_api_factory  # noqa: F401`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

Answer = tuple[int, dict[str, str], bytes]  # HTTP status, extra headers, body

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCK_ID = 255
MAX_MESSAGE_TEXT = 40000
# Real Slack answers msg_blocks_too_long somewhere near 12,000 characters of block text (the
# limit is undocumented); the stand-in uses that figure.
MAX_BLOCKS_TOTAL_TEXT = 12000

_BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "context": {"type", "block_id", "elements"},
    "divider": {"type", "block_id"},
    "actions": {"type", "block_id", "elements"},
    "image": {"type", "block_id", "image_url", "alt_text", "title", "slack_file"},
    "rich_text": {"type", "block_id", "elements"},
    "markdown": {"type", "block_id", "text"},
}


def _text_object_errors(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: must be a text object"]
    errors = []
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(f"{where}.type: must be one of {allowed}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"{where}.text: must be a non-empty string")
    elif len(text) > limit:
        errors.append(f"{where}.text: must be at most {limit} characters, got {len(text)}")
    extra = set(obj) - {"type", "text", "emoji", "verbatim"}
    if extra:
        errors.append(f"{where}: unknown field(s) {sorted(extra)}")
    if "emoji" in obj and kind != "plain_text":
        errors.append(f"{where}.emoji: only allowed on plain_text")
    if "verbatim" in obj and kind != "mrkdwn":
        errors.append(f"{where}.verbatim: only allowed on mrkdwn")
    return errors


def block_kit_errors(blocks: Any) -> list[str]:
    """Everything real Slack would refuse in these blocks as `invalid_blocks` (empty: valid)."""
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"blocks: must be at most {MAX_BLOCKS} items, got {len(blocks)}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            errors.append(f"{where}: must be an object")
            continue
        kind = block.get("type")
        if kind not in _BLOCK_KEYS:
            errors.append(f"{where}.type: unknown block type {kind!r}")
            continue
        extra = set(block) - _BLOCK_KEYS[kind]
        if extra:
            errors.append(f"{where}: unknown field(s) {sorted(extra)}")
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 0 < len(block_id) <= MAX_BLOCK_ID:
                errors.append(f"{where}.block_id: must be 1-{MAX_BLOCK_ID} characters")
            elif block_id in seen_ids:
                errors.append(f"{where}.block_id: duplicate {block_id!r}")
            else:
                seen_ids.add(block_id)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"{where}: needs text or fields")
            if "text" in block:
                errors += _text_object_errors(
                    block["text"], f"{where}.text", limit=MAX_SECTION_TEXT
                )
            if "fields" in block:
                fields = block["fields"]
                if not isinstance(fields, list) or not 0 < len(fields) <= MAX_FIELDS:
                    errors.append(f"{where}.fields: must have 1-{MAX_FIELDS} items")
                else:
                    for j, f in enumerate(fields):
                        errors += _text_object_errors(
                            f, f"{where}.fields[{j}]", limit=MAX_FIELD_TEXT
                        )
        elif kind == "header":
            errors += _text_object_errors(
                block.get("text"), f"{where}.text", limit=MAX_HEADER_TEXT, plain_only=True
            )
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
                errors.append(f"{where}.elements: must have 1-{MAX_CONTEXT_ELEMENTS} items")
            else:
                for j, el in enumerate(elements):
                    if isinstance(el, dict) and el.get("type") == "image":
                        if not el.get("image_url") or not el.get("alt_text"):
                            errors.append(f"{where}.elements[{j}]: image needs url and alt_text")
                    else:
                        errors += _text_object_errors(
                            el, f"{where}.elements[{j}]", limit=MAX_SECTION_TEXT
                        )
    return errors


def blocks_text_length(blocks: list[Any]) -> int:
    """Total characters of text in the blocks, as Slack's msg_blocks_too_long counts them."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return total


def message_error(text: Any, blocks: Any) -> tuple[str, list[str]] | None:
    """The Slack error code (and details) for a message, or None when Slack would accept it."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return "invalid_blocks_format", ["blocks: not JSON"]
    if not text and not blocks:
        return "no_text", []
    if text is not None and not isinstance(text, str):
        return "invalid_arguments", ["text: must be a string"]
    if text and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", [f"text: {len(text)} characters"]
    if blocks:
        errors = block_kit_errors(blocks)
        if errors:
            return "invalid_blocks", errors
        if blocks_text_length(blocks) > MAX_BLOCKS_TOTAL_TEXT:
            return "msg_blocks_too_long", [f"{blocks_text_length(blocks)} characters of text"]
    return None


# The scope each Web API method needs from a bot token (public channels).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "conversations.history": "channels:history",
    "conversations.list": "channels:read",
}
ALL_SCOPES = frozenset({*METHOD_SCOPES.values(), "groups:read"})
LOST = 0  # the "status" of an answer withheld by lose_answers


def _looks_like_id(channel: str) -> bool:
    return channel[:1] in ("C", "G") and channel.isupper() and channel.isalnum()


def channel_id_for(name: str) -> str:
    """The stand-in's stable ID for a channel name (`#news` -> `C...`)."""
    digest = hashlib.sha256(name.removeprefix("#").encode()).hexdigest()[:9]
    return "C" + digest.upper()


@dataclass(frozen=True)
class PostedMessage:
    """A message the stand-in accepted."""

    channel: str  # as the post named it
    text: str | None
    blocks: list[dict[str, Any]]
    ts: str
    params: dict[str, Any]
    channel_id: str = ""
    metadata: dict[str, Any] | None = None

    def as_history(self, *, with_metadata: bool) -> dict[str, Any]:
        """The message as conversations.history returns it."""
        message: dict[str, Any] = {
            "type": "message",
            "user": "U1",
            "bot_id": "B1",
            "app_id": "A1",
            "text": self.text or "",
            "blocks": self.blocks,
            "ts": self.ts,
        }
        if with_metadata and self.metadata is not None:
            message["metadata"] = self.metadata
        return message


@dataclass
class SlackAPI:
    """The Slack Web API stand-in; `start()` it, point slack-sdk at `base_url`."""

    token: str = "xoxb-test-token"
    app_token: str = "xapp-test-token"  # for apps.connections.open (Socket Mode)
    socket_url: str | None = None  # what apps.connections.open answers (tests/slack_socket.py)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # response_url
    webhook_path: str = "/services/T/B/X"
    channels: set[str] | None = None  # None: every channel exists
    scopes: set[str] = field(default_factory=lambda: set(ALL_SCOPES))  # the bot token's scopes
    messages: list[PostedMessage] = field(default_factory=list)
    webhook_messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, HTTP status)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (method, params)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rate_limited: int = 0
    _retry_after: int = 1
    _failing: int = 0
    _failing_status: int = 503
    _failing_after_store: int = 0
    _accept_limit: int | None = None
    _refusal: str = "fatal_error"
    _last_ts: float = 0.0
    _lose: int = 0
    _hold_seconds: float = 60.0
    answer_lost: threading.Event = field(default_factory=threading.Event)
    _release_lost: threading.Event = field(default_factory=threading.Event)

    # --- control ---------------------------------------------------------------------------------

    def start(self) -> SlackAPI:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening (and let go of any answer held by lose_answers)."""
        self._release_lost.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the stand-in listens on."""
        assert self._server is not None, "start() the stand-in first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The Web API base URL to give slack-sdk's WebClient."""
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        """The incoming-webhook URL that accepts messages."""
        return f"http://127.0.0.1:{self.port}{self.webhook_path}"

    def rate_limit(self, calls: int, retry_after: int = 1) -> None:
        """Answer the next `calls` requests with HTTP 429 and `Retry-After: retry_after`."""
        with self._lock:
            self._rate_limited = calls
            self._retry_after = retry_after

    def fail(self, calls: int, status: int = 503) -> None:
        """Answer the next `calls` requests with an HTML error page and this HTTP status."""
        with self._lock:
            self._failing = calls
            self._failing_status = status

    def fail_after_storing(self, posts: int, status: int = 500) -> None:
        """Store the next `posts` messages, then answer with an HTML error page and `status`:
        Slack failing after it kept the post, the in-doubt window on a live connection."""
        with self._lock:
            self._failing_after_store = posts
            self._failing_status = status

    def refuse_after(self, accepted: int, error: str = "fatal_error") -> None:
        """Accept `accepted` more messages, then refuse every message with this error code."""
        with self._lock:
            self._accept_limit = len(self.messages) + len(self.webhook_messages) + accepted
            self._refusal = error

    def lose_answers(self, posts: int = 1, hold_seconds: float = 60.0) -> None:
        """Store the next `posts` accepted messages but never answer them: hold the connection
        (until `hold_seconds` pass or the stand-in stops), then close it without a response.

        `answer_lost` is set as soon as one is held: the moment to kill a client.
        """
        with self._lock:
            self._lose = posts
            self._hold_seconds = hold_seconds
            self.answer_lost.clear()
            self._release_lost.clear()

    def channel_messages(self, channel: str) -> list[PostedMessage]:
        """What the channel (name or ID) holds, oldest first."""
        wanted = channel if _looks_like_id(channel) else channel_id_for(channel)
        return [m for m in self.messages if m.channel_id == wanted]

    def _ids(self) -> dict[str, str]:
        """Channel ID -> name, for every channel that exists (or was posted to)."""
        names = set(self.channels) if self.channels is not None else set()
        names |= {m.channel for m in self.messages if not _looks_like_id(m.channel)}
        return {channel_id_for(n): n.removeprefix("#") for n in names}

    def _resolve(self, channel: Any, *, by_name: bool) -> str | None:
        """The ID of an existing channel, given its ID (or, when `by_name`, its name)."""
        if not isinstance(channel, str) or not channel:
            return None
        if _looks_like_id(channel):
            exists = self.channels is None or channel in self._ids()
            return channel if exists else None
        if not by_name or (self.channels is not None and channel not in self.channels):
            return None
        return channel_id_for(channel)

    def _refusing(self) -> bool:
        total = len(self.messages) + len(self.webhook_messages)
        return self._accept_limit is not None and total >= self._accept_limit

    # --- request handling (called from the server threads) ---------------------------------------

    def _next_ts(self) -> str:
        # Real time, as Slack's ts is, so `oldest` filters work; strictly increasing.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """Answer one POST: (status, extra headers, body)."""
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                payload = {"ok": False, "error": "ratelimited"}
                return 429, {"Retry-After": str(self._retry_after)}, _json(payload)
            if self._failing > 0:
                self._failing -= 1
                page = b"<html><body>upstream connect error</body></html>"
                return self._failing_status, {"Content-Type": "text/html"}, page
            if path.startswith("/services/"):
                return self._webhook(path, body)
            if path.startswith("/response/"):
                # A slash command's response_url: replies to the user who ran it.
                self.responses.append((path, json.loads(body or b"{}")))
                return 200, {"Content-Type": "text/html"}, b"ok"
            if path.startswith("/api/"):
                answer = self._web_api(path.removeprefix("/api/"), headers, body)
                if (
                    path == "/api/chat.postMessage"
                    and answer[0] == 200
                    and self._failing_after_store > 0
                ):
                    self._failing_after_store -= 1
                    page = b"<html><body>internal error</body></html>"
                    return self._failing_status, {"Content-Type": "text/html"}, page
                return answer
            return 404, {}, b"not found"

    def _web_api(self, method: str, headers: dict[str, str], body: bytes) -> Answer:
        content_type = headers.get("content-type", "")
        try:
            if content_type.startswith("application/json"):
                params = json.loads(body or b"{}")
            else:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                params = {k: v[-1] for k, v in form.items()}
        except ValueError:
            return 200, {}, _json({"ok": False, "error": "invalid_json"})
        self.calls.append((method, params))
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        token = token or params.get("token")
        if not token:
            return 200, {}, _json({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open":
            # Socket Mode: only an app-level token may open a connection.
            if token != self.app_token:
                error = "not_allowed_token_type" if token == self.token else "invalid_auth"
                return 200, {}, _json({"ok": False, "error": error})
            return 200, {}, _json({"ok": True, "url": self.socket_url})
        if token != self.token:
            return 200, {}, _json({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return (
                200,
                {},
                _json(
                    {"ok": True, "team": "Test", "team_id": "T1", "user": "digest", "user_id": "U1"}
                ),
            )
        if method not in METHOD_SCOPES:
            return 200, {}, _json({"ok": False, "error": "unknown_method"})
        needed = METHOD_SCOPES[method]
        if method == "conversations.list" and "private_channel" in str(params.get("types", "")):
            # Real Slack: listing private channels needs groups:read, whatever else is asked.
            needed = "groups:read"
        if needed not in self.scopes:
            payload = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": ",".join(sorted(self.scopes)),
            }
            return 200, {}, _json(payload)
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.list":
            return self._list(params)
        return self._post_message(params)

    def _post_message(self, params: dict[str, Any]) -> Answer:
        channel = params.get("channel")
        channel_id = self._resolve(channel, by_name=True)
        if channel_id is None:
            return 200, {}, _json({"ok": False, "error": "channel_not_found"})
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return 200, {}, _json({"ok": False, "error": "invalid_metadata_format"})
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            return 200, {}, _json({"ok": False, "error": "invalid_metadata_schema"})
        blocks = params.get("blocks") or []
        problem = message_error(params.get("text"), blocks)
        if problem:
            code, details = problem
            payload = {"ok": False, "error": code, "errors": details}
            return 200, {}, _json(payload)
        if self._refusing():
            return 200, {}, _json({"ok": False, "error": self._refusal})
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        ts = self._next_ts()
        posted = PostedMessage(
            str(channel), params.get("text"), blocks, ts, params, channel_id, metadata
        )
        self.messages.append(posted)
        if self._lose > 0:
            self._lose -= 1
            return LOST, {}, b""
        message = {"type": "message", "text": params.get("text"), "ts": ts}
        return 200, {}, _json({"ok": True, "channel": channel_id, "ts": ts, "message": message})

    def _history(self, params: dict[str, Any]) -> Answer:
        # Like Slack: history takes a channel ID, never a name.
        channel_id = self._resolve(params.get("channel"), by_name=False)
        if channel_id is None:
            return 200, {}, _json({"ok": False, "error": "channel_not_found"})
        try:
            oldest = float(params.get("oldest") or 0)
            latest = float(params.get("latest") or "inf")
            limit = min(max(int(params.get("limit") or 100), 1), 999)
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return 200, {}, _json({"ok": False, "error": "invalid_arguments"})
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        matching = [
            m
            for m in reversed(self.messages)  # newest first
            if m.channel_id == channel_id and oldest < float(m.ts) <= latest
        ]
        page = matching[offset : offset + limit]
        has_more = offset + limit < len(matching)
        payload = {
            "ok": True,
            "messages": [m.as_history(with_metadata=with_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(offset + limit) if has_more else ""},
        }
        return 200, {}, _json(payload)

    def _list(self, params: dict[str, Any]) -> Answer:
        try:
            limit = min(max(int(params.get("limit") or 100), 1), 1000)
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return 200, {}, _json({"ok": False, "error": "invalid_arguments"})
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_private": False}
            for cid, name in sorted(self._ids().items())
        ]
        page = channels[offset : offset + limit]
        more = offset + limit < len(channels)
        payload = {
            "ok": True,
            "channels": page,
            "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
        }
        return 200, {}, _json(payload)

    def _webhook(self, path: str, body: bytes) -> Answer:
        if path != self.webhook_path:
            return 404, {}, b"no_service"
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {}, b"invalid_payload"
        if not isinstance(payload, dict):
            return 400, {}, b"invalid_payload"
        problem = message_error(payload.get("text"), payload.get("blocks") or [])
        if problem:
            return 400, {}, problem[0].encode()
        if self._refusing():
            return 400, {}, self._refusal.encode()
        self.webhook_messages.append(payload)
        return 200, {"Content-Type": "text/html"}, b"ok"


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode("utf-8")


def _handler_for(api: SlackAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = api.handle(self.path, headers, body)
            with api._lock:
                api.requests.append((self.path, status))
            if status == LOST:
                # Accepted and stored, but the client never hears: the in-doubt window.
                api.answer_lost.set()
                api._release_lost.wait(api._hold_seconds)
                self.close_connection = True
                return
            self.send_response(status)
            if "Content-Type" not in extra:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture
def slack_api_factory() -> Iterator[Callable[..., SlackAPI]]:
    """Make started Slack stand-ins (keyword arguments as for SlackAPI); all stop afterwards."""
    started: list[SlackAPI] = []

    def make(**kwargs: Any) -> SlackAPI:
        api = SlackAPI(**kwargs).start()
        started.append(api)
        return api

    yield make
    for api in started:
        api.stop()


@pytest.fixture
def slack_api(slack_api_factory: Callable[..., SlackAPI]) -> SlackAPI:
    """A started Slack stand-in accepting token `xoxb-test-token` and any channel."""
    return slack_api_factory()
