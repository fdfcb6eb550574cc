"""A user's domains on the dashboard: list, add within the plan, remove, prove ownership.

Tenant isolation lives here and in the repository below it: every method takes the acting user
and reaches only that user's rows; another tenant's domain is :class:`NotFound`, exactly like
one that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mailshield.core.model import Report
from mailshield.services import ownership
from mailshield.services.account_errors import Conflict, NotFound, PlanLimitReached
from mailshield.services.clock import Clock, utc_now
from mailshield.services.domain_input import parse_domain
from mailshield.services.plans import Plan, Plans
from mailshield.services.ports import DnsLookup
from mailshield.services.users import User
from mailshield.storage.account_domains import AddRefusal, CheckSummary, DomainRecord, DomainStore

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Ownership:
    """The ownership proof of one domain: what to publish and what was last seen."""

    domain: str
    token: str
    verified_at: datetime | None
    method: str | None
    checked_at: datetime | None
    problem: str | None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_name(self) -> str:
        return ownership.txt_name(self.domain)

    @property
    def txt_value(self) -> str:
        return ownership.txt_value(self.token)


@dataclass(frozen=True, slots=True)
class Domain:
    id: int
    name: str
    created_at: datetime
    ownership: Ownership


@dataclass(frozen=True, slots=True)
class DomainPage:
    items: list[Domain]
    next_after: int | None  # pass as ``after`` for the next page; None on the last page


@dataclass(frozen=True, slots=True)
class Usage:
    plan: Plan
    domains: int

    @property
    def full(self) -> bool:
        return self.plan.max_domains is not None and self.domains >= self.plan.max_domains


def _domain(record: DomainRecord) -> Domain:
    proof = Ownership(
        record.name,
        record.token or "",
        record.verified_at,
        record.method,
        record.checked_at,
        record.problem,
    )
    return Domain(record.id, record.name, record.created_at, proof)


def limit_message(plan: Plan) -> str:
    """What the user reads at the plan limit."""
    return (
        f"Your {plan.title} plan holds up to {plan.describe_limit()}, and you have reached it. "
        "Remove a domain to add another."
    )


class UserDomains:
    """The domain service of the dashboard and the API."""

    def __init__(
        self,
        store: DomainStore,
        plans: Plans,
        dns: Callable[[], DnsLookup],
        *,
        policy_host: str = "",
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._plans = plans
        self._dns = dns
        self._policy_host = policy_host
        self._clock = clock

    async def page(self, actor: User, *, limit: int = 50, after: int | None = None) -> DomainPage:
        """One page of the actor's domains in the order they were added."""
        size = max(1, min(limit, MAX_PAGE))
        records = await self._store.page(actor.id, limit=size + 1, after=after)
        items = [_domain(r) for r in records[:size]]
        return DomainPage(items, items[-1].id if len(records) > size else None)

    async def usage(self, actor: User) -> Usage:
        return Usage(await self._plans.plan_of(actor), await self._store.count(actor.id))

    async def add(self, actor: User, text: str) -> Domain:
        """Add the domain ``text`` names; raises InvalidInput, Conflict or PlanLimitReached."""
        name = parse_domain(text)
        plan = await self._plans.plan_of(actor)
        added = await self._store.add(
            actor.id, name, ownership.new_token(), limit=plan.max_domains, at=self._clock()
        )
        if added is AddRefusal.EXISTS:
            raise Conflict(f"{name} is in your list already.")
        if added is AddRefusal.LIMIT:
            raise PlanLimitReached(limit_message(plan), plan.key, plan.max_domains or 0)
        return _domain(added)

    async def get(self, actor: User, domain_id: int) -> Domain:
        """The actor's domain ``domain_id``; NotFound for any other."""
        record = await self._store.get(actor.id, domain_id)
        if record is None:
            raise NotFound("No such domain in your account.")
        if record.token is None:  # added outside the dashboard (e.g. the CLI): issue one now
            record = await self._store.ensure_token(actor.id, domain_id, ownership.new_token())
            if record is None:
                raise NotFound("No such domain in your account.")
        return _domain(record)

    async def remove(self, actor: User, domain_id: int) -> None:
        if not await self._store.remove(actor.id, domain_id):
            raise NotFound("No such domain in your account.")

    async def checks(
        self, actor: User, domain_id: int, *, limit: int = 20, before: int | None = None
    ) -> list[CheckSummary]:
        """The checks run for the actor's domain, newest first, ids below ``before``."""
        await self.get(actor, domain_id)
        size = max(1, min(limit, MAX_PAGE))
        return await self._store.checks(actor.id, domain_id, limit=size, before=before)

    async def record_check(self, actor: User, domain_id: int, check_id: int) -> None:
        """Add stored check ``check_id`` to the history of the actor's domain."""
        if not await self._store.link_check(actor.id, domain_id, check_id):
            raise NotFound("No such domain in your account.")

    async def check_report(self, actor: User, domain_id: int, check_id: int) -> Report:
        """One stored check of the actor's domain; NotFound for any other."""
        data = await self._store.check_report(actor.id, domain_id, check_id)
        if data is None:
            raise NotFound("No such check of this domain.")
        return Report.from_dict(data)

    async def verify(self, actor: User, domain_id: int) -> Domain:
        """Look for the ownership proof in DNS now and record what was seen."""
        domain = await self.get(actor, domain_id)
        dns = self._dns()
        txt, cname = await asyncio.gather(
            dns.query(ownership.txt_name(domain.name), "TXT"),
            dns.query(ownership.cname_name(domain.name), "CNAME"),
        )
        verdict = ownership.judge(
            domain.name, domain.ownership.token, txt, cname, self._policy_host
        )
        record = await self._store.record_check(
            actor.id, domain_id, at=self._clock(), method=verdict.method, problem=verdict.problem
        )
        if record is None:
            raise NotFound("No such domain in your account.")
        return _domain(record)
