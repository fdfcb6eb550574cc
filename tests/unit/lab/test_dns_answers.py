"""The wire-form answers against dnspython's: the same reply for every question, flag and size.

dnspython shuffles the records of an RRset as it renders them, so replies with such RRsets are
compared as the header bytes and the parsed message (RRsets compare as sets); the others byte for
byte (same name compression).
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailshield.lab.dns_answers import WireAnswers
from mailshield.lab.dns_server import Reply, Responder
from mailshield.lab.dns_server_wire import read_query
from mailshield.lab.scenario import parse_scenario
from mailshield.lab.zones import build_zones

SCENARIO = f"""
[domains."a.test"]
records = [
  '@ TXT "v=spf1 " "mx -all"',
  '@ TXT "google-site-verification=x"',
  '@ CAA 0 issue "ca.test"',
  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:d@b.test"',
  '_mta-sts CNAME _mta-sts.b.test.',
  'hop1 CNAME hop2',
  'hop2 CNAME hop3.b.test.',
  'deep.under.ent 600 IN TXT "deep"',
  '_25._tcp.mx1 TLSA 3 1 1 {"ab" * 32}',
  'ptr PTR mx1.a.test.',
  'srv SRV 0 5 25 mx1.a.test.',
  'big TXT "{"x" * 250}" "{"y" * 250}"',
  'big TXT "{"z" * 250}"',
  'sub NS ns.b.test.',
  '@ MX 5 mx.b.test.',
]
mx = [{{ name = "mx1", addresses = ["127.0.1.10", "::1"] }}]
mta_sts = {{ addresses = ["127.0.1.80"] }}
faults = [
  {{ name = "slow", latency_ms = 5 }},
  {{ name = "_dmarc", type = "TXT", action = "servfail" }},
]

[domains."b.test"]
records = [
  '@ SOA ns.b.test. admin.example. 7 3600 600 86400 60',
  '_mta-sts TXT "v=STSv1; id=1"',
  'hop3 TXT "end of chain"',
  'mx A 127.0.1.11',
]

