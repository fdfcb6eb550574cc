"""SPF (RFC 7208), DMARC (RFC 7489, RFC 9989), DKIM (RFC 6376) and BIMI findings through the lab
DNS, with the records' healthy counterparts that must not be reported."""

from __future__ import annotations

import pytest
from checker_lab import Expect, Reports, assert_expected, params, with_code

from mailshield.core.model import Status

SCENARIO = "sender"
DKIM_SELECTORS = ("retired",)  # as `mailshield check --dkim-selector retired`

CASES = [
    Expect("spf-missing.test", "spf.record.missing", Status.FAIL),
    Expect("spf-multiple.test", "spf.record.multiple", Status.FAIL),
    Expect("spf-syntax.test", "spf.syntax", Status.FAIL),
    Expect("spf-lookups.test", "spf.lookups.too_many", Status.FAIL),
    Expect("spf-void.test", "spf.void_lookups.too_many", Status.FAIL),
    Expect("spf-pass-all.test", "spf.all.pass", Status.FAIL),
    Expect("spf-neutral.test", "spf.all.neutral", Status.WARN),
    Expect("dmarc-missing.test", "dmarc.record.missing", Status.FAIL),
    Expect("dmarc-multiple.test", "dmarc.record.multiple", Status.FAIL),
    Expect("dmarc-syntax.test", "dmarc.syntax", Status.FAIL),
    Expect("dmarc-none.test", "dmarc.policy.none", Status.WARN),
    Expect("dmarc-rua.test", "dmarc.rua.unauthorized", Status.FAIL),
    Expect("dkim-weak.test", "dkim.key.weak", Status.FAIL, "mail._domainkey.dkim-weak.test"),
    Expect(
        "dkim-revoked.test", "dkim.key.revoked", Status.WARN, "retired._domainkey.dkim-revoked.test"
    ),
    Expect("bimi-invalid.test", "bimi.record.invalid", Status.FAIL),
]


@pytest.mark.parametrize("expect", params(CASES))
async def test_record_problem_gives_its_finding(reports: Reports, expect: Expect) -> None:
    """Each sender-side record problem of the lab is reported with its code and status."""
    assert_expected(await reports(expect.domain), expect)


async def test_ten_lookups_are_within_the_limit(reports: Reports) -> None:
    """Exactly 10 DNS-querying terms (RFC 7208 §4.6.4) is allowed: no too_many finding."""
    report = await reports("spf-ten.test")
    assert with_code(report, "spf.lookups.too_many") == []
    spf = report.result("spf")
    assert spf is not None
    assert spf.status is not Status.FAIL


async def test_lookup_count_covers_every_querying_term(reports: Reports) -> None:
    """include, a, a:host, a/24, mx, mx:host and exists each count once: 11 in all."""
    report = await reports("spf-lookups.test")
    (item,) = with_code(report, "spf.lookups.too_many")
    assert "11" in item.message


async def test_spf_tree_is_in_the_evidence(reports: Reports) -> None:
    """The whole include tree is in the JSON evidence, each include with its own record."""
    report = await reports("spf-lookups.test")
    spf = report.result("spf")
    assert spf is not None
    text = str(spf.evidence)
    for label in ("_a", "_b", "_c", "_d", "_e"):
        assert f"{label}.spf-lookups.test" in text


async def test_authorised_external_destination_is_not_reported(reports: Reports) -> None:
    """A rua= at another domain that publishes <domain>._report._dmarc is accepted."""
    report = await reports("dmarc-authorized.test")
    assert with_code(report, "dmarc.rua.unauthorized") == []
    dmarc = report.result("dmarc")
    assert dmarc is not None
    assert dmarc.status is Status.PASS


async def test_unauthorised_destination_fix_is_the_authorisation_record(reports: Reports) -> None:
    """The fix for an unauthorised destination names the record the collector must publish."""
    report = await reports("dmarc-rua.test")
    (item,) = with_code(report, "dmarc.rua.unauthorized")
    assert item.fix is not None
    assert "dmarc-rua.test._report._dmarc.collector.test" in item.fix


async def test_subdomain_inherits_the_parent_policy(reports: Reports) -> None:
    """A subdomain without its own record is governed by its parent's (RFC 9989 tree walk)."""
    report = await reports("sub.dmarc-org.test")
    assert with_code(report, "dmarc.record.missing") == []
    assert with_code(report, "dmarc.policy.none") == []


async def test_revoked_key_is_a_warning_only_at_a_named_selector(reports: Reports) -> None:
    """A revoked key at the selector the user named warns; at a common selector it is a retired
    key (info)."""
    report = await reports("dkim-revoked.test")
    found = {f.subject: f.status for f in with_code(report, "dkim.key.revoked")}
    assert found == {
        "retired._domainkey.dkim-revoked.test": Status.WARN,
        "default._domainkey.dkim-revoked.test": Status.INFO,
    }


async def test_weak_key_names_its_size(reports: Reports) -> None:
    """A key under 1024 bits fails, and the message says how long it is."""
    report = await reports("dkim-weak.test")
    (item,) = with_code(report, "dkim.key.weak")
    assert "768" in item.message
