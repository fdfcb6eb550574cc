"""The SMTP report receiver (``rua=mailto:``, RFC 8460 §5.3): aiosmtpd with a small handler.

What the receiver says, and when:

- **Greeting, EHLO**: its own host name (``smtp_receiver_hostname``, never looked up); ``SIZE``
  advertised (RFC 1870) with the message cap, ``STARTTLS`` when a certificate is configured
  (RFC 3207). TLS is offered, never required: a reporter must deliver even when TLS fails
  (RFC 8460 §5.3, reference §3.6 item 1).
- **RCPT**: the mailboxes of the ``mailto:`` URIs in ``tlsrpt_rua`` (the address customers are
  told to publish), with any ``+tag`` subaddress (``tlsrpt+example.com@…``); other recipients get
  ``550 5.1.1``. With no ``mailto:`` address configured every recipient is accepted (the MX in
  front decides what reaches this port).
- **DATA**: over the cap, ``552`` (aiosmtpd, from ``SIZE=`` or while reading). Otherwise the
  bytes, exactly as received (no trace header added, so DKIM is verified on the original and
  identical retries stay identical), go to :class:`~mailshield.services.report_mail.MailIntake`
  and the answer follows its verdict: ``250`` only after the report (or the unreadable message,
  in quarantine) is committed; ``550 5.7.1`` when no policy domain of the report is served here;
  ``451 4.3.0`` when storage failed, so the sender retries (RFC 8460 §5.5). An unexpected error
  is a ``451`` too: one bad message never ends the receiver.

The envelope (peer, HELO, MAIL FROM, RCPT TO) and the TLS version and cipher are stored with the
arrival's metadata under ``smtp``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailshield.core.model import JSONValue
from mailshield.services.ingest import Channel
from mailshield.services.report_mail import MailIntake, MailVerdict

__all__ = ["Mailboxes", "ReportHandler", "SmtpReceiver", "reply_for"]

log = logging.getLogger(__name__)

LINE_LIMIT = 64 * 1024  # RFC 5321 §4.5.3.1.6 says 1000; some reporters send long JSON lines

_REPLIES = {
    MailVerdict.ACCEPTED: "250 2.0.0 Report stored",
    MailVerdict.QUARANTINED: "250 2.0.0 Kept for review: not a readable TLS report",
    MailVerdict.REFUSED: "550 5.7.1 No policy domain of this report is served here",
    MailVerdict.TOO_LARGE: "552 5.3.4 Message too big",
    MailVerdict.RETRY: "451 4.3.0 Temporary failure storing the report, try again later",
}


def reply_for(verdict: MailVerdict) -> str:
    """The SMTP reply to DATA for a verdict (RFC 5321 §4.2, RFC 3463 enhanced codes)."""
    return _REPLIES[verdict]


@dataclass(frozen=True)
class Mailboxes:
    """The report addresses this receiver accepts; empty accepts every recipient."""

    addresses: frozenset[tuple[str, str]] = frozenset()  # (local part, domain), lower case

    @classmethod
    def from_rua(cls, rua: str) -> Mailboxes:
        """The ``mailto:`` addresses of a comma-separated ``rua`` value (RFC 8460 §3)."""
        found = set()
        for uri in rua.split(","):
            scheme, _, rest = uri.strip().partition(":")
            if scheme.lower() != "mailto" or "@" not in rest:
                continue
            local, _, domain = unquote(rest.split("?", 1)[0]).rpartition("@")
            found.add((local.lower(), domain.lower().rstrip(".")))
        return cls(frozenset(found))

    def accepts(self, address: str) -> bool:
        """Whether ``address`` is one of the mailboxes, or a ``+tag`` subaddress of one."""
        if not self.addresses:
            return True
        local, _, domain = address.strip("<>").rpartition("@")
        base = local.lower().split("+", 1)[0]
        return (base, domain.lower().rstrip(".")) in self.addresses


class ReportHandler:
    """aiosmtpd handler: recipient check at RCPT, the intake after DATA."""

    def __init__(self, mail: MailIntake, mailboxes: Mailboxes | None = None) -> None:
        self._mail = mail
        self._mailboxes = mailboxes or Mailboxes()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """250 for a report mailbox, 550 5.1.1 for any other recipient (RFC 5321 §3.3)."""
        if not self._mailboxes.accepts(address):
            return "550 5.1.1 No such report mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """The reply for the received message, given only once its fate is committed."""
        try:
            raw = envelope.original_content or b""
            peer = _peer(session)
            result = await self._mail.receive(
                raw, Channel.SMTP, source=peer, meta={"smtp": _envelope_meta(session, envelope)}
            )
        except Exception:  # never end the session, never lose the message: the sender retries
            log.exception("report message from %s failed", _peer(session))
            return reply_for(MailVerdict.RETRY)
        level = logging.INFO if result.verdict.durable else logging.WARNING
        log.log(level, "report message from %s: %s (%s)", peer, result.verdict, result.detail)
        return reply_for(result.verdict)


class _ReportSMTP(SMTP):
    """aiosmtpd's session with longer lines allowed, registered while its connection lives."""

    line_length_limit = LINE_LIMIT

    def __init__(self, handler: ReportHandler, sessions: set[_ReportSMTP], **options: Any) -> None:
        super().__init__(handler, **options)
        self._registry = sessions
        sessions.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        """Forget the session, then let aiosmtpd end it (which cancels its handler task)."""
        self._registry.discard(self)
        super().connection_lost(error)


