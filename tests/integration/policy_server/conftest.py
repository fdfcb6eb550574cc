"""Fixtures for policy-server tests: lab certificates in a SQLite store, fake hosting, a server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.hosting_fakes import FakeHosting, policy_body

from mailshield.interfaces.policy_server import Limits, PolicyServer, PolicyServerConfig
from mailshield.lab.ca import IssuedCert, LabCA
from mailshield.services.issuance_snapshot import AllowedNames
from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore, NewCertificate
from mailshield.storage.migrate import upgrade

A = "mta-sts.a.example"
B = "mta-sts.b.example"
UNCERTIFIED = "mta-sts.c.example"  # hosted, but no certificate yet
POLICY_A = policy_body(mx="mx.a.example")
POLICY_B = policy_body(mx="mx.b.example", mode="testing")


def new_certificate(name: str, issued: IssuedCert) -> NewCertificate:
    """The storage record for a lab-issued certificate."""
    now = dt.datetime.now(dt.UTC)
    return NewCertificate(
        name=name,
        key_pem=issued.key_pem,
        fullchain_pem=issued.fullchain_pem,
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=89),
        renew_at=now + dt.timedelta(days=59),
    )


@pytest.fixture(scope="session")
def ca() -> LabCA:
    """The lab CA issuing the policy hosts' certificates."""
    return LabCA("policy server test root")


@pytest.fixture(scope="session")
def cafile(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab root as a PEM file for verifying clients."""
    return ca.write_root(tmp_path_factory.mktemp("ca") / "root.pem")


@pytest.fixture
async def store(tmp_path: Path, ca: LabCA) -> AsyncIterator[CertificateStore]:
    """A migrated SQLite certificate store holding certificates for A and B."""
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'ms.db'}") as db:
        await upgrade(db)
        store = CertificateStore(db)
        now = dt.datetime.now(dt.UTC)
        for name in (A, B):
            await store.save_certificate(new_certificate(name, ca.issue(name)), now)
        yield store


@pytest.fixture
def hosting() -> FakeHosting:
    """A, B and C hosted with distinct policies; D onboarding but not yet allowed a certificate."""
    fake = FakeHosting()
    fake.host(A, POLICY_A)
    fake.host(B, POLICY_B)
    fake.host(UNCERTIFIED)
    fake.onboarding.add("mta-sts.d.example")
    fake.refusals["mta-sts.d.example"] = "CNAME does not point here"
    return fake


def make_server(
    store: CertificateStore, hosting: FakeHosting, limits: Limits | None = None, capacity: int = 512
) -> PolicyServer:
    """A policy server on 127.0.0.1 with free ports."""
    config = PolicyServerConfig(
        listen="127.0.0.1",
        https_port=0,
        http_port=0,
        limits=limits or Limits(),
        context_capacity=capacity,
        refresh_interval=3600,
    )
    ask = AllowedNames(hosting, hosting)
    return PolicyServer(config, policies=hosting, certificates=store, ask=ask)


@pytest.fixture
async def server(store: CertificateStore, hosting: FakeHosting) -> AsyncIterator[PolicyServer]:
    """A running policy server with default limits."""
    async with make_server(store, hosting) as running:
        yield running
