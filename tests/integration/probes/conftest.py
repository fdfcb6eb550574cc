"""Fixtures for the probe integration tests: in-test DNS, HTTPS and SMTP peers on 127.0.4.0/24."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from probe_dns_peer import DnsPeer, Handler, StartDnsPeer


@pytest.fixture
async def dns_peer() -> AsyncIterator[StartDnsPeer]:
    """Starts DNS peers answering with a handler; all are closed after the test."""
    peers: list[DnsPeer] = []

    async def start(handler: Handler) -> DnsPeer:
        peer = await DnsPeer(handler).start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        await peer.close()
