"""Real ACME issuance: Pebble validates HTTP-01 against the policy server through the lab DNS.

The lab DNS server answers for ``example.``: the ``mta-sts`` names of the hosted domains point at
the policy server's address, ``mta-sts.dark.example`` at an address where nothing listens (its
validation fails). Pebble resolves only through that server and validates HTTP-01 on the policy
server's HTTP port. Certificates land in SQLite and the policy server presents them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import dns.name
import pytest
from cryptography import x509
from tests.integration.policy_server.client import fetch, peer_certificate_serial
from tests.support.hosting_fakes import FakeHosting, policy_body
from tests.support.lab import require_binary

from mailshield.interfaces.policy_server import PolicyServer, PolicyServerConfig
from mailshield.lab.ca import LabCA
from mailshield.lab.dns_server import DnsServer, Responder
from mailshield.lab.endpoint import Endpoint, loopback
from mailshield.lab.pebble import Pebble
from mailshield.lab.zones import Zone, ZoneSet, parse_record
from mailshield.services.certificates import CertificateManager, Clock, utc_now
from mailshield.services.certificates_acme import HTTP_01, TLS_ALPN_01, AcmeIssuer
from mailshield.services.issuance_snapshot import AllowedNames
from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore
from mailshield.storage.migrate import upgrade

pytestmark = pytest.mark.lab

DNS_HOST = "127.0.10.1"
SERVER_HOST = "127.0.10.2"
DARK_HOST = "127.0.10.3"  # nothing listens here
PEBBLE_HOST = "127.0.10.4"
A = "mta-sts.a.example"
B = "mta-sts.b.example"
DARK = "mta-sts.dark.example"
REFUSED = "mta-sts.refused.example"


def lab_zone() -> ZoneSet:
    """The ``example.`` zone with the policy hosts' addresses."""
    origin = dns.name.from_text("example.")
    zone = Zone(origin)
    lines = [
        "@ SOA ns1 hostmaster 1 3600 600 86400 60",
        "@ NS ns1",
        f"ns1 A {DNS_HOST}",
        f"mta-sts.a A {SERVER_HOST}",
        f"mta-sts.b A {SERVER_HOST}",
        f"mta-sts.refused A {SERVER_HOST}",
        f"mta-sts.dark A {DARK_HOST}",
    ]
    for line in lines:
        zone.add(parse_record(line, origin, origin))
    return ZoneSet([zone])


@dataclass
class World:
    """What one test needs: server, Pebble, store, hosting, and a way to make managers."""

    server: PolicyServer
    pebble: Pebble
    store: CertificateStore
    hosting: FakeHosting
    roots: Path
    database_url: str

    def manager(
        self,
        store: CertificateStore | None = None,
        clock: Clock = utc_now,
        challenge: str = HTTP_01,
    ) -> tuple[CertificateManager, AcmeIssuer]:
        """A manager with its own ACME issuer trusting Pebble's API."""
        store = store or self.store
        issuer = AcmeIssuer(
            self.pebble.directory_url, store, ca_bundle=self.pebble.ca_bundle, challenge=challenge
        )
        manager = CertificateManager(store, self.hosting, self.hosting, issuer, clock=clock)
        return manager, issuer


@pytest.fixture
def hosting() -> FakeHosting:
    """A and B hosted, ``dark`` hosted but unreachable, ``refused`` barred by the gate."""
    fake = FakeHosting()
    fake.host(A, policy_body(mx="mx.a.example"))
    fake.host(B)
    fake.host(DARK)
    fake.onboarding.add(REFUSED)
    fake.refusals[REFUSED] = "mta-sts CNAME does not point here"
    return fake


@pytest.fixture
def pebble_workdir(tmp_path: Path) -> Path:
    """Pebble's working folder (skips when Pebble is not installed)."""
    require_binary("pebble")
    return tmp_path / "pebble"


