"""The lab DNS server's answers, without I/O: query bytes in, a reply (bytes and a delay) or
silence out.

:class:`Responder` answers from a :class:`~mailshield.lab.zones.ZoneSet`, applying the scenario's
faults (per name, optionally per type), see :class:`~mailshield.lab.scenario.FaultAction`:
latency, no answer, SERVFAIL, REFUSED, truncation over UDP (TC bit, RFC 1035 §4.2.1, RFC 7766
§5) and filler TXT records making an answer oversized. Answers too big for the client's UDP
payload size (512 bytes, or its EDNS size, RFC 6891 §6.2.5) are truncated with TC set, as any
authoritative server does.

Plain queries are answered from the zones' wire form (:mod:`mailshield.lab.dns_answers`), the
rest through dnspython; every reply is remembered, so a repeated query costs a dictionary lookup.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mailshield.core.dns_wire_codes import CD, RD
from mailshield.lab.dns_answers import WireAnswers
from mailshield.lab.dns_server_wire import read_query
from mailshield.lab.scenario import DnsFault, FaultAction
from mailshield.lab.zones import DEFAULT_TTL, ZoneSet

__all__ = ["Reply", "Responder", "filler_txt"]

_UDP_MIN = 512  # RFC 1035 §4.2.1: UDP answers without EDNS
_UDP_MAX = 4096  # cap an EDNS client's advertised size (RFC 6891 §6.2.5)
_FILLER_STRING = 250  # bytes per filler TXT string
_FILLER_STRINGS = 4  # strings per filler TXT record

_CACHE_SIZE = 100_000  # remembered replies; the cache is emptied when full

FaultKey = tuple[dns.name.Name, dns.rdatatype.RdataType | None]
_K = TypeVar("_K")


class _Miss:
    """Marks a reply not yet computed (``None`` is a valid reply: silence)."""


_MISS = _Miss()


@dataclass(frozen=True, slots=True)
class Reply:
    """Wire bytes to send after ``delay`` seconds."""

    wire: bytes
    delay: float = 0.0


class Responder:
    """Answers queries from a :class:`ZoneSet`, with faults and latency; no I/O.

    Zones and faults are read when the responder is built and replies are remembered, so build
    a new responder after changing either; ``latency`` may change at any time.
    ``wire_answers=False`` renders every reply through dnspython (the reference the fast path
    is tested against); ``prerender`` builds the wire form of every zone now rather than when a
    question first reaches it (:class:`~mailshield.lab.dns_answers.WireAnswers`).
    """

    def __init__(
        self,
        zones: ZoneSet,
        faults: Iterable[DnsFault] = (),
        *,
        latency: float = 0.0,
        wire_answers: bool = True,
        prerender: bool = False,
    ) -> None:
        self.zones = zones
        self.latency = latency
        self._exact: dict[tuple[bytes, bool], Reply | None] = {}
        self._replies: dict[tuple[bytes, int, bool, bool, int], bytes] = {}
        self.faults: dict[FaultKey, DnsFault] = {}
        for fault in faults:
            rdtype = dns.rdatatype.from_text(fault.rdtype) if fault.rdtype else None
            self.faults[(dns.name.from_text(fault.name), rdtype)] = fault
        faulted = frozenset(_lower_wire(name) for name, _ in self.faults)
        self._wire = WireAnswers(zones, faulted, prerender=prerender) if wire_answers else None

    def fault_for(self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> DnsFault | None:
        """The fault for this exact name and type, else the one for the name and every type."""
        if not self.faults:
            return None
        return self.faults.get((qname, rdtype)) or self.faults.get((qname, None))

    def respond(self, wire: bytes, *, tcp: bool) -> Reply | None:
        """The reply to one query received over UDP or TCP; ``None``: stay silent.

        Replies are remembered by the query's bytes after its ID, so a repeated query costs a
        dictionary lookup and the new ID. Every reply waits ``latency`` seconds, plus a fault's
        own latency.
        """
        key = (wire[2:], tcp)
        cached = self._exact.get(key, _MISS)
        if isinstance(cached, _Miss):
            cached = _remember(self._exact, key, self._reply(wire, tcp=tcp))
        if cached is None:
            return None
        return Reply(wire[:2] + cached.wire[2:], self.latency + cached.delay)

    def _reply(self, wire: bytes, *, tcp: bool) -> Reply | None:
        """A plain query (:func:`~mailshield.lab.dns_server_wire.read_query`) is answered from the
        zones' wire form and remembered by what decides its reply, so the same question asked
        in other words (another ID, an AD flag, other EDNS options) is not answered twice: the
        question as sent, the RD and CD flags, EDNS and its DO flag, the size the reply may
        take. Anything else goes through dnspython."""
        query = read_query(wire) if self._wire is not None else None
        if query is not None and self._wire is not None:
            limit = 65535 if tcp else min(max(query.payload, _UDP_MIN), _UDP_MAX)
            key = (query.question, query.flags & (RD | CD), query.edns, query.do, limit)
            body = self._replies.get(key)
            if body is None:
                body = self._wire.answer(query, limit)
            if body is not None:
                return Reply(_remember(self._replies, key, body))
        return self._respond(wire, tcp=tcp)

    def _respond(self, wire: bytes, *, tcp: bool) -> Reply | None:
        """The reply through dnspython, its delay being a fault's latency only."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _format_error(wire)
        if query.flags & dns.flags.QR:
            return None  # a response, not a query: never answer it
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            rcode = dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR
            return Reply(_error(query, rcode).to_wire())
        question = query.question[0]
        fault = self.fault_for(question.name, question.rdtype)
        delay = fault.latency_ms / 1000 if fault else 0.0
        action = fault.action if fault else FaultAction.ANSWER
        if action is FaultAction.TIMEOUT:
            return None
        if action in (FaultAction.SERVFAIL, FaultAction.REFUSED):
            rcode = dns.rcode.SERVFAIL if action is FaultAction.SERVFAIL else dns.rcode.REFUSED
            return Reply(_error(query, rcode).to_wire(), delay)
        if action is FaultAction.TRUNCATE and not tcp:
            return Reply(_truncated(query).to_wire(), delay)
        response = self._answer(query, question, fault)
        return Reply(_render(query, response, tcp=tcp), delay)

    def _answer(
        self, query: dns.message.Message, question: dns.rrset.RRset, fault: DnsFault | None
    ) -> dns.message.Message:
        response = _response_to(query)
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        resolution = self.zones.resolve(question.name, question.rdtype)
        response.set_rcode(resolution.rcode)
        if resolution.authoritative:
            response.flags |= dns.flags.AA
        response.answer.extend(resolution.answer)
        response.authority.extend(resolution.authority)
        oversize = fault is not None and fault.action is FaultAction.OVERSIZE
        if oversize and question.rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            assert fault is not None
            response.set_rcode(dns.rcode.NOERROR)  # the filler makes the name exist
            response.authority.clear()
            response.answer.append(filler_txt(question.name, fault.size))
        return response


