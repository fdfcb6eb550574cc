"""The domain model: status roll-up and lossless JSON round trips."""

from datetime import UTC, datetime

import pytest

from mailshield.core.model import CheckResult, Finding, Report, Status, worst


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([], Status.PASS, id="empty-is-pass"),
        pytest.param([Status.PASS, Status.INFO], Status.INFO, id="info-over-pass"),
        pytest.param([Status.WARN, Status.ERROR], Status.ERROR, id="could-not-test-over-warn"),
        pytest.param([Status.ERROR, Status.FAIL], Status.FAIL, id="fail-over-could-not-test"),
        pytest.param([Status.NOT_APPLICABLE], Status.NOT_APPLICABLE, id="na-alone"),
    ],
)
def test_worst_orders_by_severity(statuses: list[Status], expected: Status) -> None:
    """The roll-up status is the most severe one."""
    assert worst(statuses) == expected


def test_check_result_status_is_worst_finding() -> None:
    """A result takes the status of its worst finding."""
    result = CheckResult(
        "mta_sts",
        (Finding("a", Status.PASS), Finding("b", Status.WARN), Finding("c", Status.INFO)),
    )
    assert result.status is Status.WARN


def test_report_round_trips_through_dict() -> None:
    """A report serialised to JSON-able data and back is equal to the original."""
    report = Report(
        domain="example.com",
        checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        results=(
            CheckResult(
                "mx",
                (Finding("mx.null", Status.INFO, "example.com", {"k": 1}, "msg", "fix"),),
                {"hosts": ["a"]},
            ),
        ),
        score=87,
        grade="B",
    )
    data = report.to_dict()
    assert data["status"] == "info"
    assert Report.from_dict(data) == report
