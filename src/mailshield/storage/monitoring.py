"""Which registered domains are due for a scheduled re-check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from mailshield.storage.account_tables import domain_checks
from mailshield.storage.database import Database
from mailshield.storage.tables import check_reports, domains


@dataclass(frozen=True, slots=True)
class DueDomain:
    owner_id: int
    domain_id: int
    name: str
    last_checked: datetime | None


async def domains_due(db: Database, checked_before: datetime, limit: int) -> list[DueDomain]:
    """Up to ``limit`` domains whose latest check is older than ``checked_before`` (or that were
    never checked), the longest-waiting first."""
    last = func.max(check_reports.c.checked_at).label("last")
    query = (
        select(domains.c.owner_id, domains.c.id, domains.c.name, last)
        .select_from(
            domains.outerjoin(domain_checks, domain_checks.c.domain_id == domains.c.id).outerjoin(
                check_reports, check_reports.c.id == domain_checks.c.check_id
            )
        )
        .group_by(domains.c.id, domains.c.owner_id, domains.c.name)
        .having(or_(last.is_(None), last < checked_before))
        .order_by(last.is_not(None), last, domains.c.id)
        .limit(limit)
    )
    async with db.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [DueDomain(row[0], row[1], row[2], row[3]) for row in rows]
