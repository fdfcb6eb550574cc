"""The lab's authoritative DNS server: asyncio, UDP and TCP, every zone served from memory.

:class:`DnsServer` moves bytes between the sockets and a
:class:`~mailshield.lab.dns_responder.Responder` (the answers, faults and latency; re-exported
here with :class:`Reply` and :func:`filler_txt`). A delayed answer is scheduled on the event loop,
never slept inline, so latency does not serialise queries. The server only answers; it never
sends a query anywhere.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from types import TracebackType
from typing import cast

from mailshield.lab.dns_responder import Reply, Responder, filler_txt

__all__ = ["DnsServer", "Reply", "Responder", "filler_txt"]

_TCP_IDLE = 30.0  # seconds a TCP client may stay silent (RFC 7766 §6.2.3)


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
