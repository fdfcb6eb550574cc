"""The lab's zones in wire form, answering plain queries without dnspython message objects.

:class:`WireAnswers` is built once from a :class:`~mailshield.lab.zones.ZoneSet`: every owner
name keyed by its lower-case wire form, every record's data pre-rendered (names kept apart so
they can be compressed against the question), and each zone's negative-answer SOA. Answering a
plain query (:func:`~mailshield.lab.dns_server_wire.read_query`) is then a few dictionary
lookups and byte joins: the deepest served zone by suffix, the name, the type. The reply is the
one dnspython renders through :class:`~mailshield.lab.dns_responder.Responder`'s slow path, byte
for byte, except that records of one RRset keep their zone order (dnspython shuffles them).

What it leaves to that slow path (``answer`` returns ``None``): names with a scenario fault, a
CNAME to follow (RFC 1034 §4.3.2), type ANY, classes other than IN, record types whose data
holds names this module does not render, and replies bigger than the client accepts (they
become TC replies).
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase

from mailshield.core.dns_wire_codes import AA, CD, DO, QR, RD
from mailshield.lab.dns_server_wire import (
    PlainQuery,
    WireName,
    WireRdata,
    WireWriter,
    wire_name,
)
from mailshield.lab.zones import Zone, ZoneSet

_IN = 1
_ANY = int(dns.rdatatype.ANY)
_CNAME = int(dns.rdatatype.CNAME)
_SOA = int(dns.rdatatype.SOA)
_MX = int(dns.rdatatype.MX)
_SOA_INTEGERS = struct.Struct("!IIIII")  # serial, refresh, retry, expire, minimum
_TARGET_TYPES = frozenset((_CNAME, int(dns.rdatatype.NS), int(dns.rdatatype.PTR)))
_NOERROR, _NXDOMAIN, _REFUSED = int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN), 5

# Types whose data holds no domain name: their wire form never depends on the message.
_PLAIN_TYPES = frozenset(
    int(t)
    for t in (
        dns.rdatatype.A,
        dns.rdatatype.AAAA,
        dns.rdatatype.TXT,
        dns.rdatatype.SPF,
        dns.rdatatype.TLSA,
        dns.rdatatype.SMIMEA,
        dns.rdatatype.CAA,
        dns.rdatatype.SSHFP,
        dns.rdatatype.DS,
        dns.rdatatype.DNSKEY,
        dns.rdatatype.OPENPGPKEY,
    )
)


@dataclass(frozen=True, slots=True)
class _RRset:
    owner: WireName
    rdtype: int
    ttl: int
    rdatas: tuple[WireRdata, ...]


@dataclass(slots=True)
class _Node:
    owner: WireName
    rrsets: dict[int, _RRset | None] = field(default_factory=dict)  # None: slow path only


@dataclass(slots=True)
class _Zone:
    negative: _RRset | None  # the SOA of negative answers (RFC 2308 §3)
    nodes: dict[bytes, _Node] = field(default_factory=dict)


class WireAnswers:
    """Authoritative answers in wire form for every zone of ``zones``; names in ``faulted``
    (lower-case wire form) are left to the slow path.

    A zone is indexed when a question first reaches it (about 12 KB and 0.2 ms for a bulk
    domain), so a lab of 100,000 domains starts at once; ``prerender`` indexes every zone now,
    for a benchmark that should not pay for it while it is timed.
    """

    def __init__(
        self, zones: ZoneSet, faulted: frozenset[bytes] = frozenset(), *, prerender: bool = False
    ) -> None:
        self._faulted = faulted
        self._sources = {_origin_key(origin): zone for origin, zone in zones.zones.items()}
        self._zones: dict[bytes, _Zone] = {}
        if prerender:
            for key in self._sources:
                self._indexed(key)

    def answer(self, query: PlainQuery, limit: int) -> bytes | None:
        """The reply to ``query`` (ID left zero) if it is at most ``limit`` bytes and none of the
        module docstring's exceptions applies; else ``None``."""
        if query.qclass != _IN or query.qtype == _ANY or query.qname in self._faulted:
            return None
        writer = WireWriter(query)
        zone = self._zone_of(query)
        if zone is None:
            counts, flags = (0, 0, 0), QR | _REFUSED  # not ours: no AA (RFC 1035 §4.1.1)
        else:
            found = _write_answer(writer, zone, query)
            if found is None:
                return None
            counts, flags = found
        flags |= query.flags & (RD | CD)  # RFC 1035 §4.1.1; RFC 4035 §3.1.6
        opt_ttl = (DO if query.do else 0) if query.edns else None  # RFC 3225 §3
        reply = writer.finish(flags, counts, opt_ttl=opt_ttl)
        return reply if len(reply) <= limit else None

    def _zone_of(self, query: PlainQuery) -> _Zone | None:
        """The deepest served zone holding the question name."""
        for start in (*query.labels, len(query.qname) - 1):  # the root last
            zone = self._indexed(query.qname[start:])
            if zone is not None:
                return zone
        return None

    def _indexed(self, key: bytes) -> _Zone | None:
        """The index of the zone whose origin is ``key``, built on first use."""
        zone = self._zones.get(key)
        if zone is None and key in self._sources:
            zone = self._zones[key] = _index_zone(self._sources[key])
        return zone


