"""A domain's TLS-RPT summary: sessions and failure rate per day, failures broken down.

Sessions are counted once per report (:mod:`~mailshield.core.analysis.sessions`); the failure
rate is failed / (successful + failed) (reference §3.6 item 19). The breakdowns by result type,
receiving MX and sending IP add the ``failed-session-count`` of failure details, which may
overlap and need not add up to the failure total (RFC 8460 §4.4); the breakdown by reporting
organization counts sessions like the daily rows do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from mailshield.core.analysis.problems import Problem, top_problems
from mailshield.core.analysis.records import PolicyRecord
from mailshield.core.analysis.sessions import ReportSessions, sessions_by_report
from mailshield.core.documents.tls_report_model import FailureDetail
from mailshield.core.model import JSONValue

__all__ = ["Count", "DayRow", "MxRow", "OrganizationRow", "TlsRptSummary", "rate", "summarize"]


def rate(failed: int, successful: int) -> float:
    """The share of sessions that failed; 0.0 when there were none."""
    total = failed + successful
    return failed / total if total else 0.0


@dataclass(frozen=True, slots=True)
class DayRow:
    """One UTC day: reports received for it and their sessions."""

    day: date
    reports: int
    successful: int
    failed: int

    @property
    def failure_rate(self) -> float:
        return rate(self.failed, self.successful)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "day": self.day.isoformat(),
            "reports": self.reports,
            "successful-sessions": self.successful,
            "failed-sessions": self.failed,
            "failure-rate": round(self.failure_rate, 6),
        }


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    """One reporting organization's reports and sessions in the window."""

    organization: str
    reports: int
    successful: int
    failed: int

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "organization": self.organization,
            "reports": self.reports,
            "successful-sessions": self.successful,
            "failed-sessions": self.failed,
            "failure-rate": round(rate(self.failed, self.successful), 6),
        }


@dataclass(frozen=True, slots=True)
class Count:
    """Failed sessions attributed to one key (a result type or a sending IP)."""

    key: str
    failed: int

    def to_dict(self) -> dict[str, JSONValue]:
        return {"key": self.key, "failed-sessions": self.failed}


@dataclass(frozen=True, slots=True)
class MxRow:
    """Failed sessions at one receiving MX, and the last day it was reported failing."""

    mx: str
    failed: int
    last_failure: date
    result_types: tuple[str, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "mx": self.mx,
            "failed-sessions": self.failed,
            "last-failure-day": self.last_failure.isoformat(),
            "result-types": list(self.result_types),
        }


@dataclass(frozen=True, slots=True)
class TlsRptSummary:
    """Everything ``mailshield reports summary`` shows for one domain and window."""

    domain: str
    since: date
    until: date
    days: tuple[DayRow, ...]
    by_result_type: tuple[Count, ...]
    by_organization: tuple[OrganizationRow, ...]
    by_mx: tuple[MxRow, ...]
    by_sending_ip: tuple[Count, ...]
    problems: tuple[Problem, ...]

    @property
    def reports(self) -> int:
        return sum(day.reports for day in self.days)

    @property
    def successful(self) -> int:
        return sum(day.successful for day in self.days)

    @property
    def failed(self) -> int:
        return sum(day.failed for day in self.days)

    @property
    def failure_rate(self) -> float:
        return rate(self.failed, self.successful)

    @property
    def last_report_day(self) -> date | None:
        """The latest day any report covers, ``None`` without reports."""
        return max((day.day for day in self.days if day.reports), default=None)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "domain": self.domain,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "reports": self.reports,
            "successful-sessions": self.successful,
            "failed-sessions": self.failed,
            "failure-rate": round(self.failure_rate, 6),
            "days": [day.to_dict() for day in self.days],
            "by-result-type": [row.to_dict() for row in self.by_result_type],
            "by-organization": [row.to_dict() for row in self.by_organization],
            "by-mx": [row.to_dict() for row in self.by_mx],
            "by-sending-ip": [row.to_dict() for row in self.by_sending_ip],
            "problems": [problem.to_dict() for problem in self.problems],
        }


def summarize(
    records: Iterable[PolicyRecord], domain: str, since: date, until: date, problems: int = 5
) -> TlsRptSummary:
    """The summary of ``domain`` from the policy entries of reports for days since..until."""
    counted = [s for s in sessions_by_report(records, domain) if since <= s.day <= until]
    return TlsRptSummary(
        domain=domain,
        since=since,
        until=until,
        days=_days(counted, since, until),
        by_result_type=_count(counted, lambda d: d.result_type),
        by_organization=_organizations(counted),
        by_mx=_mx_rows(counted),
        by_sending_ip=_count(counted, lambda d: d.sending_mta_ip or "(not reported)"),
        problems=tuple(
            top_problems(
                ((s.organization, d) for s in counted for d in s.details), domain, problems
            )
        ),
    )


def _days(counted: list[ReportSessions], since: date, until: date) -> tuple[DayRow, ...]:
    """A row for every day of the window, days without reports included (a silent reporter
    shows as a gap)."""
    rows = {}
    day = since
    while day <= until:
        rows[day] = [0, 0, 0]
        day += timedelta(days=1)
    for item in counted:
        row = rows[item.day]
        row[0] += 1
        row[1] += item.successful
        row[2] += item.failed
    return tuple(DayRow(day, *values) for day, values in rows.items())


def _count(counted: list[ReportSessions], key: Callable[[FailureDetail], str]) -> tuple[Count, ...]:
    totals: Counter[str] = Counter()
    for item in counted:
        for detail in item.details:
            totals[key(detail)] += detail.failed_session_count
    return tuple(Count(k, n) for k, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def _organizations(counted: list[ReportSessions]) -> tuple[OrganizationRow, ...]:
    rows: dict[str, list[int]] = {}
    for item in counted:
        row = rows.setdefault(item.organization or "(unnamed)", [0, 0, 0])
        row[0] += 1
        row[1] += item.successful
        row[2] += item.failed
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1][2], -kv[1][1], kv[0]))
    return tuple(OrganizationRow(name, *values) for name, values in ordered)


def _mx_rows(counted: list[ReportSessions]) -> tuple[MxRow, ...]:
    failed: Counter[str] = Counter()
    last: dict[str, date] = {}
    types: dict[str, dict[str, None]] = {}
    for item in counted:
        for detail in item.details:
            mx = detail.receiving_mx_hostname or detail.receiving_ip
            if mx is None:
                continue
            failed[mx] += detail.failed_session_count
            last[mx] = max(last.get(mx, item.day), item.day)
            types.setdefault(mx, {})[detail.result_type] = None
    ordered = sorted(failed.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(MxRow(mx, n, last[mx], tuple(types[mx])) for mx, n in ordered)
