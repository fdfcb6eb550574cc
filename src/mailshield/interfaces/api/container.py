"""The services the web process uses, built once per application from Settings and a Database.

Tests replace the parts that reach outside (checker, DNS, mail, password cost, clock) with
:class:`Overrides`; everything else is the production wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailshield.core.model import Report
from mailshield.interfaces.api.secret_key import instance_secret
from mailshield.interfaces.assembly import build_checker
from mailshield.interfaces.hosting_assembly import ReportReadiness, build_publisher
from mailshield.probes.dns import DnsClient, system_nameservers
from mailshield.services.account_domains import UserDomains
from mailshield.services.accounts import Accounts
from mailshield.services.api_tokens import ApiTokens
from mailshield.services.clock import Clock, utc_now
from mailshield.services.dashboard_hosting import DomainHosting
from mailshield.services.domain_checks import Checker, DomainChecks
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.ingest_quarantine import DomainQuarantine
from mailshield.services.login_throttle import LoginThrottle
from mailshield.services.mailer import Mailer, MailTransport, mailer_for
from mailshield.services.passwords import Passwords
from mailshield.services.plans import Plans
from mailshield.services.ports import DnsLookup
from mailshield.services.rate_limit import RateLimiter
from mailshield.services.report_analysis import ReportAnalysis
from mailshield.services.sessions import Sessions
from mailshield.services.settings import Settings
from mailshield.storage import Database
from mailshield.storage.account_domains import DomainStore
from mailshield.storage.accounts import AccountStore
from mailshield.storage.checks import CheckReports
from mailshield.storage.hosting import HostingStore
from mailshield.storage.report_queries import ReportQueries
from mailshield.storage.reports import ReportStore

RESET_PATH = "/password/reset/"


@dataclass(frozen=True, slots=True)
class Overrides:
    """Replacements for the parts that reach outside the process (tests, demos)."""

    checker: Callable[[], Checker] | None = None
    dns: Callable[[], DnsLookup] | None = None
    mail: MailTransport | None = None
    passwords: Passwords | None = None
    clock: Clock | None = None


class _GateChecker:
    """The enforce gate's checker: the web process's runner (bounded, stored)."""

    def __init__(self, checks: DomainChecks) -> None:
        self._checks = checks

    async def check(self, domain: str) -> Report:
        return await self._checks.fresh_report(domain)


def _hosting(
    settings: Settings, db: Database, dns: Callable[[], DnsLookup], checks: DomainChecks
) -> HostingService | None:
    """The hosting service when this instance hosts policies (``policy_host`` set)."""
    if not settings.policy_host and not settings.policy_addresses:
        return None
    readiness = ReportReadiness(ReportAnalysis(ReportQueries(db))) if settings.tlsrpt_rua else None
    return HostingService(
        HostingStore(db),
        dns,
        HostingConfig.from_settings(settings),
        checker=_GateChecker(checks),
        tlsrpt=readiness,
        publisher=build_publisher(settings),
    )


@dataclass(frozen=True, slots=True)
class AppServices:
    """Everything a request handler may call."""

    settings: Settings
    secret: bytes
    accounts: Accounts
    sessions: Sessions
    tokens: ApiTokens
    plans: Plans
    domains: UserDomains
    checks: DomainChecks
    hosting: DomainHosting
    quarantine: DomainQuarantine


def reset_link(settings: Settings, secret: str) -> str:
    return f"{settings.public_url.rstrip('/')}{RESET_PATH}{secret}"


def _dns_factory(settings: Settings) -> Callable[[], DnsLookup]:
    def dns() -> DnsLookup:
        nameservers = settings.resolvers or system_nameservers()
        return DnsClient(nameservers, timeout=settings.dns_timeout)

    return dns


def build_services(
    settings: Settings, db: Database, overrides: Overrides | None = None
) -> AppServices:
    """The production wiring, with any ``overrides`` in place."""
    over = overrides or Overrides()
    clock = over.clock or utc_now
    store = AccountStore(db)
    sessions = Sessions(store, clock)
    mailer = Mailer(over.mail, settings.mail_from) if over.mail else mailer_for(settings)
    accounts = Accounts(
        store,
        over.passwords or Passwords(),
        sessions,
        LoginThrottle(store, clock),
        mailer,
        reset_url=lambda secret: reset_link(settings, secret),
        signup_enabled=settings.signup_enabled,
        clock=clock,
    )
    plans = Plans(store, settings.free_plan_domains, clock)
    dns = over.dns or _dns_factory(settings)
    domains = UserDomains(
        DomainStore(db), plans, dns, policy_host=settings.policy_host, clock=clock
    )
    checker = over.checker or (lambda: build_checker(settings))
    limiter = RateLimiter(settings.check_rate_limit, 60.0)
    checks = DomainChecks(checker, CheckReports(db), domains, limiter)
    return AppServices(
        settings=settings,
        secret=instance_secret(settings),
        accounts=accounts,
        sessions=sessions,
        tokens=ApiTokens(store, clock),
        plans=plans,
        domains=domains,
        checks=checks,
        hosting=DomainHosting(
            domains, _hosting(settings, db, dns, checks), ReportAnalysis(ReportQueries(db))
        ),
        quarantine=DomainQuarantine(domains, ReportStore(db)),
    )
