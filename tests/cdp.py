"""Drive Debian's headless Chromium over the DevTools protocol (CDP), for tests that click.

`--dump-dom` (tests/test_browser.py) reads a page; a form has to be submitted, so this starts
Chromium with `--remote-debugging-port=0`, reads the port it chose from `DevToolsActivePort`
in its profile folder, and talks to its page over a WebSocket (the `websockets` package):
`Page.navigate`, `Runtime.evaluate`. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, timeout: float = 20) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="digest-cdp-")
        self._ids = itertools.count(1)
        self._proc = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ws: ClientConnection | None = None

    def __enter__(self) -> Browser:
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
        page = next(t for t in targets if t.get("type") == "page")
        self._ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.call("Page.enable")
        self.call("Runtime.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One CDP command; its result (events in between are skipped)."""
        assert self._ws is not None, "use Browser as a context manager"
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=self.timeout))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result") or {})
        raise TimeoutError(method)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str) -> Any:
        """Poll a JavaScript expression until it is truthy (a page loaded, an element shown)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None  # mid-navigation
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(expression)

    def _loaded(self) -> None:
        # The old document carries the mark, the new one does not: a navigation happened.
        self.wait_for("!window.__cdpOld && document.readyState === 'complete'")

    def open(self, url: str) -> None:
        """Navigate and wait until the new page has loaded."""
        self.evaluate("window.__cdpOld = true")
        self.call("Page.navigate", url=url)
        self._loaded()

    def text(self, element_id: str) -> str:
        """The text of the element with this id ('' when there is none)."""
        return str(
            self.evaluate(
                f"(document.getElementById({json.dumps(element_id)}) || {{}}).textContent || ''"
            )
        )

    def click(self, element_id: str) -> None:
        """Click the element with this id (a link or a submit button); wait for the next page."""
        self.evaluate("window.__cdpOld = true")
        self.evaluate(f"document.getElementById({json.dumps(element_id)}).click()")
        self._loaded()

    @property
    def url(self) -> str:
        """The page's address."""
        return str(self.evaluate("location.href"))
