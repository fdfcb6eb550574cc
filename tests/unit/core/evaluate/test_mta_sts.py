"""MTA-STS evaluation: record, fetch, policy and MX coverage into one result with exact fixes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.fake_dns import SERVFAIL, TIMEOUT, Entry, FakeDns
from tests.support.fake_https import https_failure, https_response, policy_url

from mailshield.core.certs import CertProblem, CertVerdict
from mailshield.core.documents.mta_sts_policy import parse_policy, policy_id
from mailshield.core.evaluate.mta_sts import MtaStsObservations, evaluate_mta_sts
from mailshield.core.model import CheckResult, Finding, Status
from mailshield.core.names import mx_pattern_matches
from mailshield.core.observations import ConnectOutcome, HttpsFetch

DOMAIN = "example.com"
URL = policy_url(DOMAIN)
TXT_NAME = f"_mta-sts.{DOMAIN}"
MX = ("mx1.example.com", "mx2.example.com")
ENFORCE = (
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\n"
    "max_age: 1209600\r\n"
)
GOOD_CERT = CertVerdict(f"mta-sts.{DOMAIN}", (), days_left=60)
RECORD: Mapping[str, Entry] = {f"{TXT_NAME} TXT": ["v=STSv1; id=20240501T120000Z;"]}


def observe(
    zone: Mapping[str, Entry] = RECORD,
    fetch: HttpsFetch | None = None,
    *,
    cert: CertVerdict | None = GOOD_CERT,
    mx: Sequence[str] | None = MX,
) -> CheckResult:
    answer = FakeDns(zone).answer(TXT_NAME, "TXT")
    fetched = fetch if fetch is not None else https_response(URL, ENFORCE)
    hosts = tuple(mx) if mx is not None else None
    return evaluate_mta_sts(MtaStsObservations(DOMAIN, answer, fetched, cert, hosts))


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def only(result: CheckResult, code: str) -> Finding:
    matching = [f for f in result.findings if f.code == code]
    assert len(matching) == 1, result.findings
    return matching[0]


def fix_parts(fix: str | None) -> tuple[str, str]:
    """The policy body and the TXT id a policy fix tells the user to publish."""
    assert fix is not None
    match = re.search(r"\(no redirect\):\n(.*)2\. Then publish.*id=([A-Za-z0-9]+)\"", fix, re.S)
    assert match, fix
    return match.group(1), match.group(2)


# --- what must not produce findings --------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "body", "mx"),
    [
        pytest.param(RECORD, ENFORCE, MX, id="valid-crlf-policy"),
        pytest.param(RECORD, ENFORCE.replace("\r\n", "\n"), MX, id="valid-lf-policy"),
        pytest.param(
            {
                f"{TXT_NAME} CNAME": ["example-com._mta-sts.provider.example."],
                "example-com._mta-sts.provider.example TXT": ["v=STSv1; id=abc123"],
            },
            ENFORCE,
            MX,
            id="cname-to-provider",
        ),
        pytest.param(
            {f"{TXT_NAME} TXT": [("v=STSv1; id=2019", "0101")]}, ENFORCE, MX, id="split-txt"
        ),
        pytest.param(
            {f"{TXT_NAME} TXT": ["v=spf1 -all", "v=STSv1; id=1", "verification=abc"]},
            ENFORCE,
            MX,
            id="unrelated-txt-beside",
        ),
        pytest.param(
            RECORD,
            "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 604800\n",
            ["mx1.example.com"],
            id="wildcard-covers-one-label",
        ),
    ],
)
def test_traps_produce_no_findings(zone: Mapping[str, Entry], body: str, mx: list[str]) -> None:
    """Correct set-ups that naive checkers misreport pass with only the summary finding."""
    result = observe(zone, https_response(URL, body), mx=mx)
    assert [f.code for f in result.findings] == ["mta_sts.ok"]
    assert result.status is Status.PASS


def test_space_before_semicolon_only_warns() -> None:
    """`v=STSv1 ;` is accepted leniently with one warning and the corrected record as fix."""
    result = observe({f"{TXT_NAME} TXT": ["v=STSv1 ; id=1"]})
    finding = only(result, "mta_sts.record.lenient_version")
    assert codes(result) == ["mta_sts.record.lenient_version"]
    assert finding.fix == f'_mta-sts.{DOMAIN}. IN TXT "v=STSv1; id={policy_id(ENFORCE)}"'


def test_wildcard_does_not_cover_parent_or_grandchild() -> None:
    """*.example.com covers mx1.example.com, not example.com nor a.b.example.com (§4.1)."""
    body = "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 604800\n"
    result = observe(
        fetch=https_response(URL, body), mx=["mx1.example.com", "example.com", "a.b.example.com"]
    )
    uncovered = [f.subject for f in result.findings if f.code == "mta_sts.mx.not_covered"]
    assert uncovered == ["example.com", "a.b.example.com"]
    rows = result.evidence["mx_coverage"]
    assert rows[0] == {"host": "mx1.example.com", "pattern": "*.example.com"}


def test_evidence_of_a_valid_setup() -> None:
    """Evidence shows the record, the policy text, the policy senders apply and the coverage."""
    result = observe()
    record, policy = result.evidence["record"], result.evidence["policy"]
    assert record["id"] == "20240501T120000Z"
    assert record["state"] == "present"
    assert policy["body"] == ENFORCE
    assert policy["mode"] == "enforce"
    assert policy["mx"] == list(MX)
    assert policy["parsed"]["max_age"] == 1209600
    assert result.evidence["mx_coverage"] == [
        {"host": "mx1.example.com", "pattern": "mx1.example.com"},
        {"host": "mx2.example.com", "pattern": "mx2.example.com"},
    ]


# --- the record ------------------------------------------------------------------------------


def test_missing_record_fix_is_a_complete_setup_from_the_live_mx() -> None:
    """No record and no policy host: one failure whose fix is the file plus the TXT record."""
    result = observe({}, https_failure(URL, ConnectOutcome.NO_ADDRESS))
    assert codes(result) == ["mta_sts.record.missing"]
    finding = result.findings[0]
    assert finding.status is Status.FAIL
    body, record_id = fix_parts(finding.fix)
    parsed = parse_policy(body.encode())
    assert parsed.valid
    assert parsed.mode is not None
    assert parsed.mode.value == "testing"
    assert parsed.mx == MX
    assert record_id == policy_id(body)
    assert "\r\n" in body


def test_policy_served_without_record() -> None:
    """A policy without the TXT record is never fetched by senders: warn (STS-34)."""
    result = observe({}, https_response(URL, ENFORCE))
    assert codes(result) == ["mta_sts.record.missing", "mta_sts.policy.orphaned"]
    # The served policy is fine, so the fix is only the record for exactly that body.
    expected = f'_mta-sts.{DOMAIN}. IN TXT "v=STSv1; id={policy_id(ENFORCE)}"'
    assert all(f.fix == expected for f in result.findings)
    assert result.evidence["policy"]["mode"] is None  # senders apply nothing


def test_web_page_without_record_is_just_missing() -> None:
    """A generic site at mta-sts.<domain> without a record is "not deployed", nothing more."""
    page = https_response(URL, b"<!DOCTYPE html><html></html>", content_type="text/html")
    assert codes(observe({}, page)) == ["mta_sts.record.missing"]


def test_dangling_cname() -> None:
    """A CNAME to a name without a record is a broken delegation (STS-03)."""
    zone = {f"{TXT_NAME} CNAME": ["gone._mta-sts.provider.example."]}
    result = observe(zone, https_failure(URL, ConnectOutcome.NO_ADDRESS))
    finding = only(result, "mta_sts.record.dangling_cname")
    assert finding.params["target"] == "gone._mta-sts.provider.example"
    assert finding.status is Status.FAIL


@pytest.mark.parametrize(
    "zone",
    [
        pytest.param({f"{TXT_NAME} TXT": ["v=stsv1; id=1"]}, id="near-miss"),
        pytest.param({f"{TXT_NAME} CNAME": ["gone.provider.example."]}, id="dangling-cname"),
    ],
)
def test_broken_record_still_reports_the_policy_host(zone: Mapping[str, Entry]) -> None:
    """A record meant but unusable counts as intent: policy host problems are reported too."""
    result = observe(zone, https_response(URL, status=404))
    assert codes(result)[1:] == ["mta_sts.policy.http_status"]
    assert result.evidence["record"]["state"] == "broken"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        pytest.param(TIMEOUT, Status.ERROR, id="timeout-could-not-test"),
        pytest.param(SERVFAIL, Status.WARN, id="servfail-warns"),
    ],
)
def test_record_lookup_failure(outcome: Entry, status: Status) -> None:
    """A timeout is our problem (could not test); SERVFAIL is usually theirs (warn)."""
    result = observe({f"{TXT_NAME} TXT": outcome}, https_failure(URL, ConnectOutcome.NO_ADDRESS))
    assert codes(result) == ["mta_sts.record.lookup_failed"]
    assert result.status is status


def test_timeout_on_record_still_reports_a_served_policy() -> None:
    """When the lookup fails but a policy is served, the policy is still judged."""
    body = ENFORCE.replace("enforce", "testing")
    result = observe({f"{TXT_NAME} TXT": TIMEOUT}, https_response(URL, body))
    assert codes(result) == ["mta_sts.record.lookup_failed", "mta_sts.policy.mode_testing"]


def test_invalid_id_fix_keeps_the_served_policy() -> None:
    """A bad id gets the exact record for the body that is served."""
    zone = {f"{TXT_NAME} TXT": ["v=STSv1; id=2024-05-01"]}
    finding = only(observe(zone), "mta_sts.record.invalid")
    assert finding.fix == f'_mta-sts.{DOMAIN}. IN TXT "v=STSv1; id={policy_id(ENFORCE)}"'


def test_multiple_records() -> None:
    """Two records: fail, and no policy applies for senders."""
    zone = {f"{TXT_NAME} TXT": ["v=STSv1; id=1", "v=STSv1; id=2"]}
    result = observe(zone)
    assert codes(result) == ["mta_sts.record.multiple"]
    assert result.evidence["policy"]["mode"] is None


# --- the fetch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetch", "code", "status"),
    [
        pytest.param(
            https_failure(URL, ConnectOutcome.NO_ADDRESS),
            "mta_sts.policy.fetch_failed",
            Status.FAIL,
            id="no-address",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.REFUSED),
            "mta_sts.policy.fetch_failed",
            Status.FAIL,
            id="refused",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.BLOCKED),
            "mta_sts.policy.fetch_failed",
            Status.FAIL,
            id="private-address",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.PROTOCOL_ERROR),
            "mta_sts.policy.fetch_failed",
            Status.FAIL,
            id="protocol-error",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.DNS_FAILED),
            "mta_sts.policy.fetch_failed",
            Status.ERROR,
            id="our-dns-failed",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.TIMEOUT),
            "mta_sts.policy.fetch_failed",
            Status.ERROR,
            id="connect-timeout-could-not-test",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.TIMEOUT, after_handshake=True, elapsed=10.0),
            "mta_sts.policy.slow",
            Status.WARN,
            id="timeout-after-handshake",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.TLS_FAILED, error="unrecognized name"),
            "mta_sts.policy.tls_invalid",
            Status.FAIL,
            id="handshake-failed",
        ),
        pytest.param(
            https_failure(URL, ConnectOutcome.PROTOCOL_ERROR, truncated=True),
            "mta_sts.policy.too_large",
            Status.FAIL,
            id="oversize-stream",
        ),
        pytest.param(
            https_response(URL, status=301, headers=[("Location", "https://www.example.com/")]),
            "mta_sts.policy.redirect",
            Status.FAIL,
            id="redirect",
        ),
        pytest.param(
            https_response(URL, status=404), "mta_sts.policy.http_status", Status.FAIL, id="404"
        ),
        pytest.param(
            https_response(URL, status=500), "mta_sts.policy.http_status", Status.FAIL, id="500"
        ),
        pytest.param(
            https_response(URL, ENFORCE, status=203),
            "mta_sts.policy.http_status",
            Status.FAIL,
            id="2xx-not-200",
        ),
        pytest.param(
            https_response(URL, ENFORCE, content_type="application/octet-stream"),
            "mta_sts.policy.content_type",
            Status.FAIL,
            id="wrong-type",
        ),
        pytest.param(
            https_response(URL, ENFORCE, content_type=None),
            "mta_sts.policy.content_type",
            Status.FAIL,
            id="no-type",
        ),
        pytest.param(
            https_response(URL, ENFORCE, content_type="text/plain; charset=iso-8859-1"),
            "mta_sts.policy.charset",
            Status.WARN,
            id="odd-charset",
        ),
        pytest.param(
            https_response(URL, ENFORCE + "x: " + "y" * 70000 + "\r\n"),
            "mta_sts.policy.too_large",
            Status.FAIL,
            id="body-over-64k",
        ),
        pytest.param(
            https_response(URL, ENFORCE, elapsed=12.5),
            "mta_sts.policy.slow",
            Status.WARN,
            id="slow-answer",
        ),
    ],
)
def test_fetch_problems(fetch: HttpsFetch, code: str, status: Status) -> None:
    """Each way a sender's fetch goes wrong has its code; could-not-test is never a failure."""
    result = observe(fetch=fetch)
    finding = only(result, code)
    assert finding.status is status
    if status is Status.ERROR:
        assert result.status is Status.ERROR
        assert finding.fix is None


