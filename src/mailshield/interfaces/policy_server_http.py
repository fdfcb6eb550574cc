"""HTTP/1.1 on one connection (through h11), with every limit a hostile client could push on.

- the request head must arrive within ``header_timeout`` (slow-header clients are cut off) and may
  not exceed ``max_header_bytes`` (431);
- between keep-alive requests the client may stay silent for ``idle_timeout``;
- one connection serves at most ``max_requests`` requests, the last one marked
  ``Connection: close`` (RFC 9112 §9.6);
- a request that carries a body is answered and the connection closed: nothing here reads one.

Each response goes out in one write (head and body together), and nothing is ever redirected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import h11

from mailshield.interfaces.policy_server_routes import Reply, Request

_READ_SIZE = 16 * 1024
SERVER_HEADER = ("server", "MailShield")


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


@dataclass(slots=True)
class _Incoming:
    request: Request
    complete: bool  # the request had no body, so the connection may be reused


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, route: Router, limits: Limits
) -> None:
    """Answer requests until the client leaves, stalls, errs, or the request budget is spent."""
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
    for served in range(limits.max_requests):
        try:
            incoming = await _next_request(connection, reader, limits, first=served == 0)
        except h11.RemoteProtocolError as exc:
            writer.write(_error_bytes(connection, exc.error_status_hint))
            await writer.drain()
            return
        except TimeoutError:
            return
        if incoming is None:
            return
        reply = await route(incoming.request)
        keep = incoming.complete and served + 1 < limits.max_requests
        writer.write(_reply_bytes(connection, reply, incoming.request.method, keep=keep))
        await writer.drain()
        if not keep or connection.our_state is not h11.DONE:
            return
        connection.start_next_cycle()


async def _next_request(
    connection: h11.Connection, reader: asyncio.StreamReader, limits: Limits, *, first: bool
) -> _Incoming | None:
    """The next request head; ``None`` when the client closed. Raises TimeoutError on a stall."""
    loop = asyncio.get_running_loop()
    started = first
    async with asyncio.timeout(limits.header_timeout if first else limits.idle_timeout) as timer:
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
                ended = isinstance(connection.next_event(), h11.EndOfMessage)
                return _Incoming(_request(event), ended)
            else:
                return None


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


def _reply_bytes(connection: h11.Connection, reply: Reply, method: str, *, keep: bool) -> bytes:
    headers = [*reply.headers, ("content-length", str(len(reply.body))), SERVER_HEADER]
    if not keep:
        headers.append(("connection", "close"))
    out = connection.send(h11.Response(status_code=reply.status, headers=headers)) or b""
    if method != "HEAD" and reply.body:
        out += connection.send(h11.Data(data=reply.body)) or b""
    return out + (connection.send(h11.EndOfMessage()) or b"")


def _error_bytes(connection: h11.Connection, status: int) -> bytes:
    """A 400/431 for a request h11 could not accept, when a response may still be sent."""
    if connection.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
        return b""
    body = f"{status} bad request\n".encode()
    reply = Reply(status, body)
    return _reply_bytes(connection, reply, "GET", keep=False)
