"""Fixtures for the mail receiver tests: a database serving the corpus domains, the lab DNS with
the reporter's DKIM keys, a lab CA, the intake, and an SMTP receiver on a loopback address."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import insert
from tests.integration.receivers.mail import SELECTOR, DkimKey, key_zone

from mailshield.interfaces.receivers.smtp import Mailboxes, ReportHandler, SmtpReceiver
from mailshield.lab.ca import LabCA
from mailshield.lab.dns_server import DnsServer, Responder
from mailshield.lab.zones import ZoneSet
from mailshield.probes.dns import DnsClient
from mailshield.services.ingest import IngestOptions, ReportIntake
from mailshield.services.ports import DnsLookup
from mailshield.services.report_dkim import ReportDkim
from mailshield.services.report_mail import MailIntake
from mailshield.storage import Database
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore
from mailshield.storage.tables import domains, users

RECEIVER_HOST = "127.0.14.25"
DNS_HOST = "127.0.14.53"
SERVED = ("example.com", "example.org", "example.net")
REPORT_ADDRESS = "tlsrpt@reports.example.net"
MESSAGE_CAP = 256 * 1024


async def add_served_domains(db: Database, names: tuple[str, ...] = SERVED) -> None:
    """Register ``names`` as domains MailShield serves (one operator owns them)."""
    async with db.transaction() as connection:
        owner = (
            await connection.execute(
                insert(users)
                .values(email="operator@localhost", password_hash="!")
                .returning(users.c.id)
            )
        ).scalar_one()
        for name in names:
            await connection.execute(insert(domains).values(owner_id=owner, name=name))


@pytest.fixture
async def served(migrated: Database) -> Database:
    """A migrated database (SQLite and PostgreSQL) that serves ``SERVED``."""
    await add_served_domains(migrated)
    return migrated


@pytest.fixture(scope="session")
def dkim_key() -> DkimKey:
    """The reporter's signing key, published at ``tlsrpt2024._domainkey.sender.example``."""
    return DkimKey.generate()


@pytest.fixture(scope="session")
def email_only_key() -> DkimKey:
    """A second key limited to e-mail (``s=email``), published at ``emailonly._domainkey``."""
    return DkimKey.generate(services="email")


@pytest.fixture
async def lab_dns(dkim_key: DkimKey, email_only_key: DkimKey) -> AsyncIterator[DnsServer]:
    """The lab's authoritative DNS server holding the reporter's keys."""
    zone = key_zone({SELECTOR: dkim_key, "emailonly": email_only_key})
    async with DnsServer(Responder(ZoneSet([zone])), DNS_HOST, 0) as server:
        yield server


@pytest.fixture
def dns_factory(lab_dns: DnsServer) -> Callable[[], DnsLookup]:
    """DNS clients asking only the lab server (never the host's resolver)."""
    host, port = lab_dns.address
    return lambda: DnsClient([f"{host}:{port}"], timeout=2.0, tries=1)


def make_intake(db: Database) -> ReportIntake:
    """The pipeline over ``db`` with caps that follow :data:`MESSAGE_CAP`."""
    return ReportIntake(
        ReportStore(db), DomainsTable(db), IngestOptions.for_max_bytes(MESSAGE_CAP // 2)
    )


@pytest.fixture
async def intake(served: Database) -> AsyncIterator[ReportIntake]:
    pipeline = make_intake(served)
    yield pipeline
    await pipeline.aclose()


@pytest.fixture
def mail(intake: ReportIntake, dns_factory: Callable[[], DnsLookup]) -> MailIntake:
    """DKIM through the lab DNS, then the pipeline."""
    return MailIntake(intake, ReportDkim(dns_factory))


@pytest.fixture(scope="session")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="session")
def lab_root(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ca.write_root(tmp_path_factory.mktemp("ca") / "root.pem")


@pytest.fixture(scope="session")
def receiver_tls(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """The receiver's STARTTLS context: a lab certificate for its name and address."""
    cert, key = ca.issue("reports.example.net", RECEIVER_HOST).write(
        tmp_path_factory.mktemp("receiver-tls"), "receiver"
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def build_receiver(
    mail: MailIntake, tls: ssl.SSLContext | None, host: str = RECEIVER_HOST, port: int = 0
) -> SmtpReceiver:
    """A receiver accepting :data:`REPORT_ADDRESS` (and its subaddresses)."""
    return SmtpReceiver(
        ReportHandler(mail, Mailboxes.from_rua(f"mailto:{REPORT_ADDRESS}")),
        host=host,
        port=port,
        hostname="reports.example.net",
        tls_context=tls,
        max_message_bytes=MESSAGE_CAP,
    )


@pytest.fixture
async def receiver(mail: MailIntake, receiver_tls: ssl.SSLContext) -> AsyncIterator[SmtpReceiver]:
    """The SMTP receiver on a free port of :data:`RECEIVER_HOST`, with STARTTLS."""
    async with build_receiver(mail, receiver_tls) as server:
        yield server
