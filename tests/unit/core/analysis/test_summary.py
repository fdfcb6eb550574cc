"""Summary numbers for a small handmade set of reports: sessions once, exact breakdowns."""

from __future__ import annotations

from datetime import date

import pytest

from mailshield.core.analysis.records import PolicyRecord, counts_for
from mailshield.core.analysis.sessions import sessions_by_report
from mailshield.core.analysis.summary import summarize
from mailshield.core.documents.tls_report_model import FailureDetail

D1, D2, D3 = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)
MISMATCH = FailureDetail(
    "certificate-host-mismatch",
    12,
    sending_mta_ip="198.51.100.25",
    receiving_mx_hostname="mx2.example.com",
    receiving_mx_helo="mx1.example.com",
)
EXPIRED = FailureDetail(
    "certificate-expired",
    3,
    sending_mta_ip="209.85.220.41",
    receiving_mx_hostname="mx1.example.com",
)
FETCH = FailureDetail(
    "sts-policy-fetch-error", 2, failure_reason_code="bad https response code: 404"
)


def policy(report: int, kind: str, domain: str | None, ok: int, bad: int, *details: FailureDetail,
           organization: str = "Google Inc.", day: date = D1) -> PolicyRecord:  # fmt: skip
    return PolicyRecord(report, organization, day, kind, domain, ok, bad, details=details)


HANDMADE = [
    # report 1 (Google, day 1): sts with a host mismatch, plus a no-policy-found entry
    policy(1, "sts", "example.com", 1000, 12, MISMATCH),
    policy(1, "no-policy-found", "example.com", 50, 0),
    # report 2 (Microsoft, day 1): the same sessions under DANE (at the MX) and MTA-STS
    policy(2, "tlsa", "mx1.example.com", 300, 3, EXPIRED, organization="Microsoft"),
    policy(2, "sts", "example.com", 297, 3, EXPIRED, organization="Microsoft"),
    # report 3 (Mail.ru, day 2): a policy fetch error, listed twice verbatim
    policy(3, "sts", "example.com", 0, 2, FETCH, organization="Mail.ru", day=D2),
    policy(3, "sts", "example.com", 0, 2, FETCH, organization="Mail.ru", day=D2),
    # another domain's report is ignored
    policy(4, "sts", "example.org", 999, 999, MISMATCH),
]


@pytest.mark.parametrize(
    ("policy_domain", "domain", "expected"),
    [
        pytest.param("example.com", "example.com", True, id="same"),
        pytest.param("mx1.example.com", "example.com", True, id="mx-host-below"),
        pytest.param("badexample.com", "example.com", False, id="suffix-not-label"),
        pytest.param("example.com", "mx1.example.com", False, id="above"),
        pytest.param(None, "example.com", False, id="missing"),
    ],
)
def test_counts_for(policy_domain: str | None, domain: str, expected: bool) -> None:
    """A policy counts for its domain and for the domain above a DANE MX host, nothing else."""
    assert counts_for(policy_domain, domain) is expected


def test_sessions_are_counted_once_per_report() -> None:
    """DANE and STS listing the same sessions count once; no-policy-found adds; repeats collapse."""
    counted = {
        s.report: (s.successful, s.failed) for s in sessions_by_report(HANDMADE, "example.com")
    }
    assert counted == {1: (1050, 12), 2: (300, 3), 3: (0, 2)}


def test_daily_rows_are_exact() -> None:
    """Every day of the window has a row; rates follow the counted sessions."""
    summary = summarize(HANDMADE, "example.com", D1, D3)
    rows = [(r.day, r.reports, r.successful, r.failed) for r in summary.days]
    assert rows == [(D1, 2, 1350, 15), (D2, 1, 0, 2), (D3, 0, 0, 0)]
    assert summary.failure_rate == pytest.approx(17 / 1367)
    assert summary.last_report_day == D2


def test_breakdowns_are_exact() -> None:
    """Failures by result type, MX, sending IP and reporter add the failure details' counts."""
    summary = summarize(HANDMADE, "example.com", D1, D3)
    assert [(c.key, c.failed) for c in summary.by_result_type] == [
        ("certificate-host-mismatch", 12),
        ("certificate-expired", 6),
        ("sts-policy-fetch-error", 2),
    ]
    assert [(m.mx, m.failed, m.last_failure) for m in summary.by_mx] == [
        ("mx2.example.com", 12, D1),
        ("mx1.example.com", 6, D1),
    ]
    assert [(c.key, c.failed) for c in summary.by_sending_ip] == [
        ("198.51.100.25", 12),
        ("209.85.220.41", 6),
        ("(not reported)", 2),
    ]
    assert [
        (o.organization, o.reports, o.successful, o.failed) for o in summary.by_organization
    ] == [
        ("Google Inc.", 1, 1050, 12),
        ("Microsoft", 1, 300, 3),
        ("Mail.ru", 1, 0, 2),
    ]


def test_window_excludes_other_days() -> None:
    """Reports outside since..until are left out."""
    summary = summarize(HANDMADE, "example.com", D2, D3)
    assert (summary.reports, summary.successful, summary.failed) == (1, 0, 2)


def test_top_problem_names_the_mx_and_the_fix() -> None:
    """The worst problem reads as the issue's example: what is wrong, on which MX, the fix."""
    summary = summarize(HANDMADE, "example.com", D1, D3)
    first = summary.problems[0]
    assert first.headline == (
        "certificate-host-mismatch on mx2.example.com: it introduces itself as mx1.example.com, "
        "so its certificate most likely names only mx1.example.com — reissue it with both names "
        "(mx2.example.com and mx1.example.com)"
    )


def test_summary_serialises() -> None:
    """The JSON form carries the totals and every breakdown."""
    data = summarize(HANDMADE, "example.com", D1, D3).to_dict()
    assert data["reports"] == 3
    assert data["failed-sessions"] == 17
    assert len(data["days"]) == 3
    assert data["problems"][0]["subject"] == "mx2.example.com"