def _write_answer(
    writer: WireWriter, zone: _Zone, query: PlainQuery
) -> tuple[tuple[int, int, int], int] | None:
    """Write the answer or the negative answer; its (counts, flags), or None for the slow path."""
    node = zone.nodes.get(query.qname)
    rrset = _ABSENT if node is None else node.rrsets.get(query.qtype, _ABSENT)
    if rrset is None:
        return None  # present but not renderable here
    if isinstance(rrset, _RRset):
        _write_rrset(writer, rrset)
        return (len(rrset.rdatas), 0, 0), QR | AA | _NOERROR
    if node is not None and _CNAME in node.rrsets and query.qtype != _CNAME:
        return None  # a CNAME to follow
    if zone.negative is None:
        return None
    _write_rrset(writer, zone.negative)
    rcode = _NOERROR if node is not None else _NXDOMAIN  # NODATA or NXDOMAIN (RFC 2308 §2)
    return (0, 1, 0), QR | AA | rcode


class _Absent:
    """Marks a type with no records at a name (``None`` marks one the slow path renders)."""


_ABSENT = _Absent()


def _write_rrset(writer: WireWriter, rrset: _RRset) -> None:
    for rdata in rrset.rdatas:
        writer.record(rrset.owner, rrset.rdtype, rrset.ttl, rdata)


# -- building the index -------------------------------------------------------------------------


def _origin_key(name: dns.name.Name) -> bytes:
    wire = name.to_wire()
    assert wire is not None  # without a file, to_wire returns the bytes
    return wire.lower()


def _key(name: dns.name.Name) -> bytes:
    """The lower-case wire form, the key of every lookup here."""
    owner = _owner(name)
    return owner[0][0] if owner else b"\x00"


def _index_zone(zone: Zone) -> _Zone:
    indexed = _Zone(_negative_soa(zone))
    for name in zone.names:
        indexed.nodes[_key(name)] = _Node(_owner(name))
    for (name, rdtype), rrset in zone.rrsets.items():
        key = _key(name)
        node = indexed.nodes.get(key)
        if node is None:
            node = indexed.nodes[key] = _Node(_owner(name))
        node.rrsets[int(rdtype)] = _rrset(rrset)
    return indexed


def _negative_soa(zone: Zone) -> _RRset | None:
    """The zone's SOA, its TTL capped by the SOA minimum (RFC 2308 §3), as
    :meth:`~mailshield.lab.zones.Zone.negative_soa` gives it."""
    soa = zone.get(zone.origin, dns.rdatatype.SOA)
    rendered = None if soa is None else _rrset(soa)
    if soa is None or rendered is None or len(soa) != 1 or not isinstance(soa[0], SOA):
        return None
    return dataclasses.replace(rendered, ttl=min(soa.ttl, soa[0].minimum))


def _owner(name: dns.name.Name) -> WireName:
    return _labels_wire(name.labels[:-1])


@functools.lru_cache(maxsize=65_536)
def _labels_wire(labels: tuple[bytes, ...]) -> WireName:
    """:func:`wire_name`, remembered: a name recurs as owner, node and record data."""
    return wire_name(labels)


def _rrset(rrset: dns.rrset.RRset) -> _RRset | None:
    """The RRset pre-rendered, or None when a record's data holds names not handled here."""
    rdatas = tuple(_rdata(rdata) for rdata in rrset)
    if rrset.rdclass != _IN or not rrset.name.is_absolute() or None in rdatas:
        return None
    ready = tuple(rdata for rdata in rdatas if rdata is not None)
    return _RRset(_owner(rrset.name), int(rrset.rdtype), rrset.ttl, ready)


def _rdata(rdata: dns.rdata.Rdata) -> WireRdata | None:
    """Wire parts of one record's data, its names apart, compressed where dnspython compresses
    them: the RFC 1035 types (RFC 3597 §4)."""
    head, tail = b"", b""
    if int(rdata.rdtype) in _PLAIN_TYPES:
        return WireRdata(_wire(rdata))
    names: tuple[dns.name.Name, ...]
    if isinstance(rdata, MXBase) and int(rdata.rdtype) == _MX:
        head, names = rdata.preference.to_bytes(2, "big"), (rdata.exchange,)
    elif isinstance(rdata, NSBase) and int(rdata.rdtype) in _TARGET_TYPES:
        names = (rdata.target,)
    elif isinstance(rdata, SOA):
        names = (rdata.mname, rdata.rname)
        tail = _SOA_INTEGERS.pack(
            rdata.serial, rdata.refresh, rdata.retry, rdata.expire, rdata.minimum
        )
    else:
        return None
    if not all(name.is_absolute() for name in names):
        return None
    return WireRdata(head, tuple(_owner(name) for name in names), tail)


def _wire(rdata: dns.rdata.Rdata) -> bytes:
    wire = rdata.to_wire()
    assert wire is not None  # without a file, to_wire returns the bytes
    return wire
