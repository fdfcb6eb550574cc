"""Counting sessions once per report and domain, however many policies list them.

RFC 8460 §4.4 lists one entry per policy applied. A reporter that checks both DANE and MTA-STS
lists the *same* sessions under a ``tlsa`` policy (at the MX host) and an ``sts`` policy (at the
domain); Microsoft does. Other entries cover different sessions: several ``tlsa`` policies are
several MX hosts, two ``sts`` policies are a policy that changed during the day, and
``no-policy-found`` sessions had no policy at all. The rule, per report and domain:

    sessions = max(sts total, tlsa total) + no-policy-found and unknown-type totals

where a type's total adds its entries, and entries repeated verbatim in one report count once.
The success and failure counts follow the side (``sts`` or ``tlsa``) the maximum came from.
``failure-details`` of every entry are kept: they are problems, not sessions (RFC 8460 §4.4:
their counts need not add up to the failure total).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from mailshield.core.analysis.records import PolicyRecord, counts_for
from mailshield.core.documents.tls_report_model import FailureDetail

__all__ = ["ReportSessions", "sessions_by_report"]

_OVERLAPPING = ("sts", "tlsa")


@dataclass(frozen=True, slots=True)
class ReportSessions:
    """The sessions one report counts for one domain, and the failure details behind them."""

    report: int
    organization: str
    day: date
    successful: int
    failed: int
    details: tuple[FailureDetail, ...]

    @property
    def total(self) -> int:
        return self.successful + self.failed


def sessions_by_report(records: Iterable[PolicyRecord], domain: str) -> list[ReportSessions]:
    """One :class:`ReportSessions` per report with a policy counting for ``domain``."""
    grouped: dict[int, list[PolicyRecord]] = {}
    for record in records:
        if counts_for(record.domain, domain):
            grouped.setdefault(record.report, []).append(record)
    return [_one_report(entries) for _, entries in sorted(grouped.items())]


def _one_report(entries: list[PolicyRecord]) -> ReportSessions:
    unique = list(dict.fromkeys(entries))  # verbatim repeats count once
    sums: dict[str, tuple[int, int]] = {}
    for entry in unique:
        kind = entry.policy_type if entry.policy_type in _OVERLAPPING else "other"
        ok, bad = sums.get(kind, (0, 0))
        sums[kind] = (ok + entry.successful, bad + entry.failed)
    sts, tlsa = sums.get("sts", (0, 0)), sums.get("tlsa", (0, 0))
    ok, bad = sts if sum(sts) >= sum(tlsa) else tlsa
    other_ok, other_bad = sums.get("other", (0, 0))
    first = unique[0]
    return ReportSessions(
        report=first.report,
        organization=first.organization,
        day=first.day,
        successful=ok + other_ok,
        failed=bad + other_bad,
        details=tuple(detail for entry in unique for detail in entry.details),
    )
