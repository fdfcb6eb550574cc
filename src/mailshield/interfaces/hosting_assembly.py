"""Composition of the hosting service: DNS probes, the checker, the RFC 2136 publisher, storage.

Used by ``mailshield domains``, and by the worker and the dashboard when they host domains.
"""

from __future__ import annotations

import datetime as dt

from mailshield.core.hosting.gate import TlsRptVerdict
from mailshield.interfaces.assembly import build_checker
from mailshield.probes.dns import DnsClient, system_nameservers
from mailshield.probes.dns_update import DnsUpdater, TsigCredentials
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_ports import DomainChecker, TlsRptReadiness
from mailshield.services.hosting_serving import HostedPolicies
from mailshield.services.ports import DnsLookup
from mailshield.services.report_analysis import ReportAnalysis
from mailshield.services.scheduler import Job
from mailshield.services.settings import Settings
from mailshield.storage.database import Database
from mailshield.storage.hosting import HostingStore
from mailshield.storage.report_queries import ReportQueries

UPDATE_TIMEOUT = 10.0  # seconds for one RFC 2136 exchange
VERIFY_JOB = "hosting-verify"
VERIFY_EVERY = dt.timedelta(minutes=15)


class ReportReadiness:
    """The TLS-RPT readiness port, answered by the reports analysis (last 14 days of reports)."""

    def __init__(self, analysis: ReportAnalysis) -> None:
        self._analysis = analysis

    async def readiness(self, domain: str) -> TlsRptVerdict | None:
        verdict = await self._analysis.readiness(domain)
        return TlsRptVerdict(verdict.ready, tuple(b.message for b in verdict.blockers))


def build_hosting(
    settings: Settings, db: Database, *, checker: DomainChecker | None = None
) -> HostingService:
    """The hosting service wired as ``settings`` describe.

    The TLS-RPT verdict joins the enforce gate when MailShield receives the reports
    (``tlsrpt_rua`` set); the RFC 2136 publisher exists when a delegation zone and its update
    server are configured.
    """
    nameservers = settings.resolvers or system_nameservers()

    def dns() -> DnsLookup:
        return DnsClient(nameservers, timeout=settings.dns_timeout)

    readiness: TlsRptReadiness | None = None
    if settings.tlsrpt_rua:
        readiness = ReportReadiness(ReportAnalysis(ReportQueries(db)))
    return HostingService(
        HostingStore(db),
        dns,
        HostingConfig.from_settings(settings),
        checker=checker or build_checker(settings),
        tlsrpt=readiness,
        publisher=build_publisher(settings),
    )


def build_publisher(settings: Settings) -> DnsUpdater | None:
    """The RFC 2136 updater for the delegation zone, or ``None`` when none is configured."""
    if not settings.delegation_zone or not settings.dns_update_server:
        return None
    if not settings.tsig_key_name or not settings.tsig_secret:
        raise ValueError("dns_update_server needs tsig_key_name and tsig_secret (RFC 8945)")
    credentials = TsigCredentials(
        settings.tsig_key_name, settings.tsig_secret, settings.tsig_algorithm
    )
    return DnsUpdater(
        settings.dns_update_server, settings.delegation_zone, credentials, timeout=UPDATE_TIMEOUT
    )


def build_hosted_policies(db: Database) -> HostedPolicies:
    """The policy server's PolicySource, IssuanceGate and HostedNames."""
    return HostedPolicies(HostingStore(db))


def verification_job(service: HostingService, every: dt.timedelta = VERIFY_EVERY) -> Job:
    """The periodic job running the verifier over every hosted domain (worker or ``serve``)."""
    return Job(VERIFY_JOB, every, service.verify_all)
