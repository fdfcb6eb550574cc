"""DANE (RFC 7672) and DNSSEC findings through Knot (signing) behind a validating Unbound:
TLSA mismatch, TLSA not signed, bogus zones, and certificate problems under DANE."""

from __future__ import annotations

import hashlib

import pytest
from checker_lab import Expect, Reports, assert_expected, params, problems, with_code

from mailshield.core.model import Status

SCENARIO = "dane"

CASES = [
    Expect("tlsa-mismatch.test", "dane.tlsa.mismatch", Status.FAIL, "mx.tlsa-mismatch.test"),
    Expect("tlsa-insecure.test", "dane.tlsa.insecure", Status.WARN, "mx.tlsa-insecure.test"),
    Expect("dnssec-bogus.test", "dnssec.bogus", Status.FAIL, "dnssec-bogus.test"),
    Expect("mx-in-bogus.test", "dnssec.bogus", Status.FAIL, "mx.dnssec-bogus.test"),
    Expect("dane-secure.test", "dnssec.secure", Status.PASS, "dane-secure.test"),
    Expect("plain.test", "dnssec.insecure", Status.INFO, "plain.test"),
    # RFC 7672 §2.2: a signed TLSA makes senders authenticate the MX, so a bad certificate fails
    Expect("dane-expired.test", "starttls.cert_expired", Status.FAIL, "mx.dane-expired.test"),
    Expect("plain.test", "starttls.cert_expired", Status.WARN, "mx.plain.test"),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_dnssec_shape_gives_its_finding(reports: Reports, expect: Expect) -> None:
    """Each signed, bogus or unsigned shape of the lab is reported with its code and status."""
    assert_expected(await reports(expect.domain), expect)


async def test_mismatch_fix_is_the_record_for_the_presented_key(reports: Reports) -> None:
    """The fix for a mismatch is a TLSA 3 1 1 record with the SHA-256 of the key the MX presents."""
    report = await reports("tlsa-mismatch.test")
    (item,) = with_code(report, "dane.tlsa.mismatch")
    starttls = report.result("starttls")
    assert starttls is not None
    (address,) = starttls.evidence["addresses"]
    spki = address["certificate"]["spki_sha256"]
    assert item.fix is not None
    assert f"_25._tcp.mx.tlsa-mismatch.test. 3600 IN TLSA 3 1 1 {spki}" in item.fix
    assert len(bytes.fromhex(spki)) == hashlib.sha256().digest_size


async def test_signed_domain_without_tlsa_has_no_dane_problem(reports: Reports) -> None:
    """A signed domain with no TLSA: DNSSEC passes and DANE is merely not deployed (info)."""
    report = await reports("dane-secure.test")
    assert problems(report, "dane") == []
    assert [f.status for f in with_code(report, "dane.tlsa.missing")] == [Status.INFO]


async def test_bogus_domain_is_never_judged_on_missing_records(reports: Reports) -> None:
    """When every answer fails validation nothing is said to be missing: the lookups are
    "could not test" and only the DNSSEC failure itself fails."""
    report = await reports("dnssec-bogus.test")
    failures = [f.code for f in report.findings() if f.status is Status.FAIL]
    assert failures == ["dnssec.bogus"]
    assert not [f for f in report.findings() if f.code.endswith(".missing")]
