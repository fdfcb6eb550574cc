"""The policy server's bounds: slow clients, idle keep-alive, header size, connections per IP."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.policy_server.client import (
    open_tls,
    read_response,
    request_bytes,
    until_closed,
)
from tests.integration.policy_server.conftest import POLICY_A, A, make_server
from tests.support.hosting_fakes import FakeHosting

from mailshield.interfaces.policy_server import Limits, PolicyServer
from mailshield.storage.certificates import CertificateStore

TIGHT = Limits(
    handshake_timeout=0.5,
    header_timeout=0.3,
    idle_timeout=0.3,
    max_header_bytes=1024,
    max_requests=2,
    max_connections_per_ip=2,
)


@pytest.fixture
async def tight(store: CertificateStore, hosting: FakeHosting) -> AsyncIterator[PolicyServer]:
    """A policy server with small limits and short timeouts."""
    async with make_server(store, hosting, TIGHT) as running:
        yield running


async def test_slow_header_client_is_cut_off(tight: PolicyServer, cafile: Path) -> None:
    """A client that starts a request and never finishes its head is disconnected."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    writer.write(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: ")
    try:
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_silent_client_after_handshake_is_cut_off(tight: PolicyServer, cafile: Path) -> None:
    """A client that completes TLS and sends nothing is disconnected."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_stalled_handshake_is_cut_off(tight: PolicyServer) -> None:
    """A TCP client that never sends a ClientHello is disconnected."""
    reader, writer = await asyncio.open_connection("127.0.0.1", tight.https_port)
    try:
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_partial_client_hello_is_cut_off(tight: PolicyServer) -> None:
    """A ClientHello that stops half-way is not waited for past the handshake timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", tight.https_port)
    writer.write(bytes([22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]))  # record says 512 bytes follow
    try:
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_idle_keep_alive_connection_is_closed(tight: PolicyServer, cafile: Path) -> None:
    """After a response, a client that sends nothing more is disconnected."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
        assert (await read_response(reader)).body == POLICY_A
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_oversized_request_head_gets_431(tight: PolicyServer, cafile: Path) -> None:
    """A request head beyond the limit is refused with 431 and the connection closed."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, [("X-Pad", "a" * 4096)]))
        response = await read_response(reader)
        assert response.status == 431
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_keep_alive_is_bounded(tight: PolicyServer, cafile: Path) -> None:
    """The last request a connection may carry is answered with Connection: close."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
        assert "connection" not in (await read_response(reader)).headers
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
        assert (await read_response(reader)).headers["connection"] == "close"
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_request_with_body_is_answered_then_closed(tight: PolicyServer, cafile: Path) -> None:
    """A request carrying a body gets its answer (405) and the connection is not reused."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        head = request_bytes("POST", "/.well-known/mta-sts.txt", A, [("Content-Length", "5")])
        writer.write(head)
        assert (await read_response(reader, "POST")).status == 405
        assert await until_closed(reader) == b""
    finally:
        writer.close()


async def test_malformed_request_gets_400(tight: PolicyServer, cafile: Path) -> None:
    """Bytes that are not HTTP get a 400 and a closed connection."""
    reader, writer = await open_tls(tight.https_port, A, cafile)
    try:
        writer.write(b"\x00\x01 nonsense\r\n\r\n")
        assert (await read_response(reader)).status == 400
    finally:
        writer.close()


async def test_connections_per_client_address_are_limited(
    tight: PolicyServer, cafile: Path
) -> None:
    """Beyond the per-address limit a new connection is closed at once; earlier ones still work."""
    held = [await open_tls(tight.https_port, A, cafile) for _ in range(2)]
    try:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await open_tls(tight.https_port, A, cafile)
        assert tight.refused_connections == 1
        reader, writer = held[0]
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
        assert (await read_response(reader)).body == POLICY_A
    finally:
        for _, writer in held:
            writer.close()
