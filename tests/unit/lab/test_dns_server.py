"""The DNS responder without sockets: any bytes in, a reply or silence out, never an exception."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.dns_server import Responder, filler_txt
from mailshield.lab.scenario import parse_scenario
from mailshield.lab.zones import build_zones

SCENARIO = """
[domains."r.test"]
records = ['@ TXT "hello"']
faults = [
  { name = "quiet", action = "timeout" },
  { name = "late", latency_ms = 250 },
  { name = "big", type = "TXT", action = "oversize", size = 3000 },
]
"""


@pytest.fixture(scope="module")
def responder() -> Responder:
    scenario = parse_scenario(SCENARIO)
    return Responder(build_zones(scenario), scenario.faults, latency=0.02)


def reply_to(
    responder: Responder, query: dns.message.Message, *, tcp: bool = False
) -> dns.message.Message:
    reply = responder.respond(query.to_wire(), tcp=tcp)
    assert reply is not None
    return dns.message.from_wire(reply.wire)


@given(st.binary(max_size=600))
def test_any_bytes_get_a_reply_or_silence(wire: bytes) -> None:
    """For any datagram the responder returns a reply or None and never raises."""
    scenario = parse_scenario(SCENARIO)
    Responder(build_zones(scenario), scenario.faults).respond(wire, tcp=False)


def test_delay_adds_global_and_fault_latency(responder: Responder) -> None:
    """The reply's delay is the lab latency plus the fault's latency."""
    reply = responder.respond(dns.message.make_query("late.r.test", "A").to_wire(), tcp=False)
    assert reply is not None
    assert reply.delay == pytest.approx(0.27)


def test_timeout_fault_is_silence(responder: Responder) -> None:
    """A timeout fault yields no reply at all."""
    assert (
        responder.respond(dns.message.make_query("quiet.r.test", "A").to_wire(), tcp=True) is None
    )


def test_repeated_query_reuses_the_reply_with_its_own_id(responder: Responder) -> None:
    """A repeated question is answered from memory, carrying the new query's ID."""
    first, second = (dns.message.make_query("r.test", "TXT") for _ in range(2))
    second.id = (first.id + 1) % 65536
    assert reply_to(responder, first).id == first.id
    again = reply_to(responder, second)
    assert again.id == second.id
    assert again.answer == reply_to(responder, first).answer


def test_responses_are_never_answered(responder: Responder) -> None:
    """A message with QR set is a response, and gets no reply (no reflection loops)."""
    response = dns.message.make_response(dns.message.make_query("r.test", "TXT"))
    assert responder.respond(response.to_wire(), tcp=False) is None


def test_other_opcodes_get_notimp(responder: Responder) -> None:
    """A NOTIFY or UPDATE is answered NOTIMP: the lab zones are read-only here."""
    query = dns.message.make_query("r.test", "SOA")
    query.set_opcode(dns.opcode.NOTIFY)
    assert reply_to(responder, query).rcode() == dns.rcode.NOTIMP


def test_rd_is_echoed_and_ra_is_not_set(responder: Responder) -> None:
    """An authoritative server copies RD and never claims recursion (RFC 1035 §4.1.1)."""
    response = reply_to(responder, dns.message.make_query("r.test", "TXT"))
    assert response.flags & dns.flags.RD
    assert not response.flags & dns.flags.RA


def test_filler_holds_at_least_the_requested_bytes() -> None:
    """The oversize filler carries at least the requested number of bytes, in several records."""
    rrset = filler_txt(dns.name.from_text("x.test"), 3000)
    assert sum(len(s) for rdata in rrset for s in rdata.strings) >= 3000  # type: ignore[attr-defined]
    assert len(rrset) > 1


def test_latency_change_applies_to_remembered_replies() -> None:
    """A reply already remembered waits the latency in force when the query arrives."""
    scenario = parse_scenario(SCENARIO)
    responder = Responder(build_zones(scenario), scenario.faults, latency=0.02)
    wire = dns.message.make_query("r.test", "TXT").to_wire()
    assert (first := responder.respond(wire, tcp=False)) is not None
    responder.latency = 0.05
    assert (second := responder.respond(wire, tcp=False)) is not None
    assert first.delay == pytest.approx(0.02)
    assert second.delay == pytest.approx(0.05)


@pytest.mark.parametrize("name", ["r.test", "missing.r.test", "big.r.test"], ids=str)
def test_cd_and_do_are_echoed(responder: Responder, name: str) -> None:
    """CD (RFC 4035 §3.1.6) and DO (RFC 3225 §3) come back as the query set them."""
    query = dns.message.make_query(name, "TXT", use_edns=0, want_dnssec=True, payload=512)
    query.flags |= dns.flags.CD
    response = reply_to(responder, query)
    assert response.flags & dns.flags.CD
    assert response.ednsflags & dns.flags.DO
