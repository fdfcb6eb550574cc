"""Which server serves which lab zone, and where each DNSSEC chain of trust starts.

Pure planning for :mod:`mailshield.lab.dnssec`: no processes, no sockets. Given the lab's zones
(signed, bogus or plain), :func:`plan_dnssec` decides:

- Knot serves every signed or bogus zone, plus a signed *parent* it synthesises when a signed
  zone's parent is not itself a lab zone (``signed.test`` gets a parent ``test.``). A synthesised
  parent delegates to every lab zone directly below it, so the plain ones are provably insecure
  (NSEC proves no DS, RFC 4035 §5.2) rather than failing validation.
- Each signed zone whose parent Knot serves gets its DS inserted there (a *link*); the chain then
  starts at the parent's trust anchor. A signed zone whose parent is plain, or that has no parent
  below the root, is itself a trust anchor.
- A bogus zone is signed, but the DS above it (or its trust anchor) will not match its keys.
- Plain zones stay on the lab's Python DNS server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dns.name
import dns.rdatatype
import dns.zone

from mailshield.lab.knot import KnotZone, UpdateAccess

__all__ = ["DnssecPlan", "LabZone", "plan_dnssec"]

_NS_LABEL = "lab-ns"  # name server of a synthesised parent: lab-ns.<parent>
_TTL = 300


@dataclass(frozen=True)
class LabZone:
    """A lab zone: its name, zone-file text (needed when Knot serves it) and DNSSEC state."""

    name: str
    text: str = ""
    signed: bool = False
    bogus: bool = False  # signed, with a DS (or trust anchor) that does not match its keys

    @property
    def origin(self) -> dns.name.Name:
        return dns.name.from_text(self.name)

    @property
    def on_knot(self) -> bool:
        return self.signed or self.bogus


@dataclass(frozen=True)
class DnssecPlan:
    """What to start and wire: Knot's zones, DS links (child, parent), trust-anchor zones."""

    knot_zones: tuple[KnotZone, ...]
    plain_zones: tuple[dns.name.Name, ...]
    links: tuple[tuple[dns.name.Name, dns.name.Name], ...]
    anchors: tuple[dns.name.Name, ...]
    bogus: frozenset[dns.name.Name]


def plan_dnssec(zones: Iterable[LabZone], *, knot_host: str, plain_host: str) -> DnssecPlan:
    """Plan Knot's zones and the chains of trust for ``zones`` (see the module docstring).

    ``knot_host`` and ``plain_host`` are the addresses put in glue records of synthesised
    parents (resolvers reach the zones through stub zones, which also carry the ports).
    """
    given = {zone.origin: zone for zone in zones}
    links: list[tuple[dns.name.Name, dns.name.Name]] = []
    anchors: list[dns.name.Name] = []
    synthesised: set[dns.name.Name] = set()
    for origin, zone in given.items():
        if not zone.on_knot:
            continue
        parent = origin.parent() if origin != dns.name.root else dns.name.root
        if parent in given and given[parent].on_knot:
            links.append((origin, parent))
        elif parent in given or parent == dns.name.root:
            anchors.append(origin)
        else:
            synthesised.add(parent)
            links.append((origin, parent))
    hosts = {o: knot_host if z.on_knot else plain_host for o, z in given.items()}
    parents = [_parent_zone(p, given, hosts, knot_host) for p in sorted(synthesised)]
    return DnssecPlan(
        knot_zones=(*(_knot_zone(z) for z in given.values() if z.on_knot), *parents),
        plain_zones=tuple(o for o, z in given.items() if not z.on_knot),
        links=tuple(links),
        anchors=(*anchors, *sorted(synthesised)),
        bogus=frozenset(o for o, z in given.items() if z.bogus),
    )


def _knot_zone(zone: LabZone) -> KnotZone:
    return KnotZone(zone.origin.to_text(), zone.text, signed=True)


def _parent_zone(
    parent: dns.name.Name,
    given: Mapping[dns.name.Name, LabZone],
    hosts: Mapping[dns.name.Name, str],
    knot_host: str,
) -> KnotZone:
    """A signed parent with an apex, its own name server, and a delegation to each lab child."""
    ns = dns.name.Name((_NS_LABEL, *parent.labels))
    lines = [
        f"{parent} {_TTL} SOA {ns} hostmaster.{parent} 1 3600 600 86400 60",
        f"{parent} {_TTL} NS {ns}",
        f"{ns} {_TTL} A {knot_host}",
    ]
    for child in sorted(o for o in given if o != dns.name.root and o.parent() == parent):
        lines += _delegation(child, given[child], hosts[child])
    text = "\n".join(lines) + "\n"
    return KnotZone(parent.to_text(), text, signed=True, updates=UpdateAccess.NONE)


def _delegation(child: dns.name.Name, zone: LabZone, host: str) -> list[str]:
    """NS records (and glue) for ``child``: its own apex NS when its text is known, otherwise a
    name server ``lab-ns.<child>`` at the address serving it (RFC 1034 §4.2.1)."""
    apex = _apex(zone)
    if apex is None:
        ns = dns.name.Name((_NS_LABEL, *child.labels))
        return [f"{child} {_TTL} NS {ns}", f"{ns} {_TTL} A {host}"]
    lines = []
    for ns_rdata in apex.get_rdataset(child, dns.rdatatype.NS) or ():
        target = ns_rdata.target
        lines.append(f"{child} {_TTL} NS {target}")
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            glue = apex.get_rdataset(target, rdtype) if target.is_subdomain(child) else None
            lines += [f"{target} {_TTL} {rdtype.name} {rdata}" for rdata in glue or ()]
    return lines


def _apex(zone: LabZone) -> dns.zone.Zone | None:
    """The parsed zone when its text is given (Knot zones always have text)."""
    if not zone.text.strip():
        return None
    return KnotZone(zone.origin.to_text(), zone.text).parse()
