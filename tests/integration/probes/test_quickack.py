"""Prompt acknowledgements on a real loopback TCP connection (Linux's TCP_QUICKACK)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from mailshield.probes.quickack import PromptAcks

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's"
)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(100):
            writer.write(b"250 " + data)
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def connection() -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    yield reader, writer
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    server.close()
    await server.wait_closed()


def _acks_at_once(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK))


async def test_a_conversation_turns_delayed_acks_on_and_now_turns_them_off(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Commands and replies make the kernel delay its ACKs (the connection looks interactive);
    ``now`` asks for the next ones at once."""
    reader, writer = connection
    acks = PromptAcks(writer)
    for _ in range(5):
        writer.write(b"NOOP\r\n")
        assert await reader.read(100) == b"250 NOOP\r\n"
    assert not _acks_at_once(writer)
    acks.now()
    assert _acks_at_once(writer)


async def test_a_closed_connection_is_left_alone(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Once the socket is gone the request is dropped, never raised."""
    _, writer = connection
    acks = PromptAcks(writer)
    writer.transport.abort()
    await asyncio.sleep(0)
    acks.now()
    acks.now()
