"""Knot (signing) behind Unbound (validating) for the lab's DNSSEC zones, in one call.

``start_dnssec_lab(zones, plain_server=...)`` starts Knot for the signed and bogus zones (and the
signed parents :mod:`mailshield.lab.dnssec_plan` adds), inserts each child's DS into its parent,
then starts Unbound with stub zones (Knot for signed zones, the plain Python DNS server for the
others and, as fallback, for every other name) and trust anchors. The returned lab's
:attr:`DnssecLab.resolver` is the address to give the checker: secure zones get AD, plain zones
are insecure, bogus zones are SERVFAIL.

``DnssecLab`` is also a context manager (``with`` / ``async with``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdatatype
import dns.rdtypes.dsbase
import dns.rrset

from mailshield.lab.dnssec_plan import DnssecPlan, LabZone, plan_dnssec
from mailshield.lab.endpoint import Endpoint, loopback
from mailshield.lab.knot import Knot, TsigKey
from mailshield.lab.process import Service, make_workdir
from mailshield.lab.unbound import StubZone, Unbound

__all__ = ["DnssecLab", "LabZone", "bogus_ds", "start_dnssec_lab"]


def bogus_ds(ds: dns.rrset.RRset) -> dns.rrset.RRset:
    """The DS RRset with every digest inverted: same key tags, matching no key (a bogus chain)."""
    broken = dns.rrset.RRset(ds.name, ds.rdclass, ds.rdtype)
    for rdata in ds:
        assert isinstance(rdata, dns.rdtypes.dsbase.DSBase)
        broken.add(rdata.replace(digest=bytes(b ^ 0xFF for b in rdata.digest)), ds.ttl)
    return broken


class DnssecLab(Service):
    """Knot and Unbound wired for ``zones``; see the module docstring."""

    def __init__(
        self,
        zones: Iterable[LabZone],
        *,
        plain_server: Endpoint | None,
        resolver: Sequence[Endpoint] = (),
        knot: Endpoint | None = None,
        workdir: Path | None = None,
        tsig_key: TsigKey | None = None,
    ) -> None:
        self.workdir = make_workdir(workdir, "dnssec")
        knot_listen = knot or loopback("127.0.0.1")
        plain_host = plain_server.host if plain_server else knot_listen.host
        self.plan: DnssecPlan = plan_dnssec(
            zones, knot_host=knot_listen.host, plain_host=plain_host
        )
        self.plain_server = plain_server
        self.knot = Knot(
            self.plan.knot_zones,
            listen=knot_listen,
            workdir=self.workdir / "knot",
            tsig_key=tsig_key,
        )
        self._resolver_listen = tuple(resolver) or (loopback("127.0.0.1"),)
        self.unbound: Unbound | None = None

    @property
    def resolver(self) -> Endpoint:
        """The validating resolver's (first) address: what the checker should query."""
        return self._resolver_listen[0]

    @property
    def pids(self) -> tuple[int, ...]:
        """PIDs of the daemons started (kept after stop, so callers can check they are gone)."""
        daemons = (self.knot, self.unbound)
        return tuple(d.pid for d in daemons if d is not None and d.pid is not None)

    def start(self) -> None:
        """Start Knot, link the chains of trust, start Unbound; stop both if any step fails."""
        try:
            self.knot.start()
            self._link_chains()
            self.unbound = self._unbound(self._trust_anchors())
            self.unbound.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.unbound is not None:
            self.unbound.stop()
        self.knot.stop()

    def flush(self, zone: str) -> None:
        """Make Unbound forget cached answers at or below ``zone`` (after changing DNS data)."""
        if self.unbound is not None:
            self.unbound.flush_zone(zone)

    def _ds(self, zone: dns.name.Name) -> dns.rrset.RRset:
        ds = self.knot.ds(zone.to_text())
        return bogus_ds(ds) if zone in self.plan.bogus else ds

    def _link_chains(self) -> None:
        """Publish each child's DS in its parent zone (RFC 4035 §2.4); Knot re-signs the parent."""
        for child, parent in self.plan.links:
            ds = self._ds(child)
            values = [rdata.to_text() for rdata in ds]
            self.knot.set_rrset(parent.to_text(), child.to_text(), "DS", values, ttl=ds.ttl)

    def _trust_anchors(self) -> list[dns.rrset.RRset]:
        return [self._ds(zone) for zone in self.plan.anchors]

    def _unbound(self, anchors: list[dns.rrset.RRset]) -> Unbound:
        knot_zones = [
            StubZone(z.origin.to_text(), (self.knot.listen,)) for z in self.plan.knot_zones
        ]
        plain_zones = (
            [StubZone(o.to_text(), (self.plain_server,)) for o in self.plan.plain_zones]
            if self.plain_server
            else []
        )
        return Unbound(
            stubs=[*knot_zones, *plain_zones],
            trust_anchors=anchors,
            listen=self._resolver_listen,
            fallback=self.plain_server,
            workdir=self.workdir / "unbound",
        )


def start_dnssec_lab(
    zones: Iterable[LabZone],
    *,
    plain_server: Endpoint | None,
    resolver: Sequence[Endpoint] = (),
    knot: Endpoint | None = None,
    workdir: Path | None = None,
) -> DnssecLab:
    """Start Knot and Unbound for ``zones`` and return the running lab (``lab.resolver`` is the
    address to query; call ``lab.stop()`` when done)."""
    lab = DnssecLab(zones, plain_server=plain_server, resolver=resolver, knot=knot, workdir=workdir)
    lab.start()
    return lab
