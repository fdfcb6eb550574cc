"""A TCP listener for lab servers: binds one literal IP address and port, runs a handler coroutine
per connection, and on ``stop()`` ends every connection it accepted (tarpits and trickling bodies
included), so a stopped lab leaves nothing behind.

The socket is created and bound here rather than by ``asyncio.start_server(host=...)`` so that the
address is only ever parsed as an IP literal: nothing in the lab may call the host resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

# What a peer can do to a connection: hang up, send garbage TLS, stall past a deadline.
_PEER_ERRORS = (ConnectionError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError)


def bind_socket(address: str, port: int) -> socket.socket:
    """A listening TCP socket bound to ``address`` (an IPv4 or IPv6 literal) and ``port``."""
    ip = ipaddress.ip_address(address)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((str(ip), port))
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class TcpListener:
    """Serves ``handler`` on ``address:port``; bound and accepting once ``start()`` returns.

    With ``tls`` the listener performs the TLS handshake (implicit TLS, as for HTTPS) before the
    handler runs. Every accepted socket gets TCP_NODELAY: small keep-alive responses would
    otherwise wait on Nagle's algorithm plus the peer's delayed ACK (about 40 ms each).
    """

    def __init__(
        self,
        address: str,
        port: int,
        handler: ConnectionHandler,
        *,
        tls: ssl.SSLContext | None = None,
        handshake_timeout: float = 30.0,
    ) -> None:
        self.address = address
        self._port = port
        self._handler = handler
        self._tls = tls
        self._handshake_timeout = handshake_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0 and started)."""
        return self._port

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Bind and start accepting; idempotent."""
        if self._server is not None:
            return
        sock = bind_socket(self.address, self._port)
        self._port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._on_connection, sock=sock)

    async def stop(self) -> None:
        """Stop accepting, cancel every open connection and wait until they are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            _set_nodelay(writer)
            if self._tls is not None:
                await writer.start_tls(self._tls, ssl_handshake_timeout=self._handshake_timeout)
            await self._handler(reader, writer)
        except _PEER_ERRORS as exc:
            log.debug("lab connection to %s:%s ended: %r", self.address, self._port, exc)
        except Exception:
            log.exception("lab server on %s:%s failed", self.address, self._port)
        finally:
            self._tasks.discard(task)
            writer.close()


def _set_nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
