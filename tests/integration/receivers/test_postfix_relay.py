"""Report e-mails mailed through a real Postfix to the SMTP receiver: smtplib → Postfix (STARTTLS)
→ receiver (STARTTLS verified by Postfix). Stored exactly once with DKIM intact; a temporary
storage failure is answered 451, Postfix defers and retries, and the report is stored once;
a refused report bounces inside the lab. Storage on SQLite."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.integration.receivers.conftest import REPORT_ADDRESS, build_receiver
from tests.integration.receivers.mail import (
    DkimKey,
    raw_rows,
    report_json,
    report_message,
    sign,
    stored_reports,
)
from tests.support.lab import require_binary

from mailshield.interfaces.receivers.smtp import SmtpReceiver
from mailshield.lab.ca import LabCA
from mailshield.lab.endpoint import free_port, loopback
from mailshield.lab.postfix import Postfix
from mailshield.services.report_mail import MailIntake
from mailshield.storage import Database

pytestmark = pytest.mark.lab

RELAY_HOST = "127.0.14.11"
RECEIVER_HOST = "127.0.14.26"
RECEIVER_PORT = free_port(RECEIVER_HOST)
WAIT = 60.0


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests exercise SMTP relaying; storage runs on SQLite only."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mailshield.db'}"


@pytest.fixture(scope="module")
def postfix(
    ca: LabCA, lab_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Postfix]:
    """Postfix relaying the report mailbox's domain to the receiver's fixed address, over TLS
    it verifies against the lab root."""
    require_binary("postfix")
    if os.geteuid() != 0:
        pytest.skip("Postfix can only be started by root")
    relay = Postfix(
        {"reports.example.net": loopback(RECEIVER_HOST, RECEIVER_PORT)},
        listen=loopback(RELAY_HOST),
        workdir=tmp_path_factory.mktemp("postfix"),
        tls=ca.issue("relay.lab.test", RELAY_HOST),
        ca_file=lab_root,
        outbound_tls="encrypt",
    )
    with relay:
        yield relay


@pytest.fixture
async def relayed_receiver(
    mail: MailIntake, receiver_tls: ssl.SSLContext
) -> AsyncIterator[SmtpReceiver]:
    """The receiver at the address Postfix relays to."""
    async with build_receiver(mail, receiver_tls, RECEIVER_HOST, RECEIVER_PORT) as server:
        yield server


def _submit(relay: Postfix, message: bytes, root: Path) -> None:
    with smtplib.SMTP(relay.listen.host, relay.listen.port, timeout=WAIT) as client:
        client.starttls(context=ssl.create_default_context(cafile=str(root)))
        client.sendmail("tlsrpt-noreply@sender.example", [REPORT_ADDRESS], message)


async def submit(relay: Postfix, message: bytes, root: Path) -> int:
    """Hand ``message`` to Postfix over verified STARTTLS; returns how many deliveries to the
    report address the maillog held before, for :func:`outcome`."""
    before = len(
        [line for line in relay.maillog().splitlines() if f"to=<{REPORT_ADDRESS}>" in line]
    )
    await asyncio.to_thread(_submit, relay, message, root)
    return before


async def outcome(relay: Postfix, before: int) -> str:
    """The maillog line of the next delivery attempt to the report address (waited for in a
    thread, so the receiver on this event loop keeps serving)."""
    lines = await asyncio.to_thread(
        relay.wait_for_log, f"to=<{REPORT_ADDRESS}>", WAIT, count=before + 1
    )
    return lines[before]


async def test_report_mailed_through_postfix_is_stored_exactly_once(
    postfix: Postfix,
    relayed_receiver: SmtpReceiver,
    served: Database,
    dkim_key: DkimKey,
    lab_root: Path,
) -> None:
    """A signed report relayed by Postfix over trusted TLS is stored once; its DKIM signature
    still verifies after the relay, and the receiver saw TLS."""
    before = await submit(postfix, sign(report_message(), dkim_key), lab_root)
    line = await outcome(postfix, before)
    assert "status=sent (250 2.0.0 Report stored)" in line
    assert f"relay={RECEIVER_HOST}[{RECEIVER_HOST}]:{RECEIVER_PORT}" in line
    assert "Trusted TLS connection established to 127.0.14.26" in postfix.maillog()
    assert await stored_reports(served) == [
        {"report_id": "20240501.example.com.4f1c9a2e@sender.example", "copies": 1, "channels": 2}
    ]
    [raw] = await raw_rows(served)
    assert raw["meta"]["dkim"]["result"] == "pass"
    assert raw["meta"]["smtp"]["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert raw["meta"]["smtp"]["helo"] == "relay.lab.test"


async def _set_raw_table(db: Database, present: bool) -> None:
    """Take the raw-arrival table away (storage fails) or put it back."""
    names = ("tlsrpt_raw", "tlsrpt_raw_away")
    old, new = names if not present else reversed(names)
    async with db.transaction(enforce_foreign_keys=False) as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_temporary_storage_failure_is_retried_by_postfix_and_stored_once(
    postfix: Postfix, relayed_receiver: SmtpReceiver, served: Database, lab_root: Path
) -> None:
    """While storage fails the receiver answers 451 and Postfix defers the report; after the
    failure is gone a queue run delivers it, and it is stored exactly once."""
    await _set_raw_table(served, present=False)
    before = await submit(postfix, report_message(), lab_root)
    deferred = await outcome(postfix, before)
    assert "status=deferred" in deferred
    assert "451 4.3.0" in deferred
    await _set_raw_table(served, present=True)
    assert await stored_reports(served) == []
    await asyncio.to_thread(postfix.flush)
    assert "status=sent (250 2.0.0 Report stored)" in await outcome(postfix, before + 1)
    assert await stored_reports(served) == [
        {"report_id": "20240501.example.com.4f1c9a2e@sender.example", "copies": 1, "channels": 2}
    ]


async def test_report_for_a_domain_not_served_bounces_inside_the_lab(
    postfix: Postfix, relayed_receiver: SmtpReceiver, served: Database, lab_root: Path
) -> None:
    """The receiver's 550 is a permanent failure for Postfix: the report bounces (to a sender
    Postfix cannot route, so the bounce stays in the lab) and nothing is stored."""
    report = report_json("google.json").replace(b"example.org", b"elsewhere.example")
    before = await submit(postfix, report_message(report), lab_root)
    line = await outcome(postfix, before)
    assert "status=bounced" in line
    assert "550 5.7.1" in line
    assert await raw_rows(served) == []
