"""Periodic jobs (DNS verification, certificate renewal, report retention, re-checks).

Embedded mode runs the scheduler inside ``mailshield serve``; at scale, ``mailshield worker``
processes run it. A lease per job (``storage/jobs.py``) makes sure replicas never run the same
job at once; a failing job is logged and retried at its next interval, never stopping the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[], Awaitable[object]]
    lease: dt.timedelta = dt.timedelta(minutes=15)  # longest a run may hold the job


class Leases(Protocol):
    async def ensure(self, name: str) -> None: ...

    async def acquire(
        self, name: str, owner: str, now: dt.datetime, until: dt.datetime
    ) -> bool: ...

    async def release(
        self, name: str, owner: str, finished: dt.datetime, next_run: dt.datetime, error: str | None
    ) -> None: ...


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Scheduler:
    jobs: Sequence[Job]
    leases: Leases
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    owner: str = field(default_factory=_owner)

    async def run_due(self) -> list[str]:
        """Run every job that is due and not held elsewhere; returns the names run."""
        ran: list[str] = []
        for job in self.jobs:
            await self.leases.ensure(job.name)
            now = self.clock()
            if await self.leases.acquire(job.name, self.owner, now, now + job.lease):
                await self._run(job)
                ran.append(job.name)
        return ran

    async def _run(self, job: Job) -> None:
        error: str | None = None
        try:
            async with asyncio.timeout(job.lease.total_seconds()):
                await job.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one failing job must not stop the others
            log.exception("job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
        finished = self.clock()
        await self.leases.release(job.name, self.owner, finished, finished + job.every, error)

    async def run_forever(self, stop: asyncio.Event, tick: float = 30.0) -> None:
        """Run due jobs every ``tick`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:  # e.g. the database is briefly unreachable
                log.exception("scheduler pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick)
            except TimeoutError:
                continue
