"""A TCP listener for lab servers: binds one literal IP address and port, runs a handler coroutine
per connection, and on ``stop()`` ends every connection it accepted (tarpits and trickling bodies
included), so a stopped lab leaves nothing behind.

The socket is created and bound here rather than by ``asyncio.start_server(host=...)`` so that the
address is only ever parsed as an IP literal: nothing in the lab may call the host resolver.
Accepting is our own too, synchronously in a reader callback: ``asyncio.Server.close()`` (3.11)
silently drops a connection accepted just before it, and a cancelled ``sock_accept()`` can lose
one, either way leaving a client hanging. Here every socket is tracked from the moment
``accept()`` returns.
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
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# What a peer can do to a connection: hang up, send garbage TLS, stall past a deadline.
_PEER_ERRORS = (ConnectionError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError)


def bind_socket(address: str, port: int) -> socket.socket:
    """A listening non-blocking TCP socket on ``address`` (an IP literal, v4 or v6) and ``port``."""
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
        self._sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unstarted: set[socket.socket] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0 and started)."""
        return self._port

    @property
    def listening(self) -> bool:
        return self._sock is not None

    async def start(self) -> None:
        """Bind and start accepting; idempotent."""
        if self._sock is not None:
            return
        self._sock = bind_socket(self.address, self._port)
        self._port = self._sock.getsockname()[1]
        asyncio.get_running_loop().add_reader(self._sock, self._accept_ready, self._sock)

    async def stop(self) -> None:
        """Stop accepting, then end every accepted connection and wait until they are closed."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        asyncio.get_running_loop().remove_reader(sock)
        sock.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A task cancelled before its first step never ran, so never took over its socket.
        for conn in self._unstarted:
            conn.close()
        self._unstarted.clear()

    def _accept_ready(self, sock: socket.socket) -> None:
        """Accept what is waiting (bounded per wake-up) and start a task per connection."""
        for _ in range(128):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: pause, keep the rest serving
                log.warning(
                    "lab listener on %s:%s cannot accept: %r", self.address, self._port, exc
                )
                self._pause_accepting(sock)
                return
            conn.setblocking(False)
            self._unstarted.add(conn)
            task = asyncio.get_running_loop().create_task(self._serve(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _pause_accepting(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(sock)

        def resume() -> None:
            if self._sock is sock:
                loop.add_reader(sock, self._accept_ready, sock)

        loop.call_later(0.5, resume)

    async def _serve(self, conn: socket.socket) -> None:
        self._unstarted.discard(conn)
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            reader, writer = await _open_streams(conn)
        except BaseException:
            conn.close()
            raise
        try:
            if self._tls is not None:
                await writer.start_tls(self._tls, ssl_handshake_timeout=self._handshake_timeout)
            await self._handler(reader, writer)
        except _PEER_ERRORS as exc:
            log.debug("lab connection to %s:%s ended: %r", self.address, self._port, exc)
        except Exception:
            log.exception("lab server on %s:%s failed", self.address, self._port)
        finally:
            writer.close()


async def _open_streams(conn: socket.socket) -> Streams:
    """Server-side streams over an accepted socket.

    The protocol gets a (plain) connection callback only so that asyncio treats the streams as
    the server side, which ``StreamWriter.start_tls`` needs to handshake as a server.
    """
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[Streams] = loop.create_future()
    reader = asyncio.StreamReader()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ready.set_result((reader, writer))

    protocol = asyncio.StreamReaderProtocol(reader, connected)
    await loop.connect_accepted_socket(lambda: protocol, sock=conn)
    return await ready
