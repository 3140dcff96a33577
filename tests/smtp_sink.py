"""A real SMTP server on 127.0.0.1 (aiosmtpd) that collects what it is sent, for tests.

Plain, STARTTLS or implicit TLS, with optional AUTH; it can refuse recipients or answer the
next DATA commands with a temporary failure. `self_signed_cert` makes a certificate at test
time with `cryptography` (skipping the test when it is not installed).
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated_as: str | None
    tls: bool

    def parse(self) -> EmailMessage:
        """The message parsed back with the email package."""
        message = BytesParser(policy=default_policy).parsebytes(self.data)
        assert isinstance(message, EmailMessage)
        return message


class _Controller(Controller):
    """aiosmtpd's Controller, listening on a free port (port=0) it reports afterwards."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts."""

    username: str | None = None
    password: str | None = None
    starttls_context: ssl.SSLContext | None = None  # offer STARTTLS and require it
    implicit_tls_context: ssl.SSLContext | None = None  # TLS from the first byte (port 465)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    received: list[ReceivedMail] = field(default_factory=list)
    temporary_failures: int = 0  # answer the next N DATA commands with 451
    drop_after_data: int = 0  # keep the next N messages but drop the connection before "250"
    _controller: _Controller | None = None

    # aiosmtpd handler hooks --------------------------------------------------------------------

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's naming)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                authenticated_as=login.decode() if isinstance(login, bytes) else login,
                # session.ssl is set by STARTTLS; implicit TLS shows on the transport.
                tls=session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        if self.drop_after_data > 0:
            self.drop_after_data -= 1
            server.transport.abort()  # the message is stored; its "250" never leaves
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == (self.username or "").encode()
            and auth_data.password == (self.password or "").encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    # control -----------------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        """Listen on a free port of 127.0.0.1."""
        kwargs: dict[str, Any] = {"server_hostname": "sink.test", "decode_data": False}
        if self.username is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = self.starttls_context is not None
        if self.starttls_context is not None:
            kwargs["tls_context"] = self.starttls_context
            kwargs["require_starttls"] = True
        self._controller = _Controller(
            self,
            hostname="127.0.0.1",
            port=0,
            ssl_context=self.implicit_tls_context,
            **kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._controller is not None, "start() the sink first"
        return int(self._controller.port)


@dataclass(frozen=True)
class CertFiles:
    """A self-signed certificate for `localhost` / 127.0.0.1 and its key, as PEM files."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context using this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts only this certificate (and checks the name)."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed_cert(directory: Path) -> CertFiles:
    """Make a self-signed certificate for localhost and 127.0.0.1 (skip without cryptography)."""
    pytest.importorskip("cryptography", reason="cryptography is needed to make a test cert")
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = CertFiles(directory / "cert.pem", directory / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def smtp_sink() -> Any:
    """A started plain SMTP sink without AUTH."""
    with SmtpSink() as sink:
        yield sink
