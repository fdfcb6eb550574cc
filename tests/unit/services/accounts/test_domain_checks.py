"""Running checks from the web process: bounded, joined per domain, limited, stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mailshield.core.model import CheckResult, Report
from mailshield.services.account_domains import UserDomains
from mailshield.services.account_errors import NotFound, Throttled
from mailshield.services.domain_checks import DomainChecks
from mailshield.services.rate_limit import RateLimiter
from mailshield.services.users import User
from mailshield.storage import Database
from mailshield.storage.checks import CheckReports


class GatedChecker:
    """A checker whose checks finish only when the test opens the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[str] = []
        self.running = 0
        self.most_running = 0

    async def check(self, domain: str) -> Report:
        self.started.append(domain)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        return Report(domain, datetime.now(UTC), (CheckResult("mx"),), 87, "B")


@pytest.fixture
def checker() -> GatedChecker:
    return GatedChecker()


@pytest.fixture
def runner(db: Database, domains: UserDomains, checker: GatedChecker) -> DomainChecks:
    return DomainChecks(
        lambda: checker, CheckReports(db), domains, RateLimiter(3, 60.0), concurrency=2
    )


async def until(condition: Callable[[], object]) -> None:
    """Yield to the event loop until ``condition()`` holds (no sleeping on a timer)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_a_public_check_is_stored(runner: DomainChecks, checker: GatedChecker) -> None:
    """The report comes back with the id it is stored under."""
    checker.gate.set()
    stored = await runner.public_check("https://Example.com/", "192.0.2.1")
    assert stored.report.domain == "example.com"
    assert await runner.stored(stored.id) == stored.report


async def test_concurrent_checks_of_one_domain_share_a_run(
    runner: DomainChecks, checker: GatedChecker
) -> None:
    """Two visitors checking the same domain at once get one run and one stored report."""
    first = asyncio.ensure_future(runner.public_check("example.com", "192.0.2.1"))
    second = asyncio.ensure_future(runner.public_check("example.com", "192.0.2.2"))
    await until(lambda: checker.started)
    checker.gate.set()
    one, two = await asyncio.gather(first, second)
    assert checker.started == ["example.com"]
    assert one.id == two.id


async def test_at_most_concurrency_checks_run(runner: DomainChecks, checker: GatedChecker) -> None:
    """With a bound of two, a third domain waits until a slot frees."""
    tasks = [
        asyncio.ensure_future(runner.public_check(f"d{n}.example", f"192.0.2.{n}"))
        for n in range(3)
    ]
    await until(lambda: len(checker.started) == 2)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(checker.started) == 2
    checker.gate.set()
    await asyncio.gather(*tasks)
    assert checker.most_running == 2
    assert len(checker.started) == 3


async def test_public_checks_are_limited_per_client(
    runner: DomainChecks, checker: GatedChecker
) -> None:
    """The fourth check in a minute from one address is refused; another address may go on."""
    checker.gate.set()
    for n in range(3):
        await runner.public_check(f"d{n}.example", "192.0.2.1")
    with pytest.raises(Throttled) as refused:
        await runner.public_check("d3.example", "192.0.2.1")
    assert refused.value.retry_after >= 1
    await runner.public_check("d3.example", "192.0.2.2")


async def test_domain_checks_and_history_are_the_owners(
    runner: DomainChecks, domains: UserDomains, checker: GatedChecker, ada: User, bob: User
) -> None:
    """Ada checks her domain and reads its history; Bob gets NotFound for each."""
    checker.gate.set()
    added = await domains.add(ada, "example.com")
    stored = await runner.check_domain(ada, added.id)
    history = await domains.checks(ada, added.id)
    assert [(c.id, c.score, c.grade) for c in history] == [(stored.id, 87, "B")]
    assert await domains.check_report(ada, added.id, stored.id) == stored.report
    with pytest.raises(NotFound):
        await runner.check_domain(bob, added.id)
    with pytest.raises(NotFound):
        await domains.checks(bob, added.id)
    with pytest.raises(NotFound):
        await domains.check_report(bob, added.id, stored.id)


async def test_a_check_of_another_domain_is_not_in_this_history(
    runner: DomainChecks, domains: UserDomains, checker: GatedChecker, ada: User
) -> None:
    """A stored check is reachable only under the domain it checked."""
    checker.gate.set()
    one = await domains.add(ada, "one.example")
    two = await domains.add(ada, "two.example")
    stored = await runner.check_domain(ada, one.id)
    with pytest.raises(NotFound):
        await domains.check_report(ada, two.id, stored.id)
    assert await domains.checks(ada, two.id) == []
