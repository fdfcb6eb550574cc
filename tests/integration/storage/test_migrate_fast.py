"""The schema check without Alembic: one-step creation equals the migrations, head detection."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text
from tests.integration.storage.test_migrations import schema_differences

from mailshield.storage import Database
from mailshield.storage.migrate import downgrade, head_revision, schema_status, upgrade
from mailshield.storage.migrate_fast import (
    create_schema,
    current_revision,
    ensure_current,
)
from mailshield.storage.schema_sqlite import DDL_FILE, applied_revision, render_ddl, shipped_head
from mailshield.storage.schema_sqlite import create_schema as create_schema_plain
from mailshield.storage.sqlite_plain import connect_file, file_of_url


@pytest.fixture
async def second(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """A second empty database of the same kind as ``database``."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'other' / 'mailshield.db'}"
        async with Database(url) as db:
            yield db
        return
    cluster = request.getfixturevalue("postgres_cluster")
    with cluster.scratch_database() as url:
        async with Database(url) as db:
            yield db


def describe(connection: Connection) -> dict[str, Any]:
    """Every table's columns, keys, foreign keys, unique constraints and indexes, comparable."""
    found = inspect(connection)
    tables: dict[str, Any] = {}
    for name in sorted(found.get_table_names()):
        tables[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(name)
            ],
            "primary_key": found.get_pk_constraint(name),
            "foreign_keys": sorted(map(repr, found.get_foreign_keys(name))),
            "unique": sorted(map(repr, found.get_unique_constraints(name))),
            "indexes": sorted(map(repr, found.get_indexes(name))),
        }
    return tables


def sqlite_master(connection: Connection) -> list[tuple[str, str, str]]:
    """SQLite's own record of the schema: each object's type, name and SQL, spaces folded and
    table constraints sorted (migrations and ``create_all`` list them in different orders)."""
    rows = connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
    return [
        (kind, name, _constraints_sorted(re.sub(r"\s+", " ", sql or "")))
        for kind, name, sql in rows
    ]


def _constraints_sorted(sql: str) -> str:
    """``CREATE TABLE t ( columns, constraints )`` with the constraint clauses in name order."""
    head, _, body = sql.partition("(")
    body = body.rstrip().removesuffix(")")
    parts, depth, start = [], 0, 0
    for position, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:position].strip())
            start = position + 1
    parts.append(body[start:].strip())
    columns = [part for part in parts if not part.startswith("CONSTRAINT")]
    constraints = sorted(part for part in parts if part.startswith("CONSTRAINT"))
    return f"{head}({', '.join(columns + constraints)})"


async def run(db: Database, reader: Any) -> Any:
    async with db.connect() as connection:
        return await connection.run_sync(reader)


def test_shipped_head_is_alembics_head() -> None:
    """The head read from the revision file names is the head Alembic computes."""
    assert shipped_head() == head_revision()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_created_schema_equals_migrated(database: Database, second: Database) -> None:
    """One-step creation builds the schema the migrations build, stamped at the head."""
    assert await create_schema(database)
    await upgrade(second)
    assert await run(database, describe) == await run(second, describe)
    assert await run(database, schema_differences) == []
    if database.dialect == "sqlite":
        assert await run(database, sqlite_master) == await run(second, sqlite_master)
    assert (await schema_status(database)).up_to_date


async def test_created_schema_can_be_migrated_down(database: Database) -> None:
    """Alembic takes a created schema for its own: it can downgrade it to base."""
    await create_schema(database)
    assert (await downgrade(database, "base")).current is None


async def _prepare(database: Database, prepare: str) -> None:
    """Bring ``database`` to a state: migrated to a revision, migrated and downgraded to the
    base, holding another program's table, or (``nothing``) left empty."""
    if prepare in ("head", "0006"):
        await upgrade(database, prepare)
    elif prepare == "base":
        await upgrade(database)
        await downgrade(database, "base")
    elif prepare == "foreign":
        async with database.transaction() as connection:
            await connection.execute(text("CREATE TABLE other_app (id INTEGER)"))


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        pytest.param("nothing", (None, True), id="empty"),
        pytest.param("head", ("head", False), id="at-head"),
        pytest.param("0006", ("0006", False), id="behind"),
        pytest.param("base", (None, False), id="downgraded-to-base"),
        pytest.param("foreign", (None, False), id="someone-elses-table"),
    ],
)
async def test_current_revision_reads_the_version_table(
    database: Database, prepare: str, expected: tuple[str | None, bool]
) -> None:
    """The revision read directly matches what Alembic records, and empty means no table."""
    await _prepare(database, prepare)
    revision, empty = expected
    wanted = head_revision() if revision == "head" else revision
    assert await current_revision(database) == (wanted, empty)


@pytest.mark.parametrize(
    ("prepare", "create", "current"),
    [
        pytest.param("nothing", True, True, id="empty-created"),
        pytest.param("nothing", False, False, id="empty-left-to-alembic"),
        pytest.param("head", False, True, id="at-head"),
        pytest.param("0006", True, False, id="behind-left-to-alembic"),
        pytest.param("newer", True, False, id="newer-left-to-alembic"),
    ],
)
async def test_ensure_current(
    database: Database, prepare: str, create: bool, current: bool
) -> None:
    """Only an empty database is created; only the exact head passes without Alembic."""
    if prepare == "newer":
        await upgrade(database)
        async with database.transaction() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    elif prepare != "nothing":
        await upgrade(database, prepare)
    assert await ensure_current(database, create=create) is current
    if prepare == "nothing":
        assert (await current_revision(database))[1] is not create


async def test_create_schema_leaves_a_used_database_alone(database: Database) -> None:
    """A database that already holds a table is not touched by one-step creation."""
    await upgrade(database, "0006")
    assert not await create_schema(database)
    assert (await schema_status(database)).current == "0006"


def test_stored_sqlite_ddl_is_current() -> None:
    """schema_sqlite.sql holds what SQLAlchemy renders for the tables today (if this fails,
    run `python -m mailshield.storage.schema_sqlite` and commit the file)."""
    assert DDL_FILE.read_text(encoding="utf-8") == render_ddl()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_plain_created_schema_equals_migrated(database: Database, second: Database) -> None:
    """The stored SQLite statements build the migrated schema, stamped at the head."""
    if database.dialect != "sqlite":
        pytest.skip("the stored statements are SQLite's")
    path = sqlite_file(database)
    with closing(connect_file(path)) as connection:
        assert create_schema_plain(connection)
        assert applied_revision(connection) == (shipped_head(), False)
        assert not create_schema_plain(connection)
    await upgrade(second)
    assert await run(database, describe) == await run(second, describe)
    assert await run(database, schema_differences) == []
    assert await run(database, sqlite_master) == await run(second, sqlite_master)


@pytest.mark.parametrize("prepare", ["nothing", "head", "0006", "base", "foreign"])
async def test_plain_revision_reading_agrees(database: Database, prepare: str) -> None:
    """The standard-library reading of the revision agrees with the SQLAlchemy one."""
    if database.dialect != "sqlite":
        pytest.skip("a SQLite reading")
    await _prepare(database, prepare)
    with closing(connect_file(sqlite_file(database))) as connection:
        assert applied_revision(connection) == await current_revision(database)


def sqlite_file(db: Database) -> Path:
    path = file_of_url(db.display_url)
    assert path is not None
    return path