def test_missing_policy_host_fix_says_to_add_an_address_first() -> None:
    """A policy host without address: the fix starts with the address, then the file."""
    finding = only(
        observe(fetch=https_failure(URL, ConnectOutcome.NO_ADDRESS)), "mta_sts.policy.fetch_failed"
    )
    assert finding.fix is not None
    assert finding.fix.startswith(f"Give mta-sts.{DOMAIN} an address")
    body, _ = fix_parts(finding.fix)
    assert parse_policy(body.encode()).valid


def test_redirect_is_reported_with_its_target_and_never_followed() -> None:
    """A 3xx shows where it points; the fix is the file to serve directly."""
    fetch = https_response(URL, status=302, headers=[("Location", "https://example.com/sts")])
    finding = only(observe(fetch=fetch), "mta_sts.policy.redirect")
    assert finding.params["location"] == "https://example.com/sts"
    body, _ = fix_parts(finding.fix)
    assert parse_policy(body.encode()).mx == MX


def test_content_type_text_plain_parameters_are_ignored() -> None:
    """Parameters other than charset do not matter; case does not either."""
    fetch = https_response(URL, ENFORCE, content_type='Text/Plain; format=flowed; charset="UTF-8"')
    assert [f.code for f in observe(fetch=fetch).findings] == ["mta_sts.ok"]


