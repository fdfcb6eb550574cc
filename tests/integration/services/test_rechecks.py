"""Scheduled re-checks: due domains are checked once per interval and kept in their history."""

import datetime as dt

from mailshield.core.model import Report
from mailshield.services.rechecks import recheck_due
from mailshield.storage import Database
from mailshield.storage.account_domains import DomainStore
from mailshield.storage.accounts import AccountStore

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


async def _two_domains(db: Database) -> tuple[int, list[int]]:
    user = await AccountStore(db).create_user("owner@example.test", "x", T0)
    assert user is not None
    store = DomainStore(db)
    ids = []
    for name in ("a.example", "b.example"):
        record = await store.add(user.id, name, f"token-{name}", limit=None, at=T0)
        ids.append(record.id)  # type: ignore[union-attr]
    return user.id, ids


async def test_due_domains_are_checked_once_per_interval(migrated: Database) -> None:
    """Never-checked domains are checked; a second pass within the interval checks nothing."""
    owner, ids = await _two_domains(migrated)
    checked: list[str] = []

    async def check(name: str) -> Report:
        checked.append(name)
        return Report(name, T0, (), 90, "A")

    assert await recheck_due(migrated, check, interval=DAY, now=T0) == 2
    assert sorted(checked) == ["a.example", "b.example"]
    assert await recheck_due(migrated, check, interval=DAY, now=T0 + DAY / 2) == 0
    history = await DomainStore(migrated).checks(owner, ids[0], limit=10)
    assert len(history) == 1
    assert await recheck_due(migrated, check, interval=DAY, now=T0 + 2 * DAY) == 2


async def test_one_failing_check_does_not_stop_the_others(migrated: Database) -> None:
    """A check that raises is logged; the other domain is still checked and stored."""
    await _two_domains(migrated)

    async def check(name: str) -> Report:
        if name == "a.example":
            raise RuntimeError("resolver down")
        return Report(name, T0, (), 50, "F")

    assert await recheck_due(migrated, check, interval=DAY, now=T0) == 1
