"""The lab's zones in memory and the authoritative lookup over them.

:func:`build_zones` turns a :class:`~mailshield.lab.scenario.Scenario` into a :class:`ZoneSet`:
each domain's record lines are parsed (zone-file syntax, names relative to the domain), SOA and
NS records are added when a domain does not give its own, and the records derived from the host
definitions (A/AAAA of MX and ``mta-sts.`` hosts, MX records) are merged in.

:meth:`ZoneSet.resolve` answers like an authoritative server for every zone at once: dictionary
lookups only, CNAME chains followed while they stay inside served zones, NXDOMAIN or NODATA with
the zone's SOA. Nothing here touches the network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tokenizer
import dns.ttl

from mailshield.lab.scenario import Domain, Scenario, ScenarioError

DEFAULT_TTL = 300
MAX_CNAME_HOPS = 16  # longer chains are cut, like a loop
_IN = dns.rdataclass.IN
_CNAME = dns.rdatatype.CNAME
_ANY = dns.rdatatype.ANY

Key = tuple[dns.name.Name, dns.rdatatype.RdataType]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What an authoritative server answers for one question (before any fault is applied)."""

    rcode: dns.rcode.Rcode
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    authoritative: bool = True


@dataclass(slots=True)
class Zone:
    """One zone: its RRsets by (owner, type) and every name that exists in it."""

    origin: dns.name.Name
    rrsets: dict[Key, dns.rrset.RRset] = field(default_factory=dict)
    names: set[dns.name.Name] = field(default_factory=set)  # incl. empty non-terminals
    types: dict[dns.name.Name, list[dns.rdatatype.RdataType]] = field(default_factory=dict)
    synthetic: bool = False  # a top-level domain served only so that other names are NXDOMAIN

    def add(self, rrset: dns.rrset.RRset) -> None:
        """Merge ``rrset`` into the zone (same owner and type: records are added)."""
        key = (rrset.name, rrset.rdtype)
        existing = self.rrsets.get(key)
        if existing is None:
            self.rrsets[key] = rrset
            self.types.setdefault(rrset.name, []).append(rrset.rdtype)
        else:
            for rdata in rrset:
                existing.add(rdata, rrset.ttl)
        name = rrset.name
        while name not in self.names and name.is_subdomain(self.origin):
            self.names.add(name)
            if name == self.origin:
                break
            name = name.parent()

    def get(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset | None:
        return self.rrsets.get((name, rdtype))

    @property
    def soa(self) -> dns.rrset.RRset:
        return self.rrsets[(self.origin, dns.rdatatype.SOA)]

    def negative_soa(self) -> dns.rrset.RRset:
        """The SOA for a negative answer, its TTL capped by the SOA minimum (RFC 2308 §3)."""
        soa = self.soa
        rrset = dns.rrset.RRset(soa.name, _IN, dns.rdatatype.SOA)
        rrset.add(soa[0], min(soa.ttl, soa[0].minimum))
        return rrset

    def to_text(self) -> str:
        """The zone in master-file format (absolute names), SOA first, e.g. for Knot."""
        ordered = sorted(self.rrsets.values(), key=lambda r: (r.rdtype != dns.rdatatype.SOA,))
        return "".join(rrset.to_text() + "\n" for rrset in ordered)


class ZoneSet:
    """Every zone of a scenario, found by longest suffix with dictionary lookups."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones: dict[dns.name.Name, Zone] = {zone.origin: zone for zone in zones}

    def find_zone(self, name: dns.name.Name) -> Zone | None:
        """The served zone ``name`` belongs to (the deepest one), if any."""
        while True:
            zone = self.zones.get(name)
            if zone is not None:
                return zone
            if len(name) <= 1:
                return None
            name = name.parent()

    def resolve(self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> Resolution:
        """The authoritative answer for ``qname``/``rdtype``; REFUSED outside served zones."""
        zone = self.find_zone(qname)
        if zone is None:
            return Resolution(dns.rcode.REFUSED, authoritative=False)
        answer: list[dns.rrset.RRset] = []
        seen: set[dns.name.Name] = set()
        name = qname
        while True:
            found = _lookup(zone, name, rdtype)
            if isinstance(found, Resolution):
                return Resolution(found.rcode, tuple(answer), found.authority)
            answer.extend(found)
            target = _cname_target(found, rdtype)
            seen.add(name)
            # RFC 1034 §4.3.2 step 3a: restart at the CNAME target when it is served here.
            next_zone = self.find_zone(target) if target is not None else None
            if target is None or next_zone is None or target in seen or len(seen) > MAX_CNAME_HOPS:
                return Resolution(dns.rcode.NOERROR, tuple(answer))
            zone, name = next_zone, target


def _lookup(
    zone: Zone, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> list[dns.rrset.RRset] | Resolution:
    """The RRsets answering at ``name`` (the records, or a CNAME), or a negative answer."""
    if name not in zone.names:
        return Resolution(dns.rcode.NXDOMAIN, authority=(zone.negative_soa(),))
    if rdtype == _ANY and name in zone.types:
        return [zone.rrsets[(name, t)] for t in zone.types[name]]
    rrset = zone.get(name, rdtype)
    if rrset is None and rdtype != _CNAME:
        rrset = zone.get(name, _CNAME)
    if rrset is None:
        return Resolution(dns.rcode.NOERROR, authority=(zone.negative_soa(),))
    return [rrset]


def _cname_target(found: list[dns.rrset.RRset], rdtype: int) -> dns.name.Name | None:
    if len(found) == 1 and found[0].rdtype == _CNAME and rdtype not in (_CNAME, _ANY):
        target: dns.name.Name = found[0][0].target
        return target
    return None


# -- building zones from a scenario --------------------------------------------------------------


def build_zones(scenario: Scenario) -> ZoneSet:
    """Compile the scenario's domains into zones; raises :class:`ScenarioError` on bad records.

    The top-level domains of the scenario's domains (usually ``test.``) are served too, empty:
    a name there outside every lab domain (``_dmarc.test``) is NXDOMAIN, as the real DNS would
    answer, rather than REFUSED."""
    zones = ZoneSet(_parse_domain(domain) for domain in scenario.domains)
    for tld in _top_level_domains(scenario, zones):
        zones.zones[tld] = Zone(tld, synthetic=True)
    for zone in zones.zones.values():
        _add_defaults(zone, scenario.lab.dns_host)
    for domain in scenario.domains:
        _add_derived(zones, domain)
    for zone in zones.zones.values():
        _check_cnames(zone)
    return zones


def _top_level_domains(scenario: Scenario, zones: ZoneSet) -> set[dns.name.Name]:
    tlds = {dns.name.Name(dns.name.from_text(d.name).labels[-2:]) for d in scenario.domains}
    return {tld for tld in tlds if tld not in zones.zones and tld != dns.name.root}


def _parse_domain(domain: Domain) -> Zone:
    origin = dns.name.from_text(domain.name)
    zone = Zone(origin)
    owner = origin
    for index, line in enumerate(domain.records):
        where = f"domain '{domain.name}': key 'records[{index}]'"
        try:
            rrset = parse_record(line, origin, owner)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ScenarioError(f"{where}: {line!r}: {exc}") from None
        if not rrset.name.is_subdomain(origin):
            raise ScenarioError(f"{where}: {rrset.name} is outside the zone {domain.name}")
        owner = rrset.name
        zone.add(rrset)
    return zone


def parse_record(line: str, origin: dns.name.Name, previous: dns.name.Name) -> dns.rrset.RRset:
    """One zone-file line, ``owner [ttl] [class] type rdata`` (RFC 1035 §5.1); a line starting
    with white space reuses the ``previous`` owner. Directives like ``$INCLUDE`` are refused."""
    if line.lstrip().startswith("$"):
        raise ValueError("directives ($ORIGIN, $INCLUDE, …) are not allowed in a scenario")
    tok = dns.tokenizer.Tokenizer(line)
    owner = previous
    if not line[:1].isspace():
        owner = dns.name.from_text(tok.get().value, origin)
    token = tok.get()
    ttl = DEFAULT_TTL
    if token.value[:1].isdigit():
        ttl = dns.ttl.from_text(token.value)
        token = tok.get()
    if token.value.upper() == "IN":
        token = tok.get()
    if token.is_eol_or_eof():
        raise ValueError("a record type is missing")
    rdtype = dns.rdatatype.from_text(token.value)
    rdata = dns.rdata.from_text(_IN, rdtype, tok, origin, relativize=False)
    rrset = dns.rrset.RRset(owner, _IN, rdtype)
    rrset.add(rdata, ttl)
    return rrset


def _add_defaults(zone: Zone, dns_host: str) -> None:
    """An SOA and an NS (with its address) for zones that do not define their own."""
    origin = zone.origin
    ns = dns.name.Name(("ns1", *origin.labels))
    if zone.get(origin, dns.rdatatype.SOA) is None:
        soa = f"{ns} hostmaster.{origin} 1 3600 600 86400 {DEFAULT_TTL}"
        zone.add(dns.rrset.from_text(origin, DEFAULT_TTL, _IN, dns.rdatatype.SOA, soa))
    if zone.get(origin, dns.rdatatype.NS) is None:
        zone.add(dns.rrset.from_text(origin, DEFAULT_TTL, _IN, dns.rdatatype.NS, str(ns)))
        zone.add(_address_rrset(ns, dns_host))


def _add_derived(zones: ZoneSet, domain: Domain) -> None:
    """MX records and the A/AAAA records of the domain's MX and policy hosts."""
    origin = dns.name.from_text(domain.name)
    apex = zones.zones[origin]
    hosts = [(host.name, host.addresses) for host in domain.mx]
    if domain.policy_host is not None:
        hosts.append((domain.policy_host.name, domain.policy_host.addresses))
    for host in domain.mx:
        if host.preference is not None:
            mx = f"{host.preference} {host.name}."
            apex.add(dns.rrset.from_text(origin, DEFAULT_TTL, _IN, dns.rdatatype.MX, mx))
    for host_name, addresses in hosts:
        name = dns.name.from_text(host_name)
        zone = zones.find_zone(name)
        if zone is None or zone.synthetic:
            raise ScenarioError(
                f"domain '{domain.name}': host {host_name} is not inside any domain of the "
                "scenario, so its address cannot be published: add its domain"
            )
        for address in addresses:
            zone.add(_address_rrset(name, address))


def _address_rrset(name: dns.name.Name, address: str) -> dns.rrset.RRset:
    version = ipaddress.ip_address(address).version
    rdtype = dns.rdatatype.A if version == 4 else dns.rdatatype.AAAA
    return dns.rrset.from_text(name, DEFAULT_TTL, _IN, rdtype, address)


def _check_cnames(zone: Zone) -> None:
    """A CNAME cannot coexist with other data at its owner (RFC 1034 §3.6.2)."""
    for name, types in zone.types.items():
        if _CNAME in types and len(types) > 1:
            others = ", ".join(dns.rdatatype.to_text(t) for t in types if t != _CNAME)
            raise ScenarioError(
                f"domain '{zone.origin.to_text(omit_final_dot=True)}': {name} has a CNAME and "
                f"other records ({others}); a CNAME must be alone at its name"
            )
