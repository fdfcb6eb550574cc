"""The SMTP report receiver against a real database: 250 only after storage, quarantine,
refusals, size limits, recipient checks, temporary failures, STARTTLS and DKIM recorded."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from tests.integration.receivers.conftest import (
    MESSAGE_CAP,
    RECEIVER_HOST,
    REPORT_ADDRESS,
    build_receiver,
    make_intake,
)
from tests.integration.receivers.mail import (
    DkimKey,
    raw_rows,
    report_json,
    report_message,
    sign,
    stored_reports,
)
from tests.integration.receivers.smtp_client import deliver

from mailshield.interfaces.receivers.smtp import SmtpReceiver
from mailshield.lab.endpoint import free_port
from mailshield.services.report_mail import MailIntake
from mailshield.storage import Database

REPORT_ID = "20240501.example.com.4f1c9a2e@sender.example"
SMTP_BIT = 2


async def test_signed_report_over_starttls_is_stored_once_with_dkim_and_tls_recorded(
    receiver: SmtpReceiver, served: Database, dkim_key: DkimKey, lab_root: Path
) -> None:
    """A signed report sent over STARTTLS gets 250 once stored; DKIM pass, the envelope and the
    TLS version are kept with the arrival."""
    exchange = await deliver(receiver.address, sign(report_message(), dkim_key), root=lab_root)
    assert exchange.code == 250, exchange
    assert exchange.text.startswith(b"2.0.0 Report stored")
    assert await stored_reports(served) == [
        {"report_id": REPORT_ID, "copies": 1, "channels": SMTP_BIT}
    ]
    [raw] = await raw_rows(served)
    assert (raw["channel"], raw["state"]) == ("smtp", "stored"), raw
    meta = raw["meta"]
    assert meta["dkim"]["result"] == "pass"
    assert meta["dkim"]["domain"] == "sender.example"
    assert meta["dkim"]["aligned"] is True
    assert meta["tls-report-submitter"] == "sender.example"
    assert meta["smtp"]["rcpt-to"] == [REPORT_ADDRESS]
    assert meta["smtp"]["helo"] == "mta.sender.example"
    assert meta["smtp"]["tls"]["version"] in ("TLSv1.2", "TLSv1.3")


async def test_ehlo_offers_size_and_starttls(receiver: SmtpReceiver) -> None:
    """EHLO advertises SIZE with the cap (RFC 1870) and STARTTLS (RFC 3207)."""
    exchange = await deliver(receiver.address, report_message())
    assert exchange.esmtp["size"] == str(MESSAGE_CAP)
    assert "starttls" in exchange.esmtp


async def test_plain_text_delivery_is_accepted(receiver: SmtpReceiver, served: Database) -> None:
    """Without STARTTLS the report is still taken (RFC 8460 §5.3: never refuse for lack of
    TLS), and an unsigned one is recorded as DKIM ``none``."""
    exchange = await deliver(receiver.address, report_message())
    assert exchange.code == 250
    [raw] = await raw_rows(served)
    assert raw["meta"]["dkim"]["result"] == "none"
    assert "tls" not in raw["meta"]["smtp"]


async def test_the_same_report_twice_is_stored_once(
    receiver: SmtpReceiver, served: Database
) -> None:
    """A retried report (same organization and report-id) is counted as a copy, not stored again."""
    for _ in range(2):
        assert (await deliver(receiver.address, report_message())).code == 250
    assert await stored_reports(served) == [
        {"report_id": REPORT_ID, "copies": 2, "channels": SMTP_BIT}
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        pytest.param(
            b"From: a@sender.example\r\nSubject: hello\r\n\r\nno report here\r\n",
            "email_no_report",
            id="no-report-part",
        ),
        pytest.param(
            report_message(b'{"organization-name": "x", "policies": [}'),
            "bad_json",
            id="broken-json",
        ),
        pytest.param(
            report_message(report_json(changes={"report-id": None})),
            "missing_report_id",
            id="no-report-id",
        ),
        pytest.param(bytes(range(256)) * 4, "email_no_report", id="binary-garbage"),
    ],
)
async def test_malformed_mail_is_quarantined_and_answered_250(
    receiver: SmtpReceiver, served: Database, message: bytes, reason: str
) -> None:
    """A message without a readable report is kept in quarantine with the reason: it was durably
    kept, so the answer is 250 and the sender does not retry."""
    exchange = await deliver(receiver.address, message)
    assert exchange.code == 250
    assert exchange.text.startswith(b"2.0.0 Kept for review")
    assert await stored_reports(served) == []
    [raw] = await raw_rows(served)
    assert (raw["state"], raw["reason"]) == ("quarantined", reason)


async def test_a_bad_message_does_not_end_the_receiver(
    receiver: SmtpReceiver, served: Database
) -> None:
    """After hostile input the receiver still stores the next report."""
    await deliver(receiver.address, b"\r\n" * 500 + b"\xff\xfe" * 1000)
    assert (await deliver(receiver.address, report_message())).code == 250
    assert len(await stored_reports(served)) == 1


async def test_report_for_a_domain_not_served_is_refused(
    receiver: SmtpReceiver, served: Database
) -> None:
    """A report whose policy domain MailShield does not serve gets 550 and nothing is kept."""
    report = report_json("google.json")
    message = report_message(report.replace(b"example.org", b"elsewhere.example"))
    exchange = await deliver(receiver.address, message)
    assert exchange.code == 550
    assert exchange.text.startswith(b"5.7.1")
    assert await raw_rows(served) == []


async def test_oversized_message_gets_552(receiver: SmtpReceiver, served: Database) -> None:
    """A message over the advertised SIZE is refused with 552 and nothing is kept."""
    exchange = await deliver(receiver.address, report_message(extra=b"x" * MESSAGE_CAP))
    assert exchange.code == 552
    assert await raw_rows(served) == []


@pytest.mark.parametrize(
    ("recipient", "code"),
    [
        pytest.param(REPORT_ADDRESS, 250, id="report-address"),
        pytest.param("TLSRPT@Reports.Example.NET", 250, id="any-case"),
        pytest.param("tlsrpt+example.com@reports.example.net", 250, id="subaddress"),
        pytest.param("postmaster@reports.example.net", 550, id="other-mailbox"),
        pytest.param("tlsrpt@elsewhere.example", 550, id="other-domain"),
    ],
)
async def test_only_report_mailboxes_are_accepted(
    receiver: SmtpReceiver, recipient: str, code: int
) -> None:
    """RCPT accepts the configured report address and its +tag subaddresses, nothing else."""
    exchange = await deliver(receiver.address, report_message(), [recipient])
    assert exchange.rcpt[0] == code


async def test_database_down_answers_451_and_the_receiver_keeps_serving(
    receiver_tls: ssl.SSLContext,
) -> None:
    """With the database unreachable the receiver answers 451 (the sender retries, RFC 8460
    §5.5) and stays up for the next session."""
    down = f"postgresql+asyncpg://mailshield@127.0.14.99:{free_port('127.0.14.99')}/none"
    async with Database(down) as database:
        intake = make_intake(database)
        broken = MailIntake(intake, None)
        try:
            async with build_receiver(broken, receiver_tls) as server:
                for _ in range(2):
                    exchange = await deliver(server.address, report_message())
                    assert exchange.code == 451
                    assert exchange.text.startswith(b"4.3.0")
        finally:
            await intake.aclose()


async def test_receiver_binds_the_given_address(mail: MailIntake) -> None:
    """The receiver listens where it is told, on a free port when given port 0."""
    async with build_receiver(mail, None, RECEIVER_HOST, 0) as server:
        host, port = server.address
    assert host == RECEIVER_HOST
    assert port > 0
