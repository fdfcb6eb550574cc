"""The testing → enforce gate, read from a check report (RFC 8461 §4.1, §4.2, §5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailshield.core.hosting.gate import TlsRptVerdict, enforce_verdict, force_risk
from mailshield.core.model import CheckResult, Finding, Report, Status

D = "shop.test"


def mx_result(*hosts: str, finding: Finding | None = None) -> CheckResult:
    """The MX check result naming ``hosts`` in its evidence."""
    evidence = {"mx_outcome": "ok", "hosts": [{"name": h, "preference": 10} for h in hosts]}
    findings = (finding,) if finding else (Finding("mx.ok", Status.PASS, D),)
    return CheckResult("mx", findings, evidence)


def tls(code: str, host: str, status: Status = Status.PASS) -> Finding:
    return Finding(code, status, host, {"address": "127.0.0.25"}, f"{code} on {host}")


def report(mx: CheckResult, *starttls: Finding) -> Report:
    results = (mx, CheckResult("starttls", starttls))
    return Report(D, datetime(2026, 5, 1, tzinfo=UTC), results, 90, "A")


TWO_OK = report(
    mx_result("mx1.shop.test", "mx2.shop.test"),
    tls("starttls.ok", "mx1.shop.test"),
    tls("starttls.ok", "mx2.shop.test"),
)
PATTERNS = ("mx1.shop.test", "mx2.shop.test")


def test_healthy_domain_may_enforce() -> None:
    """Every MX covered and serving valid TLS: nothing blocks."""
    verdict = enforce_verdict(TWO_OK, PATTERNS)
    assert verdict.allowed
    assert verdict.blockers == ()


@pytest.mark.parametrize(
    ("the_report", "patterns", "tlsrpt", "code", "subject"),
    [
        (TWO_OK, ("mx1.shop.test",), None, "mx.not_covered", "mx2.shop.test"),
        (
            report(
                mx_result("mx1.shop.test"),
                tls("starttls.cert_expired", "mx1.shop.test", Status.WARN),
            ),
            PATTERNS,
            None,
            "starttls.cert_expired",
            "mx1.shop.test",
        ),
        (
            report(
                mx_result("mx1.shop.test"),
                tls("starttls.not_offered", "mx1.shop.test", Status.FAIL),
            ),
            PATTERNS,
            None,
            "starttls.not_offered",
            "mx1.shop.test",
        ),
        (
            report(
                mx_result("mx1.shop.test"),
                tls("starttls.unreachable", "mx1.shop.test", Status.ERROR),
            ),
            PATTERNS,
            None,
            "starttls.unreachable",
            "mx1.shop.test",
        ),
        (
            report(
                mx_result("mx1.shop.test"),
                tls("starttls.cert_name_mismatch", "mx1.shop.test", Status.WARN),
            ),
            PATTERNS,
            None,
            "starttls.cert_name_mismatch",
            "mx1.shop.test",
        ),
        (
            report(
                mx_result("mx1.shop.test"),
                tls("starttls.tls_version_old", "mx1.shop.test", Status.WARN),
            ),
            PATTERNS,
            None,
            "starttls.tls_version_old",
            "mx1.shop.test",
        ),
        (
            report(mx_result("mx1.shop.test"), tls("starttls.skipped", "", Status.NOT_APPLICABLE)),
            PATTERNS,
            None,
            "starttls.not_tested",
            "",
        ),
        (
            report(
                mx_result("mx1.shop.test", "mx2.shop.test"), tls("starttls.ok", "mx1.shop.test")
            ),
            PATTERNS,
            None,
            "starttls.not_tested",
            "mx2.shop.test",
        ),
        (
            report(
                mx_result(finding=Finding("mx.lookup_failed", Status.ERROR, D, message="failed"))
            ),
            PATTERNS,
            None,
            "mx.lookup_failed",
            D,
        ),
        (
            report(mx_result(finding=Finding("mx.null", Status.INFO, D, message="null"))),
            PATTERNS,
            None,
            "mx.null",
            D,
        ),
        (
            TWO_OK,
            PATTERNS,
            TlsRptVerdict(False, ("40 failed sessions to mx2 this week",)),
            "tls_rpt.not_ready",
            D,
        ),
    ],
    ids=[
        "mx-not-covered",
        "expired-certificate",
        "no-starttls",
        "mx-unreachable-is-not-proof",
        "certificate-for-another-name",
        "old-tls",
        "smtp-probes-off",
        "mx-never-probed",
        "mx-lookup-failed",
        "null-mx",
        "tls-rpt-not-ready",
    ],
)
def test_blockers(
    the_report: Report,
    patterns: tuple[str, ...],
    tlsrpt: TlsRptVerdict | None,
    code: str,
    subject: str,
) -> None:
    """Each reason a sender would refuse an MX in enforce mode blocks, naming the MX."""
    verdict = enforce_verdict(the_report, patterns, tlsrpt)
    assert not verdict.allowed
    assert (code, subject) in {(b.code, b.subject) for b in verdict.blockers}


def test_wildcard_pattern_covers() -> None:
    """A wildcard pattern covers MX hosts one label below it (§4.1)."""
    assert enforce_verdict(TWO_OK, ("*.shop.test",)).allowed


def test_ready_tlsrpt_does_not_block() -> None:
    """A TLS-RPT verdict that says ready adds nothing."""
    assert enforce_verdict(TWO_OK, PATTERNS, TlsRptVerdict(True)).allowed


def test_expiring_certificate_is_a_caution() -> None:
    """A certificate expiring soon warns without blocking."""
    the_report = report(
        mx_result("mx1.shop.test"), tls("starttls.cert_expiring", "mx1.shop.test", Status.WARN)
    )
    verdict = enforce_verdict(the_report, PATTERNS)
    assert verdict.allowed
    assert [c.code for c in verdict.cautions] == ["starttls.cert_expiring"]


def test_force_risk_names_the_hosts_and_max_age() -> None:
    """The --force warning says which MX would be refused and for how long."""
    verdict = enforce_verdict(TWO_OK, ("mx1.shop.test",))
    risk = force_risk(verdict, 604800)
    assert "mx2.shop.test" in risk
    assert "604800" in risk


def test_force_risk_without_mx_blockers_speaks_of_any_failing_mx() -> None:
    """When only TLS-RPT blocks, the warning does not name the domain as if it were an MX."""
    verdict = enforce_verdict(TWO_OK, PATTERNS, TlsRptVerdict(False, ("no reports",)))
    risk = force_risk(verdict, 86400)
    assert "any MX host that fails" in risk
    assert D not in risk
