"""Gathering for the transport checks: MX hosts and their addresses, SMTP probes, TLSA records.

Lookups run concurrently level by level (MX → addresses → probes ∥ TLSA), so a domain costs
its critical path, not the sum of its lookups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailshield.core.certs import CertVerdict
from mailshield.core.evaluate.dane import DaneHost
from mailshield.core.evaluate.mx import MxHostLookup, MxLookup, MxSet
from mailshield.core.evaluate.starttls import SmtpObservation
from mailshield.core.observations import DnsAnswer, DnsOutcome, Dnssec, TlsSession
from mailshield.core.records.tlsa import tlsa_owner
from mailshield.services.ports import DnsLookup, SmtpProber

CertJudge = Callable[[TlsSession, str], CertVerdict]
"""Judges a presented chain for a host name (bound to trust roots and the check time)."""


async def _host_lookup(dns: DnsLookup, name: str, preference: int) -> MxHostLookup:
    a, aaaa = await asyncio.gather(dns.query(name, "A"), dns.query(name, "AAAA"))
    return MxHostLookup(name, preference, a, aaaa)


async def lookup_mx(dns: DnsLookup, domain: str) -> MxLookup:
    """The MX answer and every MX host's addresses (the domain's own for an implicit MX)."""
    answer = await dns.query(domain, "MX")
    if answer.ok:
        records = [r for r in answer.mx() if r.exchange]
        hosts = await asyncio.gather(
            *(_host_lookup(dns, r.exchange, r.preference) for r in records)
        )
        return MxLookup(domain, answer, tuple(hosts))
    if answer.outcome is DnsOutcome.NODATA:
        return MxLookup(domain, answer, (await _host_lookup(dns, domain, 0),))
    return MxLookup(domain, answer)


@dataclass(frozen=True, slots=True)
class TransportObservations:
    smtp: tuple[SmtpObservation, ...]
    dane: tuple[DaneHost, ...]


async def observe_transport(
    dns: DnsLookup,
    smtp: SmtpProber | None,
    mxset: MxSet,
    judge: CertJudge,
) -> TransportObservations:
    """Probe every address of every MX host (when ``smtp`` is given) and look up its TLSA."""
    hosts = mxset.hosts
    probes, tlsas = await asyncio.gather(
        asyncio.gather(*(_probe_host(smtp, h, judge) for h in hosts)) if smtp else _none(),
        asyncio.gather(*(_tlsa(dns, h) for h in hosts)),
    )
    per_host: Sequence[tuple[SmtpObservation, ...]] = probes or [() for _ in hosts]
    dane = tuple(
        DaneHost(h.name, _address_dnssec(h), tlsa, obs)
        for h, tlsa, obs in zip(hosts, tlsas, per_host, strict=True)
    )
    return TransportObservations(tuple(o for group in per_host for o in group), dane)


async def _none() -> list[tuple[SmtpObservation, ...]]:
    return []


async def _probe_host(
    smtp: SmtpProber, host: MxHostLookup, judge: CertJudge
) -> tuple[SmtpObservation, ...]:
    probes = await asyncio.gather(*(smtp.probe(host.name, a) for a in host.addresses))
    return tuple(
        SmtpObservation(p, judge(p.tls, host.name) if p.tls is not None else None) for p in probes
    )


def _address_dnssec(host: MxHostLookup) -> Dnssec:
    """The DNSSEC status of the host's addresses: bogus if either lookup failed validation
    (a SERVFAIL, RFC 4035 §5.5, so it must be looked at before failures are set aside), secure
    only if every answer that came back is."""
    if Dnssec.BOGUS in (host.a.dnssec, host.aaaa.dnssec):
        return Dnssec.BOGUS
    answers = [a for a in (host.a, host.aaaa) if not a.outcome.is_failure]
    states = {a.dnssec for a in answers} or {Dnssec.UNKNOWN}
    for state in (Dnssec.BOGUS, Dnssec.UNKNOWN, Dnssec.INSECURE):
        if state in states:
            return state
    return Dnssec.SECURE


async def _tlsa(dns: DnsLookup, host: MxHostLookup) -> DnsAnswer | None:
    """TLSA only for hosts whose addresses are DNSSEC-secure (RFC 7672 §2.2.2)."""
    if _address_dnssec(host) is not Dnssec.SECURE:
        return None
    return await dns.query(tlsa_owner(host.name), "TLSA")
