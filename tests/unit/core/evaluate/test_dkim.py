"""DKIM evaluation over supplied and common selectors."""

from collections.abc import Mapping, Sequence

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, Entry, FakeDns
from tests.unit.core.records.test_dkim import RSA2048, rsa_key

from mailshield.core.evaluate.answers import AnswerMap, Query
from mailshield.core.evaluate.dkim import COMMON_SELECTORS, dkim_queries, evaluate_dkim
from mailshield.core.model import CheckResult, Status

D = "example.com"
KEY = f"v=DKIM1; k=rsa; p={RSA2048}"


def check(zone: Mapping[str, Entry], supplied: Sequence[str] = ()) -> CheckResult:
    dns = FakeDns(zone)
    return evaluate_dkim(D, supplied, dns.gather(lambda a: dkim_queries(D, supplied, a)))


def asked(zone: Mapping[str, Entry], supplied: Sequence[str] = ()) -> list[set[str]]:
    """The names looked up, level by level, for ``zone``."""
    dns = FakeDns(zone)
    levels: list[set[str]] = []

    def plan(answers: AnswerMap) -> frozenset[Query]:
        wanted = dkim_queries(D, supplied, answers)
        new = {name for name, _ in wanted - answers.keys()}
        if new:
            levels.append(new)
        return wanted

    dns.gather(plan)
    return levels


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


COMMON = {f"{s}._domainkey.example.com" for s in COMMON_SELECTORS}
HAS_KEYS = {"selector1._domainkey.example.com TXT": [KEY]}


def test_queries_cover_supplied_and_common_selectors_once() -> None:
    """Supplied selectors and the ``_domainkey`` probe come first, common ones follow once the
    probe shows names below it; a supplied common selector is asked once, in the first level."""
    levels = asked(HAS_KEYS, ["Mail", "custom"])
    first = {
        "_domainkey.example.com",
        "mail._domainkey.example.com",
        "custom._domainkey.example.com",
    }
    assert levels == [first, COMMON - first]


@pytest.mark.parametrize(
    ("zone", "guessed"),
    [
        pytest.param({}, False, id="nxdomain-nothing-below"),
        pytest.param(HAS_KEYS, True, id="empty-non-terminal"),
        pytest.param({"_domainkey.example.com TXT": ["o=~"]}, True, id="record-there"),
        pytest.param({"_domainkey.example.com TXT": TIMEOUT}, True, id="lookup-failed"),
        pytest.param({"_domainkey.example.com TXT": SERVFAIL}, True, id="servfail"),
        pytest.param(
            {"_domainkey.example.com CNAME": ["keys.provider.example"]}, True, id="cname-nxdomain"
        ),
        pytest.param({"*.example.com TXT": ["v=spf1 -all"]}, True, id="wildcard"),
    ],
)
def test_common_selectors_are_guessed_only_where_keys_can_exist(
    zone: Mapping[str, Entry], guessed: bool
) -> None:
    """Under an NXDOMAIN ``_domainkey`` nothing exists (RFC 8020 §2): no guesses; any other
    answer, a failure or an NXDOMAIN reached through a CNAME, leaves room for keys."""
    levels = asked(zone)
    assert levels[0] == {"_domainkey.example.com"}
    assert (levels[1:] == [COMMON]) is guessed
    assert check(zone).evidence["common_selectors_asked"] is guessed


def test_no_domainkey_subtree_says_why_nothing_was_guessed() -> None:
    """Without ``_domainkey`` the info finding names the NXDOMAIN instead of the guesses."""
    result = check({})
    assert result.findings[0].params["where"].startswith("_domainkey.example.com does not exist")
    assert result.evidence["domainkey"] == "nxdomain"


def test_supplied_selectors_are_asked_even_without_domainkey() -> None:
    """A selector the user names is looked up whatever ``_domainkey`` answers."""
    result = check({"_domainkey.example.com TXT": NXDOMAIN}, ["s2024"])
    assert codes(result) == ["dkim.key.not_found"]


def test_common_selector_key_passes() -> None:
    """A key found at a common selector is reported as a pass with its description."""
    result = check({"selector1._domainkey.example.com TXT": [KEY]})
    assert result.status is Status.PASS
    assert [f.message for f in result.findings] == [
        "selector1._domainkey.example.com publishes a 2048-bit RSA key."
    ]
    assert [s["selector"] for s in result.evidence["selectors"]] == ["selector1"]


