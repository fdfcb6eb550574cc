"""One UDP socket to one DNS server, shared by the concurrent queries of a DNS client.

Opening a socket and an asyncio transport for every query costs CPU and, worse for latency, a
few event-loop turns before the query leaves, so a query that follows an answer (the MX hosts'
addresses after the MX answer) waits behind whatever else the loop is doing. A channel keeps one
connected, non-blocking socket while any query waits, watched with ``loop.add_reader``, and sends
each query the moment it is asked. Each datagram goes to the query whose ID it carries (RFC 1035
§4.1.1) and is decoded once (:mod:`mailshield.core.dns_wire`); a datagram that does not answer
that query's question (:func:`~mailshield.core.dns_wire.is_response_to`, RFC 5452 §9.1) is
dropped and the query keeps waiting. IDs are random and never shared by two waiting queries
(RFC 5452 §9.2). The socket is closed as soon as no query waits, so a channel never outlives
its work.

Failures are raised: ``TimeoutError``, ``OSError`` (e.g. an ICMP port unreachable on the
connected socket, RFC 1122 §4.1.3.3) or :class:`~mailshield.core.dns_wire.WireError` for a
datagram with the query's ID that does not parse.
"""

from __future__ import annotations

import asyncio
import heapq
import ipaddress
import itertools
import math
import os
import socket
from collections import deque

from mailshield.core.dns_wire import (
    Question,
    WireMessage,
    decode_message,
    is_response_to,
    with_id,
)

__all__ = ["UdpChannel"]

_ID_SPACE = 1 << 16
_MAX_QUEUED = 16  # datagrams kept for one waiting query; more are dropped
_IDS_PER_READ = 512
_EARLY = 0.001  # a sweep may run this much before a deadline (libuv's timers count milliseconds)


class _RandomIds:
    """Unpredictable 16-bit message IDs (RFC 5452 §9.2) from the OS's CSPRNG, read 512 at a
    time: one ``getrandom`` call per query cost more than the rest of choosing an ID. A forked
    child forgets the IDs it inherited, so no two processes ever use the same ones."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: list[int] = []
        os.register_at_fork(after_in_child=self._ids.clear)

    def next(self) -> int:
        if not self._ids:
            pool = os.urandom(2 * _IDS_PER_READ)
            self._ids.extend(int.from_bytes(pool[i : i + 2], "big") for i in range(0, len(pool), 2))
        return self._ids.pop()


_random_ids = _RandomIds()


class _Inbox:
    """What arrived for one waiting query: datagrams, or the error that ends its wait."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: deque[bytes | OSError] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def put(self, item: bytes | OSError) -> None:
        """Keep ``item`` (datagrams beyond :data:`_MAX_QUEUED` are dropped) and wake the query."""
        if isinstance(item, OSError) or len(self.items) < _MAX_QUEUED:
            self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self) -> bytes:
        """The next datagram; an error put here is raised instead."""
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        item = self.items.popleft()
        if isinstance(item, OSError):
            raise item
        return item


class UdpChannel:
    """Queries to ``address:port`` over one shared, connected UDP socket."""

    def __init__(self, address: str, port: int) -> None:
        self._remote = (address, port)
        version = ipaddress.ip_address(address).version
        self._family = socket.AF_INET6 if version == 6 else socket.AF_INET
        self._waiting: dict[int, _Inbox] = {}
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Deadlines of the waiting queries, earliest first, and one timer for the earliest: a
        # timer per query (armed, then cancelled by nearly every answer) cost more.
        self._deadlines: list[tuple[float, int, _Inbox]] = []
        self._order = itertools.count()
        # uvloop gives a plain Handle (no ``when()``) for a time less than a millisecond
        # away, so the time the sweep is set for is kept here.
        self._sweeper: asyncio.Handle | None = None
        self._sweep_at = math.inf

    @property
    def is_open(self) -> bool:
        """Whether the socket is open (it is only while a query waits)."""
        return self._socket is not None

    async def exchange(self, query: bytes, question: Question, seconds: float) -> WireMessage:
        """Send ``query`` (its ID is replaced) and return the response to ``question`` within
        ``seconds``."""
        query_id = self._free_id()
        wire = with_id(query, query_id)
        inbox = self._waiting[query_id] = _Inbox()
        loop = asyncio.get_running_loop()
        try:
            sock = self._socket or self._open()
            self._expire(loop, loop.time() + seconds, inbox)
            try:
                sock.send(wire)
            except BlockingIOError:  # the send buffer is full: wait until it drains
                await asyncio.wait_for(loop.sock_sendall(sock, wire), seconds)
            while True:
                response = decode_message(await inbox.get())
                if is_response_to(response, query_id, question):
                    return response  # anything else with this ID is not ours: wait on
        finally:
            self._waiting.pop(query_id, None)
            if not self._waiting:
                self._close()

    def _expire(self, loop: asyncio.AbstractEventLoop, deadline: float, inbox: _Inbox) -> None:
        """Put a TimeoutError in ``inbox`` at ``deadline`` (ignored if its query has ended)."""
        heapq.heappush(self._deadlines, (deadline, next(self._order), inbox))
        if deadline < self._sweep_at:
            self._arm(loop, deadline)

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._sweep_at = deadline
        self._sweeper = loop.call_at(deadline, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper, self._sweep_at = None, math.inf
        now = loop.time() + _EARLY
        while self._deadlines and self._deadlines[0][0] <= now:
            heapq.heappop(self._deadlines)[2].put(TimeoutError())
        if self._deadlines:
            self._arm(loop, self._deadlines[0][0])

    def _free_id(self) -> int:
        if len(self._waiting) >= _ID_SPACE:
            raise OSError("every DNS message ID of the channel is in use")
        while (query_id := _random_ids.next()) in self._waiting:
            pass
        return query_id

    def _open(self) -> socket.socket:
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect(self._remote)  # UDP: only fixes the peer, so replies are filtered
            loop = asyncio.get_running_loop()
            loop.add_reader(sock.fileno(), self._readable)
        except BaseException:
            sock.close()
            raise
        self._socket, self._loop = sock, loop
        return sock

    def _close(self) -> None:
        """No query waits: the socket and the deadlines (all of ended queries) go."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._sweeper, self._sweep_at = None, math.inf
        self._deadlines.clear()
        sock, self._socket = self._socket, None
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()

    def _readable(self) -> None:
        """Hand one datagram to the query waiting for its ID (others are dropped).

        One per call: the loop calls again while more are queued, so the work that follows a
        reply (the MX hosts' addresses after the MX answer) is not queued behind every other
        reply read in the same batch.
        """
        if self._socket is None:
            return
        try:
            data = self._socket.recv(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # an ICMP error: every waiting query fails with it
            self._fail(exc)
            return
        self._deliver(data)

    def _deliver(self, data: bytes) -> None:
        if len(data) < 2:
            return
        inbox = self._waiting.get(int.from_bytes(data[:2], "big"))
        if inbox is not None:
            inbox.put(data)

    def _fail(self, exc: OSError) -> None:
        for inbox in self._waiting.values():
            inbox.put(exc)
