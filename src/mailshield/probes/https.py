"""The HTTPS probe: one GET exactly as an MTA-STS sender performs it (RFC 8461 §3.3).

The host is resolved through the DNS probe, each address passes the SSRF guard, and the probe
connects to the checked address with SNI = host (RFC 8461 §7.1). The handshake never verifies —
the unverified chain is recorded for ``core.certs`` to judge. The request is HTTP/1.1 (h11) with
``Connection: close``; redirects are never followed (RFC 8461 §3.3: "MUST NOT follow"), so a 3xx
is recorded with its ``Location``. The body is capped: once more than ``max_body`` bytes arrive,
the probe keeps the first ``max_body + 1``, marks the fetch truncated and stops reading. One
deadline covers connect, handshake, headers and body; the response head is bounded by h11's
incomplete-event limit (16 KiB, plus at most one read).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass, field

import h11

from mailshield import __version__
from mailshield.core.observations import ConnectOutcome, HttpsFetch, TlsSession
from mailshield.probes.addresses import AddressLookup, candidates
from mailshield.probes.failures import Phase, ProtocolViolation, outcome_for
from mailshield.probes.net_policy import PUBLIC_ONLY, AddressPolicy
from mailshield.probes.tls import session_of, unverified_context

__all__ = ["HttpsClient"]

USER_AGENT = f"MailShield/{__version__} (MTA-STS checker)"
MAX_BODY = 64 * 1024  # RFC 8461 §3.3 suggests 64 KB
MAX_HEADER_BYTES = 16 * 1024
READ_SIZE = 8 * 1024  # below MAX_HEADER_BYTES, so h11 sees an over-long head as incomplete


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    path: str  # request target: path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 443 else f"{host}:{self.port}"


@dataclass
class _Progress:
    """What a fetch has learnt so far; kept when a later step fails."""

    phase: Phase = Phase.CONNECT
    address: str | None = None
    tls: TlsSession | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytearray = field(default_factory=bytearray)
    truncated: bool = False


class HttpsClient:
    """Fetches URLs as an MTA-STS sender does, implementing ``services.ports.HttpsFetcher``."""

    def __init__(
        self,
        dns: AddressLookup,
        *,
        timeout: float = 10.0,
        policy: AddressPolicy = PUBLIC_ONLY,
        max_body: int = MAX_BODY,
        max_header_bytes: int = MAX_HEADER_BYTES,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._dns = dns
        self._timeout = timeout
        self._policy = policy
        self._max_body = max_body
        self._max_header_bytes = max_header_bytes
        self._user_agent = user_agent
        self._context = unverified_context(alpn=("http/1.1",))

    async def fetch(self, url: str) -> HttpsFetch:
        """GET ``url`` (https only, no redirects followed); every failure is an outcome."""
        started = time.monotonic()
        progress = _Progress()
        target = _parse_url(url)
        if isinstance(target, str):
            outcome, error = ConnectOutcome.PROTOCOL_ERROR, target
        else:
            outcome, error = await self._fetch(target, progress)
        return HttpsFetch(
            url=url,
            host=target.host if isinstance(target, _Target) else "",
            outcome=outcome,
            address=progress.address,
            tls=progress.tls,
            status=progress.status,
            headers=progress.headers,
            body=bytes(progress.body),
            truncated=progress.truncated,
            error=error,
            elapsed=time.monotonic() - started,
        )

    async def _fetch(self, target: _Target, progress: _Progress) -> tuple[ConnectOutcome, str]:
        found = await candidates(self._dns, target.host, self._policy)
        if found.failure is not None:
            if found.refused:
                progress.address = found.refused[0][0]
            return found.failure, found.detail
        try:
            async with asyncio.timeout(self._timeout):
                await self._converse(target, found.addresses, progress)
        except Exception as exc:  # translated, never raised: see probes.failures
            return outcome_for(exc, progress.phase)
        return ConnectOutcome.OK, ""

    async def _converse(
        self, target: _Target, addresses: tuple[str, ...], progress: _Progress
    ) -> None:
        reader, writer = await _connect(addresses, target.port, progress)
        try:
            progress.phase = Phase.TLS
            await writer.start_tls(self._context, server_hostname=target.host)
            progress.tls = session_of(writer.get_extra_info("ssl_object"), target.host)
            progress.phase = Phase.TALK
            await self._exchange(reader, writer, target, progress)
        finally:
            writer.transport.abort()

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: _Target,
        progress: _Progress,
    ) -> None:
        connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=self._max_header_bytes)
        request = h11.Request(method="GET", target=target.path, headers=self._headers(target))
        for event_out in (request, h11.EndOfMessage()):
            writer.write(connection.send(event_out) or b"")
        await writer.drain()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(READ_SIZE))
            elif isinstance(event, h11.Response):
                progress.status = event.status_code
                progress.headers = _decode_headers(event.headers.raw_items())
            elif isinstance(event, h11.Data):
                if self._keep(progress, bytes(event.data)):
                    return
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return
            elif event is h11.PAUSED:
                raise ProtocolViolation("server sent data after the response")

    def _keep(self, progress: _Progress, data: bytes) -> bool:
        """Append body bytes; True once the cap is exceeded (cap+1 bytes kept, reading stops)."""
        progress.body += data[: self._max_body + 1 - len(progress.body)]
        progress.truncated = len(progress.body) > self._max_body
        return progress.truncated

    def _headers(self, target: _Target) -> list[tuple[str, str]]:
        return [
            ("Host", target.host_header),
            ("User-Agent", self._user_agent),
            ("Accept", "*/*"),
            ("Connection", "close"),
        ]


async def _connect(
    addresses: tuple[str, ...], port: int, progress: _Progress
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first address that accepts; refusals move on to the next."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        progress.address = address
        try:
            return await asyncio.open_connection(address, port)
        except OSError as exc:
            failure = exc
    raise failure


def _decode_headers(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)


def _parse_url(url: str) -> _Target | str:
    """The host, port and request target of an https URL, or why it cannot be fetched."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 443
    except ValueError as exc:
        return f"invalid URL: {exc}"
    if parts.scheme.lower() != "https" or not parts.hostname:
        return f"not an https URL with a host: {url!r}"
    if parts.username is not None or parts.password is not None:
        return "URLs with credentials are not fetched"
    path = parts.path or "/"
    return _Target(parts.hostname.lower(), port, f"{path}?{parts.query}" if parts.query else path)
