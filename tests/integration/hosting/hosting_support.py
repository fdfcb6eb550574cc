"""Helpers for hosting service tests: a settable clock, fake checker and publisher, a live zone.

The zone is a plain dictionary in :class:`tests.support.fake_dns.FakeDns` form; every DNS client
the service asks for is built from it afresh, so a test edits the zone between calls exactly as a
customer edits theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.support.fake_dns import FakeDns

from mailshield.core.hosting.gate import TlsRptVerdict
from mailshield.core.hosting.model import UpdateOutcome, UpdateResult
from mailshield.core.model import CheckResult, Finding, Report, Status
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_config import HostingConfig
from mailshield.storage import Database
from mailshield.storage.hosting import HostingStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
POLICY_HOST = "mta-sts.mailshield.test"
RUA = "mailto:tlsrpt@mailshield.test"
ZONE_TARGETS = "sts.mailshield.test"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def zone_for(domain: str, *mx: str) -> dict[str, object]:
    """A customer zone with MX hosts and nothing for MTA-STS yet, plus our policy host."""
    zone: dict[str, object] = {
        f"{domain} MX": [f"{10 * (i + 1)} {host}." for i, host in enumerate(mx)],
        f"{POLICY_HOST} A": ["127.0.0.80"],
    }
    for host in mx:
        zone[f"{host} A"] = ["127.0.0.25"]
    return zone


def publish_cname_setup(zone: dict[str, object], domain: str, policy_id: str) -> None:
    """What the customer publishes in the two-record setup."""
    zone[f"mta-sts.{domain} CNAME"] = [POLICY_HOST]
    zone[f"_mta-sts.{domain} TXT"] = [f"v=STSv1; id={policy_id}"]


@dataclass
class FakeChecker:
    """Answers checks with a report built from ``tls``: host -> STARTTLS finding code."""

    tls: dict[str, str] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)

    async def check(self, domain: str) -> Report:
        self.checked.append(domain)
        hosts = [{"name": h, "preference": 10} for h in self.tls]
        mx = CheckResult("mx", (Finding("mx.ok", Status.PASS, domain),), {"hosts": hosts})
        findings = tuple(
            Finding(
                code,
                Status.PASS if code == "starttls.ok" else Status.WARN,
                host,
                message=f"{code} on {host}",
            )
            for host, code in self.tls.items()
        )
        results = (mx, CheckResult("starttls", findings))
        return Report(domain, T0, results, 90, "A")


@dataclass
class FakeReadiness:
    verdict: TlsRptVerdict | None = None

    async def readiness(self, domain: str) -> TlsRptVerdict | None:
        return self.verdict


@dataclass
class FakePublisher:
    """Records RFC 2136 writes into the same zone the DNS fake answers from."""

    zone: dict[str, object]
    outcome: UpdateOutcome = UpdateOutcome.OK
    writes: list[tuple[str, str]] = field(default_factory=list)

    async def replace_txt(self, owner: str, text: str, ttl: int) -> UpdateResult:
        if self.outcome is UpdateOutcome.OK:
            self.zone[f"{owner} TXT"] = [text]
            self.writes.append((owner, text))
        return UpdateResult(self.outcome)

    async def delete_txt(self, owner: str) -> UpdateResult:
        self.zone.pop(f"{owner} TXT", None)
        self.writes.append((owner, ""))
        return UpdateResult(self.outcome)


@dataclass
class World:
    """A hosting service over a database, a live fake zone and a clock."""

    service: HostingService
    store: HostingStore
    zone: dict[str, object]
    clock: Clock
    checker: FakeChecker
    publisher: FakePublisher


def make_world(
    db: Database,
    zone: dict[str, object],
    *,
    readiness: FakeReadiness | None = None,
    delay: timedelta = timedelta(0),
    mx_follow: bool = True,
    addresses: Iterable[str] = (),
    policy_host: str = POLICY_HOST,
    with_publisher: bool = True,
) -> World:
    """The service under test, wired to fakes that share ``zone``."""
    clock = Clock()
    checker = FakeChecker()
    publisher = FakePublisher(zone)
    config = HostingConfig(
        policy_host=policy_host,
        policy_addresses=tuple(addresses),
        default_max_age=604800,
        mx_follow=mx_follow,
        delegation_zone=ZONE_TARGETS,
        tlsrpt_rua=RUA,
        body_first_delay=delay,
    )
    store = HostingStore(db)
    service = HostingService(
        store,
        lambda: FakeDns(zone),  # type: ignore[arg-type]
        config,
        checker=checker,
        tlsrpt=readiness,
        publisher=publisher if with_publisher else None,
        clock=clock,
    )
    return World(service, store, zone, clock, checker, publisher)
