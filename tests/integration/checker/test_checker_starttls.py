"""STARTTLS findings through the lab MX hosts (RFC 3207, RFC 8461 §4.2): certificate problems
fail where MTA-STS covers the MX and warn elsewhere; untestable hosts are never "no STARTTLS"."""

from __future__ import annotations

import pytest
from checker_lab import Expect, Reports, assert_expected, params, with_code

from mailshield.core.model import Status
from mailshield.lab.runner import Lab

SCENARIO = "starttls"

_CERT_PROBLEMS = [
    ("expired", "starttls.cert_expired"),
    ("wrong-name", "starttls.cert_name_mismatch"),
    ("self-signed", "starttls.cert_untrusted"),
    ("untrusted-ca", "starttls.cert_untrusted"),
    ("tls-old", "starttls.tls_version_old"),
]

CASES = [
    *(Expect(f"{name}-sts.test", code, Status.FAIL) for name, code in _CERT_PROBLEMS),
    *(Expect(f"{name}.test", code, Status.WARN) for name, code in _CERT_PROBLEMS),
    Expect("testing-expired.test", "starttls.cert_expired", Status.FAIL),
    Expect(
        "partly-covered.test",
        "starttls.cert_name_mismatch",
        Status.FAIL,
        "mx1.partly-covered.test",
    ),
    Expect(
        "partly-covered.test",
        "starttls.cert_name_mismatch",
        Status.WARN,
        "mx2.partly-covered.test",
    ),
    Expect("no-starttls.test", "starttls.not_offered", Status.FAIL),
    Expect("starttls-454.test", "starttls.failed", Status.FAIL),
    Expect("refused.test", "starttls.unreachable", Status.ERROR),
    Expect("greeting-421.test", "starttls.unreachable", Status.ERROR),
    Expect("tarpit.test", "starttls.unreachable", Status.ERROR),
    Expect("one-refused.test", "starttls.unreachable", Status.ERROR, "mx2.one-refused.test"),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_mx_behaviour_gives_its_finding(reports: Reports, expect: Expect) -> None:
    """Each MX behaviour of the lab is reported with its code, at the status its coverage
    by MTA-STS calls for."""
    assert_expected(await reports(expect.domain), expect)


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        pytest.param("refused.test", "refused", id="refused"),
        pytest.param("greeting-421.test", "421", id="greeting-421"),
        pytest.param("tarpit.test", "no answer in time", id="tarpit"),
    ],
)
async def test_untestable_mx_is_could_not_test_never_no_starttls(
    reports: Reports, domain: str, reason: str
) -> None:
    """Refused, 4xx greeting and silent hosts are "could not test" with the reason, and never
    ``starttls.not_offered``: only a completed EHLO can prove STARTTLS missing."""
    report = await reports(domain)
    starttls = report.result("starttls")
    assert starttls is not None
    assert {f.code for f in starttls.findings} == {"starttls.unreachable"}
    assert starttls.status is Status.ERROR
    (item,) = starttls.findings
    assert reason in item.message


async def test_one_untestable_mx_leaves_the_other_tested(reports: Reports) -> None:
    """A refusing backup MX is untested while the working one is judged on its own."""
    report = await reports("one-refused.test")
    assert [f.subject for f in with_code(report, "starttls.ok")] == ["mx1.one-refused.test"]


async def test_every_address_of_an_mx_is_probed(reports: Reports) -> None:
    """An MX with an IPv4 and an IPv6 address is probed on both."""
    report = await reports("dual-stack.test")
    starttls = report.result("starttls")
    assert starttls is not None
    probed = {entry["address"]: entry["outcome"] for entry in starttls.evidence["addresses"]}
    assert probed == {"127.13.3.200": "ok", "::1": "ok"}
    assert len(with_code(report, "starttls.ok")) == 2


async def test_certificate_finding_carries_the_certificate_facts(
    reports: Reports, lab: Lab
) -> None:
    """An expired certificate finding names its end date and the address that presented it."""
    report = await reports("expired.test")
    (item,) = with_code(report, "starttls.cert_expired")
    assert item.subject == "mx.expired.test"
    assert item.params["address"] == lab.host("mx.expired.test").address
    assert item.params["not_after"] in item.message
