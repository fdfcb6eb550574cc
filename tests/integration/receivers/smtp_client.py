"""A blocking SMTP client for the receiver tests, run in a worker thread so the receiver (on the
test's event loop) keeps serving."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path

REPORTER = "tlsrpt-noreply@sender.example"


@dataclass(frozen=True)
class Exchange:
    """The replies of one delivery attempt: to MAIL, to RCPT (the last one) and to DATA."""

    mail: tuple[int, bytes]
    rcpt: tuple[int, bytes]
    data: tuple[int, bytes] | None
    esmtp: dict[str, str]

    @property
    def code(self) -> int:
        """The reply that decided the attempt: a refused MAIL, else DATA's, else RCPT's."""
        if self.mail[0] != 250:
            return self.mail[0]
        return self.data[0] if self.data else self.rcpt[0]

    @property
    def text(self) -> bytes:
        if self.mail[0] != 250:
            return self.mail[1]
        return self.data[1] if self.data else self.rcpt[1]


def _deliver(
    address: tuple[str, int],
    message: bytes,
    recipients: list[str],
    root: Path | None,
) -> Exchange:
    with smtplib.SMTP(address[0], address[1], local_hostname="mta.sender.example", timeout=30) as s:
        s.ehlo()
        if root is not None:
            s.starttls(context=ssl.create_default_context(cafile=str(root)))
            s.ehlo()
        esmtp = dict(s.esmtp_features)
        mail = s.mail(REPORTER, [f"SIZE={len(message)}"] if "size" in esmtp else [])
        rcpt, accepted = (0, b""), 0
        if mail[0] == 250:
            for recipient in recipients:
                rcpt = s.rcpt(recipient)
                accepted += rcpt[0] in (250, 251)
        data = s.data(message) if accepted else None
        return Exchange(mail, rcpt, data, esmtp)


async def deliver(
    address: tuple[str, int],
    message: bytes,
    recipients: list[str] | None = None,
    *,
    root: Path | None = None,
) -> Exchange:
    """Send ``message`` to the receiver at ``address`` (STARTTLS verified by ``root`` when
    given) and return the replies; the message is sent only if a recipient was accepted."""
    from tests.integration.receivers.conftest import REPORT_ADDRESS

    return await asyncio.to_thread(_deliver, address, message, recipients or [REPORT_ADDRESS], root)
