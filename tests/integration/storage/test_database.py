"""The Database handle and the schema's rules, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from mailshield.storage import Database
from mailshield.storage.tables import domains, users

PLUS_TWO = timezone(timedelta(hours=2))


async def add_user(db: Database, email: str, **values: Any) -> int:
    async with db.transaction() as connection:
        result = await connection.execute(
            users.insert().values(email=email, password_hash="x", **values).returning(users.c.id)
        )
        return int(result.scalar_one())


async def add_domain(db: Database, owner_id: int, name: str) -> None:
    async with db.transaction() as connection:
        await connection.execute(domains.insert().values(owner_id=owner_id, name=name))


async def count(db: Database, table: Any) -> int:
    async with db.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_ping_answers(database: Database) -> None:
    """A reachable database answers the ping."""
    assert await database.ping()


async def test_ping_reports_an_unreachable_server() -> None:
    """Nothing listening at the address: ping says so instead of raising."""
    async with Database("postgresql+asyncpg://nobody@127.0.0.1:1/none") as db:
        assert not await db.ping()


async def test_sqlite_file_folder_is_created(tmp_path: Path) -> None:
    """The folder holding the SQLite file is created when missing."""
    path = tmp_path / "a" / "b" / "mailshield.db"
    async with Database(f"sqlite+aiosqlite:///{path}") as db:
        assert await db.ping()
    assert path.is_file()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        pytest.param("journal_mode", "wal", id="wal"),
        pytest.param("foreign_keys", 1, id="foreign-keys"),
        pytest.param("busy_timeout", 5000, id="busy-timeout"),
        pytest.param("synchronous", 2, id="synchronous-full"),  # a commit survives power loss
    ],
)
async def test_sqlite_connection_settings(tmp_path: Path, pragma: str, expected: object) -> None:
    """Every SQLite connection uses WAL, syncs each commit, enforces foreign keys and waits for
    locks."""
    async with (
        Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}") as db,
        db.connect() as connection,
    ):
        assert (await connection.execute(text(f"PRAGMA {pragma}"))).scalar_one() == expected


async def test_transaction_rolls_back_on_error(migrated: Database) -> None:
    """A transaction that raises leaves nothing behind."""
    with pytest.raises(RuntimeError, match="boom"):
        await _insert_then_fail(migrated)
    assert await count(migrated, users) == 0


async def _insert_then_fail(db: Database) -> None:
    async with db.transaction() as connection:
        await connection.execute(users.insert().values(email="a@example.com", password_hash="x"))
        raise RuntimeError("boom")


async def test_concurrent_writers_all_succeed(migrated: Database) -> None:
    """Many writers at once wait for each other instead of failing with a lock error."""
    await asyncio.gather(*(add_user(migrated, f"user{i}@example.com") for i in range(20)))
    assert await count(migrated, users) == 20


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("Alice@Example.com", id="mixed-case"),
        pytest.param("ALICE@EXAMPLE.COM", id="upper-case"),
        pytest.param("alice@example.com", id="same"),
    ],
)
async def test_email_is_unique_whatever_its_case(migrated: Database, email: str) -> None:
    """Two accounts cannot share an address that differs only in letter case."""
    await add_user(migrated, "alice@example.com")
    with pytest.raises(IntegrityError):
        await add_user(migrated, email)


async def test_domain_is_unique_per_owner(migrated: Database) -> None:
    """One owner cannot add the same domain twice."""
    owner = await add_user(migrated, "alice@example.com")
    await add_domain(migrated, owner, "example.com")
    with pytest.raises(IntegrityError):
        await add_domain(migrated, owner, "example.com")


async def test_two_owners_may_share_a_domain(migrated: Database) -> None:
    """Uniqueness is per owner: another account may add the same domain."""
    alice = await add_user(migrated, "alice@example.com")
    bob = await add_user(migrated, "bob@example.com")
    await add_domain(migrated, alice, "example.com")
    await add_domain(migrated, bob, "example.com")
    assert await count(migrated, domains) == 2


async def test_domain_needs_an_existing_owner(migrated: Database) -> None:
    """Foreign keys are enforced: a domain cannot point at a missing user."""
    with pytest.raises(IntegrityError):
        await add_domain(migrated, 12345, "example.com")


async def test_deleting_a_user_deletes_their_domains(migrated: Database) -> None:
    """Domains go with their owner (ON DELETE CASCADE)."""
    owner = await add_user(migrated, "alice@example.com")
    await add_domain(migrated, owner, "example.com")
    async with migrated.transaction() as connection:
        await connection.execute(users.delete().where(users.c.id == owner))
    assert await count(migrated, domains) == 0


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC), id="utc"),
        pytest.param(datetime(2026, 3, 4, 7, 6, 7, 890123, tzinfo=PLUS_TWO), id="plus-two"),
    ],
)
async def test_timestamps_come_back_aware_in_utc(migrated: Database, written: datetime) -> None:
    """A timestamp in any zone is stored as the same instant and read back in UTC."""
    user = await add_user(migrated, "alice@example.com", created_at=written)
    async with migrated.connect() as connection:
        query = select(users.c.created_at).where(users.c.id == user)
        read = (await connection.execute(query)).scalar_one()
    assert read == written
    assert read.tzinfo is UTC
    assert read.hour == 5


async def test_default_timestamp_is_aware(migrated: Database) -> None:
    """The database's own default timestamp also comes back as aware UTC."""
    user = await add_user(migrated, "alice@example.com")
    async with migrated.connect() as connection:
        query = select(users.c.created_at).where(users.c.id == user)
        read = (await connection.execute(query)).scalar_one()
    assert read.tzinfo is UTC


async def test_naive_timestamp_is_refused(migrated: Database) -> None:
    """A datetime without a zone is rejected rather than guessed at."""
    with pytest.raises(StatementError, match="naive datetime"):
        await add_user(migrated, "alice@example.com", created_at=datetime(2026, 1, 1))
