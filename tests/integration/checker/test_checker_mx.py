"""MX findings through the lab (RFC 5321 §5.1, RFC 7505): null MX, alias, no address, implicit."""

from __future__ import annotations

import pytest
from checker_lab import Expect, Reports, assert_expected, params, problems

from mailshield.core.model import Status

SCENARIO = "mx"

CASES = [
    Expect("null-mx.test", "mx.null", Status.INFO, "null-mx.test"),
    Expect("mx-cname.test", "mx.cname", Status.WARN, "alias.mx-cname.test"),
    Expect("no-address.test", "mx.no_address", Status.FAIL, "nowhere.no-address.test"),
    Expect("half-address.test", "mx.no_address", Status.FAIL, "ghost.half-address.test"),
    Expect("implicit.test", "mx.implicit", Status.WARN),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_mx_shape_gives_its_finding(reports: Reports, expect: Expect) -> None:
    """Each MX shape of the lab is reported with its code and catalogued status."""
    assert_expected(await reports(expect.domain), expect)


async def test_healthy_mx_set_reports_nothing(reports: Reports) -> None:
    """Two MX hosts with addresses and working STARTTLS give no MX or STARTTLS problem."""
    report = await reports("two-mx.test")
    assert problems(report, "mx") == []
    assert problems(report, "starttls") == []


async def test_null_mx_makes_transport_checks_not_applicable(reports: Reports) -> None:
    """A null MX domain accepts no mail, so MTA-STS, TLS-RPT, STARTTLS and DANE do not apply."""
    report = await reports("null-mx.test")
    for check in ("mta_sts", "tls_rpt", "starttls", "dane"):
        result = report.result(check)
        assert result is not None
        assert result.status is Status.NOT_APPLICABLE, check


async def test_implicit_mx_host_is_probed(reports: Reports) -> None:
    """With no MX record the domain itself is the mail host, and STARTTLS is tested on it."""
    report = await reports("implicit.test")
    starttls = report.result("starttls")
    assert starttls is not None
    assert [f.subject for f in starttls.findings if f.code == "starttls.ok"] == ["implicit.test"]


async def test_mx_through_cname_is_probed_under_the_mx_name(reports: Reports) -> None:
    """An aliased MX is still probed, and its certificate is judged against the MX name (the
    name senders use), so a certificate naming only the alias target does not match."""
    report = await reports("mx-cname.test")
    starttls = report.result("starttls")
    assert starttls is not None
    assert [(f.code, f.subject) for f in starttls.findings] == [
        ("starttls.cert_name_mismatch", "alias.mx-cname.test")
    ]
