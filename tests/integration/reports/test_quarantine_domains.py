"""Quarantined reports are tied to the served domains they were sent for, on SQLite and
PostgreSQL: the hints each channel gives, and a domain's owner seeing only its own."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from tests.support.fake_dns import Entry, FakeDns

from mailshield.interfaces.api.container import AppServices, Overrides, build_services
from mailshield.services.account_errors import NotFound, OwnershipRequired
from mailshield.services.ingest import Arrival, Channel, Disposition, ReportIntake
from mailshield.services.passwords import Passwords
from mailshield.services.settings import load_settings
from mailshield.services.users import User
from mailshield.storage import Database

BROKEN = b'{"organization-name": "Sender", "report-id": '  # says nothing of its domain


def policy_text(domain: str) -> bytes:
    """The start of a report naming ``domain``, cut off before it becomes valid JSON."""
    return (
        b'{"organization-name": "Sender", "policies": [{"policy": '
        b'{"policy-type": "sts", "policy-domain": "' + domain.encode() + b'", "mx-host": ['
    )


def truncated_gzip(data: bytes) -> bytes:
    """``data`` gzip-compressed, with the end of the stream cut off (a broken upload)."""
    whole = gzip.compress(data + b" " * 4096)
    return whole[: len(whole) - 12]  # the CRC/size trailer and the last deflate bytes


def report_mail(content: bytes, *, header: str | None = None, filename: str | None = None) -> bytes:
    """An RFC 8460 §5.3 report message carrying ``content`` as its report part."""
    message = EmailMessage()
    message["From"] = "tlsrpt@sender.example"
    message["To"] = "reports@mailshield.test"
    message["Subject"] = "Report"
    if header is not None:
        message["TLS-Report-Domain"] = header
    message.set_content("A TLS report.")
    message.add_attachment(
        content, maintype="application", subtype="tlsrpt+json", filename=filename
    )
    return message.as_bytes()


def no_report_mail(header: str) -> bytes:
    """A message with the report header field but no report part at all."""
    message = EmailMessage()
    message["From"] = "tlsrpt@sender.example"
    message["TLS-Report-Domain"] = header
    message.set_content("the report was forgotten")
    return message.as_bytes()


@dataclass(frozen=True)
class Arrives:
    """Some bytes arriving one way; ``expected`` are the domains the quarantine records."""

    how: str  # "report" or "message"
    data: bytes
    arrival: Arrival
    expected: tuple[str, ...]


def https(path: str = "/tlsrpt") -> Arrival:
    return Arrival(Channel.HTTPS, "192.0.2.1", meta={"path": path} if path != "/tlsrpt" else {})


CASES = [
    pytest.param(
        Arrives("report", BROKEN, https("/tlsrpt/example.com"), ("example.com",)),
        id="https-url-path",
    ),
    pytest.param(
        Arrives("report", BROKEN, https("/tlsrpt/v1/Example.ORG."), ("example.org",)),
        id="https-url-path-normalised",
    ),
    pytest.param(
        Arrives("report", BROKEN, https("/tlsrpt/stranger.example"), ()),
        id="https-url-path-not-served",
    ),
    pytest.param(
        Arrives("report", policy_text("example.net"), https(), ("example.net",)),
        id="policy-domain-in-broken-json",
    ),
    pytest.param(
        Arrives("report", truncated_gzip(policy_text("example.de")), https(), ("example.de",)),
        id="policy-domain-in-truncated-gzip",
    ),
    pytest.param(
        Arrives("report", policy_text("mx.example.com"), https(), ("mx.example.com",)),
        id="policy-domain-below-a-served-one",
    ),
    pytest.param(
        Arrives("report", policy_text("evil.test"), https(), ()),
        id="policy-domain-not-served",
    ),
    pytest.param(
        Arrives("report", BROKEN, https(), ()),
        id="no-hint-at-all",
    ),
    pytest.param(
        Arrives(
            "message",
            report_mail(BROKEN, header="example.org"),
            Arrival(Channel.SMTP),
            ("example.org",),
        ),
        id="mail-tls-report-domain-header",
    ),
    pytest.param(
        Arrives(
            "message",
            report_mail(
                BROKEN, filename="sender.example!bücher.example!1714521600!1714607999.json"
            ),
            Arrival(Channel.SMTP),
            ("xn--bcher-kva.example",),
        ),
        id="mail-rfc8460-file-name-u-label",
    ),
    pytest.param(
        Arrives(
            "message",
            report_mail(BROKEN, filename="sender.example!example.net!1!2!abc1.json.gz"),
            Arrival(Channel.IMAP),
            ("example.net",),
        ),
        id="mail-rfc8460-file-name-with-unique-id",
    ),
    pytest.param(
        Arrives(
            "message",
            report_mail(BROKEN, filename="report.json", header="example.com"),
            Arrival(Channel.SMTP),
            ("example.com",),
        ),
        id="mail-plain-file-name-ignored",
    ),
    pytest.param(
        Arrives(
            "message",
            no_report_mail("company-y.example"),
            Arrival(Channel.SMTP),
            ("company-y.example",),
        ),
        id="mail-without-report-part",
    ),
    pytest.param(
        Arrives(
            "report",
            BROKEN,
            Arrival(Channel.FILE, "/in/sender.example!example.de!1!2.json"),
            ("example.de",),
        ),
        id="imported-file-name",
    ),
]


async def submit(intake: ReportIntake, case: Arrives) -> int:
    """Hand ``case`` to the intake; it must be quarantined. The raw id."""
    if case.how == "message":
        [outcome] = (await intake.submit_message(case.data, case.arrival)).outcomes
    else:
        outcome = await intake.submit_report(case.data, case.arrival)
    assert outcome.disposition is Disposition.QUARANTINED, outcome
    assert outcome.raw_id is not None
    return outcome.raw_id


@pytest.mark.parametrize("case", CASES)
async def test_quarantine_records_the_served_domains_it_was_sent_for(
    intake: ReportIntake, case: Arrives
) -> None:
    """Each channel's hint is normalised to A-labels and kept only for a served domain."""
    raw_id = await submit(intake, case)
    assert tuple(await intake.store.quarantine_domains(raw_id)) == case.expected
    for domain in case.expected:
        [entry] = await intake.store.quarantined_for(domain)
        assert entry.id == raw_id


