"""Fixtures for certificate tests: storage tests run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.support.postgres import PostgresCluster, running_cluster

from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore
from mailshield.storage.migrate import upgrade


@pytest.fixture(scope="session")
def certificates_postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the certificate tests of this session."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mailshield.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("certificates_postgres")
    with cluster.scratch_database() as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database handle, disposed after the test."""
    async with Database(database_url) as db:
        await upgrade(db)
        yield db


@pytest.fixture
def store(database: Database) -> CertificateStore:
    """The certificate repository on the test database."""
    return CertificateStore(database)
