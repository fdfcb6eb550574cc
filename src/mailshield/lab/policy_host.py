"""A lab MTA-STS policy host: one HTTPS server on an address and port serving many
``mta-sts.<domain>`` sites, each with its own behaviour (:mod:`mailshield.lab.policy_responses`).

The TLS server name (SNI) picks the certificate, the ``Host`` header picks the site; HTTP/1.1 with
keep-alive is spoken through h11. Requests are counted per site for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Sequence
from types import TracebackType

import h11

from mailshield.lab.behaviours import PolicyBehaviour
from mailshield.lab.ca import IssuedCert
from mailshield.lab.listener import TcpListener
from mailshield.lab.policy_responses import (
    POLICY_PATH,
    PlannedResponse,
    PolicySite,
    plan_response,
)
from mailshield.lab.tls import server_context

__all__ = ["LabPolicyServer", "PolicySite"]

_MAX_REQUEST_HEAD = 16 * 1024


class LabPolicyServer:
    """HTTPS for ``sites`` on ``address:port``; bound and accepting once ``start()`` returns.

    Sites whose behaviour is ``no_listener`` stand for an address where nothing listens: a server
    made only of them does not listen at all, and they cannot be mixed with listening sites.
    A ``slow`` body is sent in ``trickle_steps`` pieces ``trickle_interval`` seconds apart, so it
    always ends. A connection without SNI, or with an unknown name, gets the first site's
    certificate.
    """

    def __init__(
        self,
        address: str,
        sites: Sequence[PolicySite],
        *,
        port: int = 443,
        trickle_interval: float = 1.0,
        trickle_steps: int = 30,
        idle_timeout: float = 60.0,
    ) -> None:
        self.address = address
        self.sites = {site.name.lower().rstrip("."): site for site in sites}
        self._silent = _check_sites(sites, len(self.sites))
        self.trickle_interval = trickle_interval
        self.trickle_steps = max(1, trickle_steps)
        self.idle_timeout = idle_timeout
        self._requests: collections.Counter[str] = collections.Counter()
        tls = None if self._silent else self._sni_contexts()
        self._listener = TcpListener(address, port, self._serve, tls=tls)

    @property
    def port(self) -> int:
        """The port, the bound one after ``start()`` when constructed with port 0."""
        return self._listener.port

    @property
    def listening(self) -> bool:
        return self._listener.listening

    def origin(self, name: str) -> str:
        """``https://name[:port]``: how a client reaches a site on this server."""
        return f"https://{name}" + ("" if self.port == 443 else f":{self.port}")

    def policy_url(self, name: str) -> str:
        """The policy URL of site ``name`` (RFC 8461 §3.3)."""
        return self.origin(name) + POLICY_PATH

    def requests_for(self, name: str) -> int:
        """How many requests reached site ``name`` (any path) since the server was built."""
        return self._requests[name.lower().rstrip(".")]

    @property
    def total_requests(self) -> int:
        """Requests to all known sites together."""
        return self._requests.total()

    async def start(self) -> None:
        """Listen (unless every site is ``no_listener``); returns once connections are accepted."""
        if not self._silent:
            await self._listener.start()

    async def stop(self) -> None:
        """Stop listening and close open connections, trickling bodies included."""
        await self._listener.stop()

    async def __aenter__(self) -> LabPolicyServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _sni_contexts(self) -> ssl.SSLContext:
        """The default context, whose SNI callback swaps in the context of the named site."""
        by_certificate: dict[bytes, ssl.SSLContext] = {}
        by_name: dict[str, ssl.SSLContext] = {}
        for name, site in self.sites.items():
            certificate = _certificate(site)
            context = by_certificate.get(certificate.cert_pem)
            if context is None:
                context = server_context(certificate, alpn=["http/1.1"])
                by_certificate[certificate.cert_pem] = context
            by_name[name] = context
        # The first site's context also answers connections without SNI or with an unknown name.
        default = next(iter(by_name.values()))

        def select(ssl_object: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            chosen = by_name.get((server_name or "").lower().rstrip("."))
            if chosen is not None:
                ssl_object.context = chosen

        default.sni_callback = select
        return default

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one connection until either side closes it (RFC 9112 §9.3)."""
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST_HEAD)
        while True:
            try:
                request = await self._next_request(connection, reader)
            except h11.RemoteProtocolError:
                await self._send_bad_request(connection, writer)
                return
            if request is None:
                return
            await self._respond(connection, writer, request)
            if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                return
            connection.start_next_cycle()

    async def _next_request(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> h11.Request | None:
        """The next complete request (its empty body read too), or None when the peer left."""
        request: h11.Request | None = None
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                async with asyncio.timeout(self.idle_timeout):
                    connection.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.EndOfMessage):
                return request
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    async def _respond(
        self, connection: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request
    ) -> None:
        name = _host_name(request)
        site = self.sites.get(name)
        if site is not None:
            self._requests[name] += 1
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        planned = plan_response(site, request.method.decode("ascii"), path, self.origin(name))
        _emit(
            connection, writer, h11.Response(status_code=planned.status, headers=_headers(planned))
        )
        if planned.trickle:
            await self._trickle(connection, writer, planned.body)
        else:
            _emit(connection, writer, h11.Data(data=planned.body))
        _emit(connection, writer, h11.EndOfMessage())
        await writer.drain()

    async def _trickle(
        self, connection: h11.Connection, writer: asyncio.StreamWriter, body: bytes
    ) -> None:
        """Send ``body`` in ``trickle_steps`` pieces, ``trickle_interval`` apart, after the head."""
        await writer.drain()
        step = max(1, -(-len(body) // self.trickle_steps))
        for offset in range(0, len(body), step):
            await asyncio.sleep(self.trickle_interval)
            _emit(connection, writer, h11.Data(data=body[offset : offset + step]))
            await writer.drain()

    async def _send_bad_request(
        self, connection: h11.Connection, writer: asyncio.StreamWriter
    ) -> None:
        # h11 lets a server answer 400 even before a request line was understood (IDLE).
        if connection.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
            return
        body = b"400 bad request\n"
        headers = [("content-type", "text/plain"), ("content-length", str(len(body)))]
        _emit(connection, writer, h11.Response(status_code=400, headers=headers))
        _emit(connection, writer, h11.Data(data=body))
        _emit(connection, writer, h11.EndOfMessage())
        await writer.drain()


def _check_sites(sites: Sequence[PolicySite], distinct: int) -> bool:
    """Validate the site list; True when nothing should listen (all sites ``no_listener``)."""
    if not sites:
        raise ValueError("a policy server needs at least one site")
    if distinct != len(sites):
        raise ValueError("policy site names must be distinct")
    silent = {site.behaviour is PolicyBehaviour.NO_LISTENER for site in sites}
    if len(silent) > 1:
        raise ValueError("no_listener sites need an address of their own (nothing listens there)")
    return silent == {True}


def _certificate(site: PolicySite) -> IssuedCert:
    if site.certificate is None:
        raise ValueError(f"policy site {site.name} ({site.behaviour}) needs a certificate")
    return site.certificate


def _host_name(request: h11.Request) -> str:
    """The site name from the Host header (RFC 9110 §7.2): lower-case, no port, no final dot."""
    host = next((value for key, value in request.headers if key == b"host"), b"")
    text = host.decode("ascii", "replace").strip().lower()
    if text.startswith("["):
        return text.partition("]")[0] + "]"
    name, colon, port = text.rpartition(":")
    if colon and port.isdigit():
        text = name
    return text.rstrip(".")


def _headers(planned: PlannedResponse) -> list[tuple[str, str]]:
    headers = [
        ("content-type", planned.content_type),
        ("content-length", str(len(planned.body))),
        ("server", "MailShield-lab"),
    ]
    if planned.location is not None:
        headers.append(("location", planned.location))
    return headers


def _emit(connection: h11.Connection, writer: asyncio.StreamWriter, event: h11.Event) -> None:
    """Serialise ``event`` through h11's state machine and queue the bytes."""
    data = connection.send(event)
    if data:
        writer.write(data)
