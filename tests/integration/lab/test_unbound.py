"""Unbound as a lab daemon: validation (AD, insecure, bogus), stub zones, flushing, no leaks."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.rcode
import pytest
from tests.integration.lab.dns_stub import StubDns, ask
from tests.support.lab import require_binary

from mailshield.lab.dnssec import bogus_ds
from mailshield.lab.endpoint import AddressInUse, loopback
from mailshield.lab.knot import Knot, KnotZone
from mailshield.lab.process import ToolError
from mailshield.lab.unbound import StubZone, Unbound

pytestmark = pytest.mark.lab

RESOLVER_HOST = "127.0.3.2"
KNOT_HOST = "127.0.3.1"
STUB_HOST = "127.0.3.3"


def zone_text(web: str) -> str:
    """A minimal zone whose ``www`` has address ``web``."""
    return f"""$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
ns1  A   {KNOT_HOST}
www  A   {web}
"""


@pytest.fixture(scope="module")
def knot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Knot]:
    """Knot with one signed zone and one whose trust anchor will not match its keys."""
    require_binary("knotd")
    zones = [
        KnotZone("signed.unbound.test", zone_text("127.0.3.81"), signed=True),
        KnotZone("bogus.unbound.test", zone_text("127.0.3.82"), signed=True),
    ]
    workdir = tmp_path_factory.mktemp("knot")
    with Knot(zones, listen=loopback(KNOT_HOST), workdir=workdir) as server:
        yield server


@pytest.fixture(scope="module")
def plain() -> Iterator[StubDns]:
    """A plain (unsigned) authoritative server for ``plain.unbound.test``."""
    with StubDns(loopback(STUB_HOST), "plain.unbound.test", zone_text("127.0.3.83")) as stub:
        yield stub


@pytest.fixture(scope="module")
def unbound(
    knot: Knot, plain: StubDns, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Unbound]:
    """Unbound with stubs to Knot and to the plain server, anchored on the signed zones' DS."""
    require_binary("unbound")
    resolver = Unbound(
        stubs=[
            StubZone("signed.unbound.test", (knot.listen,)),
            StubZone("bogus.unbound.test", (knot.listen,)),
            StubZone("plain.unbound.test", (plain.listen,)),
        ],
        trust_anchors=[
            knot.ds("signed.unbound.test"),
            bogus_ds(knot.ds("bogus.unbound.test")),
        ],
        listen=[loopback(RESOLVER_HOST)],
        workdir=tmp_path_factory.mktemp("unbound"),
    )
    with resolver:
        yield resolver


@pytest.mark.parametrize(
    ("name", "rcode", "authenticated", "address"),
    [
        ("www.signed.unbound.test", dns.rcode.NOERROR, True, "127.0.3.81"),
        ("www.plain.unbound.test", dns.rcode.NOERROR, False, "127.0.3.83"),
        ("www.bogus.unbound.test", dns.rcode.SERVFAIL, False, None),
    ],
    ids=["signed-is-secure", "unsigned-is-insecure", "bogus-is-servfail"],
)
def test_validation_outcome(
    unbound: Unbound, name: str, rcode: int, authenticated: bool, address: str | None
) -> None:
    """Secure answers carry AD, insecure ones do not, bogus ones are SERVFAIL (RFC 4035 §5.5)."""
    response = ask(unbound.address, name, "A", dnssec=True)
    assert response.rcode() == rcode
    assert bool(response.flags & dns.flags.AD) is authenticated
    addresses = [r.to_text() for rrset in response.answer for r in rrset if r.rdtype == 1]
    assert addresses == ([address] if address else [])


def test_unsigned_zone_is_asked_at_its_stub_server(unbound: Unbound, plain: StubDns) -> None:
    """Queries for a stub zone reach the configured server on its own port."""
    ask(unbound.address, "mail.plain.unbound.test", "A")
    assert ("mail.plain.unbound.test.", "A") in plain.queries


def test_bogus_answer_is_logged_as_validation_failure(unbound: Unbound) -> None:
    """Unbound's log names the validation failure, which explains a bogus SERVFAIL."""
    ask(unbound.address, "bogus.unbound.test", "SOA")
    assert "validation failure" in unbound.log_path.read_text()


def test_name_outside_every_stub_fails_without_leaving_loopback(unbound: Unbound) -> None:
    """With no stub and no fallback, a public name is SERVFAIL: non-loopback servers are never
    asked (do-not-query-address covers all of them)."""
    response = ask(unbound.address, "example.com", "A")
    assert response.rcode() == dns.rcode.SERVFAIL


def test_flush_zone_makes_a_changed_record_visible(knot: Knot, unbound: Unbound) -> None:
    """A record changed in Knot is served from cache until the zone is flushed in Unbound."""
    name = "_flush.signed.unbound.test"

    def txt() -> list[str]:
        response = ask(unbound.address, name, "TXT")
        return [r.to_text() for rrset in response.answer for r in rrset]

    knot.set_rrset("signed.unbound.test", "_flush", "TXT", ['"before"'])
    assert txt() == ['"before"']
    knot.set_rrset("signed.unbound.test", "_flush", "TXT", ['"after"'])
    assert txt() == ['"before"']
    unbound.flush_zone("signed.unbound.test")
    assert txt() == ['"after"']


def test_flush_infra_and_control_errors(unbound: Unbound) -> None:
    """flush_infra succeeds over the control socket; an unknown command raises ToolError."""
    unbound.flush_infra()
    with pytest.raises(ToolError, match="no_such_command"):
        unbound.control("no_such_command")


def test_fallback_takes_every_other_name(plain: StubDns, tmp_path: Path) -> None:
    """With a fallback server and no stub zones, every name is asked there."""
    require_binary("unbound")
    with Unbound(fallback=plain.listen, listen=[loopback(RESOLVER_HOST)], workdir=tmp_path) as u:
        response = ask(u.address, "www.plain.unbound.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for r in response.answer[0]] == ["127.0.3.83"]


def test_listens_on_every_address_and_stops_cleanly(tmp_path: Path) -> None:
    """Each listen address answers; after stop the PID is gone and the log remains."""
    require_binary("unbound")
    listen = [loopback(RESOLVER_HOST), loopback("127.0.3.12")]
    with Unbound(listen=listen, workdir=tmp_path) as resolver:
        for endpoint in listen:
            response = ask(endpoint, "version.server", "TXT", rdclass="CH")
            assert response.rcode() == dns.rcode.NOERROR
        pid = resolver.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert resolver.log_path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="binding port 53 needs root")
def test_listens_on_port_53_for_ip_only_tools(plain: StubDns, tmp_path: Path) -> None:
    """With root, Unbound also listens on 127.x:53, the form resolv.conf and `-n IP` tools need."""
    require_binary("unbound")
    # A random address: two test runs at once would otherwise both want the same port 53.
    listen = [loopback(RESOLVER_HOST), loopback(f"127.0.3.{random.randint(100, 199)}", 53)]
    with Unbound(fallback=plain.listen, listen=listen, workdir=tmp_path):
        response = ask(listen[1], "www.plain.unbound.test", "A")
    assert [r.to_text() for r in response.answer[0]] == ["127.0.3.83"]


def test_taken_address_fails_before_start(unbound: Unbound, tmp_path: Path) -> None:
    """A second resolver on a taken address fails at once, naming it, and starts no process."""
    second = Unbound(listen=[unbound.address], workdir=tmp_path)
    with pytest.raises(AddressInUse, match=unbound.address.colon()):
        second.start()
    assert second.pid is None
