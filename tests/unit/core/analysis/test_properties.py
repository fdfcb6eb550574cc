"""Properties of the analysis: any stored policy rows summarise without error, consistently."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.analysis.readiness import ReadinessCriteria, judge_readiness
from mailshield.core.analysis.records import PolicyRecord
from mailshield.core.analysis.summary import summarize
from mailshield.core.documents.tls_report_model import FailureDetail

SINCE, UNTIL = date(2024, 5, 1), date(2024, 5, 7)
counts = st.integers(min_value=0, max_value=10**9)
details = st.builds(
    FailureDetail,
    result_type=st.sampled_from(["certificate-expired", "sts-policy-invalid", "x-other", ""]),
    failed_session_count=counts,
    sending_mta_ip=st.none() | st.sampled_from(["192.0.2.1", "2001:db8::1"]),
    receiving_mx_hostname=st.none() | st.sampled_from(["mx1.example.com", "mx.other.example"]),
    receiving_ip=st.none() | st.just("203.0.113.5"),
    receiving_mx_helo=st.none() | st.text(max_size=20),
    failure_reason_code=st.none() | st.text(max_size=20),
)
records = st.builds(
    PolicyRecord,
    report=st.integers(min_value=1, max_value=6),
    organization=st.text(max_size=10),
    day=st.dates(min_value=date(2024, 4, 28), max_value=date(2024, 5, 9)),
    policy_type=st.sampled_from(["sts", "tlsa", "no-policy-found", "weird"]),
    domain=st.none() | st.sampled_from(["example.com", "mx1.example.com", "example.org"]),
    successful=counts,
    failed=counts,
    details=st.lists(details, max_size=4).map(tuple),
)


@given(st.lists(records, max_size=25))
def test_summary_never_raises_and_adds_up(rows: list[PolicyRecord]) -> None:
    """For any rows the summary and verdict exist, and per-day rows add up to the totals."""
    summary = summarize(rows, "example.com", SINCE, UNTIL)
    by_org = summary.by_organization
    assert sum(o.successful for o in by_org) == summary.successful
    assert sum(o.failed for o in by_org) == summary.failed
    assert sum(o.reports for o in by_org) == summary.reports
    assert 0.0 <= summary.failure_rate <= 1.0
    assert len(summary.days) == 7
    verdict = judge_readiness(summary, ReadinessCriteria(days=7))
    assert verdict.ready == (not verdict.blockers)
    assert summary.to_dict()["domain"] == "example.com"
