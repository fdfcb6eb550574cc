"""One DNS exchange over TCP: length-prefixed messages, the answer checked against the question,
early close, silence and refusal raised as their own errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import dns.message
import pytest
from probe_dns_peer import Handler, Reply, StartDnsPeer, reply

from mailshield.core.dns_wire import Question, WireError, WireMessage, encode_query, name_from_text
from mailshield.core.dns_wire_codes import TYPE_TXT
from mailshield.probes.dns_tcp import tcp_exchange

HOST = "127.0.4.1"
QUERY = encode_query(name_from_text("example.test"), TYPE_TXT, query_id=0)
QUESTION = Question("example.test", TYPE_TXT)


async def exchange(port: int, seconds: float = 2) -> WireMessage:
    """Ask ``example.test`` TXT over TCP on ``HOST:port``."""
    return await tcp_exchange(HOST, port, QUERY, QUESTION, seconds)


async def test_answer_over_tcp(dns_peer: StartDnsPeer) -> None:
    """The answer comes back decoded, asked over TCP only."""
    peer = await dns_peer(lambda q, t: reply(q, 'example.test. 60 IN TXT "v=spf1 -all"'))
    response = await exchange(peer.port)
    assert response.rrset("example.test", TYPE_TXT) == (b"v=spf1 -all",)
    assert [seen.transport for seen in peer.seen] == ["tcp"]


def _other_question(query: dns.message.Message, transport: str) -> Reply:
    other = dns.message.make_query("other.test", "TXT")
    other.id = query.id
    return dns.message.make_response(other)


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(_other_question, id="other-question"),
        pytest.param(lambda q, t: q.to_wire()[:2] + b"\x81\x80", id="garbage"),
    ],
)
async def test_a_response_that_does_not_answer_is_a_wire_error(
    dns_peer: StartDnsPeer, handler: Handler
) -> None:
    """A response to another question, or one that does not parse, fails the exchange."""
    peer = await dns_peer(handler)
    with pytest.raises(WireError):
        await exchange(peer.port)


@pytest.fixture
async def closing_port() -> AsyncIterator[int]:
    """A TCP server that reads the query and closes without answering."""

    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(2)
        writer.close()

    server = await asyncio.start_server(close, HOST, 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_early_close_is_an_eof(closing_port: int) -> None:
    """A server that closes before answering raises EOFError."""
    with pytest.raises(EOFError):
        await exchange(closing_port)


async def test_silence_is_a_timeout(dns_peer: StartDnsPeer) -> None:
    """A server that never answers raises TimeoutError after the time given."""
    peer = await dns_peer(lambda q, t: None)
    with pytest.raises(TimeoutError):
        await exchange(peer.port, 0.2)


async def test_refused_connection_is_an_os_error() -> None:
    """Nothing listening: the connection error is raised as OSError."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(OSError):  # noqa: PT011 - the errno depends on the kernel
        await exchange(port)
