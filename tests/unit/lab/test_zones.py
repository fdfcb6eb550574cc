"""Zones built from a scenario and the authoritative lookup over them."""

from __future__ import annotations

import contextlib

import dns.name
import dns.rcode
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.scenario import Domain, Scenario, ScenarioError, parse_scenario
from mailshield.lab.zones import ZoneSet, build_zones

SCENARIO = """
[lab]
dns = "127.0.1.1:53"
[domains."a.test"]
records = [
  '@ TXT "v=spf1 " "mx -all"',
  '@ TXT "google-site-verification=x"',
  '_mta-sts CNAME _mta-sts.b.test.',
  'hop1 CNAME hop2',
  'hop2 CNAME hop3.b.test.',
  'loop1 CNAME loop2',
  'loop2 CNAME loop1',
  'away CNAME somewhere.example.',
  'dangling CNAME nothing.b.test.',
  'deep.under.ent 600 IN TXT "deep"',
  'x.sub A 127.0.1.99',
]
mx = [{ name = "mx1", addresses = ["127.0.1.10", "::1"] }, { name = "mx2", preference = 5 }]
mta_sts = { addresses = ["127.0.1.80"] }

[domains."b.test"]
records = [
  '_mta-sts TXT "v=STSv1; id=1"',
  'hop3 TXT "end of chain"',
]

[domains."sub.a.test"]
records = ['x A 127.0.1.98']
"""


@pytest.fixture(scope="module")
def zones() -> ZoneSet:
    return build_zones(parse_scenario(SCENARIO))


