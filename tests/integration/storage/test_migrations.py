"""Migrations on SQLite and PostgreSQL: empty to head, back to base, and the status in between."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from mailshield.storage import Database
from mailshield.storage.migrate import (
    alembic_config,
    downgrade,
    head_revision,
    schema_status,
    upgrade,
)
from mailshield.storage.tables import metadata

APP_TABLES = {"users", "domains", "check_reports"}


async def table_names(db: Database) -> set[str]:
    async with db.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


def schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def test_empty_database_is_behind(database: Database) -> None:
    """A database never migrated reports no revision and pending migrations."""
    status = await schema_status(database)
    assert status.current is None
    assert status.head == head_revision()
    assert status.behind
    assert "mailshield db upgrade" in status.describe()


async def test_upgrade_creates_the_schema(database: Database) -> None:
    """Upgrading an empty database creates every table and reaches the head revision."""
    status = await upgrade(database)
    assert status.up_to_date
    assert await table_names(database) >= APP_TABLES


async def test_upgrade_twice_changes_nothing(database: Database) -> None:
    """A second upgrade on an up-to-date database is a no-op."""
    await upgrade(database)
    status = await upgrade(database)
    assert status.up_to_date
    assert status.current == head_revision()


# Expression indexes (lower(email)) cannot be reflected everywhere; they are tested by behaviour.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_migrated_schema_matches_the_tables_module(migrated: Database) -> None:
    """Autogenerate finds nothing to change: migrations and tables.py describe the same schema."""
    async with migrated.connect() as connection:
        assert await connection.run_sync(schema_differences) == []


async def test_downgrade_to_base_removes_every_table(migrated: Database) -> None:
    """Downgrading to base drops the application tables and clears the revision."""
    status = await downgrade(migrated, "base")
    assert status.current is None
    assert not APP_TABLES & await table_names(migrated)


async def test_upgrade_after_downgrade_rebuilds(migrated: Database) -> None:
    """Migrations can run again after a full downgrade."""
    await downgrade(migrated, "base")
    status = await upgrade(migrated)
    assert status.up_to_date
    assert await table_names(migrated) >= APP_TABLES


async def test_unknown_revision_is_not_behind(migrated: Database) -> None:
    """A revision from a newer MailShield is reported as unknown, not as pending migrations."""
    async with migrated.transaction() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    status = await schema_status(migrated)
    assert status.current == "9999"
    assert not status.known
    assert not status.behind
    assert "newer version" in status.describe()


async def test_failed_migration_leaves_no_table(database: Database) -> None:
    """Migrations run in one transaction, so an error after them undoes all their DDL."""

    with pytest.raises(Abort):
        await upgrade_then_fail(database)
    assert not APP_TABLES & await table_names(database)
    assert (await schema_status(database)).current is None


class Abort(Exception):
    """Raised by a test after the migrations ran, inside their transaction."""


async def upgrade_then_fail(db: Database) -> None:
    async with db.transaction(enforce_foreign_keys=False) as connection:
        await connection.run_sync(_upgrade_on, "head")
        raise Abort


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
