"""Leases for periodic jobs: at most one worker runs a job at a time, across replicas.

A job is due when its ``next_run_at`` has passed (or was never set); taking the lease is one
conditional UPDATE, so two workers racing for it cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from mailshield.storage.database import Database
from mailshield.storage.job_tables import job_leases


class JobLeases:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(self, name: str) -> None:
        """Create the lease row of ``name`` if it does not exist yet (due at once)."""
        async with self._db.connect() as connection:
            found = await connection.scalar(
                select(job_leases.c.name).where(job_leases.c.name == name)
            )
        if found is not None:
            return
        try:
            async with self._db.transaction() as connection:
                await connection.execute(job_leases.insert().values(name=name))
        except IntegrityError:
            return  # another worker created it first

    async def acquire(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the lease of ``name`` if the job is due and nobody holds a live lease."""
        due = or_(job_leases.c.next_run_at.is_(None), job_leases.c.next_run_at <= now)
        free = or_(job_leases.c.leased_until.is_(None), job_leases.c.leased_until < now)
        statement = (
            update(job_leases)
            .where(and_(job_leases.c.name == name, due, free))
            .values(owner=owner, leased_until=until, last_started=now)
        )
        async with self._db.transaction() as connection:
            result = await connection.execute(statement)
        return result.rowcount == 1

    async def release(
        self, name: str, owner: str, finished: datetime, next_run: datetime, error: str | None
    ) -> None:
        """Give the lease back and schedule the next run."""
        statement = (
            update(job_leases)
            .where(and_(job_leases.c.name == name, job_leases.c.owner == owner))
            .values(
                owner=None,
                leased_until=None,
                last_finished=finished,
                next_run_at=next_run,
                last_error=error,
            )
        )
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    async def status(self) -> list[dict[str, object]]:
        """Every job's lease row, for `mailshield worker --status` and the health page."""
        async with self._db.connect() as connection:
            rows = (await connection.execute(select(job_leases).order_by(job_leases.c.name))).all()
        return [dict(row._mapping) for row in rows]
