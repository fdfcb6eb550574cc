"""Hosted MTA-STS and TLS reports for a dashboard user's domains.

The hosting and report services work by owner id and domain name; this layer puts the
dashboard's rules in front of them. A domain must be one of the acting user's (else NotFound)
and its ownership proven (else OwnershipRequired) before MailShield serves a policy for it or
shows the TLS reports received for it, since both concern whoever controls the domain's DNS, not
whoever typed its name. Hosting errors become :mod:`~mailshield.services.account_errors`, so the
interfaces map one family of refusals. A hosted domain cannot be removed from the account until
hosting has been stopped safely (RFC 8461 §8.3: senders cache the policy for max_age).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from mailshield.core.analysis.readiness import Readiness
from mailshield.core.analysis.summary import TlsRptSummary
from mailshield.services.account_domains import Domain, UserDomains
from mailshield.services.account_errors import (
    Blocked,
    Conflict,
    NotFound,
    OwnershipRequired,
    Unavailable,
)
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_errors import (
    AlreadyHosted,
    EnforceBlocked,
    HostingError,
    NotConfigured,
    NotHosted,
    Refused,
)
from mailshield.services.hosting_views import DomainView, ModeChange, PolicyChange
from mailshield.services.report_analysis import ReportAnalysis
from mailshield.services.users import User

T = TypeVar("T")
MAX_DAYS = 90


async def _translated(work: Awaitable[T]) -> T:
    """Run a hosting call; its refusals come out as account errors."""
    try:
        return await work
    except NotHosted:
        raise NotFound("MailShield does not host this domain's policy.") from None
    except AlreadyHosted as exc:
        raise Conflict(str(exc)) from None
    except EnforceBlocked as exc:
        reasons = tuple(b.message for b in exc.verdict.blockers)
        raise Blocked(
            "Not safe to enforce yet: senders would refuse mail that they deliver today.",
            reasons,
            exc.risk,
        ) from None
    except Refused as exc:
        raise Blocked(str(exc), tuple(exc.problems)) from None
    except NotConfigured as exc:
        raise Unavailable(f"Hosted MTA-STS is not set up on this instance: {exc}") from None
    except HostingError as exc:
        raise Blocked(str(exc)) from None


class DomainHosting:
    """Hosting and reports of the acting user's verified domains."""

    def __init__(
        self,
        domains: UserDomains,
        hosting: HostingService | None,
        analysis: ReportAnalysis,
    ) -> None:
        self._domains = domains
        self._hosting = hosting
        self._analysis = analysis

    @property
    def available(self) -> bool:
        return self._hosting is not None

    async def _verified(self, actor: User, domain_id: int) -> Domain:
        domain = await self._domains.get(actor, domain_id)
        if not domain.ownership.verified:
            raise OwnershipRequired(
                f"Prove that {domain.name} is yours first: publish its TXT record and look again."
            )
        return domain

    def _service(self) -> HostingService:
        if self._hosting is None:
            raise Unavailable("Hosted MTA-STS is not set up on this instance (no policy_host).")
        return self._hosting

    async def status(self, actor: User, domain_id: int) -> DomainView | None:
        """The hosting of the actor's domain; None when not hosted (or not verified yet)."""
        domain = await self._domains.get(actor, domain_id)
        if self._hosting is None or not domain.ownership.verified:
            return None
        try:
            views = await self._hosting.status(actor.id, domain.name)
        except NotHosted:
            return None
        return views[0] if views else None

    async def _call(
        self, actor: User, domain_id: int, action: Callable[[HostingService, str], Awaitable[T]]
    ) -> T:
        domain = await self._verified(actor, domain_id)
        return await _translated(action(self._service(), domain.name))

    async def start(self, actor: User, domain_id: int) -> DomainView:
        """Host the domain's policy in testing mode, proposed from its live MX set."""
        return await self._call(actor, domain_id, lambda h, name: h.add(actor.id, name))

    async def set_mode(
        self, actor: User, domain_id: int, mode: str, *, force: bool = False
    ) -> ModeChange:
        """Move between testing and enforce; enforce only through the safe gate (or forced)."""
        return await self._call(
            actor, domain_id, lambda h, name: h.set_mode(actor.id, name, mode, force=force)
        )

    async def edit(
        self,
        actor: User,
        domain_id: int,
        *,
        max_age: int | None = None,
        extra_mx: Sequence[str] | None = None,
    ) -> PolicyChange:
        """Change max_age or the extra mx patterns (validated; a new body gets a new id)."""
        return await self._call(
            actor,
            domain_id,
            lambda h, name: h.edit(actor.id, name, max_age=max_age, extra_mx=extra_mx),
        )

    async def verify(self, actor: User, domain_id: int) -> DomainView:
        """Look at the published records now."""
        views = await self._call(actor, domain_id, lambda h, name: h.verify(actor.id, name))
        return views[0]

    async def stop(self, actor: User, domain_id: int) -> DomainView:
        """Start a safe removal: serve ``mode: none`` until cached policies have expired."""
        return await self._call(actor, domain_id, lambda h, name: h.remove(actor.id, name))

    async def remove_domain(self, actor: User, domain_id: int) -> Domain:
        """Remove the domain from the account, unless MailShield still serves its policy."""
        domain = await self._domains.get(actor, domain_id)
        if await self.status(actor, domain_id) is not None:
            raise Blocked(
                f"MailShield still hosts the MTA-STS policy of {domain.name}. Stop hosting first "
                "and remove the domain once its old policies have expired."
            )
        await self._domains.remove(actor, domain_id)
        return domain

    async def report_summary(self, actor: User, domain_id: int, days: int = 14) -> TlsRptSummary:
        """TLS-RPT sessions and failures of the actor's verified domain over ``days`` days."""
        domain = await self._verified(actor, domain_id)
        return await self._analysis.summary(domain.name, max(1, min(days, MAX_DAYS)))

    async def readiness(self, actor: User, domain_id: int) -> Readiness:
        """Whether the reports say the domain may move to enforce, and what blocks it."""
        domain = await self._verified(actor, domain_id)
        return await self._analysis.readiness(domain.name)
