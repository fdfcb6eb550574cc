"""Account e-mail (password resets): composed here, handed to a transport.

:class:`SmtpTransport` sends through the SMTP server of the ``mail_*`` settings (optionally
upgrading with STARTTLS, RFC 3207) using the standard library client in a worker thread.
With no ``mail_host`` configured, :class:`LogTransport` writes the message to the log instead,
so a self-hosted instance without a mail server can still reset a password from its console.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from mailshield.services.settings import Settings

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Mail:
    """One plain-text message to one recipient."""

    to: str
    subject: str
    text: str


class MailTransport(Protocol):
    """Delivers a composed message; raises ``OSError`` (or ``smtplib.SMTPException``) on failure."""

    async def deliver(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """Submits messages to one SMTP server (``mail_host:mail_port``)."""

    def __init__(self, host: str, port: int, *, starttls: bool) -> None:
        self._host, self._port, self._starttls = host, port, starttls

    async def deliver(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=SEND_TIMEOUT) as client:
            if self._starttls:
                client.starttls(context=ssl.create_default_context())
            client.send_message(message)


class LogTransport:
    """Writes each message to the log (no mail server configured)."""

    async def deliver(self, message: EmailMessage) -> None:
        log.warning(
            "no mail_host configured; e-mail to %s not sent:\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


class Mailer:
    """Composes account e-mail from the instance's sender address and sends it."""

    def __init__(self, transport: MailTransport, sender: str) -> None:
        self._transport = transport
        self._sender = sender

    async def send(self, mail: Mail) -> None:
        await self._transport.deliver(self.compose(mail))

    def compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5
        message.set_content(mail.text)
        return message


def mailer_for(settings: Settings) -> Mailer:
    """The mailer the settings describe: SMTP when ``mail_host`` is set, else the log."""
    transport: MailTransport = (
        SmtpTransport(settings.mail_host, settings.mail_port, starttls=settings.mail_starttls)
        if settings.mail_host
        else LogTransport()
    )
    return Mailer(transport, settings.mail_from)
