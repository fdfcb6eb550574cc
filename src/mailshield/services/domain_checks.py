"""Running domain checks from the web process, and reading their history.

The public "check your domain" form and the dashboard share one runner: at most
``concurrency`` checks run at once (the rest wait their turn), a check of a domain already being
checked joins that run instead of starting another, and every finished report is stored with
:class:`~mailshield.storage.checks.CheckReports` for the history. Public checks are limited per
client address; a signed-in user's checks per user. The checker itself is built on first use in
a worker thread (building it may ask the resolvers whether they validate DNSSEC).
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mailshield.core.model import Report
from mailshield.services.account_domains import UserDomains
from mailshield.services.account_errors import Throttled
from mailshield.services.domain_input import parse_domain
from mailshield.services.rate_limit import RateLimiter
from mailshield.services.users import User
from mailshield.storage.checks import CheckReports

DEFAULT_CONCURRENCY = 4
CHECK_DEADLINE = 120.0  # seconds; each probe has its own, shorter timeout


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A finished check and the id it is stored under."""

    id: int
    report: Report


class Checker(Protocol):
    """What runs one check (:class:`mailshield.services.checker.Checker` in production)."""

    async def check(self, domain: str) -> Report: ...


class CheckDeadlineExceeded(RuntimeError):
    """A check took longer than :data:`CHECK_DEADLINE` and was abandoned."""


class _LazyChecker:
    def __init__(self, factory: Callable[[], Checker]) -> None:
        self._factory = factory
        self._checker: Checker | None = None
        self._lock = threading.Lock()

    def _build(self) -> Checker:
        with self._lock:
            if self._checker is None:
                self._checker = self._factory()
            return self._checker

    async def get(self) -> Checker:
        if self._checker is not None:
            return self._checker
        return await asyncio.to_thread(self._build)


class DomainChecks:
    """Runs, stores and reads checks."""

    def __init__(
        self,
        checker: Callable[[], Checker],
        reports: CheckReports,
        domains: UserDomains,
        limiter: RateLimiter,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._checker = _LazyChecker(checker)
        self._reports = reports
        self._domains = domains
        self._limiter = limiter
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._running: dict[str, asyncio.Task[StoredCheck]] = {}

    async def public_check(self, text: str, client: str) -> StoredCheck:
        """Check the domain ``text`` names for an anonymous visitor at address ``client``."""
        name = parse_domain(text)
        self._take(f"client:{client}")
        return await self._run(name)

    async def check_name(self, actor: User, text: str) -> StoredCheck:
        """Check any domain for a signed-in user (API clients), limited per user."""
        name = parse_domain(text)
        self._take(f"user:{actor.id}")
        return await self._run(name)

    async def check_domain(self, actor: User, domain_id: int) -> StoredCheck:
        """Check one of the actor's domains now (NotFound for anyone else's)."""
        domain = await self._domains.get(actor, domain_id)
        self._take(f"user:{actor.id}")
        stored = await self._run(domain.name)
        await self._domains.record_check(actor, domain_id, stored.id)
        return stored

    async def fresh_report(self, domain: str) -> Report:
        """A new report of ``domain`` for the system itself (the enforce gate): not limited."""
        return (await self._run(domain)).report

    async def stored(self, check_id: int) -> Report | None:
        """A stored check by id (callers make sure the id was handed out by us)."""
        return await self._reports.get(check_id)

    def _take(self, key: str) -> None:
        wait = self._limiter.acquire(key)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise Throttled(
                f"You have run {self._limiter.limit} checks in the last minute. "
                f"Try again in {seconds} second{'s' if seconds != 1 else ''}.",
                retry_after=seconds,
            )

    async def _run(self, name: str) -> StoredCheck:
        running = self._running.get(name)
        if running is None:
            running = asyncio.ensure_future(self._check_and_store(name))
            self._running[name] = running
            running.add_done_callback(lambda _: self._running.pop(name, None))
        return await asyncio.shield(running)

    async def _check_and_store(self, name: str) -> StoredCheck:
        checker = await self._checker.get()
        async with self._slots:
            try:
                async with asyncio.timeout(CHECK_DEADLINE):
                    report = await checker.check(name)
            except TimeoutError:
                raise CheckDeadlineExceeded(
                    f"Checking {name} took longer than {CHECK_DEADLINE:.0f} s and was stopped."
                ) from None
        return StoredCheck(await self._reports.save(report), report)
