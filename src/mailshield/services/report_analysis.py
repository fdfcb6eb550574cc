"""TLS-RPT answers for a domain: the summary, the ready-to-enforce verdict, raw retention.

The reads come from :class:`~mailshield.storage.report_queries.ReportQueries`; the judging is
pure (:mod:`mailshield.core.analysis`). The window is the last ``days`` UTC days up to and
including today, by the day each report's sessions count for (its ``start-datetime``).

:meth:`ReportAnalysis.readiness` is what the hosting work's enforce gate calls; pass the live
check's :class:`~mailshield.core.model.Report` to combine both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from mailshield.core.analysis.readiness import Readiness, ReadinessCriteria, judge_readiness
from mailshield.core.analysis.summary import TlsRptSummary, summarize
from mailshield.core.model import Report
from mailshield.core.names import normalise
from mailshield.storage.report_queries import ReportQueries
from mailshield.storage.reports import ReportStore

__all__ = ["ReportAnalysis", "prune_raw_reports"]


class ReportAnalysis:
    """Summaries and verdicts over stored reports."""

    def __init__(
        self, queries: ReportQueries, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._queries = queries
        self._clock = clock or (lambda: datetime.now(UTC))

    def window(self, days: int) -> tuple[date, date]:
        """The first and last day of the last ``days`` days, today included."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        until = self._clock().astimezone(UTC).date()
        return until - timedelta(days=days - 1), until

    async def summary(self, domain: str, days: int = 14, problems: int = 5) -> TlsRptSummary:
        """Sessions, failure rates and failures of ``domain`` over the last ``days`` days."""
        name = normalise(domain)
        since, until = self.window(days)
        records = await self._queries.policies(name, since, until)
        return summarize(records, name, since, until, problems)

    async def readiness(
        self,
        domain: str,
        criteria: ReadinessCriteria | None = None,
        live: Report | None = None,
    ) -> Readiness:
        """Whether ``domain`` may move to ``mode: enforce``, and what blocks it if not."""
        criteria = criteria or ReadinessCriteria()
        summary = await self.summary(domain, criteria.days, problems=10)
        return judge_readiness(summary, criteria, live)


async def prune_raw_reports(
    store: ReportStore, retention_days: int, now: datetime | None = None
) -> int:
    """Delete raw arrivals older than ``retention_days`` (``Settings.report_retention_days``);
    the normalised reports stay for analysis. Returns how many were deleted."""
    moment = now or datetime.now(UTC)
    return await store.delete_raw_before(moment - timedelta(days=retention_days))
