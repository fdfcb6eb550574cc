"""SPF evaluation from DNS answers: the include tree, the RFC 7208 §4.6.4 limits, every code."""

from collections.abc import Mapping, Sequence

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, Entry, FakeDns

from mailshield.core.evaluate.spf import evaluate_spf, spf_queries
from mailshield.core.model import CheckResult, Status

D = "example.com"


def check(zone: Mapping[str, Entry], domain: str = D) -> CheckResult:
    dns = FakeDns(zone)
    return evaluate_spf(domain, dns.gather(lambda answers: spf_queries(domain, answers)))


def spf(*records: str, **extra: Sequence[str]) -> dict[str, Entry]:
    """A zone with ``records`` as the TXT of example.com, plus ``name_TYPE=[...]`` entries."""
    zone: dict[str, Entry] = {f"{D} TXT": list(records)}
    for key, value in extra.items():
        name, rdtype = key.rsplit("_", 1)
        zone[f"{name.replace('_', '.')} {rdtype}"] = value
    return zone


def codes(result: CheckResult) -> set[str]:
    return {f.code for f in result.findings}


def the(result: CheckResult, code: str) -> dict[str, object]:
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, [f.code for f in result.findings]
    return {"status": found[0].status, "fix": found[0].fix, **found[0].params}


# --- counting: which terms cost a DNS lookup (RFC 7208 §4.6.4) -----------------------------


@pytest.mark.parametrize(
    ("record", "lookups"),
    [
        pytest.param("v=spf1 -all", 0, id="all-is-free"),
        pytest.param("v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all", 0, id="ip4-ip6-free"),
        pytest.param("v=spf1 a -all", 1, id="a"),
        pytest.param("v=spf1 a:mail.example.com -all", 1, id="a-host"),
        pytest.param("v=spf1 a/24 -all", 1, id="a-cidr"),
        pytest.param("v=spf1 mx -all", 1, id="mx"),
        pytest.param("v=spf1 ptr -all", 1, id="ptr"),
        pytest.param("v=spf1 exists:%{i}.example.com -all", 1, id="exists-macro"),
        pytest.param("v=spf1 include:inc.example.net -all", 1, id="include"),
        pytest.param("v=spf1 redirect=inc.example.net", 1, id="redirect"),
        pytest.param("v=spf1 exp=explain.example.com -all", 0, id="exp-free"),
        pytest.param("v=spf1 -all a mx", 0, id="after-all-not-evaluated"),
        pytest.param("v=spf1 -all redirect=inc.example.net", 0, id="redirect-ignored-with-all"),
        pytest.param("v=spf1 a mx include:inc.example.net -all", 3, id="sum"),
    ],
)
def test_lookup_counting(record: str, lookups: int) -> None:
    """Only include, a, mx, ptr, exists and redirect count, and only where evaluated."""
    zone = spf(record)
    zone["inc.example.net TXT"] = ["v=spf1 ip4:192.0.2.0/24 -all"]
    zone[f"{D} A"] = ["192.0.2.1"]
    zone[f"{D} MX"] = ["10 mx.example.com."]
    zone["mail.example.com A"] = ["192.0.2.2"]
    assert check(zone).evidence["lookups"] == lookups


def test_nested_includes_are_counted_across_the_tree() -> None:
    """Lookups in included and redirected records add up with the top record's (§4.6.4)."""
    zone = spf(
        "v=spf1 include:a.example.net include:b.example.net redirect=c.example.net",
        a_example_net_TXT=["v=spf1 include:b.example.net a:x.example.net ~all"],
        b_example_net_TXT=["v=spf1 mx:x.example.net -all"],
        c_example_net_TXT=["v=spf1 exists:x.example.net -all"],
        x_example_net_A=["192.0.2.1"],
        x_example_net_MX=["10 x.example.net."],
    )
    result = check(zone)
    # top: 2 include + redirect; a: include + a; b (twice): mx; c: exists
    assert result.evidence["lookups"] == 3 + 2 + 1 + 1 + 1
    assert result.evidence["lookups_complete"] is True
    assert "spf.lookups.near_limit" in codes(result)


