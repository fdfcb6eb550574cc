"""Scheduled re-checks: every registered domain is checked again once per interval, and the
report is kept in its history (the dashboard's score trend)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from mailshield.core.model import Report
from mailshield.storage.account_domains import DomainStore
from mailshield.storage.checks import CheckReports
from mailshield.storage.database import Database
from mailshield.storage.monitoring import DueDomain, domains_due

log = logging.getLogger(__name__)


async def recheck_due(
    db: Database,
    check: Callable[[str], Awaitable[Report]],
    *,
    interval: dt.timedelta,
    now: dt.datetime,
    limit: int = 500,
    concurrency: int = 10,
) -> int:
    """Check the domains not checked within ``interval``; returns how many were checked."""
    due = await domains_due(db, now - interval, limit)
    reports, store = CheckReports(db), DomainStore(db)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: DueDomain) -> None:
        async with gate:
            report = await check(item.name)
        check_id = await reports.save(report)
        await store.link_check(item.owner_id, item.domain_id, check_id)

    results = await asyncio.gather(*(one(item) for item in due), return_exceptions=True)
    for item, result in zip(due, results, strict=True):
        if isinstance(result, BaseException):
            log.error("re-check of %s failed: %r", item.name, result)
    return sum(1 for r in results if not isinstance(r, BaseException))
