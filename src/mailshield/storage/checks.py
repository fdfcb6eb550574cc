"""Stored check reports: save one, read the latest, page through the history of a domain.

Each row keeps the report exactly as :meth:`Report.to_dict` produced it, plus the raw
observations when the caller has them, so a scoring change can re-score old checks without
probing again. Reports come back through :meth:`Report.from_dict`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from mailshield.core.model import JSONValue, Report
from mailshield.storage.database import Database
from mailshield.storage.tables import check_reports

MAX_HISTORY = 1000


def domain_key(domain: str) -> str:
    """The stored form of a domain name: lower case, no trailing dot (names are A-labels)."""
    return domain.rstrip(".").lower()


class CheckReports:
    """The check report repository."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, report: Report, observations: JSONValue | None = None) -> int:
        """Store ``report`` (and the observations it was computed from); return its id.

        ``report.checked_at`` must carry a time zone; it is stored in UTC.
        """
        row = {
            "domain": domain_key(report.domain),
            "checked_at": report.checked_at,
            "score": report.score,
            "grade": report.grade,
            "status": report.status.value,
            "report": report.to_dict(),
            "observations": observations,
        }
        async with self._db.transaction() as connection:
            result = await connection.execute(
                check_reports.insert().values(row).returning(check_reports.c.id)
            )
            return int(result.scalar_one())

    async def get(self, report_id: int) -> Report | None:
        """The report stored under ``report_id``, if any."""
        query = select(check_reports.c.report).where(check_reports.c.id == report_id)
        return await self._one(query)

    async def latest(self, domain: str) -> Report | None:
        """The most recent report for ``domain``, if it was ever checked."""
        return await self._one(_newest_first(domain).limit(1))

    async def history(
        self, domain: str, limit: int = 20, before: datetime | None = None
    ) -> list[Report]:
        """Up to ``limit`` reports for ``domain``, newest first, checked strictly before ``before``.

        Passing the ``checked_at`` of the last report of one page as ``before`` gives the next.
        """
        if not 1 <= limit <= MAX_HISTORY:
            raise ValueError(f"limit must be between 1 and {MAX_HISTORY}, not {limit}")
        query = _newest_first(domain).limit(limit)
        if before is not None:
            query = query.where(check_reports.c.checked_at < before)
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).scalars().all()
        return [Report.from_dict(data) for data in rows]

    async def observations(self, report_id: int) -> JSONValue | None:
        """The raw observations saved with report ``report_id``; ``None`` if none were kept."""
        query = select(check_reports.c.observations).where(check_reports.c.id == report_id)
        async with self._db.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def _one(self, query: Select[tuple[Any]]) -> Report | None:
        async with self._db.connect() as connection:
            data = (await connection.execute(query)).scalar_one_or_none()
        return None if data is None else Report.from_dict(data)


def _newest_first(domain: str) -> Select[tuple[Any]]:
    return (
        select(check_reports.c.report)
        .where(check_reports.c.domain == domain_key(domain))
        .order_by(check_reports.c.checked_at.desc(), check_reports.c.id.desc())
    )