class SmtpReceiver:
    """The listening server: ``async with SmtpReceiver(handler, host=…, port=…)``; port 0
    picks a free port (see :attr:`address`)."""

    def __init__(
        self,
        handler: ReportHandler,
        *,
        host: str,
        port: int,
        hostname: str = "",
        tls_context: ssl.SSLContext | None = None,
        max_message_bytes: int = 20 * 1024 * 1024,
        timeout: float = 300.0,
    ) -> None:
        self._handler = handler
        self._host, self._port = host, port
        self._hostname = hostname or socket.gethostname()  # never getfqdn(): no DNS lookup
        self._tls = tls_context
        self._limit = max_message_bytes
        self._timeout = timeout
        self._server: asyncio.Server | None = None
        self._sessions: set[_ReportSMTP] = set()

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (the real port once started)."""
        if self._server is None:
            return self._host, self._port
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, self._host, self._port)

    async def stop(self) -> None:
        """Stop listening and close every open session."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _session(self) -> _ReportSMTP:
        return _ReportSMTP(
            self._handler,
            self._sessions,
            data_size_limit=self._limit,
            hostname=self._hostname,
            tls_context=self._tls,
            require_starttls=False,
            timeout=self._timeout,
            loop=asyncio.get_running_loop(),
        )


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context for STARTTLS from a PEM chain and key (TLS 1.2 or later)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def _peer(session: Session) -> str | None:
    peer = getattr(session, "peer", None)
    return str(peer[0]) if isinstance(peer, tuple) and peer else None


def _envelope_meta(session: Session, envelope: Envelope) -> dict[str, JSONValue]:
    meta: dict[str, JSONValue] = {
        "peer": _peer(session),
        "helo": getattr(session, "host_name", None),
        "mail-from": envelope.mail_from,
        "rcpt-to": list(_strings(envelope.rcpt_tos)),
    }
    tls: Any = getattr(session, "ssl", None)
    ssl_object = tls.get("ssl_object") if isinstance(tls, dict) else None
    if isinstance(ssl_object, ssl.SSLObject):
        cipher = ssl_object.cipher()
        meta["tls"] = {"version": ssl_object.version(), "cipher": cipher[0] if cipher else None}
    return meta


def _strings(values: Iterable[Any]) -> Iterable[str]:
    return (str(value) for value in values)
