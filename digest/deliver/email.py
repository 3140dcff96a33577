"""Email delivery with smtplib: one multipart/alternative message (text + HTML) per digest.

`EmailRenderer` builds the message (the pipeline renders); `EmailNotifier` only sends it.

The Message-ID is derived from the digest name, its UTC date, its story ids and the recipients,
so a message resent after a crash (SMTP accepted it, the ledger never heard) carries the same
Message-ID and mail clients and archives can recognise the duplicate. Headers are built with
`email.policy.SMTP`, which refuses CR/LF in a header value, and the subject is cleaned to one
line first, so no feed title can add a header.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr
from typing import TYPE_CHECKING, Any

from ..clock import SYSTEM_CLOCK, Clock, as_utc
from ..config import SmtpSettings
from ..errors import DeliveryError, DeliveryInDoubt
from ..models import Digest
from ..render import clean_line, render_html, render_subject, render_text, truncate
from .base import Message, OnSent

if TYPE_CHECKING:
    from ..subscribers import UnsubscribeLinks

log = logging.getLogger(__name__)


class _Failure(Exception):
    """An SMTP failure, classified: transient ones are retried, permanent ones are not."""

    def __init__(self, reason: str, *, transient: bool, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.hint = hint


def _one_line(error: BaseException) -> str:
    return truncate(clean_line(str(error)) or type(error).__name__, 120)


def _smtp_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return truncate(clean_line(f"{code} {text}"), 200)


def _classify(error: BaseException, security: str) -> _Failure:
    """Sort an smtplib/socket/ssl error into transient (retry) or permanent (give up)."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return _Failure(
            f"SMTP login refused: {_smtp_text(error.smtp_code, error.smtp_error)}",
            transient=False,
            hint="check smtp.username and the password in the variable smtp.password_env names",
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return _Failure(
            f"the SMTP server does not support that: {error}",
            transient=False,
            hint="check smtp.security (starttls on 587, tls on 465) and smtp.username",
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{addr}: {_smtp_text(*err)}" for addr, err in error.recipients.items())
        return _Failure(f"every recipient was refused ({truncate(refused, 300)})", transient=False)
    if isinstance(error, smtplib.SMTPResponseException):
        # 4xx means "try again later" in SMTP; 5xx is final.
        code = error.smtp_code
        return _Failure(
            f"SMTP server answered {_smtp_text(code, error.smtp_error)}",
            transient=400 <= code < 500,
        )
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return _Failure(f"SMTP server closed the connection: {error}", transient=True)
    if isinstance(error, ssl.SSLCertVerificationError):
        return _Failure(
            f"the SMTP server's TLS certificate is not trusted: {error.verify_message}",
            transient=False,
            hint="check smtp.host is the name on the server's certificate",
        )
    if isinstance(error, ssl.SSLError):
        return _Failure(
            f"TLS failed with the SMTP server: {error.reason or error}",
            transient=False,
            hint=f'smtp.security is {security!r}: use "tls" for port 465, "starttls" for 587',
        )
    if isinstance(error, socket.gaierror):
        return _Failure(f"cannot resolve the SMTP host: {error.strerror}", transient=True)
    if isinstance(error, TimeoutError):
        return _Failure("the SMTP server timed out", transient=True)
    if isinstance(error, OSError):
        return _Failure(
            f"cannot connect to the SMTP server: {error.strerror or error}", transient=True
        )
    if isinstance(error, smtplib.SMTPException):
        return _Failure(f"SMTP error: {error}", transient=False)
    raise error


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP noting when the whole message has been written after DATA.

    From then on a lost reply is in doubt (the server may have queued the message), not a
    failure to retry: see EmailNotifier.send.
    """

    message_sent = False
    _in_data = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s: Any) -> None:
        super().send(s)
        # smtplib.SMTP.data writes the body and its terminating "." in one send().
        end: Any = b"\r\n.\r\n" if isinstance(s, bytes) else "\r\n.\r\n"
        if self._in_data and s.endswith(end):
            self.message_sent = True


class _SMTPSSL(_SMTP, smtplib.SMTP_SSL):
    pass


def _domain(address: str) -> str:
    """The domain of an address like `News <digest@example.com>`, else `localhost`."""
    _, addr = parseaddr(address)
    domain = addr.rpartition("@")[2].strip().lower() if "@" in addr else ""
    return domain or "localhost"


class EmailRenderer:
    """Renders a digest as one multipart/alternative email (text and HTML) for its recipients,
    with the list headers and, for one subscriber, their signed unsubscribe links."""

    def __init__(
        self,
        from_: str,
        to: list[str],
        subject_template: str,
        *,
        key: str,
        list_unsubscribe: str | None = None,
        unsubscribe: UnsubscribeLinks | None = None,
    ) -> None:
        self.from_ = from_
        self.to = list(to)
        self.subject_template = subject_template
        self.key = key  # the destination's, for the error a bad header raises
        self._list_unsubscribe = list_unsubscribe
        self._unsubscribe = unsubscribe

    def render(self, digest: Digest) -> list[Message[EmailMessage]]:
        """The one message of a digest, keyed by its Message-ID."""
        msg = self.build_message(digest)
        stories = tuple(ds.story.id for ds in digest.stories)
        return [Message(str(msg["Message-ID"]), stories, msg)]

    # --- the message -----------------------------------------------------------------------------

    def message_id(self, digest: Digest) -> str:
        """A Message-ID that is the same for the same digest, day, stories and recipients."""
        day = as_utc(digest.generated_at).strftime("%Y%m%d")
        recipients = sorted(addr.lower() for _, addr in getaddresses(self.to))
        material = "\n".join(
            [digest.name, digest.kind, day, *sorted(ds.story.id for ds in digest.stories), "--"]
            + recipients
        )
        token = hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]
        return f"<digest.{digest.name}.{day}.{token}@{_domain(self.from_)}>"

    def build_message(self, digest: Digest) -> EmailMessage:
        """The email for a digest: text and HTML alternatives and the list headers."""
        domain = _domain(self.from_)
        msg = EmailMessage(policy=SMTP_POLICY)
        try:
            msg["Subject"] = render_subject(self.subject_template, digest)
            msg["From"] = self.from_
            msg["To"] = ", ".join(self.to)
            msg["Date"] = format_datetime(as_utc(digest.generated_at))
            msg["Message-ID"] = self.message_id(digest)
            msg["List-Id"] = f"{digest.name} digest <{digest.name.lower()}.digest.{domain}>"
            if self._list_unsubscribe:
                msg["List-Unsubscribe"] = f"<{self._list_unsubscribe}>"
            elif self._unsubscribe is not None:
                # Signed per recipient (RFC 8058 one-click): see digest.subscribers.
                for name, value in self._unsubscribe.headers(digest.name, self.to):
                    msg[name] = value
            # RFC 3834: stops vacation responders from answering every digest.
            msg["Auto-Submitted"] = "auto-generated"
        except ValueError as e:  # the policy refuses a header with CR/LF (from the config)
            raise DeliveryError(self.key, f"cannot build the email headers: {e}") from None
        text, html = render_text(digest), render_html(digest)
        if self._unsubscribe is not None:  # the links, visible too, for one recipient
            text, html = self._unsubscribe.footers(digest.name, self.to, text, html)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg


class EmailNotifier:
    """Sends a rendered email over SMTP (STARTTLS, TLS or plain); its renderer is an
    EmailRenderer for the same recipients."""

    def __init__(
        self,
        smtp: SmtpSettings,
        to: list[str],
        subject_template: str,
        password: str | None = None,
        *,
        key: str | None = None,
        list_unsubscribe: str | None = None,
        unsubscribe: UnsubscribeLinks | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_retries: int = 2,
        clock: Clock = SYSTEM_CLOCK,
        local_hostname: str | None = None,
    ) -> None:
        self.smtp = smtp
        self.to = list(to)
        self.subject_template = subject_template
        self.key = key or "email:" + ",".join(sorted(self.to))
        self.renderer = EmailRenderer(
            smtp.from_,
            self.to,
            subject_template,
            key=self.key,
            list_unsubscribe=list_unsubscribe,
            unsubscribe=unsubscribe,
        )
        self._password = password
        self._ssl_context = ssl_context
        self._max_retries = max_retries
        self.clock = clock  # retries wait on it
        self._local_hostname = local_hostname

    # --- sending ---------------------------------------------------------------------------------

    def _connect(self) -> _SMTP | _SMTPSSL:
        s = self.smtp
        context = self._ssl_context or ssl.create_default_context()
        client: _SMTP | _SMTPSSL
        if s.security == "tls":
            client = _SMTPSSL(
                s.host,
                s.port,
                timeout=s.timeout_seconds,
                context=context,
                local_hostname=self._local_hostname,
            )
        else:
            client = _SMTP(
                s.host, s.port, timeout=s.timeout_seconds, local_hostname=self._local_hostname
            )
        try:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                client.login(s.username, self._password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _deliver_once(self, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        client = self._connect()
        try:
            _, envelope_from = parseaddr(self.smtp.from_)
            return client.send_message(msg, from_addr=envelope_from, to_addrs=self.to)
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            # An SMTP reply (451, 554...) is an answer, not a lost one; smtplib's errors are
            # OSErrors too, so only a disconnect or a socket error counts.
            lost = isinstance(e, smtplib.SMTPServerDisconnected) or not isinstance(
                e, smtplib.SMTPException
            )
            if lost and client.message_sent:
                # The server has the whole message and its answer never came: it may have
                # queued it. Sending again could deliver it twice.
                raise DeliveryInDoubt(
                    self.key,
                    "the SMTP server received the message but the connection was lost before "
                    f"it confirmed it ({_one_line(e)}); it may have arrived as "
                    f"{msg['Message-ID']}, so it is not sent again in this run",
                    reference=str(msg["Message-ID"]),
                ) from e
            raise
        finally:
            # The message is already accepted here: a failing QUIT must not turn into a resend.
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def send(self, messages: Sequence[Message[EmailMessage]], on_sent: OnSent) -> None:
        """Send each email; retry transient failures; confirm each once the server accepts it."""
        for message in messages:
            self._send_one(message.body)
            on_sent(message.story_ids, str(message.body["Message-ID"]))
            log.info(
                "email: sent %d stories to %d recipient(s) as %s",
                len(message.story_ids),
                len(self.to),
                message.body["Message-ID"],
            )

    def _send_one(self, msg: EmailMessage) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                refused = self._deliver_once(msg)
                break
            except (smtplib.SMTPException, OSError) as e:
                failure = _classify(e, self.smtp.security)
                if not failure.transient or attempt > self._max_retries:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    error = DeliveryError(self.key, f"{failure.reason}{tries}")
                    if failure.hint:
                        error.hint = failure.hint
                    raise error from e
                delay = min(30.0, 2.0**attempt)
                log.warning("email: %s; retrying in %.0fs", failure.reason, delay)
                self.clock.sleep(delay)
        if refused:
            # Some recipients got it: the ledger is per destination, so it counts as sent.
            log.warning(
                "email: %s: refused by the server: %s",
                self.key,
                "; ".join(f"{a}: {_smtp_text(*err)}" for a, err in refused.items()),
            )


__all__ = ["EmailNotifier", "EmailRenderer"]
