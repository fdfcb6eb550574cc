"""The dashboard's domain repository on SQLite and PostgreSQL: owner scoping and plan limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from mailshield.core.model import Report
from mailshield.storage import Database
from mailshield.storage.account_domains import AddRefusal, DomainRecord, DomainStore
from mailshield.storage.accounts import AccountStore
from mailshield.storage.checks import CheckReports
from mailshield.storage.tables import domains

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(migrated: Database) -> DomainStore:
    return DomainStore(migrated)


@pytest.fixture
async def owners(migrated: Database) -> tuple[int, int]:
    accounts = AccountStore(migrated)
    ada = await accounts.create_user("ada@example.com", "hash", NOW)
    bob = await accounts.create_user("bob@example.com", "hash", NOW)
    assert ada is not None
    assert bob is not None
    return ada.id, bob.id


async def add(store: DomainStore, owner: int, name: str, limit: int | None = None) -> DomainRecord:
    added = await store.add(owner, name, f"token-{name}", limit=limit, at=NOW)
    assert isinstance(added, DomainRecord)
    return added


async def test_an_added_domain_carries_its_token(
    store: DomainStore, owners: tuple[int, int]
) -> None:
    """A new domain is stored with its ownership token and no verification yet."""
    ada, _ = owners
    added = await add(store, ada, "example.com")
    assert (added.name, added.token, added.verified_at) == (
        "example.com",
        "token-example.com",
        None,
    )
    assert added.created_at == NOW


async def test_another_owner_sees_nothing(store: DomainStore, owners: tuple[int, int]) -> None:
    """Reads, verification records and removal by another owner find nothing and change nothing."""
    ada, bob = owners
    added = await add(store, ada, "example.com")
    assert await store.get(bob, added.id) is None
    assert await store.page(bob, limit=10) == []
    assert await store.record_check(bob, added.id, at=NOW, method="txt", problem=None) is None
    assert await store.ensure_token(bob, added.id, "stolen") is None
    assert not await store.remove(bob, added.id)
    assert await store.get(ada, added.id) == added


async def test_duplicates_and_the_limit_are_refused(
    store: DomainStore, owners: tuple[int, int]
) -> None:
    """The same name twice is EXISTS; past the limit is LIMIT; another owner may add the name."""
    ada, bob = owners
    await add(store, ada, "one.example", limit=2)
    assert await store.add(ada, "one.example", "t", limit=2, at=NOW) is AddRefusal.EXISTS
    await add(store, ada, "two.example", limit=2)
    assert await store.add(ada, "three.example", "t", limit=2, at=NOW) is AddRefusal.LIMIT
    await add(store, bob, "one.example", limit=2)
    assert await store.count(ada) == 2


async def test_concurrent_adds_respect_the_limit(
    store: DomainStore, owners: tuple[int, int]
) -> None:
    """Of many simultaneous adds against a limit of two, exactly two are stored."""
    ada, _ = owners
    names = [f"d{i}.example" for i in range(6)]
    results = await asyncio.gather(*(store.add(ada, name, "t", limit=2, at=NOW) for name in names))
    assert sum(isinstance(r, DomainRecord) for r in results) == 2
    assert await store.count(ada) == 2


async def test_pages_follow_insertion_order(store: DomainStore, owners: tuple[int, int]) -> None:
    """Paging by the last id seen walks every domain once, in the order they were added."""
    ada, _ = owners
    added = [await add(store, ada, f"d{i}.example") for i in range(5)]
    first = await store.page(ada, limit=2)
    second = await store.page(ada, limit=2, after=first[-1].id)
    third = await store.page(ada, limit=2, after=second[-1].id)
    assert [d.id for d in first + second + third] == [d.id for d in added]


async def test_verification_success_sticks(store: DomainStore, owners: tuple[int, int]) -> None:
    """A success records the method; a later failure records its problem but keeps the success."""
    ada, _ = owners
    added = await add(store, ada, "example.com")
    verified = await store.record_check(ada, added.id, at=NOW, method="txt", problem=None)
    assert verified is not None
    assert verified.verified_at == NOW
    assert verified.method == "txt"
    later = await store.record_check(ada, added.id, at=NOW, method=None, problem="no record")
    assert later is not None
    assert (later.verified_at, later.method, later.problem) == (NOW, "txt", "no record")


async def test_domains_from_elsewhere_get_a_token_on_demand(
    migrated: Database, store: DomainStore, owners: tuple[int, int]
) -> None:
    """A domains row without an ownership row reads with no token until one is ensured."""
    ada, _ = owners
    async with migrated.transaction() as connection:
        result = await connection.execute(
            insert(domains).values(owner_id=ada, name="cli.example").returning(domains.c.id)
        )
        domain_id = int(result.scalar_one())
    found = await store.get(ada, domain_id)
    assert found is not None
    assert found.token is None
    ensured = await store.ensure_token(ada, domain_id, "fresh")
    again = await store.ensure_token(ada, domain_id, "other")
    assert ensured is not None
    assert again is not None
    assert ensured.token == again.token == "fresh"


async def test_removal_takes_the_ownership_row(store: DomainStore, owners: tuple[int, int]) -> None:
    """Removing a domain removes it for good."""
    ada, _ = owners
    added = await add(store, ada, "example.com")
    assert await store.remove(ada, added.id)
    assert await store.get(ada, added.id) is None
    assert await store.count(ada) == 0


async def test_check_history_is_scoped_to_the_owner(
    migrated: Database, store: DomainStore, owners: tuple[int, int]
) -> None:
    """Checks run for a domain are listed newest first for its owner and for no one else."""
    ada, bob = owners
    added = await add(store, ada, "example.com")
    reports = CheckReports(migrated)
    ids = [
        await reports.save(Report("example.com", NOW + timedelta(hours=n), (), 50 + n, "F"))
        for n in range(4)
    ]
    for check_id in ids[:3]:  # the fourth is someone else's check of the same name
        assert await store.link_check(ada, added.id, check_id)
    assert not await store.link_check(bob, added.id, ids[3])
    history = await store.checks(ada, added.id, limit=2)
    assert [c.id for c in history] == [ids[2], ids[1]]
    assert [c.id for c in await store.checks(ada, added.id, limit=5, before=ids[1])] == [ids[0]]
    assert history[0].score == 52
    assert await store.checks(bob, added.id, limit=5) == []
    assert await store.check_report(bob, added.id, ids[0]) is None
    assert await store.check_report(ada, added.id, ids[3]) is None
    document = await store.check_report(ada, added.id, ids[0])
    assert document is not None
    assert document["score"] == 50