@pytest.fixture
async def world(tmp_path: Path, hosting: FakeHosting, pebble_workdir: Path) -> AsyncIterator[World]:
    """Lab DNS, policy server on its fixed address, Pebble validating against it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ms.db'}"
    config = PolicyServerConfig(
        listen=SERVER_HOST, https_port=0, http_port=0, refresh_interval=3600
    )
    async with (
        Database(url) as db,
        DnsServer(Responder(lab_zone()), host=DNS_HOST) as dns_server,
    ):
        await upgrade(db)
        store = CertificateStore(db)
        ask = AllowedNames(hosting, hosting)
        async with PolicyServer(config, policies=hosting, certificates=store, ask=ask) as server:
            assert server.http_port is not None
            pebble = Pebble(
                LabCA(),
                dns_server=Endpoint(*dns_server.address),
                api=loopback(PEBBLE_HOST),
                http01_port=server.http_port,
                tlsalpn01_port=server.https_port,
                workdir=pebble_workdir,
            )
            await asyncio.to_thread(pebble.start)
            try:
                roots = tmp_path / "pebble-roots.pem"
                roots.write_bytes(await asyncio.to_thread(pebble.root_pem))
                yield World(server, pebble, store, hosting, roots, url)
            finally:
                await asyncio.to_thread(pebble.stop)


async def test_certificate_issued_over_http01_is_served(world: World) -> None:
    """Pebble validates through the policy server; the next handshake presents Pebble's chain."""
    manager, issuer = world.manager()
    hosting = world.hosting
    hosting.policies.pop(B)  # keep the run to one name
    hosting.policies.pop(DARK)
    summary = await manager.run_once()
    assert summary.issued == [A]
    assert issuer.orders_placed == 1
    await world.server.refresh()
    response = await fetch(world.server.https_port, sni=A, cafile=world.roots, address=SERVER_HOST)
    assert (response.status, response.body) == (200, policy_body(mx="mx.a.example"))
    stored = await world.store.certificate(A)
    assert stored is not None
    leaf = x509.load_pem_x509_certificates(stored.fullchain_pem)[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [A]
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert await world.store.purge_expired_challenges(tomorrow) == 0  # tokens were withdrawn


async def test_certificate_issued_over_tls_alpn_01_is_served(world: World) -> None:
    """Pebble validates TLS-ALPN-01 on the policy server's HTTPS port (RFC 8737)."""
    for name in (B, DARK):
        world.hosting.policies.pop(name)
    manager, _issuer = world.manager(challenge=TLS_ALPN_01)
    summary = await manager.run_once()
    assert (summary.issued, summary.failed) == ([A], {})
    await world.server.refresh()
    response = await fetch(world.server.https_port, sni=A, cafile=world.roots, address=SERVER_HOST)
    assert response.status == 200
    assert world.server.contexts.built == 1  # validation contexts never enter the cache


async def test_renewal_is_forced_by_time(world: World) -> None:
    """Moving the clock past 2/3 of the lifetime renews; the server then presents the new one."""
    for name in (B, DARK):
        world.hosting.policies.pop(name)
    now = dt.datetime.now(dt.UTC)
    clock = {"now": now}
    manager, issuer = world.manager(clock=lambda: clock["now"])
    assert (await manager.run_once()).issued == [A]
    await world.server.refresh()
    first = await peer_certificate_serial(world.server.https_port, A, world.roots, SERVER_HOST)
    assert (await manager.run_once()).ordered == []
    stored = await world.store.certificate(A)
    assert stored is not None
    clock["now"] = stored.renew_at + dt.timedelta(minutes=1)
    assert (await manager.run_once()).renewed == [A]
    await world.server.refresh()
    second = await peer_certificate_serial(world.server.https_port, A, world.roots, SERVER_HOST)
    assert first != second
    assert issuer.orders_placed == 2
    assert await world.store.versions() == {A: 2}


async def test_refused_name_gets_no_order(world: World) -> None:
    """A name the gate refuses is never ordered, and /tls/ask says no for it."""
    for name in (A, B, DARK):
        world.hosting.policies.pop(name)
    manager, issuer = world.manager()
    summary = await manager.run_once()
    assert summary.refused == {REFUSED: "mta-sts CNAME does not point here"}
    assert issuer.orders_placed == 0
    assert await world.store.order_state(REFUSED) is None
    assert await world.store.certificate(REFUSED) is None


async def test_failed_validation_backs_off(world: World) -> None:
    """An unreachable name fails validation once and is then left alone until its backoff ends."""
    for name in (A, B):
        world.hosting.policies.pop(name)
    manager, issuer = world.manager()
    first = await manager.run_once()
    assert first.failed[DARK].startswith("validation failed")
    state = await world.store.order_state(DARK)
    assert state is not None
    assert state.failures == 1
    assert state.next_attempt_at is not None
    assert state.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14)
    second = await manager.run_once()
    assert (second.waiting, second.ordered) == ([DARK], [])
    assert issuer.orders_placed == 1


async def test_two_managers_sharing_a_database_order_once(world: World) -> None:
    """Two managers (separate engines, one database) running together order each name once."""
    world.hosting.policies.pop(DARK)
    async with Database(world.database_url) as other_db:
        one, one_issuer = world.manager()
        two, two_issuer = world.manager(CertificateStore(other_db))
        summaries = await asyncio.gather(one.run_once(), two.run_once())
    assert one_issuer.orders_placed + two_issuer.orders_placed == 2
    issued = sorted(summaries[0].issued + summaries[1].issued)
    assert issued == [A, B]
    assert await world.store.versions() == {A: 1, B: 1}