def test_too_many_lookups() -> None:
    """Eleven DNS-querying terms across includes give permerror (SPF-05)."""
    zone = spf(
        "v=spf1 include:a.example.net include:b.example.net -all",
        a_example_net_TXT=["v=spf1 " + " ".join(f"exists:e{i}.example.net" for i in range(5))],
        b_example_net_TXT=["v=spf1 " + " ".join(f"exists:f{i}.example.net" for i in range(4))],
    )
    for i in range(5):
        zone[f"e{i}.example.net A"] = ["192.0.2.1"]
        zone[f"f{i}.example.net A"] = ["192.0.2.1"]
    result = check(zone)
    assert the(result, "spf.lookups.too_many")["count"] == 11
    assert result.status is Status.FAIL


# --- void lookups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("void_terms", "code"),
    [
        pytest.param(1, None, id="one-is-fine"),
        pytest.param(2, "spf.void_lookups.near_limit", id="two-warns"),
        pytest.param(3, "spf.void_lookups.too_many", id="three-fails"),
    ],
)
def test_void_lookups(void_terms: int, code: str | None) -> None:
    """Terms whose lookups find nothing are void; a third one gives permerror (§4.6.4)."""
    terms = ["a:gone.example.net", "mx:nomx.example.net", "include:nx.example.net"][:void_terms]
    zone = spf(f"v=spf1 {' '.join(terms)} -all", nomx_example_net_A=["192.0.2.1"])
    result = check(zone)
    assert len(result.evidence["void_lookups"]) == void_terms
    void_codes = {c for c in codes(result) if c.startswith("spf.void_lookups")}
    assert void_codes == ({code} if code else set())


def test_a_with_only_aaaa_is_not_void() -> None:
    """An a term is void only when the name has neither A nor AAAA records."""
    zone = spf("v=spf1 a:v6.example.net -all", v6_example_net_AAAA=["2001:db8::1"])
    assert check(zone).evidence["void_lookups"] == []


# --- the tree: missing targets, loops, depth, macros ----------------------------------------


@pytest.mark.parametrize(
    ("target_entry", "outcome"),
    [
        pytest.param(NXDOMAIN, "nxdomain", id="nxdomain"),
        pytest.param([], "nodata", id="nodata"),
        pytest.param(["some-verification=abc"], "no v=spf1 record", id="no-spf-txt"),
    ],
)
def test_include_without_spf_record(target_entry: Entry, outcome: str) -> None:
    """An include of a domain without SPF gives permerror, never a silent no-match (§5.2)."""
    zone = spf("v=spf1 include:inc.example.net -all")
    zone["inc.example.net TXT"] = target_entry
    found = the(check(zone), "spf.include.no_record")
    assert found["status"] is Status.FAIL
    assert (found["target"], found["outcome"]) == ("inc.example.net", outcome)


def test_redirect_without_spf_record() -> None:
    """A redirect to a domain without SPF gives permerror (§6.1, SPF-09)."""
    result = check(spf("v=spf1 redirect=gone.example.net"))
    assert the(result, "spf.redirect.no_record")["target"] == "gone.example.net"
    assert "spf.all.neutral" not in codes(result)


def test_include_loop_is_detected() -> None:
    """A record that includes itself through another domain is a loop, not infinite work."""
    zone = spf(
        "v=spf1 include:a.example.net -all",
        a_example_net_TXT=["v=spf1 redirect=example.com"],
    )
    found = the(check(zone), "spf.include.loop")
    assert found["path"] == "example.com → a.example.net → example.com"


def test_diamond_includes_are_not_loops() -> None:
    """The same domain included from two branches is counted twice but is no loop."""
    zone = spf(
        "v=spf1 include:a.example.net include:b.example.net -all",
        a_example_net_TXT=["v=spf1 include:shared.example.net -all"],
        b_example_net_TXT=["v=spf1 include:shared.example.net -all"],
        shared_example_net_TXT=["v=spf1 ip4:192.0.2.0/24 -all"],
    )
    result = check(zone)
    assert "spf.include.loop" not in codes(result)
    assert result.evidence["lookups"] == 4