[domains."c.sub.a.test"]
records = ['x A 127.0.1.98']
"""

_SCENARIO = parse_scenario(SCENARIO)
FAST = Responder(build_zones(_SCENARIO), _SCENARIO.faults)
PRERENDERED = Responder(build_zones(_SCENARIO), _SCENARIO.faults, prerender=True)
REFERENCE = Responder(build_zones(_SCENARIO), _SCENARIO.faults, wire_answers=False)
ANSWERS = WireAnswers(build_zones(_SCENARIO))

NAMES = [
    "a.test",
    "_dmarc.a.test",
    "_mta-sts.a.test",
    "hop1.a.test",
    "under.ent.a.test",
    "deep.under.ent.a.test",
    "_25._tcp.mx1.a.test",
    "mx1.a.test",
    "mta-sts.a.test",
    "ptr.a.test",
    "srv.a.test",
    "big.a.test",
    "sub.a.test",
    "x.c.sub.a.test",
    "c.sub.a.test",
    "slow.a.test",
    "google._domainkey.a.test",
    "b.test",
    "mx.b.test",
    "ns.b.test",
    "test",
    "nothing.test",
    "example.org",
    ".",
]
TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "TLSA", "PTR", "SRV", "CAA", "ANY", "DS"]


def _case(name: str, flips: list[bool]) -> str:
    """``name`` with the letters whose flip is True in upper case (DNS names ignore case)."""
    flips = flips + [False] * len(name)
    return "".join(c.upper() if flip else c for c, flip in zip(name, flips, strict=False))


@st.composite
def queries(draw: st.DrawFn) -> bytes:
    """A query a resolver could send: any lab name in any case, any type, flags and EDNS size."""
    name = _case(draw(st.sampled_from(NAMES)), draw(st.lists(st.booleans(), max_size=30)))
    edns = draw(st.booleans())
    sizes = st.sampled_from([0, 100, 512, 513, 700, 1232, 4096, 65535]) | st.integers(0, 65535)
    payload = draw(sizes)
    query = dns.message.make_query(
        name,
        draw(st.sampled_from(TYPES)),
        use_edns=0 if edns else False,
        payload=payload,
        want_dnssec=edns and draw(st.booleans()),
    )
    for flag in (dns.flags.RD, dns.flags.CD, dns.flags.AD):
        query.flags = query.flags | flag if draw(st.booleans()) else query.flags & ~flag
    query.id = draw(st.integers(0, 65535))
    return query.to_wire()


def _same(fast: Reply | None, reference: Reply | None) -> bool:
    if fast is None or reference is None:
        return fast is reference
    mine, theirs = dns.message.from_wire(fast.wire), dns.message.from_wire(reference.wire)
    return (
        fast.wire[:12] == reference.wire[:12]
        and mine == theirs
        and (mine.edns, mine.ednsflags) == (theirs.edns, theirs.ednsflags)
        and mine.payload == theirs.payload
        and fast.delay == reference.delay
        and (fast.wire == reference.wire or any(len(r) > 1 for r in mine.sections[1]))
    )


@settings(max_examples=600)
@given(queries(), st.booleans())
def test_fast_replies_are_dnspythons(wire: bytes, tcp: bool) -> None:
    """For any question, flags and size, the responder sends what dnspython renders, whether
    its zones were indexed at start or on first use."""
    reference = REFERENCE.respond(wire, tcp=tcp)
    assert _same(FAST.respond(wire, tcp=tcp), reference)
    assert _same(PRERENDERED.respond(wire, tcp=tcp), reference)


COMMON = [
    pytest.param("a.test", "MX", dns.rcode.NOERROR, 2, 0, id="mx"),
    pytest.param("a.test", "TXT", dns.rcode.NOERROR, 2, 0, id="txt-two-records"),
    pytest.param("mx1.a.test", "AAAA", dns.rcode.NOERROR, 1, 0, id="aaaa"),
    pytest.param("mx1.a.test", "TXT", dns.rcode.NOERROR, 0, 1, id="nodata"),
    pytest.param("s1._domainkey.a.test", "TXT", dns.rcode.NXDOMAIN, 0, 1, id="nxdomain"),
    pytest.param("under.ent.a.test", "TXT", dns.rcode.NOERROR, 0, 1, id="empty-non-terminal"),
    pytest.param("_25._tcp.mx1.a.test", "TLSA", dns.rcode.NOERROR, 1, 0, id="tlsa"),
    pytest.param("b.test", "SOA", dns.rcode.NOERROR, 1, 0, id="soa"),
    pytest.param("example.org", "A", dns.rcode.REFUSED, 0, 0, id="not-served"),
]


@pytest.mark.parametrize(("name", "rdtype", "rcode", "answers", "authority"), COMMON)
def test_common_questions_take_the_fast_path(
    name: str, rdtype: str, rcode: dns.rcode.Rcode, answers: int, authority: int
) -> None:
    """The questions checkers ask are answered from the wire index, with the expected sections."""
    query = dns.message.make_query(name, rdtype, use_edns=0, want_dnssec=True, payload=1232)
    plain = read_query(query.to_wire())
    assert plain is not None
    wire = ANSWERS.answer(plain, 1232)
    assert wire is not None
    reply = dns.message.from_wire(wire)
    records = (sum(len(r) for r in reply.answer), sum(len(r) for r in reply.authority))
    assert (reply.rcode(), *records) == (rcode, answers, authority)
    assert reply.ednsflags & dns.flags.DO


SLOW = [
    pytest.param("hop1.a.test", "A", 1232, id="cname-to-follow"),
    pytest.param("a.test", "ANY", 1232, id="any"),
    pytest.param("srv.a.test", "SRV", 1232, id="srv-data-not-rendered-here"),
    pytest.param("big.a.test", "TXT", 512, id="too-big-for-the-client"),
]


@pytest.mark.parametrize(("name", "rdtype", "limit"), SLOW)
def test_other_questions_are_left_to_dnspython(name: str, rdtype: str, limit: int) -> None:
    """CNAME chains, ANY, unhandled record data and oversized replies return None."""
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=limit)
    plain = read_query(query.to_wire())
    assert plain is not None
    assert ANSWERS.answer(plain, limit) is None


def test_faulted_names_are_left_to_dnspython() -> None:
    """A name with a scenario fault is never answered from the wire index."""
    answers = WireAnswers(build_zones(_SCENARIO), frozenset({b"\x04slow\x01a\x04test\x00"}))
    plain = read_query(dns.message.make_query("SLOW.a.test", "A").to_wire())
    assert plain is not None
    assert answers.answer(plain, 512) is None
