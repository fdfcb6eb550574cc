"""DMARC evaluation: tree walk, Organizational Domain, effective policy, report destinations."""

from collections.abc import Mapping

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, Entry, FakeDns

from mailshield.core.evaluate.dmarc import dmarc_queries, evaluate_dmarc
from mailshield.core.evaluate.dmarc_walk import discover, walk_names
from mailshield.core.model import CheckResult, Status

GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"


def check(zone: Mapping[str, Entry], domain: str = "example.com") -> CheckResult:
    dns = FakeDns(zone)
    return evaluate_dmarc(domain, dns.gather(lambda answers: dmarc_queries(domain, answers)))


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def the(result: CheckResult, code: str) -> dict[str, object]:
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, codes(result)
    return {
        "status": found[0].status,
        "fix": found[0].fix,
        "subject": found[0].subject,
        **found[0].params,
    }


# --- the tree walk (RFC 9989 §4.10) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "names"),
    [
        pytest.param("example.com", ["example.com", "com"], id="two-labels"),
        pytest.param(
            "a.b.example.com", ["a.b.example.com", "b.example.com", "example.com", "com"], id="four"
        ),
        pytest.param(
            "a.b.c.d.e.f.g.h.example",
            [
                "a.b.c.d.e.f.g.h.example",
                "c.d.e.f.g.h.example",  # nine labels: straight to the last seven
                "d.e.f.g.h.example",
                "e.f.g.h.example",
                "f.g.h.example",
                "g.h.example",
                "h.example",
                "example",
            ],
            id="long-name-jumps-to-seven-labels",
        ),
    ],
)
def test_walk_names(domain: str, names: list[str]) -> None:
    """The walk queries the domain, then at most 7 shorter names, up to the TLD."""
    assert list(walk_names(domain)) == names
    assert len(walk_names(domain)) <= 8


def test_own_record_applies() -> None:
    """A record at the domain itself applies, and the evidence says where it was found."""
    result = check({"_dmarc.example.com TXT": [GOOD]})
    assert result.status is Status.PASS
    assert result.evidence["policy_domain"] == "example.com"
    assert result.evidence["inherited"] is False
    assert the(result, "dmarc.pass")["policy"] == "reject"


def test_parent_record_applies_with_its_subdomain_policy() -> None:
    """Without its own record a subdomain inherits the parent's sp (else p)."""
    zone = {"_dmarc.example.com TXT": ["v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com"]}
    result = check(zone, "mail.example.com")
    assert result.evidence["policy_domain"] == "example.com"
    assert result.evidence["inherited"] is True
    assert result.evidence["policy"]["effective"] == "none"
    found = the(result, "dmarc.policy.none")
    assert found["fix"] == "v=DMARC1; p=quarantine; rua=mailto:d@example.com"


@pytest.mark.parametrize(
    ("zone", "domain", "org"),
    [
        pytest.param(
            {"_dmarc.example.com TXT": [GOOD]}, "a.b.example.com", "example.com", id="fewest-labels"
        ),
        pytest.param(
            {
                "_dmarc.b.example.com TXT": ["v=DMARC1; p=none; psd=n"],
                "_dmarc.example.com TXT": [GOOD],
            },
            "a.b.example.com",
            "b.example.com",
            id="psd-n-stops",
        ),
        pytest.param(
            {"_dmarc.example TXT": ["v=DMARC1; p=reject; psd=y"]},
            "a.b.example",
            "b.example",
            id="psd-y-one-below",
        ),
        pytest.param({}, "a.b.example", "a.b.example", id="no-record-is-itself"),
    ],
)
def test_organizational_domain(zone: Mapping[str, Entry], domain: str, org: str) -> None:
    """The Organizational Domain follows RFC 9989 §4.10.2 without a public suffix list."""
    dns = FakeDns(zone)
    answers = dns.gather(lambda a: dmarc_queries(domain, a))
    assert discover(domain, answers).org_domain == org


# --- records ------------------------------------------------------------------------------------


def test_missing_record_fails_with_first_step_record() -> None:
    """No record anywhere is fail, with a p=none record with reports as the fix (DMARC-01)."""
    found = the(check({}), "dmarc.record.missing")
    assert found["status"] is Status.FAIL
    assert found["fix"] == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"


def test_multiple_records_mean_no_dmarc() -> None:
    """Two DMARC records at the name stop discovery (DMARC-02), even if a parent has one."""
    zone = {"_dmarc.mail.example.com TXT": [GOOD, GOOD + ";"], "_dmarc.example.com TXT": [GOOD]}
    result = check(zone, "mail.example.com")
    assert the(result, "dmarc.record.multiple")["count"] == 2
    assert result.evidence["policy"] is None


def test_ignored_record_is_reported_and_parent_applies() -> None:
    """A record with a bad version is reported, and discovery continues to the parent."""
    zone = {"_dmarc.mail.example.com TXT": ["v=dmarc1; p=reject"], "_dmarc.example.com TXT": [GOOD]}
    result = check(zone, "mail.example.com")
    assert the(result, "dmarc.syntax")["subject"] == "_dmarc.mail.example.com"
    assert result.evidence["policy_domain"] == "example.com"


def test_unrelated_txt_is_not_a_record() -> None:
    """Other TXT records at the _dmarc name are ignored, not counted."""
    result = check({"_dmarc.example.com TXT": ["some-verification=1", GOOD]})
    assert result.status is Status.PASS