async def test_a_domain_sees_its_names_below_but_not_lookalikes(intake: ReportIntake) -> None:
    """example.com's list holds mx.example.com's report, never one for another domain."""
    below = await submit(
        intake, Arrives("report", policy_text("mx.example.com"), https(), ("mx.example.com",))
    )
    other = await submit(
        intake, Arrives("report", policy_text("example.org"), https(), ("example.org",))
    )
    assert [e.id for e in await intake.store.quarantined_for("example.com")] == [below]
    assert [e.id for e in await intake.store.quarantined_for("example.org")] == [other]
    assert await intake.store.quarantined_for("ample.com") == []
    assert await intake.store.quarantined_raw_for("example.org", below) is None


async def test_identical_bytes_sent_for_another_domain_add_that_domain(
    intake: ReportIntake,
) -> None:
    """The same broken bytes POSTed for two served domains are one arrival listed for both."""
    first = await submit(intake, Arrives("report", BROKEN, https("/tlsrpt/example.com"), ()))
    again = await submit(intake, Arrives("report", BROKEN, https("/tlsrpt/example.org"), ()))
    assert first == again
    assert await intake.store.quarantine_domains(first) == ["example.com", "example.org"]


async def test_a_reprocessed_report_leaves_the_domains_quarantine(intake: ReportIntake) -> None:
    """Once re-processing resolves an arrival it is no longer listed as quarantined."""
    raw_id = await submit(intake, Arrives("report", BROKEN, https("/tlsrpt/example.com"), ()))
    still = await intake.reprocess(raw_id)
    assert still.disposition is Disposition.QUARANTINED
    assert [e.id for e in await intake.store.quarantined_for("example.com")] == [raw_id]


# --- tenant scoping through the dashboard's service -------------------------------------------


@dataclass
class Tenants:
    services: AppServices
    zone: dict[str, Entry]
    ada: User
    ada_domain: int
    bob: User
    bob_domain: int


async def owner_of(
    services: AppServices, zone: dict[str, Entry], email: str, name: str
) -> tuple[User, int]:
    """A user who added ``name`` and proved it by TXT record."""
    user = await services.accounts.sign_up(email, "correct horse battery")
    domain = await services.domains.add(user, name)
    zone[f"_mailshield.{name} TXT"] = [domain.ownership.txt_value]
    await services.domains.verify(user, domain.id)
    return user, domain.id


@pytest.fixture
async def tenants(migrated: Database, tmp_path: Path) -> Tenants:
    """Ada owns example.com, Bob owns example.org, both verified, on the test's database."""
    zone: dict[str, Entry] = {}
    settings = load_settings(data_dir=tmp_path / "data", public_url="http://mailshield.test")
    overrides = Overrides(
        dns=lambda: FakeDns(zone),
        passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)),
    )
    services = build_services(settings, migrated, overrides)
    ada, ada_domain = await owner_of(services, zone, "ada@example.com", "example.com")
    bob, bob_domain = await owner_of(services, zone, "bob@example.com", "example.org")
    return Tenants(services, zone, ada, ada_domain, bob, bob_domain)


async def test_each_owner_sees_only_their_domains_quarantine(
    intake: ReportIntake, tenants: Tenants
) -> None:
    """Ada lists, downloads and re-processes example.com's report; Bob gets NotFound for it."""
    raw_id = await submit(intake, Arrives("report", BROKEN, https("/tlsrpt/example.com"), ()))
    quarantine = tenants.services.quarantine
    [entry] = await quarantine.entries(tenants.ada, tenants.ada_domain)
    assert (entry.id, entry.reason, entry.size) == (raw_id, "bad_json", len(BROKEN))
    assert entry.reason_text == "The report is not valid JSON."
    assert (await quarantine.download(tenants.ada, tenants.ada_domain, raw_id)).data == BROKEN
    outcome = await quarantine.reprocess(tenants.ada, tenants.ada_domain, raw_id, intake)
    assert outcome.disposition is Disposition.QUARANTINED
    assert await quarantine.entries(tenants.bob, tenants.bob_domain) == []
    attempts = [
        quarantine.entries(tenants.bob, tenants.ada_domain),
        quarantine.download(tenants.bob, tenants.ada_domain, raw_id),
        quarantine.download(tenants.bob, tenants.bob_domain, raw_id),
        quarantine.reprocess(tenants.bob, tenants.ada_domain, raw_id, intake),
        quarantine.reprocess(tenants.bob, tenants.bob_domain, raw_id, intake),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt


async def test_an_unverified_owner_sees_nothing(intake: ReportIntake, tenants: Tenants) -> None:
    """Typing a domain's name is not owning it: the list needs verified ownership."""
    await submit(intake, Arrives("report", BROKEN, https("/tlsrpt/example.net"), ()))
    carol = await tenants.services.accounts.sign_up("carol@example.com", "correct horse battery")
    domain = await tenants.services.domains.add(carol, "example.net")
    with pytest.raises(OwnershipRequired):
        await tenants.services.quarantine.entries(carol, domain.id)
