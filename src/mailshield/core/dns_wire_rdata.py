"""The record data the checker reads, from wire form to the plain values of the observations.

Only class IN records of the types below are decoded, each checked to fill its rdata exactly;
any other record keeps its octets and reads as the RFC 3597 §5 generic text ``\\# LEN HEX``
(spelled as dnspython spells it).
"""

from __future__ import annotations

from collections.abc import Callable

from mailshield.core.dns_wire_codes import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_MX,
    TYPE_NS,
    TYPE_PTR,
    TYPE_TLSA,
    TYPE_TXT,
    WireError,
)
from mailshield.core.dns_wire_names import NameCache, read_name
from mailshield.core.observations import DnsRecord, MxRecord, TlsaRecord

__all__ = ["DECODED_TYPES", "decode_rdata", "generic_text", "ipv6_text"]


def decode_rdata(
    data: bytes, start: int, end: int, rdtype: int, names: NameCache | None = None
) -> DnsRecord:
    """The value of one class IN record of a type in :data:`DECODED_TYPES`.

    ``data[start:end]`` is the rdata; names in it may point anywhere earlier in ``data``
    (``names``: the names of the message read so far).
    """
    return _DECODERS[rdtype](data, start, end, names)


def _a(data: bytes, start: int, end: int, _: NameCache | None) -> str:
    """RFC 1035 §3.4.1: four octets."""
    if end - start != 4:
        raise WireError("an A record is 4 octets")
    return f"{data[start]}.{data[start + 1]}.{data[start + 2]}.{data[start + 3]}"


def _aaaa(data: bytes, start: int, end: int, _: NameCache | None) -> str:
    """RFC 3596 §2.2: sixteen octets."""
    if end - start != 16:
        raise WireError("an AAAA record is 16 octets")
    return ipv6_text(data[start:end])


def _host(data: bytes, start: int, end: int, names: NameCache | None) -> str:
    """RFC 1035 §3.3.1, §3.3.11, §3.3.12: CNAME, NS and PTR hold one name."""
    name, after = read_name(data, start, end, names)
    if after != end:
        raise WireError("octets after the name in the record")
    return name


def _mx(data: bytes, start: int, end: int, names: NameCache | None) -> MxRecord:
    """RFC 1035 §3.3.9: a 16-bit preference, then the exchange name."""
    if end - start < 3:
        raise WireError("an MX record is too short")
    return MxRecord((data[start] << 8) | data[start + 1], _host(data, start + 2, end, names))


def _txt(data: bytes, start: int, end: int, _: NameCache | None) -> bytes:
    """RFC 1035 §3.3.14: one or more character-strings, joined with no separator
    (RFC 7208 §3.3, RFC 8461 §3.1)."""
    if start == end:
        raise WireError("a TXT record holds at least one string")
    parts = []
    while start < end:
        stop = start + 1 + data[start]
        if stop > end:
            raise WireError("a TXT string runs past its record")
        parts.append(data[start + 1 : stop])
        start = stop
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _tlsa(data: bytes, start: int, end: int, _: NameCache | None) -> TlsaRecord:
    """RFC 6698 §2.1: usage, selector and matching type octets, then the association data.

    A digest of the wrong size is read, not refused: RFC 6698 §4.1 makes such a record
    *unusable*, which the DANE check reports (``core.records.tlsa.unusable_reason``), where
    refusing it would turn the whole lookup into "could not test"."""
    if end - start < 3:
        raise WireError("a TLSA record is too short")
    return TlsaRecord(data[start], data[start + 1], data[start + 2], data[start + 3 : end])


_DECODERS: dict[int, Callable[[bytes, int, int, NameCache | None], DnsRecord]] = {
    TYPE_A: _a,
    TYPE_AAAA: _aaaa,
    TYPE_CNAME: _host,
    TYPE_NS: _host,
    TYPE_PTR: _host,
    TYPE_MX: _mx,
    TYPE_TXT: _txt,
    TYPE_TLSA: _tlsa,
}
DECODED_TYPES = frozenset(_DECODERS)


def generic_text(rdata: bytes) -> str:
    """RFC 3597 §5: ``\\# LEN HEX``."""
    return f"\\# {len(rdata)} {rdata.hex()}"


def ipv6_text(octets: bytes) -> str:
    """An IPv6 address as text: RFC 5952 §4 (lower-case hex, no leading zeros, the first longest
    run of two or more zero groups as ``::``), with dnspython's dotted tail for ``::a.b.c.d``
    and ``::ffff:a.b.c.d``."""
    groups = [format((octets[i] << 8) | octets[i + 1], "x") for i in range(0, 16, 2)]
    best_start, best_len, run_start = 0, 0, -1
    for index, group in enumerate([*groups, "end"]):
        if group == "0":
            run_start = index if run_start < 0 else run_start
            continue
        if run_start >= 0 and index - run_start > best_len:
            best_start, best_len = run_start, index - run_start
        run_start = -1
    if best_len < 2:
        return ":".join(groups)
    if best_start == 0 and (best_len == 6 or (best_len == 5 and groups[5] == "ffff")):
        prefix = "::" if best_len == 6 else "::ffff:"
        return prefix + ".".join(str(octet) for octet in octets[12:])
    return ":".join(groups[:best_start]) + "::" + ":".join(groups[best_start + best_len :])
