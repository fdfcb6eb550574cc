"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) findings through the lab: records, the policy fetch,
the policy text, MX coverage, the exact fixes, and valid shapes that must not be reported."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from checker_lab import Expect, Reports, assert_expected, params, problems, with_code

from mailshield.core.documents.mta_sts_policy import Mode, parse_policy, policy_id
from mailshield.core.model import Finding, Status

SCENARIO = "mta_sts"
POLICY_URL = "https://mta-sts.{}/.well-known/mta-sts.txt"

CASES = [
    # records, RFC 8461 §3.1 and RFC 8460 §3
    Expect("sts-missing.test", "mta_sts.record.missing", Status.FAIL),
    Expect("sts-multiple.test", "mta_sts.record.multiple", Status.FAIL),
    Expect("sts-invalid.test", "mta_sts.record.invalid", Status.FAIL),
    Expect("sts-missing.test", "tls_rpt.record.missing", Status.INFO),
    Expect("rpt-missing.test", "tls_rpt.record.missing", Status.WARN),
    Expect("rpt-multiple.test", "tls_rpt.record.multiple", Status.FAIL),
    Expect("rpt-invalid.test", "tls_rpt.record.invalid", Status.FAIL),
    # the fetch, RFC 8461 §3.3
    Expect("fetch-refused.test", "mta_sts.policy.fetch_failed", Status.FAIL),
    Expect("wrong-cert.test", "mta_sts.policy.tls_invalid", Status.FAIL),
    Expect("redirect.test", "mta_sts.policy.redirect", Status.FAIL),
    Expect("not-found.test", "mta_sts.policy.http_status", Status.FAIL),
    Expect("server-error.test", "mta_sts.policy.http_status", Status.FAIL),
    Expect("html.test", "mta_sts.policy.content_type", Status.FAIL),
    Expect("oversize.test", "mta_sts.policy.too_large", Status.FAIL),
    # the text, RFC 8461 §3.2, and advice
    Expect("syntax.test", "mta_sts.policy.syntax", Status.FAIL),
    Expect("testing.test", "mta_sts.policy.mode_testing", Status.WARN),
    Expect("mode-none.test", "mta_sts.policy.mode_none", Status.WARN),
    Expect("short-age.test", "mta_sts.policy.max_age_short", Status.WARN),
    # MX coverage, RFC 8461 §4.1
    Expect("uncovered.test", "mta_sts.mx.not_covered", Status.FAIL, "backup.uncovered.test"),
    Expect(
        "uncovered-testing.test",
        "mta_sts.mx.not_covered",
        Status.WARN,
        "backup.uncovered-testing.test",
    ),
    Expect("deep-wildcard.test", "mta_sts.mx.not_covered", Status.FAIL, "mx.eu.deep-wildcard.test"),
    Expect("apex-wildcard.test", "mta_sts.mx.not_covered", Status.FAIL, "apex-wildcard.test"),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_problem_gives_its_finding(reports: Reports, expect: Expect) -> None:
    """Each MTA-STS or TLS-RPT problem of the lab is reported with its code and status."""
    assert_expected(await reports(expect.domain), expect)


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("crlf.test", id="crlf-policy"),
        pytest.param("cname-sts.test", id="cname-records"),
        pytest.param("split.test", id="split-txt-strings"),
        pytest.param("wildcard.test", id="wildcard-covers-mx"),
    ],
)
async def test_valid_shape_is_not_reported(reports: Reports, domain: str) -> None:
    """CRLF line endings, CNAME'd records, TXT split into strings and a one-label wildcard are
    valid: no MTA-STS or TLS-RPT warning, failure or could-not-test."""
    report = await reports(domain)
    assert problems(report, "mta_sts") == []
    assert problems(report, "tls_rpt") == []
    assert [f.code for f in with_code(report, "mta_sts.ok")] == ["mta_sts.ok"]


async def test_split_sender_records_are_joined(reports: Reports) -> None:
    """SPF and DMARC records split into several strings, beside an unrelated TXT, are valid."""
    report = await reports("split.test")
    assert problems(report, "spf") == []
    assert problems(report, "dmarc") == []


# -- the fixes are the exact thing to publish ----------------------------------------------------


