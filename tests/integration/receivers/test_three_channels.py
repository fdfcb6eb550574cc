"""The same TLS report sent by all three ways — HTTPS POST, SMTP, IMAP — is stored once, with
three copies counted and every channel recorded. Storage on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import imaplib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.integration.receivers.mail import report_json, report_message, stored_reports
from tests.integration.receivers.smtp_client import deliver
from tests.support.lab import require_binary

from mailshield.interfaces.api.app import create_app
from mailshield.interfaces.receivers.imap import ImapAccount, poll_once
from mailshield.interfaces.receivers.smtp import SmtpReceiver
from mailshield.lab.ca import LabCA
from mailshield.lab.dovecot import Dovecot, MailUser
from mailshield.services.imap_poll import ImapPoller
from mailshield.services.report_mail import MailIntake
from mailshield.services.settings import load_settings
from mailshield.storage import Database

pytestmark = pytest.mark.lab

USER = MailUser("reports", "three-ways")
ALL_CHANNELS = 1 | 2 | 4  # https, smtp, imap


@pytest.fixture
async def api(served: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTPS receiver (``POST /tlsrpt``) of ``mailshield serve``, in process."""
    app = create_app(load_settings(data_dir=tmp_path), served)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="https://mailshield.test") as client,
    ):
        yield client


async def test_one_report_by_https_smtp_and_imap_is_stored_once(
    api: httpx.AsyncClient,
    receiver: SmtpReceiver,
    mail: MailIntake,
    served: Database,
    ca: LabCA,
    lab_root: Path,
    tmp_path: Path,
) -> None:
    """POSTed, mailed and fetched from a mailbox, one report is one row with three copies."""
    require_binary("dovecot")
    report = report_json()
    posted = await api.post(
        "/tlsrpt/v1",
        content=gzip.compress(report, mtime=0),
        headers={"content-type": "application/tlsrpt+gzip"},
    )
    assert posted.status_code == 201, posted.text
    mailed = await deliver(receiver.address, report_message(report), root=lab_root)
    assert mailed.code == 250
    async with Dovecot(
        [USER], tls=ca.issue("imap.lab.test", "127.0.0.1"), workdir=tmp_path
    ) as imap:
        account = ImapAccount("127.0.0.1", imap.listen.port, USER.name, USER.password, lab_root)
        _append(account, report_message(report))
        polled = await poll_once(account, ImapPoller(mail))
    assert polled.verdicts == {"accepted": 1}
    assert await stored_reports(served) == [
        {
            "report_id": "20240501.example.com.4f1c9a2e@sender.example",
            "copies": 3,
            "channels": ALL_CHANNELS,
        }
    ]


def _append(account: ImapAccount, message: bytes) -> None:
    context = ssl.create_default_context(cafile=str(account.ca_bundle))
    client = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context)
    try:
        client.login(account.user, account.password)
        client.append("INBOX", None, None, message)
    finally:
        client.logout()