def test_no_key_anywhere_is_info() -> None:
    """Without supplied selectors and no common key, the result is info, not fail."""
    result = check({"other._domainkey.example.com TXT": [KEY]})
    assert codes(result) == ["dkim.key.none_found"]
    assert result.status is Status.INFO


def test_supplied_selector_without_key_fails() -> None:
    """A selector the user names must have a key (DKIM-01)."""
    result = check({}, ["s2024"])
    assert codes(result) == ["dkim.key.not_found"]
    assert result.status is Status.FAIL


def test_supplied_selector_with_non_dkim_txt_is_checked() -> None:
    """At a supplied selector any TXT record is judged as a key record."""
    result = check({"s2024._domainkey.example.com TXT": ["hello=world"]}, ["s2024"])
    assert "dkim.key.missing" in codes(result)


def test_wildcard_txt_at_common_selector_is_ignored() -> None:
    """A TXT that is not a key (e.g. from a wildcard) at a common selector is not judged."""
    result = check({"*._domainkey.example.com TXT": ["v=spf1 -all"]})
    assert codes(result) == ["dkim.key.none_found"]


@pytest.mark.parametrize(
    ("record", "code", "status"),
    [
        pytest.param(f"p={rsa_key(768)}", "dkim.key.weak", Status.FAIL, id="weak"),
        pytest.param(f"p={rsa_key(1024)}", "dkim.key.short", Status.WARN, id="short"),
        pytest.param("v=DKIM1; p=", "dkim.key.revoked", Status.INFO, id="revoked-is-retired"),
        pytest.param(f"v=DKIM1; t=y; p={RSA2048}", "dkim.testing", Status.WARN, id="testing"),
        pytest.param(f"v=DKIM1; k=x; p={RSA2048}", "dkim.key.type_unknown", Status.FAIL, id="k"),
    ],
)
def test_key_problems_at_common_selectors_are_reported(
    record: str, code: str, status: Status
) -> None:
    """Problems of a key found at a common selector count like those of a supplied one."""
    result = check({"google._domainkey.example.com TXT": [record]})
    assert code in codes(result)
    assert result.status is status


def test_multiple_records_at_selector() -> None:
    """Two key records at one selector make the result undefined: fail (DKIM-02)."""
    result = check({"k1._domainkey.example.com TXT": [KEY, KEY]})
    assert codes(result) == ["dkim.record.multiple"]


def test_cname_chain_is_in_evidence() -> None:
    """A selector delegated by CNAME (common with mail providers) shows its chain."""
    zone = {
        "selector1._domainkey.example.com CNAME": ["selector1-x._domainkey.provider.example"],
        "selector1-x._domainkey.provider.example TXT": [KEY],
    }
    entry = check(zone).evidence["selectors"][0]
    assert entry["cname_chain"] == ["selector1-x._domainkey.provider.example"]
    assert entry["key_bits"] == 2048


def test_timeout_on_supplied_selector_is_could_not_test() -> None:
    """A failed lookup of a named selector is error, never fail."""
    result = check({"s2024._domainkey.example.com TXT": TIMEOUT}, ["s2024"])
    assert codes(result) == ["dkim.dns.failed"]
    assert result.status is Status.ERROR


def test_timeout_on_common_selector_matters_only_without_keys() -> None:
    """A common selector's failed lookup is could-not-test only when no key was found."""
    failing = {"default._domainkey.example.com TXT": TIMEOUT}
    assert check(failing).status is Status.ERROR
    with_key = {**failing, "google._domainkey.example.com TXT": [KEY]}
    assert check(with_key).status is Status.PASS


def test_invalid_supplied_selector() -> None:
    """A selector that is not a DNS name is reported and not looked up."""
    result = check({"google._domainkey.example.com TXT": [KEY]}, ["bad selector"])
    assert "dkim.selector.invalid" in codes(result)


def test_nxdomain_supplied_selector_names_outcome() -> None:
    """The not-found finding says what DNS answered."""
    result = check({"s._domainkey.example.com TXT": NXDOMAIN}, ["s"])
    assert result.findings[0].params["outcome"] == "nxdomain"


def test_revoked_supplied_selector_warns() -> None:
    """A named selector whose key is revoked still signs mail that now fails: warn (DKIM-06)."""
    result = check({"s2024._domainkey.example.com TXT": ["v=DKIM1; p="]}, ["s2024"])
    assert codes(result) == ["dkim.key.revoked"]
    assert result.status is Status.WARN
