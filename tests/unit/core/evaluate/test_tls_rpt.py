"""TLS-RPT evaluation: one usable record, advised whenever MTA-STS is present."""

from collections.abc import Mapping

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, Entry, FakeDns

from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.evaluate.tls_rpt import evaluate_tls_rpt, recommended_record, tls_rpt_queries
from mailshield.core.model import CheckResult, Status
from mailshield.core.observations import DnsAnswer

DOMAIN = "example.com"
NAME = f"_smtp._tls.{DOMAIN}"
DEFAULT_FIX = '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"'


def evaluate(zone: Mapping[str, Entry], mta_sts_present: bool = True) -> CheckResult:
    return evaluate_tls_rpt(DOMAIN, FakeDns(zone).answer(NAME, "TXT"), mta_sts_present)


@pytest.mark.parametrize(
    "zone",
    [
        pytest.param({f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:tlsrpt@example.com"]}, id="plain"),
        pytest.param(
            {f"{NAME} TXT": [("v=TLSRPTv1; rua=mailto:tls", "rpt@example.com")]}, id="split-txt"
        ),
        pytest.param(
            {
                f"{NAME} CNAME": ["example-com._tlsrpt.provider.example."],
                "example-com._tlsrpt.provider.example TXT": [
                    "v=TLSRPTv1; rua=https://reports.provider.example/v1"
                ],
            },
            id="cname-to-provider",
        ),
        pytest.param(
            {f"{NAME} TXT": ["v=spf1 -all", "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"]},
            id="unrelated-txt-beside",
        ),
    ],
)
def test_valid_record_has_no_findings(zone: Mapping[str, Entry]) -> None:
    """A usable record, however it is published, passes with no finding."""
    result = evaluate(zone)
    assert result.findings == ()
    assert result.status is Status.PASS
    assert result.evidence["valid"] is True


@pytest.mark.parametrize(
    ("present", "status"),
    [
        pytest.param(True, Status.WARN, id="with-mta-sts-warns"),
        pytest.param(False, Status.INFO, id="without-mta-sts-informs"),
    ],
)
def test_missing_record(present: bool, status: Status) -> None:
    """No record: a warning when MTA-STS is present, else information; the fix is exact."""
    result = evaluate({}, mta_sts_present=present)
    assert [f.code for f in result.findings] == ["tls_rpt.record.missing"]
    finding = result.findings[0]
    assert finding.status is status
    assert finding.fix == DEFAULT_FIX


def test_missing_beside_other_txt() -> None:
    """Only unrelated TXT records at the name is the same as no record."""
    result = evaluate({f"{NAME} TXT": ["hello"]})
    assert [f.code for f in result.findings] == ["tls_rpt.record.missing"]
    assert result.evidence["ignored"] == ["hello"]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        pytest.param(TIMEOUT, Status.ERROR, id="timeout-could-not-test"),
        pytest.param(SERVFAIL, Status.WARN, id="servfail-warns"),
    ],
)
def test_lookup_failure(outcome: Entry, status: Status) -> None:
    """Our timeout is could-not-test; SERVFAIL warns; neither claims the record is missing."""
    result = evaluate({f"{NAME} TXT": outcome})
    assert [(f.code, f.status) for f in result.findings] == [
        ("tls_rpt.record.lookup_failed", status)
    ]


def test_nxdomain_is_missing() -> None:
    """An authoritative NXDOMAIN is an answer: the record is missing."""
    result = evaluate({f"{NAME} TXT": NXDOMAIN})
    assert [f.code for f in result.findings] == ["tls_rpt.record.missing"]