def test_html_page_is_reported_once_not_line_by_line() -> None:
    """A web page is one finding, not dozens of syntax errors."""
    page = "<!DOCTYPE html>\n<html>\n<body>Welcome</body>\n</html>\n"
    result = observe(fetch=https_response(URL, page, content_type="text/html"))
    assert codes(result) == ["mta_sts.policy.content_type", "mta_sts.policy.html"]


@pytest.mark.parametrize(
    ("problems", "expected"),
    [
        pytest.param((CertProblem.EXPIRED,), "expired", id="expired"),
        pytest.param((CertProblem.NAME_MISMATCH,), "name mismatch", id="wrong-name"),
        pytest.param(
            (CertProblem.SELF_SIGNED, CertProblem.UNTRUSTED), "self signed, untrusted", id="two"
        ),
    ],
)
def test_certificate_problems(problems: tuple[CertProblem, ...], expected: str) -> None:
    """An invalid certificate for mta-sts.<domain> fails, naming each problem (§3.3)."""
    cert = CertVerdict(f"mta-sts.{DOMAIN}", problems, days_left=10)
    result = observe(cert=cert)
    finding = only(result, "mta_sts.policy.tls_invalid")
    assert finding.params["problems"] == expected
    assert finding.params["certificate_problems"] == [p.value for p in problems]
    assert result.evidence["policy"]["mode"] is None  # senders refuse the policy