@pytest.mark.parametrize(
    ("record", "effective"),
    [
        pytest.param("v=DMARC1; rua=mailto:d@example.com", "none", id="missing-p-is-none"),
        pytest.param("v=DMARC1; p=bogus; rua=mailto:d@example.com", "none", id="invalid-p-is-none"),
        pytest.param(
            "v=DMARC1; p=quarantine; rua=mailto:d@example.com", "quarantine", id="quarantine"
        ),
    ],
)
def test_effective_policy(record: str, effective: str) -> None:
    """A missing or invalid p acts as none (RFC 9989 §4.10.1)."""
    assert check({"_dmarc.example.com TXT": [record]}).evidence["policy"]["effective"] == effective


def test_policy_none_warns_with_quarantine_record_keeping_rua() -> None:
    """p=none warns, and the fix is the published record with p=quarantine (DMARC-06)."""
    record = "v=DMARC1; p=none; rua=mailto:d@example.com; adkim=s"
    found = the(check({"_dmarc.example.com TXT": [record]}), "dmarc.policy.none")
    assert found["status"] is Status.WARN
    assert found["fix"] == "v=DMARC1; p=quarantine; rua=mailto:d@example.com; adkim=s"


def test_policy_none_without_rua_adds_one() -> None:
    """The p=none fix adds a rua when the record has none."""
    found = the(check({"_dmarc.example.com TXT": ["v=DMARC1; p=none"]}), "dmarc.policy.none")
    assert found["fix"] == "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com"


def test_sp_below_organizational_domain_is_ignored() -> None:
    """sp= in a record below the Organizational Domain has no effect (DMARC-16)."""
    zone = {
        "_dmarc.mail.example.com TXT": ["v=DMARC1; p=reject; sp=reject; rua=mailto:d@example.com"],
        "_dmarc.example.com TXT": [GOOD],
    }
    assert the(check(zone, "mail.example.com"), "dmarc.sp.ignored")["org_domain"] == "example.com"


def test_psd_on_ordinary_domain() -> None:
    """psd=y on a multi-label name is flagged (DMARC-10)."""
    zone = {"_dmarc.example.com TXT": [GOOD + "; psd=y"]}
    assert the(check(zone), "dmarc.psd.misused")["status"] is Status.WARN


# --- DNS failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [TIMEOUT, SERVFAIL])
def test_failure_before_any_record_is_could_not_test(outcome: Entry) -> None:
    """A failed lookup before a record was found leaves the policy unknown: error."""
    result = check({"_dmarc.example.com TXT": outcome})
    assert result.status is Status.ERROR
    assert codes(result) == ["dmarc.dns.failed"]


def test_failure_above_the_record_only_weakens_org_domain() -> None:
    """A failed lookup above the applying record does not hide the policy."""
    result = check({"_dmarc.example.com TXT": [GOOD], "_dmarc.com TXT": TIMEOUT})
    assert result.status is Status.PASS
    assert result.evidence["org_domain_complete"] is False


# --- external report destinations (RFC 7489 §7.1) --------------------------------------------


EXTERNAL = "v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:r@reports.example.net"
AUTH = "example.com._report._dmarc.reports.example.net TXT"


def test_internal_destinations_need_no_authorisation() -> None:
    """Destinations in the Organizational Domain (or below) are not looked up."""
    dns = FakeDns(
        {"_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:d@reports.example.com"]}
    )
    dns.gather(lambda a: dmarc_queries("example.com", a))
    assert all(
        "_report" not in name for name, _ in dns.gather(lambda a: dmarc_queries("example.com", a))
    )


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        pytest.param(["v=DMARC1"], None, id="authorised"),
        pytest.param(
            ["v=DMARC1; rua=mailto:other@reports.example.net"], None, id="same-host-override"
        ),
        pytest.param(NXDOMAIN, "dmarc.rua.unauthorized", id="no-record"),
        pytest.param(["hello"], "dmarc.rua.unauthorized", id="not-dmarc"),
        pytest.param(
            ["v=DMARC1; rua=mailto:r@elsewhere.example"],
            "dmarc.report_auth.override_mismatch",
            id="override-other-host",
        ),
        pytest.param(TIMEOUT, "dmarc.report_auth.lookup_failed", id="lookup-failed"),
    ],
)
def test_external_destination(auth: Entry, code: str | None) -> None:
    """An external destination must publish <domain>._report._dmarc.<host> (DMARC-13, 14)."""
    result = check({"_dmarc.example.com TXT": [EXTERNAL], AUTH: auth})
    auth_codes = [c for c in codes(result) if "report" in c or "unauthorized" in c]
    assert auth_codes == ([code] if code else [])


def test_unauthorised_destination_fix_is_the_record_to_publish() -> None:
    """The fix names the exact TXT record the destination must publish."""
    found = the(check({"_dmarc.example.com TXT": [EXTERNAL]}), "dmarc.rua.unauthorized")
    assert found["status"] is Status.FAIL
    assert found["fix"] == 'example.com._report._dmarc.reports.example.net TXT "v=DMARC1;"'


def test_wildcard_authorisation() -> None:
    """A wildcard *._report._dmarc.<host> record authorises every domain."""
    zone = {
        "_dmarc.example.com TXT": [EXTERNAL],
        "*._report._dmarc.reports.example.net TXT": ["v=DMARC1;"],
    }
    assert check(zone).status is Status.PASS


def test_inherited_record_is_authorised_for_the_domain_where_it_was_found() -> None:
    """The authorisation name uses the policy record's domain, not the checked subdomain."""
    zone = {"_dmarc.example.com TXT": [EXTERNAL], AUTH: ["v=DMARC1"]}
    result = check(zone, "mail.example.com")
    assert [d["auth_name"] for d in result.evidence["destinations"] if d["external"]] == [
        "example.com._report._dmarc.reports.example.net"
    ]
    assert result.status is Status.PASS
