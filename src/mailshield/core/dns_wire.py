"""A sans-IO DNS message codec for the checker's queries and the answers to them.

Bytes in, values out; the caller owns the sockets. :func:`encode_query` writes the one kind of
query the checker sends; :func:`decode_message` reads a response once, checking every length,
and :func:`is_response_to` says whether it answers a query (RFC 5452 §9.1). Malformed input
raises :class:`WireError` and nothing else, and reading always ends (names are read in bounded
steps, see :mod:`mailshield.core.dns_wire_names`).

What is decoded (RFC 1035 §4.1): the header, the question, the answer section's records (values
for A, AAAA, CNAME, MX, NS, PTR, TXT and TLSA, RFC 3597 text for other types), only the types
of the authority section, and from the additional section the EDNS OPT record (RFC 6891 §6.1):
its flags, the extended response code and the extended DNS errors (RFC 8914 §2). Records
outside the answer section are checked for framing only, not for their record data. A TSIG
record (RFC 8945) is refused: the checker never signs, so it cannot check one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from mailshield.core.dns_wire_codes import (
    AD,
    CD,
    CLASS_IN,
    DO,
    EDE_OPTION,
    QR,
    RCODE_FORMERR,
    RCODE_NOTIMP,
    RCODE_REFUSED,
    RCODE_SERVFAIL,
    RD,
    SINGLETON_TYPES,
    TYPE_OPT,
    TYPE_RRSIG,
    TYPE_SIG,
    TYPE_TSIG,
    TYPE_TXT,
    WireError,
)
from mailshield.core.dns_wire_names import NameCache, name_from_text, read_name
from mailshield.core.dns_wire_rdata import DECODED_TYPES, decode_rdata, generic_text
from mailshield.core.observations import DnsRecord

__all__ = [
    "EDNS_PAYLOAD",
    "ExtendedError",
    "Question",
    "WireError",
    "WireMessage",
    "WireRecord",
    "decode_message",
    "encode_query",
    "is_response_to",
    "name_from_text",
    "wire_name_text",
    "with_id",
]

EDNS_PAYLOAD = 1232  # DNS flag day 2020: a UDP payload that avoids IP fragmentation

_HEADER = struct.Struct("!HHHHHH")
_QUESTION = struct.Struct("!HH")
_RR = struct.Struct("!HHIH")
_OPTION = struct.Struct("!HH")
# RFC 6891 §6.1.2-§6.1.3: root owner, type OPT, the payload size as class, extended rcode 0,
# version 0 and the DO bit (RFC 3225 §3) as TTL, no options.
_OPT_DO = b"\x00" + _RR.pack(TYPE_OPT, EDNS_PAYLOAD, DO, 0)
_NO_QUESTION_OK = frozenset({RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NOTIMP, RCODE_REFUSED})


class Question(NamedTuple):
    """One entry of the question section; the name as lower-case text (RFC 4343)."""

    name: str
    rdtype: int
    rdclass: int = CLASS_IN


class WireRecord(NamedTuple):
    """One answer record: owner text, type, class, and its value (``None`` when not decoded)."""

    name: str
    rdtype: int
    rdclass: int
    value: DnsRecord | None
    rdata: bytes


class ExtendedError(NamedTuple):
    """An RFC 8914 extended DNS error: the info-code and the extra text (``""`` when none)."""

    code: int
    text: str


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A decoded DNS message (see the module docstring for what is kept)."""

    id: int
    flags: int  # the 16-bit header word: QR, opcode, AA, TC, RD, RA, AD, CD, low rcode bits
    rcode: int  # RFC 6891 §6.1.3: 12 bits, the OPT record's 8 high bits above the header's 4
    question: tuple[Question, ...]
    answer: tuple[WireRecord, ...]
    authority_types: frozenset[int]
    edns_flags: int | None  # the OPT record's TTL field, None when there is no OPT record
    extended_errors: tuple[ExtendedError, ...]

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    def rrset(self, owner: str, rdtype: int) -> tuple[DnsRecord, ...] | None:
        """The class IN answer records of ``owner``/``rdtype`` as values, or ``None`` if none.

        Records are kept in order with duplicates dropped; for a singleton type (CNAME, SOA, …)
        the last one wins. Signatures are never matched, as their RRsets are keyed by the type
        they cover.
        """
        if rdtype in (TYPE_RRSIG, TYPE_SIG):
            return None
        found: dict[object, DnsRecord] | None = None
        for record in self.answer:
            if record.rdtype != rdtype or record.name != owner or record.rdclass != CLASS_IN:
                continue
            if found is None:
                found = {}
            elif rdtype in SINGLETON_TYPES:
                found.clear()
            value = record.value
            if value is None:
                found.setdefault(record.rdata, generic_text(record.rdata))
            else:
                found.setdefault(record.rdata if rdtype == TYPE_TXT else value, value)
        return None if found is None else tuple(found.values())


def encode_query(
    qname_wire: bytes, qtype: int, *, query_id: int, checking_disabled: bool = False
) -> bytes:
    """A recursive query for ``qname_wire``/``qtype`` in class IN.

    RD is set; AD too, to say we understand it (RFC 6840 §5.7); CD when asked (RFC 4035
    §3.2.2). One OPT record offers a 1232-octet payload and sets DO (RFC 6891, RFC 3225).
    """
    flags = RD | AD | (CD if checking_disabled else 0)
    return (
        _HEADER.pack(query_id, flags, 1, 0, 0, 1)
        + qname_wire
        + _QUESTION.pack(qtype, CLASS_IN)
        + _OPT_DO
    )