def test_certificate_expiring_soon() -> None:
    """A valid certificate with under two weeks left warns (STS-13)."""
    result = observe(cert=CertVerdict(f"mta-sts.{DOMAIN}", (), days_left=5))
    assert only(result, "mta_sts.policy.cert_expiring").status is Status.WARN


# --- the policy ----------------------------------------------------------------------------


def test_testing_mode_advice_is_an_enforce_policy() -> None:
    """testing warns; the fix is the same policy in enforce mode with its new id."""
    body = ENFORCE.replace("enforce", "testing").replace("1209600", "86400")
    finding = only(observe(fetch=https_response(URL, body)), "mta_sts.policy.mode_testing")
    assert finding.status is Status.WARN
    fixed, record_id = fix_parts(finding.fix)
    parsed = parse_policy(fixed.encode())
    assert (parsed.mode.value if parsed.mode else None, parsed.max_age) == ("enforce", 604800)
    assert record_id == policy_id(fixed)


def test_mode_none_warns() -> None:
    """mode none means no protection (a deliberate opt-out): warn, no fix."""
    body = "version: STSv1\nmode: none\nmax_age: 86400\n"
    finding = only(observe(fetch=https_response(URL, body)), "mta_sts.policy.mode_none")
    assert finding.status is Status.WARN
    assert finding.fix is None


@pytest.mark.parametrize(
    ("max_age", "code", "fixed_age"),
    [
        pytest.param(86400, "mta_sts.policy.max_age_short", 604800, id="one-day-enforce"),
        pytest.param(40000000, "mta_sts.policy.max_age_long", 31557600, id="above-maximum"),
    ],
)
def test_max_age_advice(max_age: int, code: str, fixed_age: int) -> None:
    """max_age below a week in enforce warns, above the maximum fails; fixes bound it."""
    body = ENFORCE.replace("1209600", str(max_age))
    finding = only(observe(fetch=https_response(URL, body)), code)
    fixed, _ = fix_parts(finding.fix)
    assert parse_policy(fixed.encode()).max_age == fixed_age


