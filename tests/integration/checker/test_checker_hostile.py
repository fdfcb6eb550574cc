"""Hostile and broken answers through the lab: huge TXT sets, CNAME loops, slow policy hosts,
endless SMTP banners and DNS timeouts all end, bounded in time and size, as "could not test"
(error) or a finding about the domain, and a lookup that timed out is never a failure.

Each check finishing at all is the time bound: the slow policy host trickles for 30 s, the tarpit
and the endless banner never stop, and the DNS faults never answer; the probes give up after
their own timeouts and bounds (see ``checker_lab``)."""

from __future__ import annotations

import pytest
from checker_lab import Expect, Reports, assert_expected, params, with_code

from mailshield.core.model import Report, Status

SCENARIO = "hostile"
SETTINGS = {"dns_timeout": 0.5}  # the DNS faults never answer: give up on them quickly

CASES = [
    Expect("huge-txt.test", "mta_sts.record.lookup_failed", Status.ERROR),
    Expect("huge-txt.test", "spf.dns.failed", Status.ERROR),
    Expect("cname-loop.test", "mta_sts.record.lookup_failed", Status.ERROR),
    Expect("cname-loop.test", "tls_rpt.record.lookup_failed", Status.ERROR),
    Expect("cname-loop.test", "dmarc.dns.failed", Status.ERROR),
    Expect("mx-loop.test", "mx.lookup_failed", Status.ERROR, "spin.mx-loop.test"),
    Expect("slow-policy.test", "mta_sts.policy.slow", Status.WARN),
    Expect("endless-banner.test", "starttls.unreachable", Status.ERROR),
    Expect("dns-timeouts.test", "mta_sts.record.lookup_failed", Status.ERROR),
    Expect("dns-timeouts.test", "tls_rpt.record.lookup_failed", Status.ERROR),
    Expect("dns-timeouts.test", "spf.dns.failed", Status.ERROR),
    Expect("dns-timeouts.test", "dmarc.dns.failed", Status.ERROR),
    Expect("mx-timeout.test", "mx.lookup_failed", Status.ERROR, "mx-timeout.test"),
    Expect("slow-dns.test", "spf.dns.failed", Status.ERROR),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_hostile_answer_ends_in_its_finding(reports: Reports, expect: Expect) -> None:
    """Each hostile shape of the lab ends in its finding, with the status it deserves."""
    assert_expected(await reports(expect.domain), expect)


def failures(report: Report, *checks: str) -> list[str]:
    """The codes of failing findings in ``checks``."""
    return [
        f.code
        for result in report.results
        if result.check in checks
        for f in result.findings
        if f.status is Status.FAIL
    ]


@pytest.mark.parametrize(
    ("domain", "checks"),
    [
        pytest.param("dns-timeouts.test", ("mta_sts", "tls_rpt", "spf", "dmarc"), id="timeouts"),
        pytest.param("mx-timeout.test", ("mx", "mta_sts", "starttls", "dane"), id="mx-timeout"),
        pytest.param("slow-dns.test", ("spf",), id="slow-dns"),
        pytest.param("huge-txt.test", ("mta_sts", "spf"), id="huge-txt"),
        pytest.param("cname-loop.test", ("mta_sts", "tls_rpt", "dmarc"), id="cname-loop"),
    ],
)
async def test_lookup_trouble_is_never_a_failure(
    reports: Reports, domain: str, checks: tuple[str, ...]
) -> None:
    """A lookup that timed out, was too big or looped says "could not test": the checks that
    depend on it report no failure, and their result is error."""
    report = await reports(domain)
    assert failures(report, *checks) == []
    for check in checks:
        result = report.result(check)
        assert result is not None
        assert result.status in (Status.ERROR, Status.NOT_APPLICABLE), check


async def test_huge_txt_set_is_cut_at_the_size_bound(reports: Reports) -> None:
    """A 60 KB TXT set is refused at the answer size bound, and the reason says so."""
    report = await reports("huge-txt.test")
    (item,) = with_code(report, "mta_sts.record.lookup_failed")
    assert "bytes, more than" in item.message


async def test_cname_loop_is_named(reports: Reports) -> None:
    """A CNAME loop is detected and named, not followed forever."""
    report = await reports("cname-loop.test")
    (item,) = with_code(report, "mta_sts.record.lookup_failed")
    assert "CNAME loop" in item.message


async def test_slow_policy_host_gives_no_policy(reports: Reports) -> None:
    """A policy body that trickles past the probe's timeout is not taken as a policy."""
    result = (await reports("slow-policy.test")).result("mta_sts")
    assert result is not None
    assert result.evidence["policy"]["outcome"] == "timeout"
    assert result.evidence["policy"]["parsed"] is None


async def test_endless_banner_is_cut_at_the_reply_bound(reports: Reports) -> None:
    """An SMTP greeting that never ends is cut at the reply line bound: could not test."""
    report = await reports("endless-banner.test")
    (item,) = with_code(report, "starttls.unreachable")
    assert "longer than" in item.message
    assert with_code(report, "starttls.not_offered") == []
