"""BIMI evaluation: discovery with Organizational Domain fallback and the DMARC precondition."""

from collections.abc import Mapping

import pytest
from tests.support.fake_dns import SERVFAIL, TIMEOUT, Entry, FakeDns

from mailshield.core.catalogue import dmarc as dmarc_codes
from mailshield.core.evaluate.bimi import bimi_queries, evaluate_bimi
from mailshield.core.evaluate.dmarc import dmarc_queries, evaluate_dmarc
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Status

GOOD_BIMI = "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem"
REJECT = "v=DMARC1; p=reject; rua=mailto:d@example.com"


def check(zone: Mapping[str, Entry], domain: str = "example.com") -> CheckResult:
    dns = FakeDns(zone)
    dmarc = evaluate_dmarc(domain, dns.gather(lambda a: dmarc_queries(domain, a)))
    answers = dns.gather(lambda _a: bimi_queries(domain, dmarc))
    return evaluate_bimi(domain, answers, dmarc)


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def test_valid_record_with_enforcing_dmarc_passes() -> None:
    """A valid record, a mark certificate and p=reject give a pass."""
    result = check(
        {"default._bimi.example.com TXT": [GOOD_BIMI], "_dmarc.example.com TXT": [REJECT]}
    )
    assert codes(result) == ["bimi.pass"]
    assert result.evidence["dmarc_eligible"] is True


def test_missing_record_is_info() -> None:
    """No BIMI record is info: BIMI is optional (BIMI-01)."""
    result = check({"_dmarc.example.com TXT": [REJECT]})
    assert codes(result) == ["bimi.record.missing"]
    assert result.status is Status.INFO


def test_organizational_domain_fallback() -> None:
    """A subdomain without its own record uses the Organizational Domain's."""
    zone = {"default._bimi.example.com TXT": [GOOD_BIMI], "_dmarc.example.com TXT": [REJECT]}
    result = check(zone, "news.example.com")
    assert result.evidence["org_fallback"] is True
    assert result.evidence["name"] == "default._bimi.example.com"
    assert result.status is Status.PASS


@pytest.mark.parametrize(
    ("dmarc", "reason", "fix"),
    [
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com",
            "the DMARC policy is none",
            "v=DMARC1; p=quarantine; rua=mailto:d@example.com",
            id="p-none",
        ),
        pytest.param(
            "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com",
            "the subdomain policy is none (sp=none)",
            "v=DMARC1; p=reject; rua=mailto:d@example.com",
            id="sp-none",
        ),
        pytest.param(
            "v=DMARC1; p=quarantine; pct=50; rua=mailto:d@example.com",
            "pct=50 applies quarantine to part of the mail only",
            "v=DMARC1; p=quarantine; rua=mailto:d@example.com",
            id="pct-50",
        ),
        pytest.param(
            None,
            "no DMARC record applies",
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com",
            id="no-dmarc",
        ),
    ],
)
def test_dmarc_precondition(dmarc: str | None, reason: str, fix: str) -> None:
    """BIMI needs DMARC enforcement; the fix is the DMARC record to publish (BIMI-07)."""
    zone: dict[str, Entry] = {"default._bimi.example.com TXT": [GOOD_BIMI]}
    if dmarc:
        zone["_dmarc.example.com TXT"] = [dmarc]
    result = check(zone)
    found = [f for f in result.findings if f.code == "bimi.dmarc.not_eligible"]
    assert len(found) == 1
    assert found[0].status is Status.FAIL
    assert found[0].params["reasons"] == reason
    assert found[0].fix == fix


def test_dmarc_could_not_be_tested() -> None:
    """When the DMARC check could not test, eligibility is unknown: error, not fail."""
    dmarc = CheckResult("dmarc", (finding(dmarc_codes.DNS_FAILED, "example.com"),))
    dns = FakeDns({"default._bimi.example.com TXT": [GOOD_BIMI]})
    result = evaluate_bimi(
        "example.com", dns.gather(lambda _a: bimi_queries("example.com", dmarc)), dmarc
    )
    assert "bimi.dmarc.unknown" in codes(result)
    assert result.status is Status.ERROR


def test_declined_record_needs_no_dmarc() -> None:
    """A declination record is info and is not judged against DMARC (BIMI-05)."""
    result = check({"default._bimi.example.com TXT": ["v=BIMI1; l=; a=;"]})
    assert codes(result) == ["bimi.declined"]


def test_multiple_records() -> None:
    """Two BIMI records mean no BIMI (BIMI-02)."""
    zone = {
        "default._bimi.example.com TXT": [GOOD_BIMI, GOOD_BIMI + ";"],
        "_dmarc.example.com TXT": [REJECT],
    }
    assert codes(check(zone)) == ["bimi.record.multiple"]


@pytest.mark.parametrize(
    ("record", "code"),
    [
        pytest.param(
            "v=BIMI1; l=https://example.com/logo.svg", "bimi.evidence.missing", id="no-vmc"
        ),
        pytest.param(
            "v=BIMI1; l=https://example.com/logo.png; a=https://example.com/v.pem",
            "bimi.logo.not_svg",
            id="png",
        ),
        pytest.param("v=BIMI1; a=https://example.com/v.pem", "bimi.record.invalid", id="no-l"),
    ],
)
def test_record_advice(record: str, code: str) -> None:
    """Record problems are reported against the record's name."""
    zone = {"default._bimi.example.com TXT": [record], "_dmarc.example.com TXT": [REJECT]}
    assert code in codes(check(zone))


def test_near_miss_is_reported() -> None:
    """A record with a wrongly cased version is named, not silently ignored."""
    zone = {"default._bimi.example.com TXT": ["v=bimi1; l=https://example.com/l.svg"]}
    assert codes(check(zone)) == ["bimi.record.invalid", "bimi.record.missing"]


@pytest.mark.parametrize("outcome", [TIMEOUT, SERVFAIL])
def test_lookup_failure_is_could_not_test(outcome: Entry) -> None:
    """A failed BIMI lookup is error, never fail."""
    result = check({"default._bimi.example.com TXT": outcome, "_dmarc.example.com TXT": [REJECT]})
    assert codes(result) == ["bimi.dns.failed"]
    assert result.status is Status.ERROR