def test_deep_chain_is_truncated() -> None:
    """A chain of includes deeper than any receiver follows stops and says so."""
    zone = spf("v=spf1 include:l1.example.net -all")
    for i in range(1, 20):
        zone[f"l{i}.example.net TXT"] = [f"v=spf1 include:l{i + 1}.example.net -all"]
    result = check(zone)
    assert {"spf.tree.truncated", "spf.lookups.too_many"} <= codes(result)
    assert result.evidence["lookups_complete"] is False


def test_macro_target_is_counted_but_not_followed() -> None:
    """A target with a macro depends on the message: counted, reported, never guessed."""
    result = check(spf("v=spf1 include:%{l}._spf.example.com -all"))
    assert result.evidence["lookups"] == 1
    assert the(result, "spf.macro.unresolved")["status"] is Status.INFO
    assert result.evidence["tree"]["children"] == []


def test_mx_with_too_many_names() -> None:
    """An mx term naming more than 10 MX hosts gives permerror (SPF-07)."""
    zone = spf("v=spf1 mx -all")
    zone[f"{D} MX"] = [f"{i} mx{i}.example.com." for i in range(11)]
    assert the(check(zone), "spf.mx.too_many")["count"] == 11


def test_syntax_error_in_included_record_names_that_domain() -> None:
    """A broken included record is reported against the domain that publishes it."""
    zone = spf("v=spf1 include:inc.example.net -all", inc_example_net_TXT=["v=spf1 ip4:1.2.3"])
    found = [f for f in check(zone).findings if f.code == "spf.syntax"]
    assert [f.subject for f in found] == ["inc.example.net"]


def test_tree_evidence_shape() -> None:
    """Each node of the JSON tree gives domain, record, terms, lookups, children and errors."""
    zone = spf("v=spf1 include:inc.example.net -all", inc_example_net_TXT=["v=spf1 mx -all"])
    zone["inc.example.net MX"] = ["10 mx.example.net."]
    tree = check(zone).evidence["tree"]
    assert tree["domain"] == D
    assert tree["terms"] == ["include:inc.example.net", "-all"]
    assert tree["lookups"] == 1
    child = tree["children"][0]
    assert (child["domain"], child["via"], child["record"]) == (
        "inc.example.net",
        "include",
        "v=spf1 mx -all",
    )
    assert (child["lookups"], child["children"], child["errors"]) == (1, [], [])


# --- the record itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "fix"),
    [
        pytest.param(["10 mx.example.com."], "v=spf1 mx -all", id="with-mx"),
        pytest.param(["0 ."], "v=spf1 -all", id="null-mx"),
        pytest.param([], "v=spf1 -all", id="no-mx"),
        pytest.param(TIMEOUT, "v=spf1 mx -all", id="mx-unknown"),
    ],
)
def test_missing_record_fails_with_a_record_to_publish(mx: Entry, fix: str) -> None:
    """No SPF record is fail, and the fix is built from the domain's MX (SPF-01)."""
    zone: dict[str, Entry] = {f"{D} TXT": ["google-site-verification=abc"], f"{D} MX": mx}
    found = the(check(zone), "spf.record.missing")
    assert (found["status"], found["fix"]) == (Status.FAIL, fix)


def test_nxdomain_is_missing_record() -> None:
    """A domain that does not exist has no SPF record (§4.3)."""
    assert "spf.record.missing" in codes(check({}))


def test_multiple_records() -> None:
    """Two v=spf1 records give permerror (SPF-02)."""
    found = the(check(spf("v=spf1 -all", "v=spf1 mx -all")), "spf.record.multiple")
    assert (found["status"], found["count"]) == (Status.FAIL, 2)


def test_near_miss_is_reported_instead_of_silence() -> None:
    """A record receivers ignore because of its version is named, besides the missing record."""
    result = check(spf(" v=spf1 -all"))
    assert {"spf.version.invalid", "spf.record.missing"} <= codes(result)


