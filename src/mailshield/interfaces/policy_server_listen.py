"""Listening sockets of the policy server: bind an IP literal, accept, bound connections.

Accepting is done here (not by ``asyncio.start_server``) so the TLS side can peek at the
ClientHello before any handshake, and so limits apply before a connection costs anything:
at most ``max_connections`` at once and ``max_connections_per_ip`` per client address; over
either, the connection is closed at once. Every socket gets TCP_NODELAY (small responses must not
wait on Nagle's algorithm and the peer's delayed ACK). With ``reuse_port`` several processes bind
the same address and port and the kernel spreads connections over them (SO_REUSEPORT).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Handler = Callable[[socket.socket, str], Awaitable[None]]
_ACCEPT_BATCH = 64
_BACKLOG = 4096


def bind(address: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening non-blocking TCP socket on ``address`` (an IP literal) and ``port``."""
    ip = ipaddress.ip_address(address)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((str(ip), port))
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Listener:
    """Runs ``handler(socket, client_ip)`` per accepted connection, within the limits."""

    def __init__(
        self,
        sock: socket.socket,
        handler: Handler,
        *,
        max_connections: int,
        max_per_ip: int,
    ) -> None:
        self._sock: socket.socket | None = sock
        self._handler = handler
        self._max_connections = max_connections
        self._max_per_ip = max_per_ip
        self._per_ip: collections.Counter[str] = collections.Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int = sock.getsockname()[1]
        self.refused = 0
        """Connections closed at once because a limit was reached."""

    def start(self) -> None:
        """Start accepting on the running loop."""
        assert self._sock is not None
        asyncio.get_running_loop().add_reader(self._sock, self._accept_ready)

    async def stop(self) -> None:
        """Stop accepting and end every open connection."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        asyncio.get_running_loop().remove_reader(sock)
        sock.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def open_connections(self) -> int:
        return len(self._tasks)

    def _accept_ready(self) -> None:
        sock = self._sock
        for _ in range(_ACCEPT_BATCH):
            if sock is None:
                return
            try:
                conn, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of descriptors: the next wake-up tries again
                log.warning("policy server cannot accept: %r", exc)
                return
            self._admit(conn, str(peer[0]))

    def _admit(self, conn: socket.socket, ip: str) -> None:
        if len(self._tasks) >= self._max_connections or self._per_ip[ip] >= self._max_per_ip:
            self.refused += 1
            conn.close()
            return
        conn.setblocking(False)
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._per_ip[ip] += 1
        task = asyncio.get_running_loop().create_task(self._run(conn, ip))
        self._tasks.add(task)

    async def _run(self, conn: socket.socket, ip: str) -> None:
        try:
            await self._handler(conn, ip)
        except Exception:  # e.g. storage unreachable while loading a certificate
            log.exception("policy server connection from %s failed", ip)
        finally:
            conn.close()
            self._per_ip[ip] -= 1
            if self._per_ip[ip] <= 0:
                del self._per_ip[ip]
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)
