"""One UDP socket to one DNS server, shared by the concurrent queries of a DNS client.

Opening a socket (and an asyncio transport) for every query costs CPU and, worse for latency, a
few event-loop turns before the query leaves: a query that follows an answer (the MX hosts'
addresses after the MX answer) waits behind whatever else the loop is doing. A channel opens one
connected socket when the first query waits and keeps it while any query waits, so a follow-up
query is sent at once. Each datagram goes to the query whose ID it carries (RFC 1035 §4.1.1); a
datagram that does not answer that query's question (``Message.is_response``) is dropped and the
query keeps waiting, as dnspython does with ``ignore_unexpected``. IDs are random and never
shared by two waiting queries (RFC 5452 §9.2). The socket is closed as soon as no query waits,
so a channel never outlives its work.

Failures are raised as dnspython's query functions raise them: ``dns.exception.Timeout``,
``OSError`` (e.g. an ICMP port unreachable on the connected socket, RFC 1122 §4.1.3.3) or a
``dns.exception.DNSException`` for a datagram that does not parse.
"""

from __future__ import annotations

import asyncio
import secrets

import dns.exception
import dns.message

__all__ = ["UdpChannel"]

_ID_SPACE = 1 << 16


class UdpChannel:
    """Queries to ``address:port`` over one shared, connected UDP socket."""

    def __init__(self, address: str, port: int) -> None:
        self._remote = (address, port)
        self._waiting: dict[int, asyncio.Future[bytes]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._opening: asyncio.Future[asyncio.DatagramTransport] | None = None

    @property
    def is_open(self) -> bool:
        """Whether the socket is open (it is only while a query waits)."""
        return self._transport is not None

    async def exchange(self, query: dns.message.Message, seconds: float) -> dns.message.Message:
        """Send ``query`` (its ID is replaced) and return the response to it within ``seconds``."""
        query_id = self._free_id()
        query.id = query_id
        wire = query.to_wire()
        arrival = self._wait_for(query_id)
        try:
            async with asyncio.timeout(seconds):
                transport = self._transport or await self._open()
                transport.sendto(wire)
                while True:
                    response = dns.message.from_wire(await arrival)
                    if query.is_response(response):
                        return response
                    arrival = self._wait_for(query_id)  # not ours: keep waiting
        except TimeoutError:
            raise dns.exception.Timeout(timeout=seconds) from None  # type: ignore[no-untyped-call]
        finally:
            self._waiting.pop(query_id, None)
            if not self._waiting:
                self._close()

    def _free_id(self) -> int:
        if len(self._waiting) >= _ID_SPACE:
            raise OSError("every DNS message ID of the channel is in use")
        while (query_id := secrets.randbelow(_ID_SPACE)) in self._waiting:
            pass
        return query_id

    def _wait_for(self, query_id: int) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[query_id] = future
        return future

    async def _open(self) -> asyncio.DatagramTransport:
        """The socket, opened once however many queries ask for it at the same time."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._connect())
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        finally:
            if opening.done() and self._opening is opening:
                self._opening = None

    async def _connect(self) -> asyncio.DatagramTransport:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), remote_addr=self._remote
        )
        self._transport = transport
        if not self._waiting:  # every query gave up while the socket was opening
            self._close()
        return transport

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def deliver(self, data: bytes) -> None:
        """Hand a received datagram to the query waiting for its ID (others are dropped)."""
        if len(data) < 2:
            return
        future = self._waiting.get(int.from_bytes(data[:2], "big"))
        if future is not None and not future.done():
            future.set_result(data)

    def fail(self, exc: Exception) -> None:
        """The socket reported an error (ICMP): every waiting query fails with it."""
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(exc)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, channel: UdpChannel) -> None:
        self._channel = channel

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._channel.deliver(data)

    def error_received(self, exc: Exception) -> None:
        self._channel.fail(exc)
