"""Scoring: statuses apart from points, could-not-test left out, MTA-STS or DANE credited."""

import pytest

from mailshield.core.model import CheckResult, Finding, Status
from mailshield.core.scoring import WEIGHTS, score


def _result(check: str, status: Status, code: str = "x") -> CheckResult:
    return CheckResult(check, (Finding(f"{check}.{code}", status),))


def _all(status: Status, **overrides: Status) -> list[CheckResult]:
    checks = ["mx", "starttls", "mta_sts", "tls_rpt", "spf", "dmarc", "dkim"]
    return [_result(c, overrides.get(c, status)) for c in checks]


def test_everything_passing_is_a_plus() -> None:
    """All checks passing earns 100 and A+."""
    result = score(_all(Status.PASS))
    assert (result.points, result.grade) == (100, "A+")


def test_warning_prevents_a_plus() -> None:
    """A single warning keeps an A from being an A+."""
    result = score(_all(Status.PASS, tls_rpt=Status.WARN))
    assert result.grade == "A"
    assert result.points == round(100 * (100 - WEIGHTS["tls_rpt"] / 2) / 100)


def test_could_not_test_is_left_out_not_failed() -> None:
    """An untestable check is excluded from the score and listed as untested."""
    result = score(_all(Status.PASS, starttls=Status.ERROR))
    assert result.points == 100
    assert result.untested == ("starttls",)
    assert result.grade == "A"


def test_failures_cost_their_weight() -> None:
    """A failed DMARC costs exactly its weight."""
    assert score(_all(Status.PASS, dmarc=Status.FAIL)).points == 100 - WEIGHTS["dmarc"]


def test_dane_credits_authenticated_transport_without_mta_sts() -> None:
    """Without MTA-STS, deployed DANE still earns the authenticated-transport points."""
    results = [*_all(Status.PASS, mta_sts=Status.FAIL), _result("dane", Status.PASS, "tlsa.match")]
    with_dane = score(results).points
    without = score(_all(Status.PASS, mta_sts=Status.FAIL)).points
    assert without == 100 - WEIGHTS["transport_auth"]
    assert with_dane > without


@pytest.mark.parametrize("status", [Status.ERROR, Status.NOT_APPLICABLE])
def test_nothing_testable_is_ungraded(status: Status) -> None:
    """When no category could be scored the grade says so instead of F."""
    assert score(_all(status)).grade == "?"
