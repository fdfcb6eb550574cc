"""Knot + Unbound assembled for lab zones: chains of trust, insecure delegations, bogus zones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest
from tests.integration.lab.dns_stub import StubDns, ask
from tests.support.lab import require_binary

from mailshield.lab.dnssec import DnssecLab, LabZone, start_dnssec_lab
from mailshield.lab.endpoint import loopback

pytestmark = pytest.mark.lab

KNOT_HOST = "127.0.3.4"
RESOLVER_HOST = "127.0.3.5"
PLAIN_HOST = "127.0.3.6"


def zone_text(web: str, ns_address: str = KNOT_HOST) -> str:
    """A minimal zone whose ``www`` has address ``web``."""
    return f"""$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
ns1  A   {ns_address}
www  A   {web}
"""


ZONES = (
    LabZone("signed.dnssec.test", zone_text("127.0.3.91"), signed=True),
    LabZone("bogus.dnssec.test", zone_text("127.0.3.92"), bogus=True),
    LabZone("plain.dnssec.test", zone_text("127.0.3.93", PLAIN_HOST)),
    # Signed below a plain zone: the chain of trust starts at its own trust anchor.
    LabZone("island.plain.dnssec.test", zone_text("127.0.3.94"), signed=True),
)


def gone(pid: int) -> bool:
    """True when no process ``pid`` exists any more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def plain() -> Iterator[StubDns]:
    """The plain server standing in for the lab's Python DNS server."""
    with StubDns(loopback(PLAIN_HOST), "plain.dnssec.test", ZONES[2].text) as stub:
        yield stub


@pytest.fixture(scope="module")
def lab(plain: StubDns, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnssecLab]:
    """The assembled lab for ZONES, the plain zone served by the stub."""
    require_binary("knotd")
    require_binary("unbound")
    running = start_dnssec_lab(
        ZONES,
        plain_server=plain.listen,
        resolver=[loopback(RESOLVER_HOST)],
        knot=loopback(KNOT_HOST),
        workdir=tmp_path_factory.mktemp("dnssec"),
    )
    yield running
    running.stop()


def authenticated(response: dns.message.Message) -> bool:
    """Whether the resolver set the AD bit."""
    return bool(response.flags & dns.flags.AD)


@pytest.mark.parametrize(
    ("name", "rcode", "secure", "address"),
    [
        ("www.signed.dnssec.test", dns.rcode.NOERROR, True, "127.0.3.91"),
        ("www.plain.dnssec.test", dns.rcode.NOERROR, False, "127.0.3.93"),
        ("www.bogus.dnssec.test", dns.rcode.SERVFAIL, False, None),
        ("www.island.plain.dnssec.test", dns.rcode.NOERROR, True, "127.0.3.94"),
    ],
    ids=["signed-secure", "plain-insecure", "bogus-servfail", "signed-under-plain-secure"],
)
def test_resolver_outcome_per_zone(
    lab: DnssecLab, name: str, rcode: int, secure: bool, address: str | None
) -> None:
    """Each kind of lab zone resolves with the DNSSEC outcome its flags ask for."""
    response = ask(lab.resolver, name, "A", dnssec=True)
    assert response.rcode() == rcode
    assert authenticated(response) is secure
    found = [r.to_text() for rrset in response.answer for r in rrset if r.rdtype == 1]
    assert found == ([address] if address else [])


def test_parent_zone_is_synthesised_and_secure(lab: DnssecLab) -> None:
    """A signed parent ``dnssec.test`` is created on Knot and validates from its trust anchor."""
    assert "dnssec.test." in [zone.origin.to_text() for zone in lab.plan.knot_zones]
    response = ask(lab.resolver, "dnssec.test", "SOA", dnssec=True)
    assert response.rcode() == dns.rcode.NOERROR
    assert authenticated(response)


def test_parent_publishes_the_childs_ds(lab: DnssecLab) -> None:
    """The DS of the signed child is served, validated, from its parent (RFC 4035 §2.4)."""
    response = ask(lab.resolver, "signed.dnssec.test", "DS", dnssec=True)
    assert authenticated(response)
    served = next(rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.DS)
    assert set(served) == set(lab.knot.ds("signed.dnssec.test"))


def test_parent_proves_the_plain_child_has_no_ds(lab: DnssecLab) -> None:
    """The parent's signed NSEC proves the plain child has no DS: insecure, not bogus."""
    response = ask(lab.resolver, "plain.dnssec.test", "DS", dnssec=True)
    assert response.rcode() == dns.rcode.NOERROR
    assert not [rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.DS]
    assert authenticated(response)


def test_bogus_child_has_a_ds_that_matches_no_key(lab: DnssecLab) -> None:
    """The bogus child's DS in the parent has its real key tag but another digest."""
    published = lab.knot.ds("bogus.dnssec.test")
    response = ask(lab.knot.listen, "bogus.dnssec.test", "DS")
    served = set(response.answer[0])
    assert {r.key_tag for r in served} == {r.key_tag for r in published}
    assert served.isdisjoint(set(published))


def test_knot_zones_accept_tsig_updates_for_the_lab(lab: DnssecLab) -> None:
    """The lab's Knot exposes its TSIG key, and updates signed with it are served securely."""
    lab.knot.set_rrset("signed.dnssec.test", "_acme-challenge", "TXT", ['"token"'])
    lab.flush("signed.dnssec.test")
    response = ask(lab.resolver, "_acme-challenge.signed.dnssec.test", "TXT", dnssec=True)
    assert authenticated(response)
    assert lab.knot.tsig_key.secret


async def test_async_lab_stops_every_process(plain: StubDns, tmp_path: Path) -> None:
    """``async with`` starts both daemons, serves a secure zone, and leaves no process behind."""
    require_binary("knotd")
    require_binary("unbound")
    zones = [LabZone("solo.async.test", zone_text("127.0.3.95", "127.0.3.14"), signed=True)]
    async with DnssecLab(
        zones,
        plain_server=plain.listen,
        resolver=[loopback("127.0.3.15")],
        knot=loopback("127.0.3.14"),
        workdir=tmp_path,
    ) as lab:
        pids = lab.pids
        assert authenticated(ask(lab.resolver, "www.solo.async.test", "A", dnssec=True))
    assert len(pids) == 2
    assert all(gone(pid) for pid in pids)
