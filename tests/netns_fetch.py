"""Fetch scenarios that need a *public* address served on this machine, run in a private
network namespace (`unshare --user --net`): only a loopback interface, with 127.0.0.1 and the
public-looking PUBLIC added to it, so nothing here can reach beyond the machine.

`python tests/netns_fetch.py <scenario>` prints one JSON object; tests/test_fetch.py runs it
through `run_scenario`, which skips with one line where namespaces are not allowed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PUBLIC = "93.184.216.34"  # a public address, bound on the namespace's loopback only


class _Server:
    """A tiny HTTP server on one address that logs every request it receives."""

    def __init__(self, host: str, port: int, routes: dict[str, tuple[int, dict[str, str], bytes]]):
        self.log: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.log.append({"path": self.path, "host": self.headers.get("Host", "")})
                status, headers, body = routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _fetcher(resolve: Callable[[str], list[str]]) -> Any:
    from digest.config import FetchSettings
    from digest.fetch import Fetcher, build_client

    settings = FetchSettings(allow_private_addresses=False, timeout_seconds=5)
    return Fetcher(build_client(settings), settings, resolve=resolve)


def rebinding() -> dict[str, Any]:
    """The name answers public to the first lookup and loopback to every later one."""
    private = _Server("127.0.0.1", 0, {"/feed": (200, {}, b"internal admin page")})
    port = private.httpd.server_address[1]
    public = _Server(PUBLIC, port, {"/feed": (200, {}, b"public feed")})
    answers: list[str] = []

    def resolve(host: str) -> list[str]:
        answer = PUBLIC if not answers else "127.0.0.1"
        answers.append(answer)
        return [answer]

    # "localhost" is also what the system resolver maps to 127.0.0.1: a second lookup anywhere
    # (ours or httpx's own) would reach the private server.
    result = _fetcher(resolve).fetch(f"http://localhost:{port}/feed")
    return {
        "status": result.status,
        "content": (result.content or b"").decode(),
        "error": result.error,
        "lookups": answers,
        "private_log": private.log,
        "public_log": public.log,
    }


def redirect_into_loopback() -> dict[str, Any]:
    """A public page redirects to 127.0.0.1: refused before any request reaches it."""
    private = _Server("127.0.0.1", 0, {"/secret": (200, {}, b"internal admin page")})
    port = private.httpd.server_address[1]
    location = {"Location": f"http://127.0.0.1:{port}/secret"}
    public = _Server(PUBLIC, port, {"/start": (302, location, b"")})
    result = _fetcher(lambda host: [PUBLIC]).fetch(f"http://news.example:{port}/start")
    return {
        "status": result.status,
        "error": result.error,
        "private_log": private.log,
        "public_log": public.log,
    }


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (cert, key), made with cryptography."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def tls_server_name() -> dict[str, Any]:
    """HTTPS to a name resolved to PUBLIC: the TLS server name (SNI) and the certificate check
    are for the name, not for the address connected to."""
    import os
    import ssl
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = _certificate(Path(tmp), "news.example")
        server_names: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        context.sni_callback = lambda sock, name, ctx: server_names.append(name)
        public = _Server(PUBLIC, 0, {"/feed": (200, {}, b"public feed over TLS")})
        public.httpd.socket = context.wrap_socket(public.httpd.socket, server_side=True)
        port = public.httpd.server_address[1]
        os.environ["SSL_CERT_FILE"] = str(cert_file)  # trust the test certificate (httpx reads it)
        result = _fetcher(lambda host: [PUBLIC]).fetch(f"https://news.example:{port}/feed")
    return {
        "status": result.status,
        "content": (result.content or b"").decode(),
        "error": result.error,
        "server_names": server_names,
        "public_log": public.log,
    }


SCENARIOS = {
    "rebinding": rebinding,
    "redirect_into_loopback": redirect_into_loopback,
    "tls_server_name": tls_server_name,
}


def run_scenario(name: str) -> dict[str, Any] | str:
    """Run one scenario in a fresh network namespace: its JSON, or why it cannot run (a str)."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        return "needs unshare and ip (util-linux, iproute2)"
    setup = f"{ip} link set lo up && {ip} addr add {PUBLIC}/32 dev lo"
    probe = subprocess.run(
        [unshare, "--user", "--map-root-user", "--net", "sh", "-c", setup],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"network namespaces not allowed here: {probe.stderr.strip()[:120]}"
    script = Path(__file__).resolve()
    done = subprocess.run(
        [unshare, "--user", "--map-root-user", "--net", "sh", "-c",
         f'{setup} && exec "{sys.executable}" "{script}" {name}'],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"scenario {name} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
