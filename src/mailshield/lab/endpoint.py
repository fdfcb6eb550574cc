"""Loopback endpoints for lab daemons: an address and port, and a way to find a free port.

The lab never leaves 127.0.0.0/8, so an :class:`Endpoint` refuses any other address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import NamedTuple

__all__ = ["AddressInUse", "Endpoint", "ensure_free", "free_port", "loopback"]

_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class Endpoint(NamedTuple):
    """An IPv4 loopback address and a port, e.g. ``Endpoint("127.0.3.2", 53)``."""

    host: str
    port: int

    def at(self) -> str:
        """``host@port``: the spelling Knot and Unbound configuration files use."""
        return f"{self.host}@{self.port}"

    def colon(self) -> str:
        """``host:port``: the spelling Pebble and URLs use."""
        return f"{self.host}:{self.port}"


def loopback(host: str, port: int | None = None) -> Endpoint:
    """An endpoint on ``host`` (which must be in 127.0.0.0/8); a free port when ``port`` is None."""
    if ipaddress.ip_address(host) not in _LOOPBACK:
        raise ValueError(f"lab daemons only listen on 127.0.0.0/8, not {host}")
    return Endpoint(host, free_port(host) if port is None else port)


def free_port(host: str) -> int:
    """A port that is free for both UDP and TCP on ``host`` right now.

    The kernel picks an ephemeral TCP port; the same number is then checked for UDP, because DNS
    daemons listen on both. Another process may still take it before the daemon binds it, so a
    daemon failing to bind reports the port in its error.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError(f"no port free for both UDP and TCP on {host}")


class AddressInUse(OSError):
    """Something already listens where a lab daemon should."""


def ensure_free(endpoint: Endpoint, *, udp: bool = True) -> None:
    """Raise :class:`AddressInUse` when ``endpoint`` cannot be bound for TCP (and UDP).

    Checked before a daemon starts: a readiness probe answered by whoever holds the address
    would otherwise pass for the new daemon being ready.
    """
    kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            if kind == socket.SOCK_STREAM:
                # Same option the daemons set, so a socket in TIME_WAIT does not count as in use.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(endpoint)
            except OSError as exc:
                raise AddressInUse(f"{endpoint.colon()} is already in use: {exc}") from exc
