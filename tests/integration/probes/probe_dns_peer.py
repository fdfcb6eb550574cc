"""A tiny in-test DNS server (UDP and TCP on one port) whose answers a test function decides."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

Reply = dns.message.Message | bytes | None  # None: stay silent (the client times out)
Handler = Callable[[dns.message.Message, str], Reply]  # (query, "udp" | "tcp") -> reply


@dataclass(frozen=True)
class Seen:
    """One query as the server received it."""

    transport: str
    name: str
    rdtype: str
    flags: int
    ednsflags: int
    payload: int

    @property
    def checking_disabled(self) -> bool:
        return bool(self.flags & dns.flags.CD)


def reply(
    query: dns.message.Message,
    *answer: str,
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    authority: tuple[str, ...] = (),
    ad: bool = False,
    ede: dns.edns.EDECode | None = None,
    truncated: bool = False,
) -> dns.message.Message:
    """A response to ``query`` with answer RRsets given as zone-file lines."""
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    response.answer.extend(_rrsets(answer))
    response.authority.extend(_rrsets(authority))
    if ad:
        response.flags |= dns.flags.AD
    if truncated:
        response.flags |= dns.flags.TC
    if ede is not None:
        response.use_edns(0, options=[dns.edns.EDEOption(ede, "test")])
    return response


def _rrsets(lines: tuple[str, ...]) -> list[dns.rrset.RRset]:
    """Group zone-file lines into RRsets by owner and type, keeping their order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        owner, ttl, klass, rdtype, rdata = line.split(None, 4)
        grouped.setdefault((owner, rdtype), []).append(rdata)
        del ttl, klass
    return [dns.rrset.from_text_list(o, 300, "IN", t, r) for (o, t), r in grouped.items()]


@dataclass
class DnsPeer:
    """The server: call :meth:`start`, point a client at :attr:`address`, read :attr:`seen`."""

    handler: Handler
    host: str = "127.0.4.1"
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def count(self, name: str | None = None, transport: str | None = None) -> int:
        return sum(
            1
            for s in self.seen
            if (name is None or s.name == name) and (transport is None or s.transport == transport)
        )

    async def start(self) -> DnsPeer:
        """Bind UDP on a free port, then TCP on the same port (retrying if it is taken)."""
        loop = asyncio.get_running_loop()
        for _ in range(20):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, 0)
            )
            self.port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
            except OSError as exc:
                udp.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            self._udp = udp
            return self
        raise RuntimeError("no free port pair for the DNS peer")

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        self.seen.append(
            Seen(
                transport,
                question.name.to_text(omit_final_dot=True).lower(),
                dns.rdatatype.to_text(question.rdtype),
                query.flags,
                query.ednsflags,
                query.payload,
            )
        )
        response = self.handler(query, transport)
        if response is None or isinstance(response, bytes):
            return response
        return response.to_wire()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                response = self.answer(await reader.readexactly(length), "tcp")
                if response is not None:
                    writer.write(struct.pack("!H", len(response)) + response)
                    await writer.drain()
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, peer: DnsPeer) -> None:
        self._peer = peer
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        response = self._peer.answer(data, "udp")
        if response is not None and self._transport is not None:
            self._transport.sendto(response, addr)


StartDnsPeer = Callable[[Handler], Awaitable[DnsPeer]]  # the ``dns_peer`` fixture
