"""The lab's authoritative DNS server: asyncio, UDP and TCP, every zone served from memory.

:class:`Responder` turns a query's wire bytes into a :class:`Reply` (wire bytes and a delay) or
``None`` (no answer), applying the scenario's faults; :class:`DnsServer` moves bytes between the
sockets and the responder. A delayed answer is scheduled on the event loop, never slept inline, so
latency does not serialise queries. The server only answers; it never sends a query anywhere.

Faults (per name, optionally per type), see :class:`~mailshield.lab.scenario.FaultAction`:
latency, no answer, SERVFAIL, REFUSED, truncation over UDP (TC bit, RFC 1035 §4.2.1, RFC 7766
§5) and filler TXT records making an answer oversized. Answers too big for the client's UDP
payload size (512 bytes, or its EDNS size, RFC 6891 §6.2.5) are truncated with TC set, as any
authoritative server does.
"""

from __future__ import annotations

import asyncio
import errno
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mailshield.lab.dns_answers import WireAnswers
from mailshield.lab.dns_server_wire import CD, RD, read_query
from mailshield.lab.scenario import DnsFault, FaultAction
from mailshield.lab.zones import DEFAULT_TTL, ZoneSet

_UDP_MIN = 512  # RFC 1035 §4.2.1: UDP answers without EDNS
_UDP_MAX = 4096  # cap an EDNS client's advertised size (RFC 6891 §6.2.5)
_TCP_IDLE = 30.0  # seconds a TCP client may stay silent (RFC 7766 §6.2.3)
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


# -- the network side ------------------------------------------------------------------------------


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._server.counts["udp"] += 1
        reply = self._server.responder.respond(data, tcp=False)
        if reply is None or self.transport is None:
            return
        if reply.delay > 0:
            self._server.schedule(reply.delay, self._send, reply.wire, addr)
        else:
            self.transport.sendto(reply.wire, addr)

    def _send(self, wire: bytes, addr: tuple[str | int, ...]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(wire, addr)


class _TcpProtocol(asyncio.Protocol):
    """One TCP connection: length-prefixed queries (RFC 1035 §4.2.2), several per connection,
    each answered when ready (RFC 7766 §6.2.1.1 allows out-of-order answers). Delayed answers
    are still sent when the client stops sending; a connection silent for ``_TCP_IDLE`` seconds
    is closed (RFC 7766 §6.2.3). Callbacks only: no task per connection or per query."""

    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._waiting = 0  # delayed answers not yet sent
        self._done = False  # the client stopped sending, or went idle
        self._idle: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._server.tcp_connections.add(self)
        self._rearm()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._rearm()
        while len(self._buffer) >= 2:
            end = 2 + int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < end:
                break
            wire = bytes(self._buffer[2:end])
            del self._buffer[:end]
            self._query(wire)

    def eof_received(self) -> bool:
        self._finish()
        return True  # keep the transport open for delayed answers; _finish closes it

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._server.tcp_connections.discard(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _query(self, wire: bytes) -> None:
        self._server.counts["tcp"] += 1
        reply = self._server.responder.respond(wire, tcp=True)
        if reply is None:
            return
        if reply.delay > 0:
            self._waiting += 1
            self._server.schedule(reply.delay, self._send_later, reply.wire)
        else:
            self._send(reply.wire)

    def _send_later(self, wire: bytes) -> None:
        self._waiting -= 1
        self._send(wire)
        if self._done and not self._waiting:
            self.close()

    def _send(self, wire: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(len(wire).to_bytes(2, "big") + wire)

    def _finish(self) -> None:
        self._done = True
        if not self._waiting:
            self.close()

    def _rearm(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(_TCP_IDLE, self._finish)


class DnsServer:
    """The responder on ``host:port`` over UDP and TCP (port 0: one free port for both).

    Use as ``async with DnsServer(...) as server:``; ``server.address`` is where it listens.
    """

    def __init__(
        self,
        responder: Responder,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.responder = responder
        self._host, self._port = host, port
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_protocol: _UdpProtocol | None = None
        self._tcp: asyncio.Server | None = None
        self._pending: set[asyncio.TimerHandle] = set()
        self.tcp_connections: set[_TcpProtocol] = set()
        self.counts = {"udp": 0, "tcp": 0}

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (the real port once started)."""
        return self._host, self._port

    async def start(self) -> None:
        """Bind UDP and TCP on the same port; PermissionError for a privileged port as non-root."""
        requested = self._port
        for _ in range(20):
            await self._bind_udp(requested)
            try:
                self._tcp = await asyncio.get_running_loop().create_server(
                    lambda: _TcpProtocol(self), self._host, self._port
                )
                return
            except OSError as exc:
                await self.close()
                if exc.errno != errno.EADDRINUSE or requested != 0:
                    raise
        raise OSError(errno.EADDRINUSE, f"no port free for both UDP and TCP on {self._host}")

    async def _bind_udp(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self._host, port)
        )
        self._udp, self._udp_protocol = transport, protocol
        self._port = transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        """Stop listening, drop scheduled answers and close open TCP connections."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._udp is not None and self._udp_protocol is not None:
            self._udp.close()
            await self._udp_protocol.closed  # the socket is released a loop turn later
            self._udp = self._udp_protocol = None
        if self._tcp is not None:
            self._tcp.close()
            for connection in list(self.tcp_connections):
                connection.close()
            await self._tcp.wait_closed()
            self._tcp = None

    async def stop(self) -> None:
        """The same as :meth:`close`."""
        await self.close()

    async def __aenter__(self) -> DnsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def schedule(self, delay: float, callback: Callable[..., None], *args: object) -> None:
        """Run ``callback(*args)`` after ``delay`` seconds, without blocking other queries."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._pending.discard(handle)
            callback(*args)

        handle = loop.call_later(delay, fire)
        self._pending.add(handle)
