"""Job leases: one holder at a time, due times honoured, released with the next run."""

import datetime as dt

from mailshield.storage import Database
from mailshield.storage.jobs import JobLeases

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


async def test_only_one_worker_gets_a_lease(migrated: Database) -> None:
    """While one worker holds the lease, another cannot take it; after release it is not due."""
    leases = JobLeases(migrated)
    await leases.ensure("verify")
    await leases.ensure("verify")  # idempotent
    assert await leases.acquire("verify", "a", T0, T0 + MINUTE)
    assert not await leases.acquire("verify", "b", T0, T0 + MINUTE)
    await leases.release("verify", "a", T0, T0 + 10 * MINUTE, None)
    assert not await leases.acquire("verify", "b", T0 + MINUTE, T0 + 2 * MINUTE)
    assert await leases.acquire("verify", "b", T0 + 10 * MINUTE, T0 + 11 * MINUTE)


async def test_expired_lease_can_be_taken_over(migrated: Database) -> None:
    """A worker that died holding a lease loses it when the lease runs out."""
    leases = JobLeases(migrated)
    await leases.ensure("renew")
    assert await leases.acquire("renew", "dead", T0, T0 + MINUTE)
    assert await leases.acquire("renew", "alive", T0 + 2 * MINUTE, T0 + 3 * MINUTE)
    await leases.release("renew", "alive", T0 + 2 * MINUTE, T0 + MINUTE * 60, "boom")
    (row,) = await leases.status()
    assert row["last_error"] == "boom"
    assert row["owner"] is None
