"""Read the server name (SNI) from a TLS ClientHello before the handshake starts.

The policy server peeks at the first bytes of a connection, learns which name the client wants,
loads that name's certificate from storage (asynchronously, which an ``sni_callback`` cannot), and
only then lets OpenSSL run the handshake. This module is the pure part: bytes in, a verdict out,
never an exception.

Grammar (RFC 8446 §5.1 record layer, §4.1.2 ClientHello; RFC 6066 §3 server_name)::

    TLSPlaintext = type(1)=22 legacy_version(2) length(2) fragment[length]     ; length <= 2^14
    Handshake    = msg_type(1)=1 length(3) ClientHello                         ; may span records
    ClientHello  = legacy_version(2) random(32) session_id<0..32>
                   cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
                   extensions<8..2^16-1>
    Extension    = type(2) data<0..2^16-1>                      ; server_name = 0, ALPN = 16
    ServerNameList = server_name_list<1..2^16-1> of name_type(1)=0 HostName<1..2^16-1>
    ProtocolNameList = protocol_name_list<2..2^16-1> of ProtocolName<1..2^8-1>  ; RFC 7301 §3.1

A HostName is ASCII (RFC 6066 §3: A-labels, no trailing dot); anything else counts as no name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

RECORD_HEADER = 5
HANDSHAKE = 22
CLIENT_HELLO = 1
SERVER_NAME = 0
ALPN = 16
HOST_NAME = 0
MAX_RECORD = 2**14 + 256  # RFC 8446 §5.1 (plus the slack TLS 1.2 allowed for compression)
MAX_HELLO = 64 * 1024  # a ClientHello larger than this is refused rather than buffered


class HelloStatus(enum.Enum):
    """What the bytes seen so far say."""

    NAME = "name"  # a complete ClientHello with a host name
    NO_NAME = "no_name"  # a complete ClientHello without a usable server_name
    INCOMPLETE = "incomplete"  # more bytes are needed
    NOT_TLS = "not_tls"  # not a TLS handshake, malformed, or too large


@dataclass(frozen=True, slots=True)
class Hello:
    """The verdict on a connection's first bytes; ``name`` is lower-case when present, ``alpn``
    the protocols the client offers (RFC 7301), e.g. ``acme-tls/1`` from an ACME server."""

    status: HelloStatus
    name: str | None = None
    alpn: tuple[str, ...] = ()


INCOMPLETE = Hello(HelloStatus.INCOMPLETE)
NOT_TLS = Hello(HelloStatus.NOT_TLS)
NO_NAME = Hello(HelloStatus.NO_NAME)


class _Malformed(Exception):
    """Raised inside the parser only; turned into NOT_TLS at the edge."""


def read_client_hello(data: bytes) -> Hello:
    """The server name from the first bytes of a TLS connection (see the module grammar)."""
    message = _handshake_message(data)
    if isinstance(message, Hello):
        return message
    try:
        name, alpn = _extensions(_Reader(message))
    except _Malformed:
        return NOT_TLS
    return (
        Hello(HelloStatus.NO_NAME, None, alpn)
        if name is None
        else Hello(HelloStatus.NAME, name, alpn)
    )


def _handshake_message(data: bytes) -> bytes | Hello:
    """The ClientHello body reassembled from one or more handshake records, or a verdict."""
    fragments = bytearray()
    offset = 0
    while True:
        if len(data) - offset < RECORD_HEADER:
            return INCOMPLETE
        kind, length = data[offset], int.from_bytes(data[offset + 3 : offset + 5])
        if kind != HANDSHAKE or data[offset + 1] != 3 or length == 0 or length > MAX_RECORD:
            return NOT_TLS
        end = offset + RECORD_HEADER + length
        if len(data) < end:
            return INCOMPLETE
        fragments += data[offset + RECORD_HEADER : end]
        offset = end
        if fragments[0] != CLIENT_HELLO:
            return NOT_TLS
        if len(fragments) >= 4:
            size = int.from_bytes(fragments[1:4])
            if size > MAX_HELLO:
                return NOT_TLS
            if len(fragments) >= 4 + size:
                return bytes(fragments[4 : 4 + size])


class _Reader:
    """A cursor over bytes whose reads raise :class:`_Malformed` when they run past the end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def take(self, count: int) -> bytes:
        end = self.offset + count
        if end > len(self.data):
            raise _Malformed
        chunk, self.offset = self.data[self.offset : end], end
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size))

    def vector(self, length_size: int) -> _Reader:
        return _Reader(self.take(self.number(length_size)))

    @property
    def done(self) -> bool:
        return self.offset >= len(self.data)


def _extensions(hello: _Reader) -> tuple[str | None, tuple[str, ...]]:
    """The server name and the ALPN protocols from the ClientHello's extensions."""
    hello.take(2 + 32)  # legacy_version, random
    hello.vector(1)  # legacy_session_id
    hello.vector(2)  # cipher_suites
    hello.vector(1)  # legacy_compression_methods
    name: str | None = None
    alpn: tuple[str, ...] = ()
    if hello.done:
        return name, alpn  # no extensions at all (pre-TLS 1.2 style hello)
    extensions = hello.vector(2)
    while not extensions.done:
        kind, body = extensions.number(2), extensions.vector(2)
        if kind == SERVER_NAME:
            name = _host_name(body)
        elif kind == ALPN:
            alpn = _protocols(body)
    return name, alpn


def _protocols(body: _Reader) -> tuple[str, ...]:
    names = body.vector(2)
    found = []
    while not names.done:
        found.append(names.vector(1).data.decode("ascii", "replace"))
    return tuple(found)


def _host_name(body: _Reader) -> str | None:
    names = body.vector(2)
    while not names.done:
        kind, value = names.number(1), names.vector(2).data
        if kind == HOST_NAME:
            return _ascii_name(value)
    return None


def _ascii_name(value: bytes) -> str | None:
    if not value or not value.isascii():
        return None
    name = value.decode("ascii").lower().rstrip(".")
    return name or None