def filler_txt(name: dns.name.Name, size: int) -> dns.rrset.RRset:
    """TXT records at ``name`` holding about ``size`` bytes of filler, several strings each."""
    rrset = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.TXT)
    per_record = _FILLER_STRING * _FILLER_STRINGS
    for index in range(max(1, -(-size // per_record))):
        strings = [
            '"' + f"filler-{index:04d}-{part}-".ljust(_FILLER_STRING, "x") + '"'
            for part in range(_FILLER_STRINGS)
        ]
        rrset.add(
            dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, " ".join(strings)),
            DEFAULT_TTL,
        )
    return rrset


_V = TypeVar("_V")


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
    """Store ``value`` under ``key`` (emptying ``cache`` first when it is full); return it."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _lower_wire(name: dns.name.Name) -> bytes:
    wire = name.canonicalize().to_wire()
    assert wire is not None  # without a file, to_wire returns the bytes
    return wire


def _format_error(wire: bytes) -> Reply | None:
    """FORMERR echoing the ID of an unparsable query (RFC 1035 §4.1.1); drop noise."""
    if len(wire) < 12 or wire[2] & 0x80:
        return None
    return Reply(struct.pack("!HHHHHH", struct.unpack("!H", wire[:2])[0], 0x8001, 0, 0, 0, 0))


def _response_to(query: dns.message.Message) -> dns.message.Message:
    """An empty response echoing RD (RFC 1035 §4.1.1), CD (RFC 4035 §3.1.6) and, with EDNS,
    DO (RFC 3225 §3)."""
    response = dns.message.make_response(query)
    response.flags |= query.flags & dns.flags.CD
    if query.edns >= 0 and query.ednsflags & dns.flags.DO:
        response.want_dnssec(True)
    return response


def _error(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    response = _response_to(query)
    response.set_rcode(rcode)
    return response


def _truncated(query: dns.message.Message) -> dns.message.Message:
    """An empty answer with TC set: the client must retry over TCP (RFC 7766 §5)."""
    response = _response_to(query)
    response.flags |= dns.flags.TC | dns.flags.AA
    return response


def _render(query: dns.message.Message, response: dns.message.Message, *, tcp: bool) -> bytes:
    """Wire form; over UDP an answer bigger than the client accepts becomes a TC reply."""
    limit = 65535 if tcp else min(max(query.payload, _UDP_MIN), _UDP_MAX)
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        return _truncated(query).to_wire()