def _resolve(zones: ZoneSet, name: str, rdtype: str) -> tuple[str, list[str], list[str]]:
    """rcode, answer RRsets as 'owner TYPE', authority RRsets as 'owner TYPE'."""
    result = zones.resolve(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
    show = [f"{r.name.to_text(True)} {dns.rdatatype.to_text(r.rdtype)}" for r in result.answer]
    auth = [f"{r.name.to_text(True)} {dns.rdatatype.to_text(r.rdtype)}" for r in result.authority]
    return dns.rcode.to_text(result.rcode), show, auth


LOOKUPS = [
    pytest.param("a.test", "TXT", ("NOERROR", ["a.test TXT"], []), id="apex-txt"),
    pytest.param("A.TEST.", "TXT", ("NOERROR", ["a.test TXT"], []), id="case-insensitive"),
    pytest.param("a.test", "AAAA", ("NOERROR", [], ["a.test SOA"]), id="nodata-with-soa"),
    pytest.param("nope.a.test", "A", ("NXDOMAIN", [], ["a.test SOA"]), id="nxdomain-with-soa"),
    pytest.param(
        "under.ent.a.test",
        "TXT",
        ("NOERROR", [], ["a.test SOA"]),
        id="empty-non-terminal-is-nodata",
    ),
    pytest.param(
        "_mta-sts.a.test",
        "TXT",
        ("NOERROR", ["_mta-sts.a.test CNAME", "_mta-sts.b.test TXT"], []),
        id="cname-into-other-served-zone",
    ),
    pytest.param(
        "_mta-sts.a.test",
        "CNAME",
        ("NOERROR", ["_mta-sts.a.test CNAME"], []),
        id="cname-query-not-chased",
    ),
    pytest.param(
        "hop1.a.test",
        "TXT",
        ("NOERROR", ["hop1.a.test CNAME", "hop2.a.test CNAME", "hop3.b.test TXT"], []),
        id="cname-chain",
    ),
    pytest.param(
        "loop1.a.test",
        "A",
        ("NOERROR", ["loop1.a.test CNAME", "loop2.a.test CNAME"], []),
        id="cname-loop",
    ),
    pytest.param(
        "away.a.test",
        "TXT",
        ("NOERROR", ["away.a.test CNAME"], []),
        id="cname-leaving-served-zones",
    ),
    pytest.param(
        "dangling.a.test",
        "TXT",
        ("NXDOMAIN", ["dangling.a.test CNAME"], ["b.test SOA"]),
        id="cname-to-missing-name-rfc6604",
    ),
    pytest.param("hop3.b.test", "A", ("NOERROR", [], ["b.test SOA"]), id="nodata-other-zone"),
    pytest.param("x.sub.a.test", "A", ("NOERROR", ["x.sub.a.test A"], []), id="deepest-zone-wins"),
    pytest.param("example.com", "A", ("REFUSED", [], []), id="not-served-refused"),
    pytest.param("_dmarc.test", "TXT", ("NXDOMAIN", [], ["test SOA"]), id="tld-served-empty"),
    pytest.param("other.test", "MX", ("NXDOMAIN", [], ["test SOA"]), id="tld-unknown-domain"),
    pytest.param("a.test", "MX", ("NOERROR", ["a.test MX"], []), id="derived-mx"),
    pytest.param("mx1.a.test", "AAAA", ("NOERROR", ["mx1.a.test AAAA"], []), id="derived-aaaa"),
    pytest.param(
        "mta-sts.a.test", "A", ("NOERROR", ["mta-sts.a.test A"], []), id="derived-policy-host-a"
    ),
    pytest.param("ns1.a.test", "A", ("NOERROR", ["ns1.a.test A"], []), id="default-ns-glue"),
    pytest.param(
        "mx1.a.test", "ANY", ("NOERROR", ["mx1.a.test A", "mx1.a.test AAAA"], []), id="any"
    ),
]


@pytest.mark.parametrize(("name", "rdtype", "expected"), LOOKUPS)
def test_resolve(zones: ZoneSet, name: str, rdtype: str, expected: tuple[object, ...]) -> None:
    """Each lookup gets the rcode, answer and authority an authoritative server would give."""
    assert _resolve(zones, name, rdtype) == expected


def test_txt_strings_and_records_are_kept_apart(zones: ZoneSet) -> None:
    """A TXT record split into strings keeps its strings; two TXT records stay two records."""
    answer = zones.resolve(dns.name.from_text("a.test"), dns.rdatatype.TXT).answer[0]
    assert sorted(rdata.strings for rdata in answer) == [  # type: ignore[attr-defined]
        (b"google-site-verification=x",),
        (b"v=spf1 ", b"mx -all"),
    ]


def test_derived_records_carry_the_host_definitions(zones: ZoneSet) -> None:
    """MX preferences and host addresses come from the scenario's host definitions."""
    mx = zones.resolve(dns.name.from_text("a.test"), dns.rdatatype.MX).answer[0]
    assert sorted((r.preference, r.exchange.to_text()) for r in mx) == [  # type: ignore[attr-defined]
        (5, "mx2.a.test."),
        (10, "mx1.a.test."),
    ]
    a = zones.resolve(dns.name.from_text("mx1.a.test"), dns.rdatatype.A).answer[0]
    assert [r.to_text() for r in a] == ["127.0.1.10"]


def test_negative_answers_use_the_soa_minimum_ttl(zones: ZoneSet) -> None:
    """The SOA in a negative answer has TTL min(SOA TTL, MINIMUM) (RFC 2308 §3)."""
    text = '[domains."t.test"]\nrecords = ["@ 3600 SOA ns h 1 2 3 4 60"]\n'
    zone_set = build_zones(parse_scenario(text))
    result = zone_set.resolve(dns.name.from_text("x.t.test"), dns.rdatatype.A)
    assert result.authority[0].ttl == 60


def test_zone_text_starts_with_the_soa(zones: ZoneSet) -> None:
    """The master-file rendering (for Knot) starts with the SOA and has every record."""
    text = zones.zones[dns.name.from_text("b.test")].to_text()
    assert text.splitlines()[0].startswith("b.test. 300 IN SOA ")
    assert 'hop3.b.test. 300 IN TXT "end of chain"' in text


BAD_RECORDS = [
    pytest.param("@ MX 10", "domain 'a.test': key 'records[0]'", id="missing-rdata"),
    pytest.param("@ A 999.1.1.1", "records[0]", id="bad-address"),
    pytest.param("@ BOGUSTYPE x", "records[0]", id="unknown-type"),
    pytest.param("@ 300", "a record type is missing", id="missing-type"),
    pytest.param("@ TXT", "records[0]", id="txt-without-text"),
    pytest.param("x.other.test. A 127.0.0.1", "outside the zone a.test", id="outside-zone"),
    pytest.param("$INCLUDE /etc/passwd", "directives", id="include-refused"),
    pytest.param("@ A 127.0.0.1 extra", "records[0]", id="trailing-garbage"),
]


@pytest.mark.parametrize(("record", "message"), BAD_RECORDS)
def test_bad_records_name_domain_and_index(record: str, message: str) -> None:
    """A record that does not parse is reported with its domain and its index in 'records'."""
    text = f'[domains."a.test"]\nrecords = [{record!r}]\n'
    scenario = parse_scenario(text)
    with pytest.raises(ScenarioError) as caught:
        build_zones(scenario)
    assert message in str(caught.value)


def test_cname_with_other_data_is_refused() -> None:
    """A CNAME sharing its name with other records is refused (RFC 1034 §3.6.2)."""
    scenario = parse_scenario('[domains."a.test"]\nrecords = ["x CNAME y", "x TXT \\"t\\""]\n')
    with pytest.raises(ScenarioError, match=r"x\.a\.test\. has a CNAME and other records"):
        build_zones(scenario)


def test_host_outside_every_domain_is_refused() -> None:
    """An MX host whose name is in no scenario domain cannot get its address published."""
    scenario = parse_scenario('[domains."a.test"]\nmx = [{ name = "mx.elsewhere.test." }]\n')
    with pytest.raises(ScenarioError, match=r"host mx\.elsewhere\.test is not inside any domain"):
        build_zones(scenario)


def test_continuation_lines_reuse_the_previous_owner() -> None:
    """A record line starting with white space belongs to the previous record's owner."""
    scenario = parse_scenario('[domains."a.test"]\nrecords = ["w A 127.0.0.1", " TXT \\"t\\""]\n')
    result = build_zones(scenario).resolve(dns.name.from_text("w.a.test"), dns.rdatatype.TXT)
    assert [r.name.to_text() for r in result.answer] == ["w.a.test."]


@given(st.lists(st.text(max_size=60), max_size=4))
def test_any_record_lines_only_raise_scenario_errors(lines: list[str]) -> None:
    """For any record lines, building zones succeeds or raises ScenarioError, nothing else."""
    scenario = Scenario("fuzz", (Domain("a.test", records=tuple(lines)),))
    with contextlib.suppress(ScenarioError):
        build_zones(scenario)
