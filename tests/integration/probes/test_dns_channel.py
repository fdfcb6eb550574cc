"""The shared UDP channel of the DNS client: one socket for concurrent queries, each answer to
its own query, foreign datagrams dropped, the socket closed when nothing waits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import dns.message
import dns.rrset
import pytest

from mailshield.core.dns_wire import Question, WireError, WireMessage, encode_query, name_from_text
from mailshield.core.dns_wire_codes import TYPE_A
from mailshield.probes.dns_channel import UdpChannel

HOST = "127.0.12.1"


@dataclass
class Received:
    query: dns.message.Message
    source: tuple[str, int]


@dataclass
class Server(asyncio.DatagramProtocol):
    """Collects queries; the test decides what goes back, and when."""

    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 1
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        host, port = str(addr[0]), int(addr[1])
        self.received.append(Received(dns.message.from_wire(data), (host, port)))
        if len(self.received) >= self.expected:
            self.arrived.set()

    def answer(self, received: Received, text: str = "192.0.2.1") -> None:
        """Send an A answer to ``received``."""
        response = dns.message.make_response(received.query)
        question = received.query.question[0]
        response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", text))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), received.source)

    def send(self, wire: bytes, received: Received) -> None:
        assert self.transport is not None
        self.transport.sendto(wire, received.source)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, int]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Server, local_addr=(HOST, 0))
    yield protocol, transport.get_extra_info("sockname")[1]
    transport.close()


def _ask(channel: UdpChannel, name: str, seconds: float = 5) -> asyncio.Future[WireMessage]:
    """Start an A query for ``name`` through ``channel``."""
    query = encode_query(name_from_text(name), TYPE_A, query_id=0)
    return asyncio.ensure_future(
        channel.exchange(query, Question(name.rstrip("."), TYPE_A), seconds)
    )


async def test_concurrent_queries_share_one_socket(server: tuple[Server, int]) -> None:
    """Five queries leave through one socket; answers sent in reverse order reach their own."""
    peer, port = server
    peer.expected = 5
    channel = UdpChannel(HOST, port)
    names = [f"q{i}.example.test." for i in range(5)]
    exchanges = [_ask(channel, n) for n in names]
    await peer.arrived.wait()
    for received in reversed(peer.received):
        peer.answer(received)
    responses = await asyncio.gather(*exchanges)
    assert [r.question[0].name + "." for r in responses] == names
    assert len({received.source for received in peer.received}) == 1
    assert not channel.is_open


async def test_waiting_queries_never_share_an_id(server: tuple[Server, int]) -> None:
    """Fifty concurrent queries carry fifty different IDs (RFC 5452 §9.2)."""
    peer, port = server
    peer.expected = 50
    channel = UdpChannel(HOST, port)
    exchanges = [_ask(channel, f"q{i}.example.test.") for i in range(50)]
    await peer.arrived.wait()
    for received in peer.received:
        peer.answer(received)
    await asyncio.gather(*exchanges)
    assert len({received.query.id for received in peer.received}) == 50


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param("other-question", id="same-id-other-question"),
        pytest.param("garbage-other-id", id="unparseable-other-id"),
        pytest.param("short", id="one-byte"),
    ],
)
async def test_foreign_datagrams_are_dropped(server: tuple[Server, int], foreign: str) -> None:
    """A datagram that does not answer the query is ignored; the real answer still arrives."""
    peer, port = server
    channel = UdpChannel(HOST, port)
    exchange = _ask(channel, "wanted.example.test.")
    await peer.arrived.wait()
    received = peer.received[0]
    if foreign == "other-question":
        other = dns.message.make_query("other.example.test.", "A")
        other.id = received.query.id
        peer.send(dns.message.make_response(other).to_wire(), received)
    elif foreign == "garbage-other-id":
        peer.send(((received.query.id + 1) % 65536).to_bytes(2, "big") + b"junk", received)
    else:
        peer.send(b"x", received)
    peer.answer(received, "192.0.2.7")
    response = await exchange
    assert response.rrset("wanted.example.test", TYPE_A) == ("192.0.2.7",)


async def test_garbage_with_the_query_id_is_a_wire_error(server: tuple[Server, int]) -> None:
    """A datagram carrying the query's ID that does not parse fails the query (a bad answer)."""
    peer, port = server
    channel = UdpChannel(HOST, port)
    exchange = _ask(channel, "wanted.example.test.")
    await peer.arrived.wait()
    received = peer.received[0]
    peer.send(received.query.id.to_bytes(2, "big") + b"\x81\x80junk", received)
    with pytest.raises(WireError):
        await exchange
    assert not channel.is_open


async def test_silence_is_a_timeout_and_closes_the_socket(server: tuple[Server, int]) -> None:
    """No answer: TimeoutError, and the socket does not stay open."""
    _, port = server
    channel = UdpChannel(HOST, port)
    with pytest.raises(TimeoutError):
        await _ask(channel, "silent.example.test.", 0.2)
    assert not channel.is_open


async def test_each_query_times_out_at_its_own_deadline(server: tuple[Server, int]) -> None:
    """Queries with different timeouts on one channel: a later, shorter one ends first, the
    others keep waiting, and an answer still reaches the query it belongs to."""
    peer, port = server
    peer.expected = 3
    channel = UdpChannel(HOST, port)
    long = _ask(channel, "long.example.test.", 5)
    answered = _ask(channel, "answered.example.test.", 5)
    short = _ask(channel, "short.example.test.", 0.1)
    await asyncio.wait_for(peer.arrived.wait(), 2)
    done, _ = await asyncio.wait({short}, timeout=2)  # not the 5 s of the queries before it
    assert done == {short}
    with pytest.raises(TimeoutError):
        short.result()
    assert not long.done()
    assert not answered.done()
    peer.answer(next(r for r in peer.received if "answered" in str(r.query.question[0].name)))
    response = await asyncio.wait_for(answered, 2)
    assert response.question == (Question("answered.example.test", TYPE_A),)
    assert not long.done()
    assert channel.is_open
    long.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long
    assert not channel.is_open


async def test_timeouts_on_uvloop() -> None:
    """The same deadlines on uvloop (whose timers count milliseconds, and which gives a plain
    handle for a time less than a millisecond away): silent queries end with TimeoutError, the
    shorter first, and the channel closes."""
    import uvloop

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Server, local_addr=(HOST, 0))
        channel = UdpChannel(HOST, transport.get_extra_info("sockname")[1])
        ended: list[str] = []

        async def ask(name: str, seconds: float) -> None:
            with pytest.raises(TimeoutError):
                await _ask(channel, name, seconds)
            ended.append(name)

        await asyncio.gather(ask("slow.test.", 0.2), ask("fast.test.", 0.05))
        assert not channel.is_open
        await asyncio.gather(ask("now.test.", 0), ask("later.test.", 0.05))
        assert not channel.is_open
        transport.close()
        return ended

    assert await asyncio.to_thread(uvloop.run, main()) == [
        "fast.test.",
        "slow.test.",
        "now.test.",
        "later.test.",
    ]


async def test_closed_port_is_a_network_error() -> None:
    """An ICMP port unreachable on the connected socket fails the query with an OSError."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more
    channel = UdpChannel(HOST, port)
    with pytest.raises(OSError):  # noqa: PT011 - the errno depends on the kernel
        await _ask(channel, "nobody.example.test.")
    assert not channel.is_open
