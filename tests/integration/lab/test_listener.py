"""The lab TCP listener: IP literals only, TCP_NODELAY, and a stop that closes every connection."""

from __future__ import annotations

import asyncio
import socket

import pytest

from mailshield.lab.listener import TcpListener, bind_socket

ADDRESS = "127.0.2.20"


@pytest.mark.parametrize(
    "address",
    [pytest.param("localhost", id="name"), pytest.param("mx.a.test", id="dotted-name")],
)
def test_names_are_refused_so_the_resolver_is_never_asked(address: str) -> None:
    """Only IP literals bind: a host name is a ValueError, not a DNS lookup."""
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        bind_socket(address, 0)


async def test_accepted_sockets_have_nodelay() -> None:
    """Every accepted connection has Nagle's algorithm switched off."""
    seen: asyncio.Queue[int] = asyncio.Queue()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.put_nowait(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    listener = TcpListener(ADDRESS, 0, handler)
    await listener.start()
    try:
        client = await asyncio.to_thread(socket.create_connection, (ADDRESS, listener.port), 10)
        with client:
            assert await asyncio.wait_for(seen.get(), 10) != 0
    finally:
        await listener.stop()


@pytest.mark.parametrize(
    "yield_first", [pytest.param(False, id="at-once"), pytest.param(True, id="after-start")]
)
async def test_stop_closes_connections_in_any_state(yield_first: bool) -> None:
    """A connection is closed by stop() whether or not its handler has started yet."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # waits for ever: only stop() ends it

    listener = TcpListener(ADDRESS, 0, handler)
    await listener.start()
    client = await asyncio.to_thread(socket.create_connection, (ADDRESS, listener.port), 10)
    if yield_first:
        await asyncio.sleep(0)
    await listener.stop()
    with client:
        assert await asyncio.to_thread(client.recv, 10) == b""
    assert not listener.listening


async def test_restart_on_the_same_port() -> None:
    """A stopped listener's fixed port can be bound again at once (SO_REUSEADDR)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hi")
        await writer.drain()

    first = TcpListener(ADDRESS, 0, handler)
    await first.start()
    port = first.port
    await first.stop()
    second = TcpListener(ADDRESS, port, handler)
    await second.start()
    try:
        with await asyncio.to_thread(socket.create_connection, (ADDRESS, port), 10) as client:
            assert await asyncio.to_thread(client.recv, 10) == b"hi"
    finally:
        await second.stop()
