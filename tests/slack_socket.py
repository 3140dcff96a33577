"""A loopback stand-in for Slack's Socket Mode, beside the Web API stand-in (slack_api.py).

A real WebSocket server on 127.0.0.1 (the `websockets` package) that the Web API stand-in's
`apps.connections.open` points clients at. Like Slack it greets a new connection with a `hello`
message, then sends envelopes (`slash_commands`, `events_api`) each with an `envelope_id`, and
waits for the client to acknowledge each envelope with that id (with an optional `payload`,
which for a slash command is the ephemeral reply). A slash command's `response_url` is the Web
API stand-in's `/response/<n>`, which records what is posted to it.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_api import SlackAPI
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class SocketMode:
    """The Socket Mode side of the stand-in; `start()` it, then drive envelopes through it."""

    api: SlackAPI
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)  # every frame the client sent
    paths: list[str] = field(default_factory=list)  # the URL each connection opened
    _server: Server | None = None
    _connection: ServerConnection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _acked: threading.Condition = field(default_factory=threading.Condition)
    _connected: threading.Event = field(default_factory=threading.Event)
    _commands: int = 0

    def start(self) -> SocketMode:
        """Listen on a free port of 127.0.0.1; point apps.connections.open at it."""
        self._server = serve(self._handle, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        port = self._server.socket.getsockname()[1]
        self.api.socket_url = f"wss://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id=A1"
        return self

    def stop(self) -> None:
        """Close the connection and stop listening."""
        if self._connection is not None:
            self._connection.close()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> SocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A1"},
                    "debug_info": {"host": "applink-stand-in"},
                }
            )
        )
        with self._lock:
            self._connection = connection
        self._connected.set()
        try:
            for frame in connection:
                self._receive(frame)
        except ConnectionClosed:
            pass  # the client went away (or the test stopped it)

    def _receive(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        self.received.append(message)
        envelope = message.get("envelope_id") if isinstance(message, dict) else None
        if envelope:
            with self._acked:
                self.acks[envelope] = message
                self._acked.notify_all()

    def wait_connected(self, timeout: float = 10) -> bool:
        """Whether a client connected (and was greeted) within `timeout` seconds."""
        return self._connected.wait(timeout)

    def send_envelope(self, kind: str, payload: dict[str, Any], timeout: float = 10) -> dict:
        """Send one envelope and return the client's acknowledgement (AssertionError if none:
        Slack would show the user an error after 3 seconds)."""
        assert self.wait_connected(timeout), "no Socket Mode client connected"
        envelope_id = str(uuid.uuid4())
        frame = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "slash_commands",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        assert self._connection is not None
        self._connection.send(json.dumps(frame))
        with self._acked:
            ok = self._acked.wait_for(lambda: envelope_id in self.acks, timeout)
        assert ok, f"envelope {kind} was not acknowledged"
        return self.acks[envelope_id]

    def slash_command(
        self,
        text: str,
        *,
        channel_id: str,
        channel_name: str,
        user_id: str = "U0READER",
        command: str = "/digest",
    ) -> dict[str, Any]:
        """Run `/digest <text>` as a user in a channel; the ack's payload (the ephemeral reply)."""
        with self._lock:
            self._commands += 1
            n = self._commands
        payload = {
            "token": "verification-token-unused",
            "team_id": "T1",
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": "reader",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.api.port}/response/{n}",
            "trigger_id": f"trigger-{n}",
        }
        return dict(self.send_envelope("slash_commands", payload).get("payload") or {})

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver one Events API event (e.g. reaction_added); the client's ack."""
        payload = {
            "token": "verification-token-unused",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {**event, "event_ts": event.get("event_ts", "1.0")},
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": 1,
            "authorizations": [
                {"team_id": "T1", "user_id": "U1", "is_bot": True, "is_enterprise_install": False}
            ],
        }
        return self.send_envelope("events_api", payload)