def test_invalid_record_fix_keeps_usable_destinations() -> None:
    """An unusable destination beside usable ones: the fix keeps only the usable ones."""
    result = evaluate({f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:a@example.com,http://r.example/x"]})
    [finding] = result.findings
    assert finding.code == "tls_rpt.rua.invalid"
    assert finding.fix == '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:a@example.com"'


@pytest.mark.parametrize(
    ("txts", "code"),
    [
        pytest.param(
            ["v=TLSRPTv1; rua=mailto:a@x.example"] * 2, "tls_rpt.record.multiple", id="two"
        ),
        pytest.param(["v=TLSRPTv1; rua=http://r.example/"], "tls_rpt.record.invalid", id="http"),
        pytest.param(["v=tlsrptv1; rua=mailto:a@x.example"], "tls_rpt.record.invalid", id="case"),
    ],
)
def test_failures_carry_the_default_fix(txts: list[str], code: str) -> None:
    """Every failing record comes with the exact record to publish instead."""
    result = evaluate({f"{NAME} TXT": txts})
    assert result.status is Status.FAIL
    failing = [f for f in result.findings if f.code == code]
    assert failing
    assert all(f.fix == DEFAULT_FIX for f in failing)


def test_evidence_lists_destinations() -> None:
    """Evidence shows every destination with its kind and target."""
    result = evaluate(
        {f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.net/x"]}
    )
    assert result.evidence["destinations"] == [
        {
            "uri": "mailto:a@example.com",
            "kind": "mailto",
            "target": "a@example.com",
            "problem": None,
        },
        {
            "uri": "https://r.example.net/x",
            "kind": "https",
            "target": "r.example.net",
            "problem": None,
        },
    ]


def test_recommended_record_default() -> None:
    """Without a record the recommendation reports to tlsrpt@<domain>."""
    assert recommended_record("example.org") == (
        '_smtp._tls.example.org. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"'
    )


def gathered(zone: Mapping[str, Entry]) -> AnswerMap:
    """Run the planner to completion against a fake zone (what the service does)."""
    dns = FakeDns(zone)
    answers: dict[Query, DnsAnswer] = {}
    while needed := [q for q in tls_rpt_queries(DOMAIN, answers) if q not in answers]:
        answers.update({q: dns.answer(*q) for q in needed})
    return answers


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        pytest.param({}, "does not exist", id="mail-domain-nxdomain"),
        pytest.param({"r.example MX": ["0 ."]}, "null MX", id="null-mx"),
        pytest.param({"r.example TXT": ["x"]}, "neither MX nor address", id="no-mx-no-address"),
    ],
)
def test_unreachable_mail_destination(extra: Mapping[str, Entry], problem: str) -> None:
    """RPT-06: a mail domain that takes no mail is reported; the only one fails."""
    zone = {f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:tlsrpt@r.example"], **extra}
    answers = gathered(zone)
    result = evaluate_tls_rpt(DOMAIN, answers[query(NAME, "TXT")], True, answers)
    [finding] = result.findings
    assert (finding.code, finding.status) == ("tls_rpt.rua.unreachable", Status.FAIL)
    assert problem in str(finding.params["problem"])
    assert finding.fix == DEFAULT_FIX


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"r.example MX": ["10 mx.r.example."]}, id="mx"),
        pytest.param({"r.example A": ["192.0.2.1"]}, id="implicit-mx"),
        pytest.param({"r.example MX": TIMEOUT}, id="lookup-timeout-not-judged"),
    ],
)
def test_reachable_or_unknown_mail_destination(extra: Mapping[str, Entry]) -> None:
    """A mail domain with MX, or with only an address (implicit MX), or unknown: no finding."""
    zone = {f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:tlsrpt@r.example"], **extra}
    answers = gathered(zone)
    assert evaluate_tls_rpt(DOMAIN, answers[query(NAME, "TXT")], True, answers).findings == ()


def test_unresolvable_https_beside_good_mailto_warns() -> None:
    """RPT-07: an HTTPS host without address warns when another destination works; the
    fix keeps only the working destination."""
    zone = {
        f"{NAME} TXT": ["v=TLSRPTv1; rua=mailto:a@example.com,https://gone.example/r"],
        "example.com MX": ["10 mx.example.com."],
    }
    answers = gathered(zone)
    result = evaluate_tls_rpt(DOMAIN, answers[query(NAME, "TXT")], True, answers)
    [finding] = result.findings
    assert (finding.code, finding.status, finding.subject) == (
        "tls_rpt.rua.unreachable",
        Status.WARN,
        "https://gone.example/r",
    )
    assert finding.fix == '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:a@example.com"'
    assert query("gone.example", "MX") not in answers


def test_address_literal_needs_no_lookup() -> None:
    """An https destination with an IP address is not looked up."""
    answers = gathered({f"{NAME} TXT": ["v=TLSRPTv1; rua=https://192.0.2.7/r"]})
    assert list(answers) == [query(NAME, "TXT")]
