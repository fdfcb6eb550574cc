"""A lab MX host: an SMTP server on one address and port that misbehaves on purpose.

One host serves any number of MX names sharing a behaviour (its certificate carries them all as
SANs); the first name is the one it greets with. How each :class:`MxBehaviour` shows itself:

============== ===================================================================================
valid          STARTTLS with the given certificate, TLS 1.2 and 1.3 only
expired, ...   the same, with whatever certificate the behaviour was issued
               (see :class:`mailshield.lab.tls.BehaviourCertificates`)
tls_old        STARTTLS that speaks TLS 1.0/1.1 only (:class:`LabUnsupported` if OpenSSL cannot)
no_starttls    STARTTLS neither advertised in EHLO nor accepted
starttls_fails STARTTLS advertised, the command answered ``454`` (RFC 3207 §4)
refused        nothing listens: ``start()`` does nothing
tarpit         the banner only after ``tarpit_delay`` seconds, then as valid
greeting_421   a ``421`` greeting, then the connection is closed (RFC 5321 §3.8)
endless_banner ``220-`` continuation lines (RFC 5321 §4.2.1) sent until the client goes away
============== ===================================================================================
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from types import TracebackType

from mailshield.lab.behaviours import MxBehaviour
from mailshield.lab.ca import IssuedCert
from mailshield.lab.listener import TcpListener
from mailshield.lab.smtp_session import MessageCallback, ReceivedMessage, SmtpConfig, SmtpSession
from mailshield.lab.tls import LabUnsupported, server_context

__all__ = ["LabMxServer", "LabUnsupported", "MessageCallback", "ReceivedMessage"]

# Behaviours whose whole point is the certificate or TLS version shown after STARTTLS.
_NEEDS_CERTIFICATE = frozenset(
    {
        MxBehaviour.VALID,
        MxBehaviour.EXPIRED,
        MxBehaviour.NOT_YET_VALID,
        MxBehaviour.WRONG_NAME,
        MxBehaviour.SELF_SIGNED,
        MxBehaviour.UNTRUSTED_CA,
        MxBehaviour.TLS_OLD,
    }
)
_NO_TLS = frozenset(
    {
        MxBehaviour.NO_STARTTLS,
        MxBehaviour.STARTTLS_FAILS,
        MxBehaviour.GREETING_421,
        MxBehaviour.ENDLESS_BANNER,
    }
)
_BANNER_BATCH = 64  # continuation lines written between two waits for the client to read


class LabMxServer:
    """An SMTP server for ``names`` on ``address:port`` with the given behaviour.

    ``certificate`` is required for the TLS behaviours (valid, expired, not_yet_valid, wrong_name,
    self_signed, untrusted_ca, tls_old); a tarpit without one does not offer STARTTLS.
    ``on_message`` receives every accepted message. Bound and accepting once ``start()`` returns.
    """

    def __init__(
        self,
        address: str,
        names: Sequence[str],
        behaviour: MxBehaviour = MxBehaviour.VALID,
        *,
        certificate: IssuedCert | None = None,
        port: int = 25,
        on_message: MessageCallback | None = None,
        tarpit_delay: float = 60.0,
        max_message_size: int = 10 * 1024 * 1024,
        idle_timeout: float = 300.0,
    ) -> None:
        if not names:
            raise ValueError("an MX host needs at least one name")
        self.address = address
        self.names = tuple(names)
        self.behaviour = MxBehaviour(behaviour)
        self.tarpit_delay = tarpit_delay
        self._config = SmtpConfig(
            hostname=self.names[0],
            advertise_starttls=self._advertises_starttls(certificate),
            tls=self._tls_context(certificate),
            on_message=on_message,
            max_message_size=max_message_size,
            idle_timeout=idle_timeout,
        )
        self._listener = TcpListener(address, port, self._serve)

    @property
    def name(self) -> str:
        """The name the host greets with (its first MX name)."""
        return self.names[0]

    @property
    def port(self) -> int:
        """The port, the bound one after ``start()`` when constructed with port 0."""
        return self._listener.port

    @property
    def listening(self) -> bool:
        return self._listener.listening

    async def start(self) -> None:
        """Listen (except for ``refused``); returns once connections are accepted."""
        if self.behaviour is not MxBehaviour.REFUSED:
            await self._listener.start()

    async def stop(self) -> None:
        """Stop listening and close every open conversation (tarpits included)."""
        await self._listener.stop()

    async def __aenter__(self) -> LabMxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _advertises_starttls(self, certificate: IssuedCert | None) -> bool:
        if self.behaviour is MxBehaviour.STARTTLS_FAILS:
            return True
        return certificate is not None and self.behaviour not in _NO_TLS

    def _tls_context(self, certificate: IssuedCert | None) -> ssl.SSLContext | None:
        if self.behaviour in _NO_TLS:
            return None
        if certificate is None:
            if self.behaviour in _NEEDS_CERTIFICATE:
                raise ValueError(f"the {self.behaviour} MX behaviour needs a certificate")
            return None
        return server_context(certificate, old_tls=self.behaviour is MxBehaviour.TLS_OLD)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.behaviour is MxBehaviour.TARPIT:
            await asyncio.sleep(self.tarpit_delay)
        if self.behaviour is MxBehaviour.GREETING_421:
            # RFC 5321 §3.8: a server that cannot serve may greet with 421 and close.
            text = f"421 {self.name} Service not available, closing transmission channel"
            writer.write(f"{text}\r\n".encode())
            await writer.drain()
            return
        if self.behaviour is MxBehaviour.ENDLESS_BANNER:
            await self._endless_banner(writer)
            return
        session = SmtpSession(reader, writer, self._config)
        await session.reply(220, f"{self.name} ESMTP MailShield lab")
        await session.run()

    async def _endless_banner(self, writer: asyncio.StreamWriter) -> None:
        """A greeting whose last line never comes: a client must bound what it reads."""
        line = f"220-{self.name} ESMTP this greeting goes on and on\r\n".encode()
        while True:  # ends when the client closes (a peer error) or the server stops
            writer.write(line * _BANNER_BATCH)
            await writer.drain()
            await asyncio.sleep(0)  # let other connections be served
