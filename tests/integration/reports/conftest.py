"""Fixtures for report tests: storage on SQLite and on PostgreSQL (the shared fixtures of
``tests.support.databases``) serving the corpus domains, and an intake over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

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
async def migrated(database: Database) -> Database:
    """A migrated database (SQLite, then PostgreSQL) that serves the corpus's policy domains."""
    await upgrade(database)
    await add_domains(database, SERVED)
    return database


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
