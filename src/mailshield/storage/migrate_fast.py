"""The schema check for short-lived commands, without loading Alembic (about a third of a
second of start-up).

- A database at the shipped head is recognised by reading ``alembic_version`` directly and
  comparing it with :func:`~mailshield.storage.schema_sqlite.shipped_head`, the highest
  numbered revision file in the package.
- An empty database gets the whole schema in one step: ``metadata.create_all`` and the
  ``alembic_version`` row of the head, in one transaction, instead of replaying every
  migration. The tests prove the result equal to the migrated schema on SQLite and PostgreSQL.

Anything else (pending migrations, a newer database, a partly built one) is left to
:mod:`mailshield.storage.migrate`, which runs Alembic.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, text

from mailshield.storage.database import Database
from mailshield.storage.schema_sqlite import shipped_head

__all__ = ["VERSION_TABLE", "create_schema", "current_revision", "ensure_current", "shipped_head"]

ADVISORY_LOCK_KEY = 0x6D61696C736869  # the lock of mailshield.storage.migrate

# Alembic's own version table, as ``alembic stamp`` creates it (name, column, constraint).
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


async def current_revision(db: Database) -> tuple[str | None, bool]:
    """``(revision, empty)``: the applied revision (``None`` if there is no version table)
    and whether the database holds no table at all."""
    async with db.connect() as connection:
        return await connection.run_sync(_read_revision)


async def ensure_current(db: Database, *, create: bool) -> bool:
    """Whether the schema is at the shipped head, checked without Alembic.

    An empty database is given the schema first when ``create`` is true. ``False`` means
    Alembic has to look (migrations pending, unknown revision, or a partial schema).
    """
    revision, empty = await current_revision(db)
    if revision == shipped_head():
        return True
    if empty and create:
        return await create_schema(db)
    return False


async def create_schema(db: Database) -> bool:
    """Create every table and stamp the head revision, in one transaction, if the database
    is still empty when the transaction holds the lock; ``False`` when it was not empty."""
    from mailshield.storage.tables import metadata  # every table module registers on it

    async with db.transaction() as connection:
        if connection.dialect.name == "postgresql":
            # The migration lock: replicas starting together build the schema once.
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
        if not (await connection.run_sync(_read_revision))[1]:
            return False
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(VERSION_TABLE.create)
        await connection.execute(VERSION_TABLE.insert().values(version_num=shipped_head()))
    return True


def _read_revision(connection: Connection) -> tuple[str | None, bool]:
    names = _table_names(connection)
    if VERSION_TABLE.name not in names:
        return None, not names
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return (rows[0][0] if len(rows) == 1 else None), False


def _table_names(connection: Connection) -> set[str]:
    """The tables of the database (SQLite) or of the current schema (PostgreSQL)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        query = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return {str(name) for name in connection.exec_driver_sql(query).scalars()}
