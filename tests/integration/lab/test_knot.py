"""Knot as a lab daemon: authoritative answers, automatic signing, RFC 2136 under TSIG, edits."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import dns.dnssec
import dns.dnssectypes
import dns.flags
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.update
import pytest
from tests.integration.lab.dns_stub import ask
from tests.support.lab import require_binary

from mailshield.lab.endpoint import AddressInUse, loopback
from mailshield.lab.knot import Knot, KnotZone, TsigKey, UpdateAccess
from mailshield.lab.process import ToolError

pytestmark = pytest.mark.lab

HOST = "127.0.3.1"


def zone_text(ns_address: str = HOST) -> str:
    """A minimal zone: SOA, NS with glue, one web address."""
    return f"""$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
ns1  A   {ns_address}
www  A   127.0.3.80
"""


ZONES = (
    KnotZone("plain.knot.test", zone_text()),
    KnotZone("signed.knot.test", zone_text(), signed=True),
    KnotZone("open.knot.test", zone_text(), updates=UpdateAccess.OPEN),
    KnotZone("closed.knot.test", zone_text(), updates=UpdateAccess.NONE),
)


@pytest.fixture(scope="module")
def knot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Knot]:
    """One Knot serving every test zone for the whole module."""
    require_binary("knotd")
    with Knot(ZONES, listen=loopback(HOST), workdir=tmp_path_factory.mktemp("knot")) as server:
        yield server


def assert_gone(pid: int | None) -> None:
    """The process ``pid`` no longer exists (it was stopped and reaped)."""
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_zone_answers_authoritatively(knot: Knot) -> None:
    """A loaded zone answers its records with the AA flag."""
    response = ask(knot.listen, "www.plain.knot.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert [r.to_text() for r in response.answer[0]] == ["127.0.3.80"]


@pytest.mark.parametrize(
    ("zone", "signed"),
    [("plain.knot.test", False), ("signed.knot.test", True)],
    ids=["unsigned-zone-has-no-rrsig", "signed-zone-has-rrsig"],
)
def test_only_signed_zones_carry_rrsigs(knot: Knot, zone: str, signed: bool) -> None:
    """With the DO bit, answers from a signed zone carry RRSIGs and those from others do not."""
    response = ask(knot.listen, f"www.{zone}", "A", dnssec=True)
    types = {rrset.rdtype for rrset in response.answer}
    assert (dns.rdatatype.RRSIG in types) is signed


def test_signed_zone_uses_ecdsa_p256(knot: Knot) -> None:
    """The DNSKEYs of a signed zone are ECDSA P-256 with SHA-256 (algorithm 13, RFC 6605)."""
    response = ask(knot.listen, "signed.knot.test", "DNSKEY")
    algorithms = {key.algorithm for key in response.answer[0]}
    assert algorithms == {dns.dnssectypes.Algorithm.ECDSAP256SHA256}


def test_ds_matches_the_served_ksk(knot: Knot) -> None:
    """The DS from keymgr is the SHA-256 digest of the KSK (flags 257) the zone serves."""
    response = ask(knot.listen, "signed.knot.test", "DNSKEY")
    ksk = next(key for key in response.answer[0] if key.flags == 257)
    expected = dns.dnssec.make_ds("signed.knot.test.", ksk, "SHA256")
    assert expected in knot.ds("signed.knot.test")


def send_update(knot: Knot, zone: str, owner: str, key: dns.tsig.Key | None) -> str:
    """Send an RFC 2136 update adding a TXT record; the rcode, or the TSIG error raised."""
    update = dns.update.UpdateMessage(zone, keyring=key)
    update.replace(owner, 60, "TXT", '"updated"')
    try:
        response = dns.query.tcp(update, knot.listen.host, port=knot.listen.port, timeout=5)
    except (dns.tsig.PeerBadKey, dns.tsig.PeerBadSignature) as exc:
        return type(exc).__name__
    return dns.rcode.to_text(response.rcode())


def wrong_secret(knot: Knot) -> dns.tsig.Key:
    """The server's key name with a different secret."""
    return dns.tsig.Key(knot.tsig_key.name, base64.b64encode(b"x" * 32).decode())


def unknown_key(knot: Knot) -> dns.tsig.Key:
    """A key the server does not know."""
    return TsigKey.generate("stranger.").dnspython_key()


