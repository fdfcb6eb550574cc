"""Hosted MTA-STS end to end: onboarding, a Pebble certificate, a real sender, enforce, removal.

Everything real except the internet: the lab DNS and a lab MX host, MailShield's hosting service
and verifier, its policy server on port 443 (RFC 8461 §3.3 fetches from 443 only, so this needs
root), the certificate manager ordering from Pebble over HTTP-01, MailShield's own checker, and
postfix-mta-sts-resolver as the sender. The sender is pointed at the lab: its TXT lookups go to
the lab DNS server, its HTTPS connections resolve through the lab and trust Pebble's root.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiodns
import aiohttp
import aiohttp.abc
import pytest
from postfix_mta_sts_resolver import resolver as sts
from tests.integration.hosting.lab_dns import publish
from tests.integration.policy_server.client import fetch
from tests.support.lab import require_binary
from tests.support.lab_world import lab_world

from mailshield.core.hosting.model import HostingState
from mailshield.core.hosting.records import ZoneRecord
from mailshield.core.model import Status
from mailshield.interfaces.assembly import build_checker
from mailshield.interfaces.policy_server import PolicyServer, PolicyServerConfig
from mailshield.lab.endpoint import loopback
from mailshield.lab.pebble import Pebble
from mailshield.lab.runner import Lab
from mailshield.probes.dns import DnsClient
from mailshield.services.certificates import CertificateManager
from mailshield.services.certificates_acme import AcmeIssuer
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_serving import HostedPolicies
from mailshield.services.issuance_snapshot import AllowedNames
from mailshield.services.settings import Settings
from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore
from mailshield.storage.hosting import HostingStore
from mailshield.storage.migrate import upgrade

pytestmark = [
    pytest.mark.lab,
    # postfix-mta-sts-resolver still calls aiodns' deprecated query()
    pytest.mark.filterwarnings("ignore:query\\(\\) is deprecated:DeprecationWarning"),
]

SERVER_HOST = "127.0.91.2"  # the policy server, on port 443
PEBBLE_HOST = "127.0.91.4"
POLICY_HOST = "mta-sts.mailshield.test"
D = "shop.test"
RUA = "mailto:tlsrpt@mailshield.test"

SCENARIO = f"""
name = "hosting-end-to-end"
[lab]
network = "127.0.91.16/28"

[domains."mailshield.test"]
records = ['mta-sts A {SERVER_HOST}']

[domains."{D}"]
records = ['@ TXT "v=spf1 mx -all"']
mx = [{{ name = "mx" }}]
"""


def require_port_443() -> None:
    """Skip (or fail in CI) when the policy server cannot listen on port 443."""
    if os.geteuid() == 0:
        return
    reason = "the policy server must listen on port 443 (RFC 8461 §3.3), which needs root"
    if os.environ.get("MAILSHIELD_REQUIRE_LAB") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class World:
    lab: Lab
    service: HostingService
    hosted: HostedPolicies
    manager: CertificateManager
    server: PolicyServer
    roots: Path  # Pebble's root and the lab CA: what senders and the checker trust
    settings: Settings


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The lab, the policy server on 443, Pebble validating against it, and the services."""
    require_port_443()
    require_binary("pebble")
    async with (
        lab_world(SCENARIO, tmp_path / "lab") as lab,
        Database(f"sqlite+aiosqlite:///{tmp_path / 'ms.db'}") as db,
    ):
        await upgrade(db)
        certificates = CertificateStore(db)
        hosted = HostedPolicies(HostingStore(db))
        config = PolicyServerConfig(listen=SERVER_HOST, https_port=443, http_port=0)
        ask = AllowedNames(hosted, hosted)
        async with PolicyServer(
            config, policies=hosted, certificates=certificates, ask=ask
        ) as server:
            assert server.http_port is not None
            pebble = Pebble(
                lab.ca,
                dns_server=lab.dns_address,
                api=loopback(PEBBLE_HOST),
                http01_port=server.http_port,
                workdir=tmp_path / "pebble",
            )
            await asyncio.to_thread(pebble.start)
            try:
                roots = tmp_path / "roots.pem"
                roots.write_bytes(
                    await asyncio.to_thread(pebble.root_pem) + lab.ca_path.read_bytes()
                )
                settings = Settings(
                    resolvers=lab.resolvers,
                    ca_bundle=roots,
                    allow_private=True,
                    smtp_port=lab.ports.smtp,
                    policy_host=POLICY_HOST,
                    tlsrpt_rua=RUA,
                )
                issuer = AcmeIssuer(pebble.directory_url, certificates, ca_bundle=pebble.ca_bundle)
                service = HostingService(
                    HostingStore(db),
                    lambda: DnsClient(lab.resolvers, timeout=2),
                    HostingConfig.from_settings(settings),
                    checker=build_checker(settings),
                )
                manager = CertificateManager(certificates, hosted, hosted, issuer)
                yield World(lab, service, hosted, manager, server, roots, settings)
            finally:
                await asyncio.to_thread(pebble.stop)


