"""Plans: how many domains an account may hold.

Every account is on the free plan unless an operator moves it (``account_plans``). The free
plan's limit is the ``free_plan_domains`` setting; the other plans are fixed here. ``None`` as
a limit means unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.services.clock import Clock, utc_now
from mailshield.services.users import User
from mailshield.storage.accounts import AccountStore

FREE = "free"


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    title: str
    max_domains: int | None

    def describe_limit(self) -> str:
        if self.max_domains is None:
            return "unlimited domains"
        return f"{self.max_domains} domain{'' if self.max_domains == 1 else 's'}"


def catalogue(free_domains: int) -> dict[str, Plan]:
    """Every plan by key; the free plan's limit comes from the settings."""
    plans = (
        Plan(FREE, "Free", free_domains),
        Plan("pro", "Pro", 50),
        Plan("unlimited", "Unlimited", None),
    )
    return {plan.key: plan for plan in plans}


class Plans:
    """Which plan a user is on, and moving a user to another."""

    def __init__(self, store: AccountStore, free_domains: int, clock: Clock = utc_now) -> None:
        self._store = store
        self._plans = catalogue(free_domains)
        self._clock = clock

    async def plan_of(self, actor: User) -> Plan:
        key = await self._store.plan_of(actor.id)
        return self._plans.get(key or FREE, self._plans[FREE])

    async def move(self, actor: User, key: str) -> Plan:
        """Put the user on plan ``key`` (an operator action); KeyError for an unknown plan."""
        plan = self._plans[key]
        await self._store.set_plan(actor.id, plan.key, self._clock())
        return plan
