"""The scheduler runs due jobs once per lease and survives a failing job."""

import datetime as dt

from mailshield.services.scheduler import Job, Scheduler

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


class MemoryLeases:
    """Leases in a dict, with the same rules as the database ones."""

    def __init__(self) -> None:
        self.next_run: dict[str, dt.datetime | None] = {}
        self.errors: dict[str, str | None] = {}

    async def ensure(self, name: str) -> None:
        self.next_run.setdefault(name, None)

    async def acquire(self, name: str, owner: str, now: dt.datetime, until: dt.datetime) -> bool:
        due = self.next_run[name]
        return due is None or due <= now

    async def release(
        self, name: str, owner: str, finished: dt.datetime, next_run: dt.datetime, error: str | None
    ) -> None:
        self.next_run[name] = next_run
        self.errors[name] = error


async def test_due_jobs_run_and_failures_are_recorded() -> None:
    """Both due jobs run; the failing one's error is kept; neither runs again before its time."""
    calls: list[str] = []

    async def ok() -> None:
        calls.append("ok")

    async def broken() -> None:
        calls.append("broken")
        raise RuntimeError("database gone")

    now = [T0]
    leases = MemoryLeases()
    every = dt.timedelta(minutes=5)
    scheduler = Scheduler(
        [Job("broken", every, broken), Job("ok", every, ok)], leases, lambda: now[0]
    )
    assert await scheduler.run_due() == ["broken", "ok"]
    assert leases.errors == {"broken": "RuntimeError: database gone", "ok": None}
    now[0] = T0 + dt.timedelta(minutes=1)
    assert await scheduler.run_due() == []
    now[0] = T0 + dt.timedelta(minutes=6)
    assert await scheduler.run_due() == ["broken", "ok"]
    assert calls == ["broken", "ok", "broken", "ok"]