class LabAddresses(aiohttp.abc.AbstractResolver):
    """Resolves host names for aiohttp through the lab DNS, never the host's resolver."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        answer = await DnsClient(self._lab.resolvers, timeout=2).query(host, "A")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in answer.texts()
        ]

    async def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def sender(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[[], sts.STSResolver]:
    """postfix-mta-sts-resolver, its DNS and HTTPS pointed at the lab, trusting Pebble's root.

    Each call makes a new resolver: its DNS cache (c-ares honours the TXT TTL) starts empty, as a
    sender's would once the old record's TTL has passed.
    """
    context = ssl.create_default_context(cafile=str(world.roots))
    lab = world.lab

    def session(**options: Any) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(resolver=LabAddresses(lab), ssl=context)
        return aiohttp.ClientSession(timeout=options.get("timeout"), connector=connector)

    def dns_resolver(**options: Any) -> aiodns.DNSResolver:
        return aiodns.DNSResolver(nameservers=lab.resolvers, timeout=options.get("timeout", 5))

    monkeypatch.setattr(
        sts,
        "aiohttp",
        SimpleNamespace(
            ClientSession=session, ClientTimeout=aiohttp.ClientTimeout, helpers=aiohttp.helpers
        ),
    )
    monkeypatch.setattr(
        sts, "aiodns", SimpleNamespace(DNSResolver=dns_resolver, error=aiodns.error)
    )
    return lambda: sts.STSResolver(loop=asyncio.get_running_loop(), timeout=5)


Sender = Callable[[], sts.STSResolver]


async def resolve(sender: Sender, last_id: str | None = None) -> tuple[Any, Any]:
    """What the sender makes of shop.test: the fetch result and (id, policy)."""
    return await sender().resolve(D, last_id)


async def publish_and_verify(world: World, owner: int, lines: list[str]) -> None:
    publish(world.lab, lines)
    [view] = await world.service.verify(owner, D)
    assert view.id_live, view.domain.checks


async def test_onboard_certify_send_enforce_remove(world: World, sender: Sender) -> None:
    """The whole life of a hosted domain, as its operator and a sender see it."""
    service = world.service
    me = await service.operator_account()

    # Onboarding: records printed; nothing is ordered before the CNAME points here.
    onboarding = await service.add(me, D)
    lines = [r.zone_line() for r in onboarding.records]
    assert (await world.manager.run_once()).issued == []
    assert await world.hosted.refusal("mta-sts.stranger.test") == "stranger.test is not onboarded"

    # The operator publishes the records; the verifier sees them; Pebble issues over HTTP-01.
    await publish_and_verify(world, me, lines)
    summary = await world.manager.run_once()
    assert summary.issued == [f"mta-sts.{D}"]
    await world.server.refresh()

    # A sender fetches the testing policy through DNS and HTTPS.
    result, found = await resolve(sender)
    assert result is sts.STSFetchResult.VALID
    policy_id, policy = found
    assert policy_id == onboarding.policy.id
    assert (policy["mode"], policy["mx"]) == ("testing", [f"mx.{D}"])

    # Enforce passes the live gate (the lab MX serves valid TLS); the body changes first.
    moved = await service.set_mode(me, D, "enforce")
    assert moved.verdict is not None
    assert moved.verdict.allowed
    assert (await resolve(sender, policy_id))[0] is sts.STSFetchResult.NOT_CHANGED
    await publish_and_verify(world, me, sts_txt(moved.change.view.records))
    result, (new_id, policy) = await resolve(sender, policy_id)
    assert result is sts.STSFetchResult.VALID
    assert new_id == moved.change.current.id
    assert policy["mode"] == "enforce"

    # MailShield's own checker rates the hosted policy as a pass.
    report = await build_checker(world.settings).check(D)
    mta_sts = report.result("mta_sts")
    assert mta_sts is not None
    assert mta_sts.status is Status.PASS, [f.message for f in mta_sts.findings]

    # Removal: mode none under a new id, then the safe time, then no policy at all.
    removing = await service.remove(me, D)
    await publish_and_verify(world, me, sts_txt(removing.records))
    result, (none_id, policy) = await resolve(sender, new_id)
    assert (result, none_id, policy["mode"]) == (
        sts.STSFetchResult.VALID,
        removing.policy.id,
        "none",
    )
    [view] = await service.status(me, D)
    assert view.domain.state is HostingState.REMOVING
    assert view.removal is not None
    assert view.removal.delete_after is not None
    await service.finish_removal(me, D, force=True)
    response = await fetch(443, sni=f"mta-sts.{D}", cafile=world.roots, address=SERVER_HOST)
    assert response.status == 404


def sts_txt(records: Sequence[ZoneRecord]) -> list[str]:
    """The zone line of the ``_mta-sts`` TXT record among ``records``: the id to publish."""
    return [r.zone_line() for r in records if r.rdtype == "TXT" and "STSv1" in r.value]
