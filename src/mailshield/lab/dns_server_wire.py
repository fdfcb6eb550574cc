"""DNS wire format for the lab server's fast path: reading a plain query, and writing names with
the same compression dnspython uses (RFC 1035 §4.1.4), without building message objects.

A *plain* query is what resolvers and checkers send (RFC 1035 §4.1): opcode QUERY, QR clear,
exactly one question whose name has no compression pointer, no answer or authority records, and
at most one additional record, an EDNS(0) OPT record (RFC 6891 §6.1.2) without a padding option
(RFC 7830, which changes the reply's size). :func:`read_query` returns ``None`` for anything
else, and for bytes that are not a DNS message at all; the caller then falls back to dnspython.

:class:`WireWriter` appends names and records to a message body; every name suffix it writes is
remembered and later names point back at it, exactly as ``dns.name.Name.to_wire`` does with a
compression table, so a reply written here compresses exactly as dnspython would.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from mailshield.core.dns_wire_codes import DO, QR
from mailshield.core.dns_wire_codes import TYPE_OPT as OPT

HEADER_SIZE = 12
_OPCODE = 0x7800
_PADDING = 12  # EDNS option code, RFC 7830 §3
_MAX_LABEL = 63  # RFC 1035 §2.3.4; 0xC0 and above start a pointer
_MAX_NAME = 255
_POINTER_LIMIT = 0x3FFF  # the largest offset a 14-bit pointer reaches

_HEADER = struct.Struct("!HHHHHH")
_TYPE_CLASS = struct.Struct("!HH")
_OPT_FIXED = struct.Struct("!HHIH")  # type, payload, ext-rcode/version/flags, rdlength
_RR_FIXED = struct.Struct("!HHI")
_LENGTH = struct.Struct("!H")

# A name ready to write: for each label (root excluded) the lower-case wire form of the suffix
# starting there (the compression key) and the label as it should appear (length byte + bytes).
WireName = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class PlainQuery:
    """The parts of a plain query that decide its reply."""

    flags: int
    question: bytes  # the question section as sent: name (with its case), type, class
    qname: bytes  # the question name in lower-case wire form
    labels: tuple[int, ...]  # where each label of ``qname`` starts (root excluded)
    qtype: int
    qclass: int
    edns: bool
    payload: int  # the OPT record's UDP payload size (0 without EDNS)
    do: bool


def read_query(wire: bytes) -> PlainQuery | None:
    """The plain query in ``wire``, or ``None`` when it is anything else (see module docstring)."""
    if len(wire) < HEADER_SIZE + 5:
        return None
    _, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if flags & (QR | _OPCODE) or qdcount != 1 or ancount or nscount or arcount > 1:
        return None
    name = _read_name(wire, HEADER_SIZE)
    if name is None:
        return None
    labels, name_end = name
    end = name_end + _TYPE_CLASS.size
    if end > len(wire):
        return None
    qtype, qclass = _TYPE_CLASS.unpack_from(wire, name_end)
    qname = wire[HEADER_SIZE:name_end].lower()
    question = wire[HEADER_SIZE:end]
    if arcount == 0:
        if end != len(wire):
            return None
        return PlainQuery(flags, question, qname, labels, qtype, qclass, False, 0, False)
    opt = _read_opt(wire, end)
    if opt is None:
        return None
    payload, do = opt
    return PlainQuery(flags, question, qname, labels, qtype, qclass, True, payload, do)


def _read_name(wire: bytes, start: int) -> tuple[tuple[int, ...], int] | None:
    """The uncompressed name at ``start``: where each label starts (relative to ``start``) and
    the offset just past its final zero byte."""
    starts: list[int] = []
    position = start
    while position < len(wire):
        length = wire[position]
        if length == 0:
            end = position + 1
            return (tuple(starts), end) if end - start <= _MAX_NAME else None
        if length > _MAX_LABEL:
            return None  # a compression pointer or an extended label type
        starts.append(position - start)
        position += 1 + length
    return None


def _read_opt(wire: bytes, start: int) -> tuple[int, bool] | None:
    """(payload, DO) of the OPT record filling ``wire`` from ``start``; None if it is not one
    this path handles: another record, EDNS version other than 0, padding, trailing bytes."""
    fixed_end = start + 1 + _OPT_FIXED.size
    if fixed_end > len(wire) or wire[start] != 0:
        return None
    rtype, payload, ttl, rdlength = _OPT_FIXED.unpack_from(wire, start + 1)
    if rtype != OPT or ttl & 0xFFFF0000 or fixed_end + rdlength != len(wire):
        return None
    position = fixed_end
    while position < len(wire):  # options: code, length, data (RFC 6891 §6.1.2)
        if position + 4 > len(wire):
            return None
        code, length = _TYPE_CLASS.unpack_from(wire, position)
        position += 4 + length
        if code == _PADDING or position > len(wire):
            return None
    return payload, bool(ttl & DO)


@dataclass(frozen=True, slots=True)
class WireRdata:
    """One record's data: fixed bytes, then names (compressed when written), then fixed bytes;
    e.g. MX is preference + exchange, SOA is mname + rname + five integers (RFC 1035 §3.3)."""

    head: bytes
    names: tuple[WireName, ...] = ()
    tail: bytes = b""


def wire_name(labels: tuple[bytes, ...]) -> WireName:
    """A name (its labels, root excluded) prepared for :meth:`WireWriter.name`."""
    parts = [bytes((len(label),)) + label for label in labels]
    return tuple(
        (b"".join(parts[index:]).lower() + b"\x00", part) for index, part in enumerate(parts)
    )


class WireWriter:
    """A reply being written: header space, the query's question, then records, with the names
    of the question and of every record available as compression targets."""

    def __init__(self, query: PlainQuery) -> None:
        self.out = bytearray(HEADER_SIZE)
        self.out += query.question
        self._targets = {query.qname[i:]: HEADER_SIZE + i for i in query.labels}

    def name(self, name: WireName) -> None:
        """Write ``name``, ending in a pointer at the longest suffix already written."""
        out, targets = self.out, self._targets
        for key, label in name:
            target = targets.get(key)
            if target is not None:
                out += _LENGTH.pack(0xC000 | target)
                return
            if len(out) <= _POINTER_LIMIT:
                targets[key] = len(out)
            out += label
        out.append(0)

    def record(self, owner: WireName, rdtype: int, ttl: int, rdata: WireRdata) -> None:
        """Write one class-IN record (RFC 1035 §4.1.3): owner, type, class, TTL, rdata length
        and the rdata, whose names are compressed like the owner."""
        self.name(owner)
        self.out += _RR_FIXED.pack(rdtype, 1, ttl)
        length_at = len(self.out)
        self.out += b"\x00\x00"
        self.out += rdata.head
        for name in rdata.names:
            self.name(name)
        self.out += rdata.tail
        _LENGTH.pack_into(self.out, length_at, len(self.out) - length_at - 2)

    def finish(self, flags: int, counts: tuple[int, int, int], *, opt_ttl: int | None) -> bytes:
        """The message: header with ``flags`` and (answer, authority, additional) ``counts``,
        plus an OPT record (payload 8192, as dnspython's ``make_response``) when ``opt_ttl`` is
        not None. The ID is left zero for the caller to fill in."""
        answers, authority, additional = counts
        if opt_ttl is not None:
            additional += 1
            self.out += b"\x00" + _OPT_FIXED.pack(OPT, 8192, opt_ttl, 0)
        _HEADER.pack_into(self.out, 0, 0, flags, 1, answers, authority, additional)
        return bytes(self.out)
