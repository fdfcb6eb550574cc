"""Fixtures for certificate tests: storage tests run once on SQLite and once on PostgreSQL
(the shared fixtures of ``tests.support.databases``)."""

from __future__ import annotations

import pytest

from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore


@pytest.fixture
def database(migrated: Database) -> Database:
    """A migrated database handle (SQLite, then PostgreSQL)."""
    return migrated


@pytest.fixture
def store(database: Database) -> CertificateStore:
    """The certificate repository on the test database."""
    return CertificateStore(database)
