"""The ready-to-enforce verdict: each criterion, alone, blocks; live findings join in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mailshield.core.analysis.readiness import ReadinessCriteria, judge_readiness
from mailshield.core.analysis.records import PolicyRecord
from mailshield.core.analysis.summary import summarize
from mailshield.core.documents.tls_report_model import FailureDetail
from mailshield.core.model import CheckResult, Finding, Report, Status

D1, D2 = date(2024, 5, 1), date(2024, 5, 2)
CRITERIA = ReadinessCriteria(days=2)


def record(report: int, ok: int, bad: int, *details: FailureDetail, day: date = D1) -> PolicyRecord:
    return PolicyRecord(report, "Reporter", day, "sts", "example.com", ok, bad, details=details)


def codes(records: list[PolicyRecord], live: Report | None = None) -> list[str]:
    summary = summarize(records, "example.com", D1, D2)
    return [b.code for b in judge_readiness(summary, CRITERIA, live).blockers]


def live_report(*findings: Finding) -> Report:
    return Report(
        "example.com",
        datetime(2024, 5, 2, tzinfo=UTC),
        (CheckResult("starttls", findings),),
        90,
        "A",
    )


HEALTHY = [record(1, 1000, 0), record(2, 1000, 0, day=D2)]
STS_INVALID = FailureDetail("sts-policy-invalid", 1)
OLD_FAILURE = FailureDetail("certificate-expired", 1, receiving_mx_hostname="mx1.example.com")


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(HEALTHY, [], id="healthy"),
        pytest.param([], ["reports.none"], id="no-reports"),
        pytest.param([record(1, 0, 0)], ["reports.no_sessions"], id="no-sessions"),
        pytest.param([record(1, 50, 50), record(2, 1000, 0, day=D2)], ["reports.failure_rate"],
                     id="failure-rate"),
        pytest.param(
            [record(1, 1000, 1, STS_INVALID), record(2, 1000, 0, day=D2)],
            ["reports.sts_policy"],
            id="sts-policy-failure",
        ),
        pytest.param(
            [record(1, 1000, 0), record(2, 5000, 1, OLD_FAILURE, day=D2)],
            ["reports.mx_failing"],
            id="mx-still-failing",
        ),
        pytest.param([record(1, 5000, 1, OLD_FAILURE), record(2, 1000, 0, day=D2)], [],
                     id="mx-failure-stopped"),
    ],
)  # fmt: skip
def test_report_criteria(records: list[PolicyRecord], expected: list[str]) -> None:
    """Each reports criterion blocks on its own; a failure that stopped does not."""
    assert codes(records) == expected


def test_live_check_failures_and_untested_mx_block() -> None:
    """A failing live finding and an MX the live check could not test both block."""
    live = live_report(
        Finding(
            "starttls.cert_expired", Status.FAIL, "mx1.example.com", message="expired", fix="renew"
        ),
        Finding("starttls.unreachable", Status.ERROR, "mx2.example.com", message="timeout"),
        Finding("starttls.ok", Status.PASS, "mx3.example.com"),
    )
    assert codes(HEALTHY, live) == ["live.starttls.cert_expired", "live.untested"]


def test_verdict_says_what_blocks_it() -> None:
    """The one-line description names the blockers; JSON carries ready and the numbers."""
    summary = summarize([record(1, 90, 10)], "example.com", D1, D2)
    verdict = judge_readiness(summary, CRITERIA)
    assert not verdict.ready
    assert "10.00% of 100 sessions failed" in verdict.describe()
    assert verdict.to_dict()["ready"] is False