@pytest.mark.parametrize(
    ("zone", "key", "outcome"),
    [
        ("plain.knot.test", "server", "NOERROR"),
        ("plain.knot.test", "none", "NOTAUTH"),
        ("plain.knot.test", "wrong-secret", "PeerBadSignature"),
        ("plain.knot.test", "unknown-key", "PeerBadKey"),
        ("signed.knot.test", "server", "NOERROR"),
        ("open.knot.test", "none", "NOERROR"),
        ("closed.knot.test", "server", "PeerBadKey"),
    ],
    ids=[
        "tsig-zone-accepts-the-key",
        "tsig-zone-refuses-unsigned",
        "tsig-zone-refuses-wrong-secret",
        "tsig-zone-refuses-unknown-key",
        "signed-zone-accepts-the-key",
        "open-zone-accepts-unsigned",
        "closed-zone-refuses-even-the-key",
    ],
)
def test_rfc2136_update_access(knot: Knot, zone: str, key: str, outcome: str) -> None:
    """Updates are accepted exactly as the zone's access rule says, and accepted ones are served."""
    keys = {
        "server": knot.tsig_key.dnspython_key(),
        "none": None,
        "wrong-secret": wrong_secret(knot),
        "unknown-key": unknown_key(knot),
    }
    owner = f"upd-{key}"
    assert send_update(knot, zone, owner, keys[key]) == outcome
    answer = ask(knot.listen, f"{owner}.{zone}", "TXT")
    expected = dns.rcode.NOERROR if outcome == "NOERROR" else dns.rcode.NXDOMAIN
    assert answer.rcode() == expected


def txt_values(knot: Knot, name: str) -> list[str]:
    """The TXT values served for ``name`` (empty when there are none)."""
    response = ask(knot.listen, name, "TXT")
    return sorted(rdata.to_text() for rrset in response.answer for rdata in rrset)


def test_set_rrset_adds_replaces_and_removes(knot: Knot) -> None:
    """A knotc transaction adds, then replaces, then removes an RRset, each visible at once."""
    name = "_edit.signed.knot.test"
    knot.set_rrset("signed.knot.test", "_edit", "TXT", ['"one"', '"two" "strings"'])
    assert txt_values(knot, name) == ['"one"', '"two" "strings"']
    knot.set_rrset("signed.knot.test", "_edit", "TXT", ['"three"'])
    assert txt_values(knot, name) == ['"three"']
    knot.set_rrset("signed.knot.test", "_edit", "TXT", [])
    assert txt_values(knot, name) == []


def test_edits_of_a_signed_zone_are_signed(knot: Knot) -> None:
    """A record added at run time to a signed zone is served with its RRSIG."""
    knot.set_rrset("signed.knot.test", "_sig", "TXT", ['"signed later"'])
    response = ask(knot.listen, "_sig.signed.knot.test", "TXT", dnssec=True)
    assert dns.rdatatype.RRSIG in {rrset.rdtype for rrset in response.answer}


def test_bad_edit_is_aborted_with_a_clear_error(knot: Knot) -> None:
    """An unparsable record raises ToolError quoting knotc, and leaves no open transaction."""
    with pytest.raises(ToolError, match="NOSUCHTYPE"):
        knot.set_rrset("plain.knot.test", "bad", "NOSUCHTYPE", ["x"])
    knot.set_rrset("plain.knot.test", "good", "TXT", ['"after"'])
    assert txt_values(knot, "good.plain.knot.test") == ['"after"']


def test_invalid_zone_text_fails_before_any_process(tmp_path: Path) -> None:
    """Zone text without an SOA is rejected with the zone's name, and no daemon is started."""
    server = Knot([KnotZone("broken.test", "www A 127.0.3.80\n")], workdir=tmp_path)
    with pytest.raises(ValueError, match=r"broken\.test"):
        server.start()
    assert server.pid is None


def test_stop_leaves_no_process_and_keeps_the_log(tmp_path: Path) -> None:
    """After stop the knotd PID is gone and its log is still in the workdir."""
    require_binary("knotd")
    with Knot([ZONES[0]], listen=loopback(HOST), workdir=tmp_path) as server:
        pid = server.pid
    assert_gone(pid)
    assert "server started" in server.log_path.read_text()


def test_taken_address_fails_before_start(knot: Knot, tmp_path: Path) -> None:
    """A second Knot on a taken address fails at once, naming it, and starts no process."""
    second = Knot([ZONES[0]], listen=knot.listen, workdir=tmp_path)
    with pytest.raises(AddressInUse, match=knot.listen.colon()):
        second.start()
    assert second.pid is None
