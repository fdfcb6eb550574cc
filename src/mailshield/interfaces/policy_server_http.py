"""HTTP/1.1 on one connection (through h11), with every limit a hostile client could push on.

- the request head must arrive within ``header_timeout`` (slow-header clients are cut off) and may
  not exceed ``max_header_bytes`` (431);
- between keep-alive requests the client may stay silent for ``idle_timeout``;
- one connection serves at most ``max_requests`` requests, the last one marked
  ``Connection: close`` (RFC 9112 §9.6);
- a request that carries a body is answered and the connection closed: nothing here reads one;
- a route that fails (storage unreachable) gives 503 and ends the connection.

Each response goes out in one write (head and body together), and nothing is ever redirected.
A request on HTTP/1.0 or with ``Connection: close`` ends the connection after its response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import h11

from mailshield.interfaces.policy_server_routes import Reply, Request

log = logging.getLogger(__name__)

_READ_SIZE = 16 * 1024
SERVER_HEADER = "server: MailShield"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one client may cost the server; seconds and counts."""

    handshake_timeout: float = 10.0
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    max_header_bytes: int = 8 * 1024
    max_requests: int = 100
    max_connections_per_ip: int = 64
    max_connections: int = 20_000


Router = Callable[[Request], Awaitable[Reply]]
UNAVAILABLE = Reply(503, b"503 service unavailable\n")


@dataclass(slots=True)
class _Incoming:
    request: Request
    reusable: bool  # no body, HTTP/1.1, no "Connection: close": the connection may carry more
    leftover: bytes  # bytes received after this request (a pipelined next request)


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, route: Router, limits: Limits
) -> None:
    """Answer requests until the client leaves, stalls, errs, or the request budget is spent.

    h11 parses each request head; responses are rendered here (they are small and fixed in
    shape, and h11's per-header validation was a large share of the server's CPU per request).
    """
    leftover = b""
    for served in range(limits.max_requests):
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        if leftover:  # (h11 reads empty data as the end of the stream)
            connection.receive_data(leftover)
        try:
            incoming = await _next_request(connection, reader, limits, first=served == 0)
        except h11.RemoteProtocolError as exc:
            writer.write(render(Reply(exc.error_status_hint, _error_body(exc)), keep=False))
            await writer.drain()
            return
        except TimeoutError:
            return
        if incoming is None:
            return
        try:
            reply = await route(incoming.request)
        except Exception:  # e.g. storage unreachable: say so, and do not reuse the connection
            log.exception(
                "answering %s %s failed", incoming.request.method, incoming.request.target
            )
            reply, incoming.reusable = UNAVAILABLE, False
        keep = incoming.reusable and served + 1 < limits.max_requests
        head_only = incoming.request.method == "HEAD"
        writer.write(render(reply, keep=keep, head_only=head_only))
        await writer.drain()
        if not keep:
            return
        leftover = incoming.leftover


async def _next_request(
    connection: h11.Connection, reader: asyncio.StreamReader, limits: Limits, *, first: bool
) -> _Incoming | None:
    """The next request head; ``None`` when the client closed. Raises TimeoutError on a stall."""
    loop = asyncio.get_running_loop()
    started = first or bool(connection.trailing_data[0])
    async with asyncio.timeout(limits.header_timeout if started else limits.idle_timeout) as timer:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(_READ_SIZE)
                connection.receive_data(data)
                if data and not started:  # the idle wait is over: the head now has its deadline
                    started = True
                    timer.reschedule(loop.time() + limits.header_timeout)
            elif isinstance(event, h11.Request):
                if _head_size(event) > limits.max_header_bytes:
                    raise h11.RemoteProtocolError("request head too large", 431)
                return _incoming(connection, event)
            else:
                return None


def _incoming(connection: h11.Connection, event: h11.Request) -> _Incoming:
    ended = isinstance(connection.next_event(), h11.EndOfMessage)
    closing = any(
        key == b"connection" and b"close" in value.lower() for key, value in event.headers
    )
    reusable = ended and event.http_version == b"1.1" and not closing
    return _Incoming(_request(event), reusable, connection.trailing_data[0])


def _head_size(event: h11.Request) -> int:
    """The request head's size on the wire, near enough (h11 bounds only incomplete heads)."""
    line = len(event.method) + len(event.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in event.headers) + 2


def _request(event: h11.Request) -> Request:
    host = next((value for key, value in event.headers if key == b"host"), b"")
    return Request(
        method=event.method.decode("ascii", "replace"),
        target=event.target.decode("ascii", "replace"),
        host=host.decode("ascii", "replace"),
    )


_REASONS = {
    200: "OK",
    503: "Service Unavailable",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
}


def render(reply: Reply, *, keep: bool, head_only: bool = False) -> bytes:
    """The response on the wire (RFC 9112 §4, §6.3): Content-Length always, body unless HEAD."""
    reason = _REASONS.get(reply.status, "")
    lines = [f"HTTP/1.1 {reply.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    lines += [f"content-length: {len(reply.body)}", SERVER_HEADER]
    if not keep:
        lines.append("connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + reply.body


def _error_body(exc: h11.RemoteProtocolError) -> bytes:
    reason = _REASONS.get(exc.error_status_hint, "bad request").lower()
    return f"{exc.error_status_hint} {reason}\n".encode()
