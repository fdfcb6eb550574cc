"""Fixtures for the probe integration tests: in-test DNS, HTTPS and SMTP peers on 127.0.4.0/24."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from probe_dns_peer import DnsPeer, Handler, StartDnsPeer
from probe_tls_peers import (
    HTTPS_HOST,
    SMTP_HOST,
    Canary,
    HttpsPeer,
    Respond,
    SmtpPeer,
    SmtpScript,
    StartHttpsPeer,
    StartSmtpPeer,
    server_context,
)

from mailshield.lab.ca import IssuedCert, LabCA


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


@pytest.fixture(scope="session")
def lab_ca() -> LabCA:
    """A lab CA shared by the probe tests (the probes never verify, so trust is irrelevant)."""
    return LabCA()


@pytest.fixture
def tls_context(lab_ca: LabCA, tmp_path: Path) -> Callable[..., ssl.SSLContext]:
    """Builds a server context for a certificate (default: one for mta-sts.example.test)."""

    def build(cert: IssuedCert | None = None, **versions: ssl.TLSVersion) -> ssl.SSLContext:
        chosen = cert or lab_ca.issue("mta-sts.example.test", "mx.example.test")
        return server_context(chosen, tmp_path, **versions)

    return build


@pytest.fixture
async def https_peer(
    tls_context: Callable[..., ssl.SSLContext],
) -> AsyncIterator[StartHttpsPeer]:
    """Starts TLS web servers on 127.0.4.2 answering with ``respond``."""
    peers: list[HttpsPeer] = []

    async def start(respond: Respond, context: ssl.SSLContext | None = None) -> HttpsPeer:
        peer = HttpsPeer(respond, context or tls_context(), HTTPS_HOST)
        await peer.start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        await peer.close()


@pytest.fixture
async def smtp_peer() -> AsyncIterator[StartSmtpPeer]:
    """Starts SMTP servers on 127.0.4.3 following a script."""
    peers: list[SmtpPeer] = []

    async def start(script: SmtpScript) -> SmtpPeer:
        peer = SmtpPeer(script, SMTP_HOST)
        await peer.start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        await peer.close()


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    """A listener on 127.0.0.1 that must receive no connection from a guarded probe."""
    listener = Canary()
    await listener.start()
    yield listener
    await listener.close()
