"""Publishing records in a running lab's DNS, as a customer edits their zone.

The lab's zones are plain objects (:attr:`Lab.zones`); after editing them the DNS server gets a
fresh :class:`Responder`, whose reply cache starts empty, so the next query sees the edit.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.name
import dns.rdatatype
import dns.rrset

from mailshield.lab.dns_server import Responder
from mailshield.lab.runner import Lab
from mailshield.lab.zones import parse_record


def zone_lines(output: str) -> list[str]:
    """The zone-file record lines in command output (comments and prose left out)."""
    return [line for line in output.splitlines() if "\tIN\t" in line and not line.startswith(";")]


def publish(lab: Lab, lines: Iterable[str]) -> None:
    """Publish zone-file ``lines``: the lines of one owner and type replace its whole RRset."""
    rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
    for line in lines:
        owner = dns.name.from_text(line.split()[0])
        zone = lab.zones.find_zone(owner)
        assert zone is not None, f"{owner} is in no lab zone"
        rrset = parse_record(line, zone.origin, zone.origin)
        key = (rrset.name, rrset.rdtype)
        if key in rrsets:
            rrsets[key].union_update(rrset)
        else:
            rrsets[key] = rrset
    for (name, rdtype), rrset in rrsets.items():
        zone = lab.zones.find_zone(name)
        assert zone is not None
        zone.rrsets.pop((name, dns.rdatatype.RdataType(rdtype)), None)
        zone.add(rrset)
    _refresh(lab)


def unpublish(lab: Lab, owner: str, rdtype: str) -> None:
    """Delete the RRset of ``owner`` and ``rdtype``."""
    name = dns.name.from_text(owner)
    zone = lab.zones.find_zone(name)
    assert zone is not None
    zone.rrsets.pop((name, dns.rdatatype.from_text(rdtype)), None)
    _refresh(lab)


def _refresh(lab: Lab) -> None:
    assert lab.dns is not None, "the lab is not running"
    latency = lab.scenario.lab.latency_ms / 1000
    lab.dns.responder = Responder(lab.zones, lab.scenario.faults, latency=latency)
