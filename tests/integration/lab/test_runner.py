"""A whole lab from a scenario: DNS, CA, MX and policy hosts (and Knot+Unbound when signed)."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import dns.asyncresolver
import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.resolver
import pytest
import pytest_asyncio
from cryptography import x509
from tests.support.lab_world import (
    lab_resolver,
    lab_world,
    lab_world_thread,
    prepare_scenario,
)

from mailshield.lab.runner import Lab, LabError
from mailshield.lab.scenario import Ports
from mailshield.lab.scenarios import find_scenario

DEMO = find_scenario("demo")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with lab_world("demo", tmp_path_factory.mktemp("demo")) as lab:
        yield lab


on_demo_loop = pytest.mark.asyncio(loop_scope="module")  # the loop the demo lab runs on


async def smtp_starttls(lab: Lab, name: str) -> str:
    """Banner, EHLO, STARTTLS verified for ``name`` against the lab CA; the TLS version."""
    host = lab.host(name)
    reader, writer = await asyncio.open_connection(host.address, host.port)
    try:
        await reader.readline()
        writer.write(b"EHLO checker.test\r\n")
        while not (await reader.readline()).startswith(b"250 "):
            pass
        writer.write(b"STARTTLS\r\n")
        assert (await reader.readline()).startswith(b"220")
        context = ssl.create_default_context(cafile=lab.ca_path)
        await writer.start_tls(context, server_hostname=name)
        version = writer.get_extra_info("ssl_object").version()
        assert isinstance(version, str)
        return version
    finally:
        writer.close()


async def fetch_policy(lab: Lab, domain: str) -> tuple[int, bytes]:
    """GET the MTA-STS policy of ``domain`` by IP, verifying the site name against the lab CA."""
    name = f"mta-sts.{domain}"
    host = lab.host(name)
    context = ssl.create_default_context(cafile=lab.ca_path)
    reader, writer = await asyncio.open_connection(
        host.address, host.port, ssl=context, server_hostname=name
    )
    request = f"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
    writer.write(request.encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@on_demo_loop
@pytest.mark.parametrize("domain", [d.name for d in DEMO.domains])
async def test_every_demo_domain_resolves(demo: Lab, domain: str) -> None:
    """Each demo domain answers its SOA through the lab's resolver."""
    answer = await lab_resolver(demo).resolve(domain, "SOA")
    assert answer.rrset is not None


@on_demo_loop
async def test_demo_mx_records_point_at_listening_hosts(demo: Lab) -> None:
    """The MX records of the reference domain name hosts the lab runs, at their addresses."""
    resolver = lab_resolver(demo)
    mx = await resolver.resolve("excellent.test", "MX")
    names = sorted(r.exchange.to_text(omit_final_dot=True) for r in mx)  # type: ignore[attr-defined]
    assert names == ["mx1.excellent.test", "mx2.excellent.test"]
    for name in names:
        address = await resolver.resolve(name, "A")
        assert [r.to_text() for r in address] == [demo.host(name).address]


@on_demo_loop
async def test_ca_file_is_the_lab_root(demo: Lab) -> None:
    """ca.pem in the workdir is a CA certificate (the trust anchor to give the checker)."""
    cert = x509.load_pem_x509_certificate(demo.ca_path.read_bytes())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@on_demo_loop
async def test_valid_mx_offers_verified_starttls(demo: Lab) -> None:
    """The reference MX completes STARTTLS with a certificate for its name from the lab CA."""
    assert await smtp_starttls(demo, "mx1.excellent.test") in {"TLSv1.2", "TLSv1.3"}


@on_demo_loop
async def test_expired_mx_fails_verification(demo: Lab) -> None:
    """The expired-certificate MX fails certificate verification."""
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        await smtp_starttls(demo, "mx.expired-cert.test")


@on_demo_loop
async def test_refused_mx_has_no_listener(demo: Lab) -> None:
    """The refused MX has an address in DNS but nothing listening there."""
    host = demo.host("mx.refused-mx.test")
    assert not host.listening
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(host.address, host.port)


