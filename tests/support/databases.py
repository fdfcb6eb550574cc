"""Database fixtures for every test folder: each test using them runs on SQLite and PostgreSQL.

Registered as a pytest plugin in ``tests/conftest.py``; one PostgreSQL cluster per session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.support.postgres import PostgresCluster, running_cluster

from mailshield.storage import Database
from mailshield.storage.migrate import upgrade


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole test session."""
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


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An unmigrated database handle, disposed after the test."""
    async with Database(database_url) as db:
        yield db


@pytest.fixture
async def migrated(database: Database) -> Database:
    """A database with every migration applied."""
    await upgrade(database)
    return database