@dataclass(frozen=True)
class Published:
    """What a fix tells the user to publish: the policy file and the TXT zone line."""

    body: str
    txt_line: str


def published(item: Finding) -> Published:
    """The policy file and TXT line in ``item``'s fix (RFC 8461 §8.1 order: file, then TXT)."""
    assert item.fix is not None, f"{item.code} has no fix"
    match = re.search(r"\(no redirect\):\n(?P<body>.*?)2\. [^\n]*\n(?P<txt>.*)$", item.fix, re.S)
    assert match is not None, item.fix
    return Published(match["body"], match["txt"].strip())


def assert_publishable(fix: Published, domain: str, mode: Mode, mx_hosts: set[str]) -> None:
    """The file is a valid policy for ``mx_hosts`` in ``mode``, and the TXT carries its id."""
    policy = parse_policy(fix.body)
    assert policy.valid, policy.findings
    assert policy.mode is mode
    assert set(policy.mx) == mx_hosts
    assert fix.txt_line == f'_mta-sts.{domain}. IN TXT "v=STSv1; id={policy_id(fix.body)}"'


async def test_missing_record_fix_is_a_policy_for_the_live_mx_hosts(reports: Reports) -> None:
    """Without MTA-STS the fix is a testing-mode policy listing every live MX host, and the TXT
    record whose id matches that file."""
    report = await reports("sts-missing.test")
    (item,) = with_code(report, "mta_sts.record.missing")
    hosts = {"mx1.sts-missing.test", "mx2.sts-missing.test"}
    assert_publishable(published(item), "sts-missing.test", Mode.TESTING, hosts)


async def test_uncovered_mx_fix_adds_the_missing_host(reports: Reports) -> None:
    """An uncovered MX is fixed by a policy that keeps the mode and lists both live MX hosts."""
    report = await reports("uncovered.test")
    (item,) = with_code(report, "mta_sts.mx.not_covered")
    hosts = {"mx1.uncovered.test", "backup.uncovered.test"}
    assert_publishable(published(item), "uncovered.test", Mode.ENFORCE, hosts)


async def test_testing_mode_fix_is_the_enforce_policy(reports: Reports) -> None:
    """Testing mode is fixed by the same MX set in enforce mode, with at least a week's max_age."""
    report = await reports("testing.test")
    (item,) = with_code(report, "mta_sts.policy.mode_testing")
    fix = published(item)
    assert_publishable(fix, "testing.test", Mode.ENFORCE, {"mx.testing.test"})
    assert (parse_policy(fix.body).max_age or 0) >= 604800


async def test_missing_tls_rpt_fix_is_a_record(reports: Reports) -> None:
    """The TLS-RPT fix names the record to publish at _smtp._tls with a rua= destination."""
    report = await reports("rpt-missing.test")
    (item,) = with_code(report, "tls_rpt.record.missing")
    assert item.fix is not None
    assert "_smtp._tls.rpt-missing.test" in item.fix
    assert "v=TLSRPTv1; rua=" in item.fix


# -- the fetch is done as a sender does it -------------------------------------------------------


async def test_redirect_is_reported_not_followed(reports: Reports) -> None:
    """A 301 is reported with its target, and no policy is taken from where it points."""
    report = await reports("redirect.test")
    (item,) = with_code(report, "mta_sts.policy.redirect")
    assert item.subject == POLICY_URL.format("redirect.test")
    assert "/redirected/.well-known/mta-sts.txt" in item.message
    result = report.result("mta_sts")
    assert result is not None
    assert result.evidence["policy"]["parsed"] is None
    assert result.evidence["policy"]["mode"] is None


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("fetch-refused.test", id="refused"),
        pytest.param("wrong-cert.test", id="wrong-cert"),
        pytest.param("html.test", id="html"),
        pytest.param("oversize.test", id="oversize"),
    ],
)
async def test_unusable_fetch_means_no_policy_applies(reports: Reports, domain: str) -> None:
    """When a sender could not use the fetched policy, no mode or MX list is said to apply."""
    result = (await reports(domain)).result("mta_sts")
    assert result is not None
    assert result.evidence["policy"]["mode"] is None
    assert result.evidence["policy"]["mx"] == []