@on_demo_loop
async def test_policy_rendered_from_hosts_is_served(demo: Lab) -> None:
    """The reference domain's policy lists its MX hosts in enforce mode."""
    status, body = await fetch_policy(demo, "excellent.test")
    assert status == 200
    assert body == (
        b"version: STSv1\nmode: enforce\nmx: mx1.excellent.test\nmx: mx2.excellent.test\n"
        b"max_age: 604800\n"
    )


@on_demo_loop
async def test_crlf_policy_is_served_byte_for_byte(demo: Lab) -> None:
    """A policy written with CRLF line endings is served with them."""
    status, body = await fetch_policy(demo, "crlf-policy.test")
    assert status == 200
    assert body.count(b"\r\n") == 4


@on_demo_loop
async def test_policy_404_domain_answers_404(demo: Lab) -> None:
    """The policy host of policy-404.test answers 404."""
    status, _ = await fetch_policy(demo, "policy-404.test")
    assert status == 404


@on_demo_loop
async def test_dns_faults_reach_the_checker(demo: Lab) -> None:
    """The demo's fault on _smtp._tls.timeouts.test is visible through the resolver."""
    with pytest.raises(dns.resolver.NoNameservers):
        await lab_resolver(demo).resolve("_smtp._tls.timeouts.test", "TXT")


@on_demo_loop
async def test_summary_lists_resolver_ca_and_hosts(demo: Lab) -> None:
    """The summary holds what `lab up` prints and stores."""
    summary = demo.summary()
    assert summary["resolvers"] == demo.resolvers
    assert summary["ca"] == str(demo.ca_path.resolve())
    assert {"mx1.excellent.test"} <= {n for h in summary["hosts"] for n in h["names"]}
    assert summary["daemon_pids"] == []


async def test_hosts_sharing_an_address_share_one_server(tmp_path: Path) -> None:
    """Bulk domains with every MX on one address run one SMTP server naming them all."""
    scenario = find_scenario("bulk:3")
    async with lab_world(scenario, tmp_path) as lab:
        smtp = [h for h in lab.hosts if h.kind == "smtp"]
        assert len(smtp) == 1
        assert smtp[0].names == ("mx.d0001.test", "mx.d0002.test", "mx.d0003.test")
        assert await smtp_starttls(lab, "mx.d0002.test") in {"TLSv1.2", "TLSv1.3"}


async def test_port_in_use_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    """A second lab on the same DNS address and port fails with a message; the first still runs."""
    text = '[lab]\ndns = "127.0.1.60:0"\n[domains."a.test"]\nrecords = [\'@ TXT "x"\']\n'
    async with lab_world(text, tmp_path / "one") as first:
        taken = prepare_scenario(text).with_ports(
            Ports(first.dns_address.port, 0, 0), dns_host=first.dns_address.host
        )
        with pytest.raises(LabError, match="address in use"):
            async with Lab(taken, tmp_path / "two"):
                pass
        query = dns.message.make_query("a.test", "TXT")
        host, port = first.dns_address
        response = await dns.asyncquery.udp(query, host, port=port, timeout=5)
        assert response.answer


def test_lab_runs_in_a_thread_for_synchronous_callers(tmp_path: Path) -> None:
    """LabThread gives a started lab to code without an event loop and stops it on exit."""
    with lab_world_thread('[domains."sync.test"]\nrecords = [\'@ TXT "hi"\']\n', tmp_path) as lab:
        host, port = lab.resolver
        response = dns.query.udp(
            dns.message.make_query("sync.test", "TXT"), host, port=port, timeout=5
        )
        assert response.answer
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as released:
        released.bind((host, port))


async def test_signed_zones_are_validated(tmp_path: Path) -> None:
    """With signed zones the resolver is Unbound: secure gets AD, bogus SERVFAIL, plain no AD."""
    async with lab_world("dnssec", tmp_path) as lab:
        pids = lab.pids
        resolver = lab_resolver(lab, dnssec=True)
        secure = await resolver.resolve("secure.test", "TXT")
        assert secure.response.flags & dns.flags.AD
        insecure = await resolver.resolve("insecure.test", "TXT")
        assert not insecure.response.flags & dns.flags.AD
        with pytest.raises(dns.resolver.NoNameservers):
            await resolver.resolve("bogus.test", "TXT")
        assert lab.resolver != lab.dns_address
    assert pids
    for pid in pids:
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
