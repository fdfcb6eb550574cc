"""The multi-tenant MTA-STS policy server: HTTPS for ``mta-sts.<domain>``, HTTP for ACME.

One process serves every hosted domain (RFC 8461 §3.3; reference §2.7):

- **HTTPS** (``https_port``): the connection's first bytes are peeked to read the ClientHello's
  server name (:mod:`.policy_server_hello`); that name's certificate is loaded from storage on
  first use (:mod:`.policy_server_tls`) and the handshake runs with it. A name with no
  certificate gets an ``unrecognized_name`` alert, never another tenant's certificate. Requests
  are answered by :func:`.policy_server_routes.policy_reply`: Host must equal the TLS name.
  A CA validating TLS-ALPN-01 (only ``acme-tls/1`` offered) gets the validation certificate
  (:mod:`.policy_server_alpn`) and the connection ends with the handshake.
- **HTTP** (``http_port``): ACME HTTP-01 key authorizations from storage (any replica answers any
  challenge) and ``/tls/ask`` for Caddy; 404 for everything else.
- **Proxy** (``proxy_port``, off by default, loopback): policies over plain HTTP chosen by Host,
  for a TLS-terminating proxy (Caddy) that has already checked SNI against Host.

Certificates are only ever read here; ordering is the certificate manager's job (nothing a client
does can trigger an order). The certificate index and the ``/tls/ask`` set are refreshed every
``refresh_interval`` seconds, and at once by :meth:`PolicyServer.refresh`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from mailshield.interfaces.policy_server_alpn import ACME_TLS_ALPN, validation_context
from mailshield.interfaces.policy_server_hello import Hello, HelloStatus, read_client_hello
from mailshield.interfaces.policy_server_http import Limits, Router, serve_connection
from mailshield.interfaces.policy_server_listen import Listener, bind
from mailshield.interfaces.policy_server_routes import (
    Reply,
    Request,
    host_name,
    http_reply,
    policy_reply,
)
from mailshield.interfaces.policy_server_tls import CertificateContexts, CertificateSource
from mailshield.services.ports import PolicySource

__all__ = ["AskNames", "CertificateStorage", "Limits", "PolicyServer", "PolicyServerConfig"]

log = logging.getLogger(__name__)

# TLS alert record: fatal (2), unrecognized_name (112) — RFC 8446 §6, RFC 6066 §3.
UNRECOGNIZED_NAME_ALERT = bytes([21, 3, 3, 0, 2, 2, 112])
_PEEK_SIZE = 32 * 1024
_PEER_ERRORS = (ConnectionError, ssl.SSLError, TimeoutError, OSError, asyncio.IncompleteReadError)


class CertificateStorage(CertificateSource, Protocol):
    """Certificates plus ACME key authorizations (the storage ``CertificateStore``)."""

    async def challenge(self, token: str, now: dt.datetime) -> str | None: ...
    async def challenge_for_name(self, name: str, now: dt.datetime) -> str | None: ...


class AskNames(Protocol):
    """The in-memory gate verdicts (``services.issuance_snapshot.AllowedNames``)."""

    def allows(self, name: str) -> bool: ...
    async def refresh(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class PolicyServerConfig:
    """Where to listen and how much any client may cost; ``http_port=None``: no HTTP side."""

    listen: str = "127.0.0.1"
    https_port: int = 443
    http_port: int | None = 80
    proxy_port: int | None = None  # plain-HTTP policies for a TLS-terminating proxy (Caddy)
    proxy_listen: str = "127.0.0.1"
    limits: Limits = field(default_factory=Limits)
    refresh_interval: float = 30.0
    context_capacity: int = 512
    reuse_port: bool = False


class PolicyServer:
    """Serves policies over HTTPS and challenges over HTTP; listening once ``start()`` returns."""

    def __init__(
        self,
        config: PolicyServerConfig,
        *,
        policies: PolicySource,
        certificates: CertificateStorage,
        ask: AskNames | None = None,
    ) -> None:
        self.config = config
        self.contexts = CertificateContexts(certificates, capacity=config.context_capacity)
        self._policies = policies
        self._storage = certificates
        self._ask = ask
        self._listeners: list[Listener] = []
        self._refresher: asyncio.Task[None] | None = None
        self.https_port = config.https_port
        self.http_port = config.http_port
        self.proxy_port = config.proxy_port

    async def start(self) -> None:
        """Load the certificate index and the ask set, then bind and accept."""
        await self.refresh()
        reuse = self.config.reuse_port
        https = bind(self.config.listen, self.config.https_port, reuse_port=reuse)
        self._add_listener(https, self._serve_https)
        self.https_port = self._listeners[-1].port
        if self.config.http_port is not None:
            http = bind(self.config.listen, self.config.http_port, reuse_port=reuse)
            self._add_listener(http, self._serve_http)
            self.http_port = self._listeners[-1].port
        if self.config.proxy_port is not None:
            proxy = bind(self.config.proxy_listen, self.config.proxy_port, reuse_port=reuse)
            self._add_listener(proxy, self._serve_proxied)
            self.proxy_port = self._listeners[-1].port
        self._refresher = asyncio.create_task(self._refresh_forever())
        log.info(
            "policy server on %s: https %s, http %s, %d names with certificates",
            self.config.listen,
            self.https_port,
            self.http_port,
            len(self.contexts),
        )

    async def stop(self) -> None:
        """Stop refreshing and accepting; end open connections."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        listeners, self._listeners = self._listeners, []
        await asyncio.gather(*(listener.stop() for listener in listeners))

    async def refresh(self) -> None:
        """Reload the certificate index (and the ``/tls/ask`` set) from storage now."""
        await self.contexts.refresh()
        if self._ask is not None:
            await self._ask.refresh()

    async def __aenter__(self) -> PolicyServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def refused_connections(self) -> int:
        """Connections closed on arrival because a connection limit was reached."""
        return sum(listener.refused for listener in self._listeners)

    def _add_listener(self, sock: socket.socket, handler: _Handler) -> None:
        limits = self.config.limits
        listener = Listener(
            sock,
            handler,
            max_connections=limits.max_connections,
            max_per_ip=limits.max_connections_per_ip,
        )
        listener.start()
        self._listeners.append(listener)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.refresh_interval)  # a period, not a wait on a peer
            try:
                await self.refresh()
            except Exception:  # a database outage keeps the last index; try again next period
                log.exception("policy server refresh failed; keeping the previous state")

    # -- HTTPS ----------------------------------------------------------------------------------

    async def _serve_https(self, conn: socket.socket, _ip: str) -> None:
        limits = self.config.limits
        try:
            async with asyncio.timeout(limits.handshake_timeout):
                streams = await self._handshake(conn)
            if streams is None:
                return
            name, reader, writer = streams
        except _PEER_ERRORS as exc:
            log.debug("TLS handshake ended: %r", exc)
            return
        if writer.get_extra_info("ssl_object").selected_alpn_protocol() == ACME_TLS_ALPN:
            writer.transport.abort()  # RFC 8737 §3: the handshake was the whole answer
            return

        async def route(request: Request) -> Reply:
            return await policy_reply(request, name, self._policies)

        try:
            await serve_connection(reader, writer, route, limits)
        except _PEER_ERRORS as exc:
            log.debug("HTTPS connection ended: %r", exc)
        finally:
            writer.transport.abort()

    async def _handshake(
        self, conn: socket.socket
    ) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Peek the server name, find its context, run the TLS handshake with it."""
        hello = await _peek_hello(conn)
        context = await self._context_for(hello) if hello.name else None
        if hello.name is None or context is None:
            _refuse(conn, alert=hello.status is not HelloStatus.NOT_TLS)
            return None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=conn, ssl=context)
        return hello.name, reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    async def _context_for(self, hello: Hello) -> ssl.SSLContext | None:
        """The name's certificate, or for a TLS-ALPN-01 validation (an ACME CA offering only
        ``acme-tls/1``, RFC 8737 §3) the validation certificate built from storage."""
        assert hello.name is not None
        if hello.alpn != (ACME_TLS_ALPN,):
            return await self.contexts.context_for(hello.name)
        now = dt.datetime.now(dt.UTC)
        authorization = await self._storage.challenge_for_name(hello.name, now)
        if authorization is None:
            return None
        return await asyncio.to_thread(validation_context, hello.name, authorization)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _serve_http(self, conn: socket.socket, _ip: str) -> None:
        ask = self._ask.allows if self._ask is not None else None

        async def challenge(token: str) -> str | None:
            return await self._storage.challenge(token, dt.datetime.now(dt.UTC))

        async def route(request: Request) -> Reply:
            return await http_reply(request, challenge, ask)

        await self._serve_plain(conn, route)

    async def _serve_proxied(self, conn: socket.socket, _ip: str) -> None:
        """Policies over plain HTTP for a proxy that terminated TLS and checked SNI = Host."""

        async def route(request: Request) -> Reply:
            return await policy_reply(request, host_name(request.host), self._policies)

        await self._serve_plain(conn, route)

    async def _serve_plain(self, conn: socket.socket, route: Router) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=conn)
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        try:
            await serve_connection(reader, writer, route, self.config.limits)
        except _PEER_ERRORS as exc:
            log.debug("HTTP connection ended: %r", exc)
        finally:
            transport.abort()


def _refuse(conn: socket.socket, *, alert: bool) -> None:
    """End a connection before TLS: read what was peeked (closing a socket with unread data
    sends a reset, which could destroy the alert in flight), send the alert, then a clean FIN."""
    with contextlib.suppress(OSError):
        conn.recv(_PEEK_SIZE)
        if alert:
            conn.send(UNRECOGNIZED_NAME_ALERT)
        conn.shutdown(socket.SHUT_WR)


class _Handler(Protocol):
    async def __call__(self, conn: socket.socket, ip: str, /) -> None: ...


async def _peek_hello(conn: socket.socket) -> Hello:
    """Read the ClientHello without consuming it, so OpenSSL still sees every byte.

    A ClientHello nearly always arrives in one segment. When it does not, the socket stays
    readable while the first part waits, so further peeks are spaced out (5 ms, doubling up to
    200 ms) until the rest arrives or the caller's handshake deadline passes.
    """
    loop = asyncio.get_running_loop()
    pause, seen = 0.005, -1
    while True:
        try:  # the hello has usually arrived by the time the connection is accepted
            data = conn.recv(_PEEK_SIZE, socket.MSG_PEEK)
        except BlockingIOError:
            await _readable(loop, conn)
            continue
        if not data:
            return Hello(HelloStatus.NOT_TLS)
        hello = read_client_hello(data)
        if hello.status is not HelloStatus.INCOMPLETE or len(data) >= _PEEK_SIZE:
            return (
                hello if hello.status is not HelloStatus.INCOMPLETE else Hello(HelloStatus.NOT_TLS)
            )
        if len(data) == seen:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
        seen = len(data)


async def _readable(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn, wake)
    try:
        await ready
    finally:
        loop.remove_reader(conn)
