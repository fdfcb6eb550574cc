"""A user's domains in storage: the ``domains`` rows with their proof of ownership.

Every query is scoped to one owner; there is no call that reads or changes a domain by id alone,
so a caller cannot reach another tenant's row by guessing ids. Adding a domain checks the owner's
plan limit inside the same write transaction that inserts it (the owner's row is locked first on
PostgreSQL; SQLite's write lock serialises writers), so two concurrent adds cannot both pass
the limit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.storage.account_tables import domain_checks, domain_ownership
from mailshield.storage.database import Database
from mailshield.storage.tables import check_reports, domains, users


@dataclass(frozen=True, slots=True)
class DomainRecord:
    """One domain of one owner, with its ownership token and the latest verification."""

    id: int
    owner_id: int
    name: str
    created_at: datetime
    token: str | None  # None for domains added outside the dashboard (no token issued yet)
    verified_at: datetime | None
    method: str | None
    checked_at: datetime | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """One stored check of a domain, without its findings (for history lists and charts)."""

    id: int
    checked_at: datetime
    score: int
    grade: str
    status: str


class AddRefusal(enum.Enum):
    """Why a domain was not added."""

    EXISTS = "exists"
    LIMIT = "limit"


_COLUMNS = (
    domains.c.id,
    domains.c.owner_id,
    domains.c.name,
    domains.c.created_at,
    domain_ownership.c.token,
    domain_ownership.c.verified_at,
    domain_ownership.c.method,
    domain_ownership.c.checked_at,
    domain_ownership.c.problem,
)


def _owned(owner_id: int) -> Select[Any]:
    joined = domains.outerjoin(domain_ownership, domain_ownership.c.domain_id == domains.c.id)
    return select(*_COLUMNS).select_from(joined).where(domains.c.owner_id == owner_id)


def _record(row: Row[Any]) -> DomainRecord:
    return DomainRecord(**row._mapping)


class DomainStore:
    """The dashboard's domain repository."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, owner_id: int, name: str, token: str, *, limit: int | None, at: datetime
    ) -> DomainRecord | AddRefusal:
        """Add ``name`` for the owner unless it is there already or ``limit`` domains are."""
        try:
            async with self._db.transaction() as connection:
                refusal = await _refusal(connection, owner_id, name, limit)
                if refusal is not None:
                    return refusal
                row = {"owner_id": owner_id, "name": name, "created_at": at}
                result = await connection.execute(
                    insert(domains).values(row).returning(domains.c.id)
                )
                domain_id = int(result.scalar_one())
                await connection.execute(
                    insert(domain_ownership).values(domain_id=domain_id, token=token)
                )
        except IntegrityError:  # a concurrent add of the same name won the race
            return AddRefusal.EXISTS
        found = await self.get(owner_id, domain_id)
        assert found is not None
        return found

    async def page(
        self, owner_id: int, *, limit: int, after: int | None = None
    ) -> list[DomainRecord]:
        """Up to ``limit`` domains of the owner in the order they were added, after id ``after``."""
        query = _owned(owner_id).order_by(domains.c.id).limit(limit)
        if after is not None:
            query = query.where(domains.c.id > after)
        async with self._db.connect() as connection:
            return [_record(row) for row in (await connection.execute(query)).all()]

    async def count(self, owner_id: int) -> int:
        query = select(func.count()).where(domains.c.owner_id == owner_id)
        async with self._db.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def get(self, owner_id: int, domain_id: int) -> DomainRecord | None:
        """The owner's domain with this id; ``None`` for anyone else's."""
        query = _owned(owner_id).where(domains.c.id == domain_id)
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else _record(row)

    async def remove(self, owner_id: int, domain_id: int) -> bool:
        """Delete the owner's domain (its ownership row goes with it); ``False`` if not theirs."""
        statement = delete(domains).where(domains.c.id == domain_id, domains.c.owner_id == owner_id)
        async with self._db.transaction() as connection:
            return bool((await connection.execute(statement)).rowcount)

    async def ensure_token(self, owner_id: int, domain_id: int, token: str) -> DomainRecord | None:
        """Give a domain added outside the dashboard an ownership token (kept if it has one)."""
        async with self._db.transaction() as connection:
            owned = await connection.execute(
                select(domains.c.id).where(
                    domains.c.id == domain_id, domains.c.owner_id == owner_id
                )
            )
            if owned.scalar_one_or_none() is None:
                return None
            existing = await connection.execute(
                select(domain_ownership.c.token).where(domain_ownership.c.domain_id == domain_id)
            )
            if existing.scalar_one_or_none() is None:
                await connection.execute(
                    insert(domain_ownership).values(domain_id=domain_id, token=token)
                )
        return await self.get(owner_id, domain_id)

    async def record_check(
        self,
        owner_id: int,
        domain_id: int,
        *,
        at: datetime,
        method: str | None,
        problem: str | None,
    ) -> DomainRecord | None:
        """Record a verification attempt.

        A success (``method`` given) sets ``verified_at`` and the method; a failure records what
        was seen (``problem``) and keeps an earlier success.
        """
        values: dict[str, object] = {"checked_at": at, "problem": problem}
        if method is not None:
            values |= {"verified_at": at, "method": method}
        owned = select(domains.c.id).where(
            domains.c.id == domain_id, domains.c.owner_id == owner_id
        )
        statement = (
            update(domain_ownership)
            .where(domain_ownership.c.domain_id.in_(owned.scalar_subquery()))
            .values(values)
        )
        async with self._db.transaction() as connection:
            await connection.execute(statement)
        return await self.get(owner_id, domain_id)

    async def checks(
        self, owner_id: int, domain_id: int, *, limit: int, before: int | None = None
    ) -> list[CheckSummary]:
        """The checks run for the owner's domain, newest first, with ids below ``before``.

        Empty for a domain that is not the owner's: the join is scoped to the owner.
        """
        query = (
            select(*_SUMMARY_COLUMNS)
            .select_from(_CHECKS_OF_DOMAINS)
            .where(domains.c.id == domain_id, domains.c.owner_id == owner_id)
            .order_by(check_reports.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(check_reports.c.id < before)
        async with self._db.connect() as connection:
            return [CheckSummary(**row._mapping) for row in (await connection.execute(query)).all()]

    async def link_check(self, owner_id: int, domain_id: int, check_id: int) -> bool:
        """Record that check ``check_id`` was run for the owner's domain; False if not theirs."""
        owned = select(domains.c.id).where(
            domains.c.id == domain_id, domains.c.owner_id == owner_id
        )
        async with self._db.transaction() as connection:
            if (await connection.execute(owned)).scalar_one_or_none() is None:
                return False
            linked = select(domain_checks.c.check_id).where(
                domain_checks.c.check_id == check_id, domain_checks.c.domain_id == domain_id
            )
            if (await connection.execute(linked)).scalar_one_or_none() is None:
                await connection.execute(
                    insert(domain_checks).values(check_id=check_id, domain_id=domain_id)
                )
        return True

    async def check_report(self, owner_id: int, domain_id: int, check_id: int) -> Any | None:
        """The stored report document of one check of the owner's domain, if it is one."""
        query = (
            select(check_reports.c.report)
            .select_from(_CHECKS_OF_DOMAINS)
            .where(
                domains.c.id == domain_id,
                domains.c.owner_id == owner_id,
                check_reports.c.id == check_id,
            )
        )
        async with self._db.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()


_CHECKS_OF_DOMAINS = domains.join(domain_checks, domain_checks.c.domain_id == domains.c.id).join(
    check_reports, check_reports.c.id == domain_checks.c.check_id
)

_SUMMARY_COLUMNS = (
    check_reports.c.id,
    check_reports.c.checked_at,
    check_reports.c.score,
    check_reports.c.grade,
    check_reports.c.status,
)


async def _refusal(
    connection: AsyncConnection, owner_id: int, name: str, limit: int | None
) -> AddRefusal | None:
    # Lock the owner's row so concurrent adds by one owner take turns (PostgreSQL; SQLite
    # already holds the database write lock since BEGIN IMMEDIATE).
    await connection.execute(select(users.c.id).where(users.c.id == owner_id).with_for_update())
    taken = await connection.execute(
        select(domains.c.id).where(domains.c.owner_id == owner_id, domains.c.name == name)
    )
    if taken.scalar_one_or_none() is not None:
        return AddRefusal.EXISTS
    if limit is None:
        return None
    count = await connection.execute(select(func.count()).where(domains.c.owner_id == owner_id))
    return AddRefusal.LIMIT if int(count.scalar_one()) >= limit else None
