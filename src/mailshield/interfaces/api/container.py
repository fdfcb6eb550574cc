"""The services the web process uses, built once per application from Settings and a Database.

Tests replace the parts that reach outside (checker, DNS, mail, password cost, clock) with
:class:`Overrides`; everything else is the production wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailshield.interfaces.api.secret_key import instance_secret
from mailshield.interfaces.assembly import build_checker
from mailshield.probes.dns import DnsClient, system_nameservers
from mailshield.services.account_domains import UserDomains
from mailshield.services.accounts import Accounts
from mailshield.services.api_tokens import ApiTokens
from mailshield.services.clock import Clock, utc_now
from mailshield.services.domain_checks import Checker, DomainChecks
from mailshield.services.login_throttle import LoginThrottle
from mailshield.services.mailer import Mailer, MailTransport, mailer_for
from mailshield.services.passwords import Passwords
from mailshield.services.plans import Plans
from mailshield.services.ports import DnsLookup
from mailshield.services.rate_limit import RateLimiter
from mailshield.services.sessions import Sessions
from mailshield.services.settings import Settings
from mailshield.storage import Database
from mailshield.storage.account_domains import DomainStore
from mailshield.storage.accounts import AccountStore
from mailshield.storage.checks import CheckReports

RESET_PATH = "/password/reset/"


@dataclass(frozen=True, slots=True)
class Overrides:
    """Replacements for the parts that reach outside the process (tests, demos)."""

    checker: Callable[[], Checker] | None = None
    dns: Callable[[], DnsLookup] | None = None
    mail: MailTransport | None = None
    passwords: Passwords | None = None
    clock: Clock | None = None


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
    domains = UserDomains(
        DomainStore(db),
        plans,
        over.dns or _dns_factory(settings),
        policy_host=settings.policy_host,
        clock=clock,
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
    )
