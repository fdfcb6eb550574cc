"""Planning the lab's DNSSEC: which zones Knot serves, where DS records go, which are anchors."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.dnssec_plan import DnssecPlan, LabZone, plan_dnssec

KNOT = "127.0.3.4"
PLAIN = "127.0.3.6"


def text(ns_address: str = KNOT) -> str:
    """Minimal zone text with an in-zone name server and its glue."""
    return f"$TTL 300\n@ SOA ns1 h 1 3600 600 86400 60\n@ NS ns1\nns1 A {ns_address}\n"


def names(*texts: str) -> tuple[dns.name.Name, ...]:
    """Names from text, in order."""
    return tuple(dns.name.from_text(t) for t in texts)


def plan(*zones: LabZone) -> DnssecPlan:
    """The plan for ``zones`` with the test addresses."""
    return plan_dnssec(zones, knot_host=KNOT, plain_host=PLAIN)


@pytest.mark.parametrize(
    ("zones", "knot", "links", "anchors"),
    [
        (
            [LabZone("signed.test", text(), signed=True)],
            ["signed.test.", "test."],
            [("signed.test.", "test.")],
            ["test."],
        ),
        (
            [LabZone("test", text(), signed=True), LabZone("a.test", text(), signed=True)],
            ["test.", "a.test."],
            [("a.test.", "test.")],
            ["test."],
        ),
        (
            [LabZone("plain.test"), LabZone("s.plain.test", text(), signed=True)],
            ["s.plain.test."],
            [],
            ["s.plain.test."],
        ),
        ([LabZone("example", text(), signed=True)], ["example."], [], ["example."]),
        ([LabZone("a.test"), LabZone("b.test")], [], [], []),
        (
            [LabZone("x.one.test", text(), signed=True), LabZone("y.two.test", text(), bogus=True)],
            ["x.one.test.", "y.two.test.", "one.test.", "two.test."],
            [("x.one.test.", "one.test."), ("y.two.test.", "two.test.")],
            ["one.test.", "two.test."],
        ),
    ],
    ids=[
        "missing-parent-is-synthesised",
        "signed-parent-given-gets-the-ds",
        "plain-parent-makes-an-island-anchor",
        "top-level-zone-is-its-own-anchor",
        "plain-only-needs-no-knot",
        "one-parent-per-family",
    ],
)
def test_chains(
    zones: list[LabZone], knot: list[str], links: list[tuple[str, str]], anchors: list[str]
) -> None:
    """Knot's zones, DS links and trust anchors follow the rules of the module docstring."""
    result = plan(*zones)
    assert [z.origin for z in result.knot_zones] == list(names(*knot))
    assert list(result.links) == [names(*link) for link in links]
    assert list(result.anchors) == list(names(*anchors))


def test_bogus_zones_are_signed_on_knot_and_marked() -> None:
    """A bogus zone is served signed by Knot and listed as bogus."""
    result = plan(LabZone("b.test", text(), bogus=True))
    served = {z.origin: z for z in result.knot_zones}
    assert served[dns.name.from_text("b.test")].signed
    assert result.bogus == frozenset(names("b.test"))


def test_synthesised_parent_delegates_to_every_child() -> None:
    """The synthesised parent is a valid signed zone delegating to plain and signed children,
    with glue from the child's own NS (or a lab name server at the plain server's address)."""
    result = plan(LabZone("s.test", text(), signed=True), LabZone("p.test"))
    parent = next(z for z in result.knot_zones if z.origin == dns.name.from_text("test"))
    assert parent.signed
    zone = parent.parse()
    ns = dns.rdatatype.NS
    assert [r.target.to_text() for r in zone.find_rdataset("s.test.", ns)] == ["ns1.s.test."]
    assert [r.to_text() for r in zone.find_rdataset("ns1.s.test.", dns.rdatatype.A)] == [KNOT]
    assert [r.target.to_text() for r in zone.find_rdataset("p.test.", ns)] == ["lab-ns.p.test."]
    assert [r.to_text() for r in zone.find_rdataset("lab-ns.p.test.", dns.rdatatype.A)] == [PLAIN]
    assert result.plain_zones == names("p.test")


def test_invalid_zone_text_names_the_zone() -> None:
    """Zone text that does not parse is reported with the zone's name."""
    with pytest.raises(ValueError, match=r"s\.test"):
        plan(LabZone("s.test", "not a zone", signed=True), LabZone("p.test"))


LABELS = st.sampled_from(["a", "b", "c"])
ZONE_NAMES = st.lists(LABELS, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "test"]))
FLAGS = st.sampled_from(["plain", "signed", "bogus"])


@given(st.dictionaries(ZONE_NAMES, FLAGS, max_size=6))
def test_every_knot_zone_reaches_a_trust_anchor(zones: dict[str, str]) -> None:
    """Following DS links upward from any zone on Knot always ends at a trust anchor."""
    lab_zones = [
        LabZone(name, text() if flag != "plain" else "", flag == "signed", flag == "bogus")
        for name, flag in zones.items()
    ]
    result = plan(*lab_zones)
    parent_of = dict(result.links)
    knot_names = {z.origin for z in result.knot_zones}
    for zone in knot_names:
        seen = zone
        while seen in parent_of:
            seen = parent_of[seen]
            assert seen in knot_names
        assert seen in result.anchors