def test_syntax_errors_carry_a_corrected_policy() -> None:
    """Every syntax error has the complete corrected policy file as its fix."""
    body = "version: STSv1\nMode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: x\n"
    result = observe(fetch=https_response(URL, body))
    syntax = [f for f in result.findings if f.code == "mta_sts.policy.syntax"]
    assert [f.params["line"] for f in syntax] == [2, 5]
    for finding in syntax:
        fixed, _ = fix_parts(finding.fix)
        assert parse_policy(fixed.encode()).valid


def test_junk_body_findings_are_capped() -> None:
    """A huge page of junk yields a bounded number of findings; the total is in evidence."""
    junk = "\n".join(f"junk line {n}" for n in range(500))
    result = observe(fetch=https_response(URL, junk))
    assert len(result.findings) <= 60
    assert result.evidence["policy"]["problems_total"] > 500


# --- MX coverage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        pytest.param("enforce", Status.FAIL, id="enforce-fails"),
        pytest.param("testing", Status.WARN, id="testing-warns"),
    ],
)
def test_uncovered_mx(mode: str, status: Status) -> None:
    """An MX host outside the policy fails in enforce, warns in testing; fix adds it."""
    body = ENFORCE.replace("enforce", mode)
    result = observe(fetch=https_response(URL, body), mx=[*MX, "backup.example.net"])
    finding = only(result, "mta_sts.mx.not_covered")
    assert (finding.subject, finding.status) == ("backup.example.net", status)
    fixed, record_id = fix_parts(finding.fix)
    parsed = parse_policy(fixed.encode())
    hosts = [*MX, "backup.example.net"]
    assert all(any(mx_pattern_matches(p, h) for p in parsed.mx) for h in hosts)
    assert parsed.mode is not None
    assert parsed.mode.value == mode
    assert record_id == policy_id(fixed)


def test_fix_keeps_wildcards_in_use_and_drops_stale_patterns() -> None:
    """The planned policy keeps patterns still used, adds uncovered hosts, drops stale ones."""
    body = (
        "version: STSv1\nmode: enforce\nmx: *.example.com\nmx: old.example.org\nmax_age: 604800\n"
    )
    result = observe(fetch=https_response(URL, body), mx=["mx1.example.com", "in.example.net"])
    assert [f.code for f in result.findings] == [
        "mta_sts.mx.not_covered",
        "mta_sts.mx.pattern_unused",
    ]
    fixed, _ = fix_parts(result.findings[0].fix)
    assert parse_policy(fixed.encode()).mx == ("*.example.com", "in.example.net")


def test_unknown_mx_is_could_not_test() -> None:
    """Without the MX set, coverage is not tested: error, never fail."""
    result = observe(mx=None)
    assert codes(result) == ["mta_sts.mx.unknown"]
    assert result.status is Status.ERROR


def test_null_mx_without_record_is_not_applicable() -> None:
    """A domain that accepts no mail has nothing for MTA-STS to protect."""
    result = observe({}, https_failure(URL, ConnectOutcome.NO_ADDRESS), mx=[])
    assert codes(result) == ["mta_sts.mx.null_mx"]
    assert result.status is Status.NOT_APPLICABLE


def test_null_mx_with_record_is_information() -> None:
    """A null MX beside a published policy is shown, and coverage is skipped."""
    result = observe(mx=["."])
    assert codes(result) == ["mta_sts.mx.null_mx"]
    assert result.status is Status.INFO


def test_result_serialises() -> None:
    """The result (findings, fixes, evidence) survives a to_dict/from_dict round trip."""
    result = observe({}, https_response(URL, ENFORCE), mx=[*MX, "other.example.net"])
    assert CheckResult.from_dict(result.to_dict()) == result


@given(
    txts=st.lists(st.binary(max_size=60), max_size=3),
    body=st.binary(max_size=300),
    status=st.sampled_from([200, 200, 301, 404]),
    mx=st.one_of(st.none(), st.lists(st.sampled_from(["mx1.example.com", "", "a.b"]))),
)
def test_evaluation_never_raises(
    txts: list[bytes], body: bytes, status: int, mx: list[str] | None
) -> None:
    """Any record set, body, status and MX set evaluates to a serialisable result."""
    answer = FakeDns({f"{TXT_NAME} TXT": txts}).answer(TXT_NAME, "TXT")
    fetch = https_response(URL, body, status=status)
    hosts = tuple(mx) if mx is not None else None
    result = evaluate_mta_sts(MtaStsObservations(DOMAIN, answer, fetch, GOOD_CERT, hosts))
    assert CheckResult.from_dict(result.to_dict()) == result
