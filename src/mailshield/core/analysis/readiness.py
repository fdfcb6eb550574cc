"""Ready to enforce? A verdict on moving a domain's MTA-STS policy to ``mode: enforce``.

In ``mode: testing`` senders deliver despite failures and report them (RFC 8461 §5); in
``enforce`` those sessions would not be delivered. From N days of TLS-RPT reports (default 14),
the domain is ready when all of these hold, each one otherwise named as a blocker:

- there are reports, with sessions, in the window (``reports.none``, ``reports.no_sessions``);
- the failure rate is below the threshold (``reports.failure_rate``);
- no ``sts-policy-*`` failure was reported: senders could not fetch, validate or authenticate
  the policy, so in enforce they would not apply it at all (``reports.sts_policy``);
- every MX seen failing has been seen succeeding since: an MX reported failing on the latest
  reported day is still failing (``reports.mx_failing``);
- when a live check is given: no failing MX, MTA-STS or STARTTLS finding (``live.<code>``),
  and STARTTLS could be tested on every MX (``live.untested``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.core.analysis.problems import STS_POLICY_RESULTS
from mailshield.core.analysis.summary import TlsRptSummary
from mailshield.core.model import JSONValue, Report, Status

__all__ = ["Blocker", "Readiness", "ReadinessCriteria", "judge_readiness"]

_LIVE_CHECKS = ("mx", "mta_sts", "starttls")


@dataclass(frozen=True, slots=True)
class ReadinessCriteria:
    """The thresholds of the verdict."""

    days: int = 14
    max_failure_rate: float = 0.01  # failure rate must be below this share of sessions
    min_reports: int = 1


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason the domain is not ready: a stable ``code``, what is wrong, what to do."""

    code: str
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class Readiness:
    """The verdict for one domain: ready when nothing blocks it."""

    domain: str
    blockers: tuple[Blocker, ...]
    reports: int
    sessions: int
    failure_rate: float
    days: int
    live_checked: bool

    @property
    def ready(self) -> bool:
        return not self.blockers

    def describe(self) -> str:
        """One line for people."""
        if self.ready:
            return (
                f"{self.domain} is ready for mode: enforce ({self.reports} reports, "
                f"{self.sessions} sessions, {self.failure_rate:.2%} failed in {self.days} days)"
            )
        return f"{self.domain} is not ready for mode: enforce: " + "; ".join(
            blocker.message for blocker in self.blockers
        )

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "domain": self.domain,
            "ready": self.ready,
            "blockers": [blocker.to_dict() for blocker in self.blockers],
            "reports": self.reports,
            "sessions": self.sessions,
            "failure-rate": round(self.failure_rate, 6),
            "days": self.days,
            "live-checked": self.live_checked,
        }


def judge_readiness(
    summary: TlsRptSummary, criteria: ReadinessCriteria, live: Report | None = None
) -> Readiness:
    """The verdict from a summary of the last ``criteria.days`` days and an optional live check."""
    blockers = _report_blockers(summary, criteria)
    if live is not None:
        blockers += _live_blockers(live)
    return Readiness(
        domain=summary.domain,
        blockers=tuple(blockers),
        reports=summary.reports,
        sessions=summary.successful + summary.failed,
        failure_rate=summary.failure_rate,
        days=criteria.days,
        live_checked=live is not None,
    )


def _report_blockers(summary: TlsRptSummary, criteria: ReadinessCriteria) -> list[Blocker]:
    if summary.reports < criteria.min_reports:
        return [
            Blocker(
                "reports.none",
                f"no TLS-RPT report for {summary.domain} in the last {criteria.days} days",
                f"publish _smtp._tls.{summary.domain} TXT with rua= pointing at MailShield and "
                "wait a day or two for reports",
            )
        ]
    if summary.successful + summary.failed == 0:
        return [Blocker("reports.no_sessions", "the reports list no sessions at all")]
    blockers = []
    if summary.failure_rate >= criteria.max_failure_rate:
        blockers.append(
            Blocker(
                "reports.failure_rate",
                f"{summary.failure_rate:.2%} of {summary.successful + summary.failed} sessions "
                f"failed (must be below {criteria.max_failure_rate:.2%})",
                _first_fix(summary),
            )
        )
    blockers += _sts_policy_blockers(summary)
    blockers += _mx_blockers(summary)
    return blockers


def _sts_policy_blockers(summary: TlsRptSummary) -> list[Blocker]:
    out = []
    for row in summary.by_result_type:
        if row.key in STS_POLICY_RESULTS and row.failed > 0:
            problem = next((p for p in summary.problems if p.result_type == row.key), None)
            out.append(
                Blocker(
                    "reports.sts_policy",
                    f"{row.key}: {row.failed} sessions could not use the MTA-STS policy",
                    problem.fix if problem else None,
                )
            )
    return out


def _mx_blockers(summary: TlsRptSummary) -> list[Blocker]:
    last = summary.last_report_day
    out = []
    for row in summary.by_mx:
        if last is not None and row.last_failure >= last:
            problem = next((p for p in summary.problems if p.subject == row.mx), None)
            out.append(
                Blocker(
                    "reports.mx_failing",
                    f"{row.mx} still fails ({', '.join(row.result_types)}) in the latest "
                    f"reports ({row.last_failure.isoformat()})",
                    problem.fix if problem else None,
                )
            )
    return out


def _first_fix(summary: TlsRptSummary) -> str | None:
    return summary.problems[0].headline if summary.problems else None


def _live_blockers(live: Report) -> list[Blocker]:
    out = []
    for result in live.results:
        if result.check not in _LIVE_CHECKS:
            continue
        for item in result.findings:
            if item.status is Status.FAIL:
                out.append(Blocker(f"live.{item.code}", item.message or item.code, item.fix))
            elif item.status is Status.ERROR and result.check == "starttls":
                out.append(
                    Blocker(
                        "live.untested",
                        f"the live check could not test {item.subject or 'an MX'}: "
                        f"{item.message or item.code}",
                        "run the check again from a network that reaches port 25",
                    )
                )
    return out
