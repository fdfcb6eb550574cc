"""``python -m bench.checker.dns_codec``: CPU per DNS query, the checker's codec against dnspython.

A micro-benchmark, not a test. For three typical answers (an MX RRset, a TXT RRset with an SPF
record, an NXDOMAIN with the zone's SOA) it times, in microseconds per call:

- ``encode``: building the query's octets (dnspython: ``make_query`` with EDNS, DO and AD, then
  ``to_wire``; ours: ``encode_query``, then patching in the ID as the UDP channel does);
- ``decode``: reading the response (``dns.message.from_wire`` / ``decode_message``);
- ``probe``: what the probe does per query besides I/O: build the query, read the response,
  match it to the query, find the RRset and turn it into observation values.

Each figure is the best of several rounds (the least disturbed by other work on the machine).
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.TXT import TXT

from mailshield.core.dns_wire import (
    Question,
    decode_message,
    encode_query,
    is_response_to,
    name_from_text,
    with_id,
)
from mailshield.core.observations import MxRecord
from mailshield.probes.dns_answer import read_response

DOMAIN = "example-mail.com"
SOA = f"ns1.{DOMAIN}. hostmaster.{DOMAIN}. 2024010101 7200 3600 1209600 300"
SPF = '"v=spf1 ip4:192.0.2.0/24 include:_spf.google.com include:mailgun.org ~all"'
ANSWERS = {  # name: (qname, qtype, answer lines, rcode, authority lines)
    "MX": (DOMAIN, "MX", [f"10 mx1.{DOMAIN}.", f"20 mx2.{DOMAIN}.", "30 mx.backup.net."], 0, []),
    "TXT+SPF": (DOMAIN, "TXT", [SPF, '"google-site-verification=0123456789abcdef"'], 0, []),
    "NXDOMAIN+SOA": (f"_mta-sts.{DOMAIN}", "TXT", [], 3, [SOA]),
}


def dnspython_query(qname: str, qtype: str) -> bytes:
    """The query as the probe built it with dnspython."""
    query = dns.message.make_query(qname, qtype, use_edns=0, want_dnssec=True, payload=1232)
    query.flags |= dns.flags.AD
    return query.to_wire()


def our_query(qname: str, qtype: int) -> bytes:
    """The query as the probe builds it now: once per question, then the ID patched in."""
    return with_id(encode_query(name_from_text(qname), qtype, query_id=0), 0x1234)


def response_wire(name: str) -> bytes:
    """A resolver's response for one of :data:`ANSWERS`, with EDNS as resolvers send it."""
    qname, qtype, lines, rcode, authority = ANSWERS[name]
    query = dns.message.make_query(qname, qtype, use_edns=0, want_dnssec=True, payload=1232)
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode.make(rcode))
    if lines:
        response.answer.append(dns.rrset.from_text_list(f"{qname}.", 300, "IN", qtype, lines))
    if authority:
        response.authority.append(
            dns.rrset.from_text_list(f"{DOMAIN}.", 300, "IN", "SOA", authority)
        )
    return response.to_wire()


def dnspython_probe(qname: str, qtype: str, wire: bytes) -> object:
    """Build, read, match and convert as the probe did with dnspython."""
    query = dns.message.make_query(qname, qtype, use_edns=0, want_dnssec=True, payload=1232)
    query.flags |= dns.flags.AD
    query.to_wire()
    response = dns.message.from_wire(wire)
    response.id = query.id
    query.is_response(response)
    name, rdtype = query.question[0].name, query.question[0].rdtype
    rrset = response.get_rrset(response.answer, name, dns.rdataclass.IN, rdtype)
    if rrset is None:
        return any(r.rdtype == dns.rdatatype.SOA for r in response.authority)
    return tuple(_value(rdata) for rdata in rrset)


def _value(rdata: object) -> object:
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings)
    if isinstance(rdata, MX):
        return MxRecord(rdata.preference, rdata.exchange.to_text(omit_final_dot=True).lower())
    return str(rdata)


def our_probe(qname: str, qtype: int, wire: bytes) -> object:
    """Build, read, match and convert as the probe does now."""
    name_wire = name_from_text(qname)
    query = with_id(encode_query(name_wire, qtype, query_id=0), 0x1234)
    response = decode_message(query[:2] + wire[2:])
    is_response_to(response, 0x1234, Question(qname.lower(), qtype))
    return read_response(response, qname.lower(), qtype)


def best_microseconds(call: Callable[[], object], rounds: int, number: int) -> float:
    """The fastest of ``rounds`` timings of ``number`` calls, per call, in µs."""
    return min(timeit.repeat(call, number=number, repeat=rounds)) / number * 1e6


def measure(name: str, rounds: int, number: int) -> list[tuple[str, float, float]]:
    """(step, dnspython µs, ours µs) for one of :data:`ANSWERS`."""
    qname, qtype_text, *_ = ANSWERS[name]
    qtype = dns.rdatatype.from_text(qtype_text)
    wire = response_wire(name)
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "encode": (lambda: dnspython_query(qname, qtype_text), lambda: our_query(qname, qtype)),
        "decode": (lambda: dns.message.from_wire(wire), lambda: decode_message(wire)),
        "probe": (
            lambda: dnspython_probe(qname, qtype_text, wire),
            lambda: our_probe(qname, qtype, wire),
        ),
    }
    return [
        (step, best_microseconds(theirs, rounds, number), best_microseconds(ours, rounds, number))
        for step, (theirs, ours) in pairs.items()
    ]


def main() -> None:
    """Print one table row per answer and step."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'answer':14} {'step':7} {'dnspython µs':>13} {'ours µs':>8} {'speed-up':>9}")
    for name in ANSWERS:
        for step, slow, fast in measure(name, args.rounds, args.number):
            print(f"{name:14} {step:7} {slow:13.1f} {fast:8.1f} {slow / fast:8.1f}x")


if __name__ == "__main__":
    main()