@pytest.mark.parametrize(
    ("record", "code", "status", "fix"),
    [
        pytest.param("v=spf1 mx +all", "spf.all.pass", Status.FAIL, "v=spf1 mx -all", id="plus"),
        pytest.param("v=spf1 mx all", "spf.all.pass", Status.FAIL, "v=spf1 mx -all", id="bare"),
        pytest.param(
            "v=spf1 mx ?all", "spf.all.neutral", Status.WARN, "v=spf1 mx -all", id="neutral"
        ),
        pytest.param(
            "v=spf1 mx", "spf.all.neutral", Status.WARN, "v=spf1 mx -all", id="no-all-no-redirect"
        ),
        pytest.param(
            "v=spf1 mx ~all", "spf.all.softfail", Status.INFO, "v=spf1 mx -all", id="softfail"
        ),
    ],
)
def test_all_qualifier(record: str, code: str, status: Status, fix: str) -> None:
    """The result for unlisted senders is judged with the record to publish (SPF-11, SPF-12)."""
    zone = spf(record, example_com_MX=["10 mx.example.com."])
    found = the(check(zone), code)
    assert (found["status"], found["fix"]) == (status, fix)


def test_redirect_targets_all_decides() -> None:
    """Without an all, the redirect target's all is the one receivers apply (§6.1)."""
    zone = spf("v=spf1 redirect=_spf.example.net")
    zone["_spf.example.net TXT"] = ["v=spf1 +all"]
    result = check(zone)
    found = the(result, "spf.all.pass")
    assert found["fix"] is None  # the record to change is not the checked domain's
    assert [f.subject for f in result.findings if f.code == "spf.all.pass"] == ["_spf.example.net"]
    assert result.evidence["all"] == "+all"


def test_null_mx_domain_should_refuse_all() -> None:
    """A domain accepting no mail should publish exactly v=spf1 -all (SPF-20)."""
    zone = spf("v=spf1 mx ~all", example_com_MX=["0 ."])
    assert the(check(zone), "spf.null_mx.not_reject_all")["fix"] == "v=spf1 -all"
    assert "spf.null_mx.not_reject_all" not in codes(
        check(spf("v=spf1 -all", example_com_MX=["0 ."]))
    )


def test_oversized_answer() -> None:
    """A TXT answer over 450 octets risks UDP truncation (SPF-16)."""
    long = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(40)) + " -all"
    assert the(check(spf(long)), "spf.record.too_long")["size"] == len(long)


def test_duplicate_modifier() -> None:
    """A second redirect= gives permerror (SPF-10)."""
    zone = spf(
        "v=spf1 redirect=a.example.net redirect=b.example.net",
        a_example_net_TXT=["v=spf1 -all"],
    )
    assert the(check(zone), "spf.modifier.duplicate")["status"] is Status.FAIL


def test_valid_record_passes() -> None:
    """A clean record gives a pass finding with the all term and the lookup count."""
    result = check(spf("v=spf1 mx -all", example_com_MX=["10 mx.example.com."]))
    assert result.status is Status.PASS
    found = the(result, "spf.pass")
    assert (found["all"], found["lookups"]) == ("-all", 1)


# --- DNS failures are "could not test" -------------------------------------------------------


@pytest.mark.parametrize("outcome", [TIMEOUT, SERVFAIL])
def test_top_lookup_failure_is_could_not_test(outcome: Entry) -> None:
    """A failed TXT lookup of the domain is error (could not test), never fail (§4.4)."""
    result = check({f"{D} TXT": outcome})
    assert result.status is Status.ERROR
    assert codes(result) == {"spf.dns.failed"}


def test_failure_deep_in_the_tree_is_could_not_test() -> None:
    """A failed lookup of an included record makes the result error, with a partial count."""
    zone = spf("v=spf1 include:inc.example.net a:host.example.net -all")
    zone["inc.example.net TXT"] = TIMEOUT
    zone["host.example.net *"] = SERVFAIL
    result = check(zone)
    assert result.status is Status.ERROR
    failed = sorted(f.params["name"] for f in result.findings if f.code == "spf.dns.failed")
    assert failed == ["host.example.net", "inc.example.net"]
    assert result.evidence["lookups_complete"] is False