def with_id(wire: bytes, query_id: int) -> bytes:
    """``wire`` with its message ID replaced (RFC 1035 §4.1.1)."""
    return query_id.to_bytes(2, "big") + wire[2:]


def wire_name_text(wire: bytes) -> str:
    """The text of an uncompressed wire-form name, as names in decoded messages read."""
    text, after = read_name(wire, 0, len(wire))
    if after != len(wire):
        raise WireError("octets after the name")
    return text


def is_response_to(message: WireMessage, query_id: int, question: Question) -> bool:
    """Whether ``message`` answers the query ``query_id`` asking ``question`` (RFC 5452 §9.1).

    QR set, the same ID and opcode (QUERY), and a question section that is exactly ours; an
    error response (FORMERR, SERVFAIL, NOTIMP, REFUSED) may leave the question out.
    """
    if not message.flags & QR or message.id != query_id or message.opcode != 0:
        return False
    if not message.question:
        return message.rcode in _NO_QUESTION_OK
    return all(entry == question for entry in message.question)


def decode_message(data: bytes) -> WireMessage:
    """Read one DNS message; raises :class:`WireError` for anything malformed."""
    if len(data) < 12:
        raise WireError("message shorter than its 12-octet header")
    query_id, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    names: NameCache = {}
    question, pos = _questions(data, qdcount, names)
    answer, pos = _answers(data, pos, ancount, names)
    authority, pos = _authority_types(data, pos, nscount, names)
    edns, pos = _additional(data, pos, arcount, names)
    if pos != len(data):
        raise WireError("octets after the last record")
    edns_flags, errors = edns if edns is not None else (None, ())
    rcode = (flags & 0xF) | (((edns_flags or 0) >> 20) & 0xFF0)
    return WireMessage(query_id, flags, rcode, question, answer, authority, edns_flags, errors)


def _questions(data: bytes, count: int, names: NameCache) -> tuple[tuple[Question, ...], int]:
    pos, found = 12, []
    for _ in range(count):
        name, pos = read_name(data, pos, len(data), names)
        if pos + 4 > len(data):
            raise WireError("question cut short")
        found.append(Question(name, *_QUESTION.unpack_from(data, pos)))
        pos += 4
    return tuple(found), pos


def _header(
    data: bytes, pos: int, names: NameCache, *, opt_allowed: bool = False
) -> tuple[str, int, int, int, int, int]:
    """An RR's owner, type, class, TTL, and where its rdata starts and ends.

    OPT belongs in the additional section only (RFC 6891 §6.1.1); TSIG is refused anywhere.
    """
    name, pos = read_name(data, pos, len(data), names)
    if pos + 10 > len(data):
        raise WireError("record header cut short")
    rdtype, rdclass, ttl, rdlength = _RR.unpack_from(data, pos)
    pos += 10
    if pos + rdlength > len(data):
        raise WireError("record data runs past the end of the message")
    if rdtype == TYPE_TSIG or (rdtype == TYPE_OPT and not (opt_allowed and name == "")):
        raise WireError("a TSIG record, or an OPT record out of place")
    return name, rdtype, rdclass, ttl, pos, pos + rdlength


def _answers(
    data: bytes, pos: int, count: int, names: NameCache
) -> tuple[tuple[WireRecord, ...], int]:
    found = []
    for _ in range(count):
        name, rdtype, rdclass, _, start, pos = _header(data, pos, names)
        decoded = rdclass == CLASS_IN and rdtype in DECODED_TYPES
        value = decode_rdata(data, start, pos, rdtype, names) if decoded else None
        found.append(WireRecord(name, rdtype, rdclass, value, data[start:pos]))
    return tuple(found), pos


def _authority_types(
    data: bytes, pos: int, count: int, names: NameCache
) -> tuple[frozenset[int], int]:
    types = set()
    for _ in range(count):
        _, rdtype, _, _, _, pos = _header(data, pos, names)
        types.add(rdtype)
    return frozenset(types), pos


def _additional(
    data: bytes, pos: int, count: int, names: NameCache
) -> tuple[tuple[int, tuple[ExtendedError, ...]] | None, int]:
    """The OPT record's flags and extended errors (RFC 6891 §6.1.1: at most one, owned by the
    root), and where the section ends."""
    edns = None
    for _ in range(count):
        _, rdtype, _, ttl, start, pos = _header(data, pos, names, opt_allowed=True)
        if rdtype == TYPE_OPT:
            if edns is not None:
                raise WireError("more than one OPT record")
            edns = ttl, _extended_errors(data, start, pos)
    return edns, pos


def _extended_errors(data: bytes, pos: int, end: int) -> tuple[ExtendedError, ...]:
    """The EDE options among the OPT record's options (RFC 6891 §6.1.2, RFC 8914 §2)."""
    errors = []
    while pos < end:
        if pos + 4 > end:
            raise WireError("EDNS option header cut short")
        code, length = _OPTION.unpack_from(data, pos)
        pos += 4
        if pos + length > end:
            raise WireError("EDNS option runs past its record")
        if code == EDE_OPTION:
            errors.append(_extended_error(data[pos : pos + length]))
        pos += length
    return tuple(errors)


def _extended_error(option: bytes) -> ExtendedError:
    """RFC 8914 §2: a 16-bit info-code, then UTF-8 text that may end in one NUL."""
    if len(option) < 2:
        raise WireError("extended DNS error option shorter than its info-code")
    text = option[2:]
    if text.endswith(b"\x00"):
        text = text[:-1]
    try:
        return ExtendedError((option[0] << 8) | option[1], text.decode("utf-8"))
    except UnicodeDecodeError:
        raise WireError("extended DNS error text is not UTF-8") from None
