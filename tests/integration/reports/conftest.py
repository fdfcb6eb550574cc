"""Fixtures for report tests: storage on SQLite and on PostgreSQL, an intake over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from tests.support.postgres import PostgresCluster, running_cluster

from mailshield.services.ingest import IngestOptions, ReportIntake
from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore
from mailshield.storage.tables import domains, users

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
NOW = datetime(2024, 5, 2, 6, 0, tzinfo=UTC)
SERVED = (
    "example.com",
    "example.org",
    "example.de",
    "example.net",
    "company-y.example",
    "xn--bcher-kva.example",
)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the report tests."""
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
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.scratch_database() as url:
        yield url


async def add_domains(db: Database, names: tuple[str, ...]) -> None:
    """Register ``names`` as served domains of one operator account."""
    async with db.transaction() as connection:
        owner = (
            await connection.execute(
                insert(users)
                .values(email="operator@localhost", password_hash="!")
                .returning(users.c.id)
            )
        ).scalar_one()
        for name in names:
            await connection.execute(insert(domains).values(owner_id=owner, name=name))


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[Database]:
    """A migrated database that serves the corpus's policy domains."""
    async with Database(database_url) as db:
        await upgrade(db)
        await add_domains(db, SERVED)
        yield db


@pytest.fixture
async def intake(migrated: Database) -> AsyncIterator[ReportIntake]:
    """The intake pipeline on the migrated database, with a fixed clock."""
    pipeline = ReportIntake(
        ReportStore(migrated), DomainsTable(migrated), IngestOptions(), clock=lambda: NOW
    )
    yield pipeline
    await pipeline.aclose()


@pytest.fixture
async def served_data_dir(tmp_path: Path) -> Path:
    """A data folder whose SQLite database is migrated and serves the corpus's domains."""
    data_dir = tmp_path / "data"
    async with Database(f"sqlite+aiosqlite:///{data_dir / 'mailshield.db'}") as db:
        await upgrade(db)
        await add_domains(db, SERVED)
    return data_dir
