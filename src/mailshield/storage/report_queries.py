"""Reads over stored TLS-RPT reports: the policy entries analysis needs, and served domains.

- :meth:`ReportQueries.policies` returns the :class:`~mailshield.core.analysis.records.PolicyRecord`
  values of every report whose day falls in a window and whose policy domain is the domain or a
  name below it (DANE policy domains are MX hosts, RFC 8460 §1.1).
- :class:`DomainsTable` answers which names MailShield serves, from the ``domains`` table
  (hosted domains join it when the hosting work adds them there).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from mailshield.core.analysis.records import PolicyRecord
from mailshield.core.documents.tls_report_model import FailureDetail
from mailshield.storage.database import Database
from mailshield.storage.report_tables import tlsrpt_failures, tlsrpt_policies, tlsrpt_reports
from mailshield.storage.tables import domains

__all__ = ["DomainsTable", "ReportQueries", "parent_names"]

_P, _R, _F = tlsrpt_policies, tlsrpt_reports, tlsrpt_failures


class ReportQueries:
    """Read-only questions about stored reports."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def policies(self, domain: str, since: date, until: date) -> list[PolicyRecord]:
        """Policy entries for ``domain`` of reports whose day is in ``since..until``."""
        where = _window(domain, since, until)
        policy_query = (
            select(_P, _R.c.organization_name, _R.c.day_at)
            .join(_R, _R.c.id == _P.c.report_fk)
            .where(*where)
            .order_by(_P.c.report_fk, _P.c.position)
        )
        detail_query = (
            select(_F)
            .join(_P, (_P.c.report_fk == _F.c.report_fk) & (_P.c.position == _F.c.position))
            .join(_R, _R.c.id == _P.c.report_fk)
            .where(*where)
            .order_by(_F.c.id)
        )
        async with self._db.connect() as connection:
            rows = (await connection.execute(policy_query)).all()
            details = _details_by_policy((await connection.execute(detail_query)).all())
        return [_record(row, details.get((row.report_fk, row.position), ())) for row in rows]


class DomainsTable:
    """The ``KnownDomains`` port over the ``domains`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def served(self, names: Collection[str]) -> set[str]:
        """The names among ``names`` that are a served domain or a name below one."""
        candidates = {parent for name in names for parent in parent_names(name)}
        if not candidates:
            return set()
        query = select(domains.c.name).where(domains.c.name.in_(sorted(candidates))).distinct()
        async with self._db.connect() as connection:
            known = set((await connection.execute(query)).scalars())
        return {name for name in names if known.intersection(parent_names(name))}


def parent_names(name: str) -> list[str]:
    """``name`` and each name above it with at least two labels (``a.b.c`` → a.b.c, b.c)."""
    labels = name.rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]


def _window(domain: str, since: date, until: date) -> list[ColumnElement[bool]]:
    start = datetime.combine(since, time(), tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        _R.c.day_at >= start,
        _R.c.day_at < end,
        or_(_P.c.policy_domain == domain, _P.c.policy_domain.like(f"%.{escaped}", escape="\\")),
    ]


def _details_by_policy(rows: Sequence[Any]) -> dict[tuple[int, int], tuple[FailureDetail, ...]]:
    grouped: dict[tuple[int, int], list[FailureDetail]] = {}
    for row in rows:
        grouped.setdefault((row.report_fk, row.position), []).append(
            FailureDetail(
                result_type=row.result_type,
                failed_session_count=int(row.failed_sessions),
                sending_mta_ip=row.sending_mta_ip,
                receiving_mx_hostname=row.receiving_mx_hostname,
                receiving_mx_helo=row.receiving_mx_helo,
                receiving_ip=row.receiving_ip,
                additional_information=row.additional_information,
                failure_reason_code=row.failure_reason_code,
            )
        )
    return {key: tuple(values) for key, values in grouped.items()}


def _record(row: Any, details: tuple[FailureDetail, ...]) -> PolicyRecord:
    return PolicyRecord(
        report=int(row.report_fk),
        organization=row.organization_name,
        day=row.day_at.date(),
        policy_type=row.policy_type,
        domain=row.policy_domain,
        successful=int(row.successful_sessions),
        failed=int(row.failed_sessions),
        policy_strings=tuple(row.policy_strings or ()),
        mx_hosts=tuple(row.mx_hosts or ()),
        details=details,
    )
