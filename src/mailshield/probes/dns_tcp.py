"""One DNS exchange over TCP, for a query whose UDP answer came back truncated (RFC 7766 §5).

RFC 1035 §4.2.2 and RFC 7766 §8: each message on the connection is preceded by its length in
two octets, so a response is at most 65,535 octets and is read exactly, never past its length.
One connection per exchange, closed after it; the response must answer the query
(:func:`~mailshield.core.dns_wire.is_response_to`), or the exchange fails.

Failures are raised: ``TimeoutError`` (connecting, sending and reading share ``seconds``),
``OSError`` for the connection, ``EOFError`` (``asyncio.IncompleteReadError``) when the server
closes early, :class:`~mailshield.core.dns_wire.WireError` for a response that does not parse or
does not answer.
"""

from __future__ import annotations

import asyncio
import secrets

from mailshield.core.dns_wire import (
    Question,
    WireError,
    WireMessage,
    decode_message,
    is_response_to,
    with_id,
)

__all__ = ["tcp_exchange"]


async def tcp_exchange(
    address: str, port: int, query: bytes, question: Question, seconds: float
) -> WireMessage:
    """Send ``query`` (its ID is replaced) to ``address:port`` over TCP and return the response
    to ``question`` within ``seconds``."""
    query_id = secrets.randbelow(1 << 16)
    wire = with_id(query, query_id)
    async with asyncio.timeout(seconds):
        reader, writer = await asyncio.open_connection(address, port)  # an IP: no lookup
        try:
            writer.write(len(wire).to_bytes(2, "big") + wire)
            size = int.from_bytes(await reader.readexactly(2), "big")
            response = decode_message(await reader.readexactly(size))
        finally:
            writer.close()
    if not is_response_to(response, query_id, question):
        raise WireError("the TCP response does not answer the query")
    return response
