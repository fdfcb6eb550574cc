"""Lab endpoints: loopback only, free ports usable for both UDP and TCP."""

from __future__ import annotations

import socket

import pytest

from mailshield.lab.endpoint import Endpoint, free_port, loopback


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "192.0.2.1", "8.8.8.8", "::1"],
    ids=["private", "documentation", "public", "ipv6-loopback"],
)
def test_non_loopback_addresses_are_refused(host: str) -> None:
    """Lab daemons never listen outside 127.0.0.0/8."""
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        loopback(host, 53)


def test_free_port_binds_for_udp_and_tcp() -> None:
    """The port returned can be bound for both UDP and TCP on that address."""
    port = free_port("127.0.3.11")
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.3.11", port))


@pytest.mark.parametrize(
    ("endpoint", "at", "colon"),
    [(Endpoint("127.0.3.2", 53), "127.0.3.2@53", "127.0.3.2:53")],
    ids=["dns-port"],
)
def test_spellings(endpoint: Endpoint, at: str, colon: str) -> None:
    """Knot/Unbound spell an endpoint host@port, Pebble and URLs host:port."""
    assert endpoint.at() == at
    assert endpoint.colon() == colon


def test_given_port_is_kept() -> None:
    """An explicit port is used as given (e.g. 53 for tools that only take an IP)."""
    assert loopback("127.0.3.2", 53) == Endpoint("127.0.3.2", 53)
