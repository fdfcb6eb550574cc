"""Top problems: every result type explained with a fix, reason codes kept."""

from __future__ import annotations

import pytest

from mailshield.core.analysis.problems import top_problems
from mailshield.core.documents.tls_report_model import KNOWN_RESULT_TYPES, FailureDetail


@pytest.mark.parametrize("result_type", sorted(KNOWN_RESULT_TYPES))
def test_every_registered_result_type_has_advice(result_type: str) -> None:
    """Each RFC 8460 §4.3 result type gets a specific explanation and fix."""
    detail = FailureDetail(result_type, 4, receiving_mx_hostname="mx.example.com")
    [problem] = top_problems([("Reporter", detail)], "example.com")
    assert problem.explanation
    assert problem.fix
    assert "outside the RFC 8460 registry" not in problem.explanation


@pytest.mark.parametrize(
    ("detail", "subject", "words"),
    [
        pytest.param(
            FailureDetail("validation-failure", 1, receiving_mx_hostname="mx-backup.example.de",
                          failure_reason_code="MxHostNotInPolicy"),
            "mx-backup.example.de",
            "add `mx: mx-backup.example.de`",
            id="mx-not-in-policy",
        ),
        pytest.param(
            FailureDetail("sts-policy-fetch-error", 1, failure_reason_code="status 404"),
            "mta-sts.example.de",
            "https://mta-sts.example.de/.well-known/mta-sts.txt",
            id="policy-fetch",
        ),
        pytest.param(
            FailureDetail("x-new-type", 1, receiving_ip="192.0.2.1"),
            "192.0.2.1",
            "outside the RFC 8460 registry",
            id="unknown-type-at-an-ip",
        ),
    ],
)  # fmt: skip
def test_specific_explanations(detail: FailureDetail, subject: str, words: str) -> None:
    """Reason codes and missing host names shape the subject and the words."""
    [problem] = top_problems([("Reporter", detail)], "example.de")
    assert problem.subject == subject
    assert words in problem.headline


def test_problems_are_grouped_and_ranked() -> None:
    """Same type at the same MX adds up; the biggest comes first; reporters are listed."""
    a = FailureDetail("certificate-expired", 2, receiving_mx_hostname="mx1.example.com")
    b = FailureDetail("starttls-not-supported", 5, receiving_mx_hostname="mx2.example.com")
    problems = top_problems([("A", a), ("B", a), ("A", b)], "example.com", limit=5)
    assert [(p.result_type, p.failed_sessions, p.organizations) for p in problems] == [
        ("starttls-not-supported", 5, ("A",)),
        ("certificate-expired", 4, ("A", "B")),
    ]
