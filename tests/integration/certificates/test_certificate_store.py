"""The certificate repository on SQLite and PostgreSQL: account, certificates, leases, tokens."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from mailshield.storage import Database
from mailshield.storage.certificates import (
    AcmeAccount,
    CertificateStore,
    NewCertificate,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
DIRECTORY = "https://acme.test/dir"


def new_certificate(name: str, marker: str = "a") -> NewCertificate:
    """A certificate record with recognisable PEM placeholders."""
    return NewCertificate(
        name=name,
        key_pem=f"KEY {marker}".encode(),
        fullchain_pem=f"CHAIN {marker}".encode(),
        not_before=NOW,
        not_after=NOW + dt.timedelta(days=90),
        renew_at=NOW + dt.timedelta(days=60),
    )


async def test_account_first_stored_wins(store: CertificateStore) -> None:
    """Two replicas registering at once both end up with the account stored first."""
    first = AcmeAccount(DIRECTORY, b"KEY 1", "https://acme.test/acct/1")
    second = AcmeAccount(DIRECTORY, b"KEY 2", "https://acme.test/acct/2")
    assert await store.account(DIRECTORY) is None
    assert await store.save_account(first, NOW) == first
    assert await store.save_account(second, NOW) == first
    assert await store.account(DIRECTORY) == first


async def test_certificate_versions_increase_on_replacement(store: CertificateStore) -> None:
    """Each replacement of a name's certificate bumps its version; the index lists every name."""
    assert await store.save_certificate(new_certificate("mta-sts.a.example"), NOW) == 1
    assert await store.save_certificate(new_certificate("MTA-STS.b.example."), NOW) == 1
    assert await store.save_certificate(new_certificate("mta-sts.a.example", "b"), NOW) == 2
    assert await store.versions() == {"mta-sts.a.example": 2, "mta-sts.b.example": 1}
    stored = await store.certificate("mta-sts.a.example")
    assert stored is not None
    assert (stored.key_pem, stored.fullchain_pem, stored.version) == (b"KEY b", b"CHAIN b", 2)
    assert stored.not_after == NOW + dt.timedelta(days=90)
    assert await store.renewal_times() == {
        "mta-sts.a.example": NOW + dt.timedelta(days=60),
        "mta-sts.b.example": NOW + dt.timedelta(days=60),
    }
    assert await store.certificate("mta-sts.c.example") is None


async def test_lease_excludes_a_second_owner_until_it_expires(store: CertificateStore) -> None:
    """A held lease refuses other owners, accepts its holder again, and lapses at its end."""
    name = "mta-sts.a.example"
    assert await store.acquire_lease(name, "one", NOW, NOW + 10 * MINUTE) is not None
    assert await store.acquire_lease(name, "two", NOW + MINUTE, NOW + 11 * MINUTE) is None
    assert await store.acquire_lease(name, "one", NOW + MINUTE, NOW + 11 * MINUTE) is not None
    later = NOW + 12 * MINUTE
    state = await store.acquire_lease(name, "two", later, later + 10 * MINUTE)
    assert state is not None
    assert state.lease_owner == "two"


async def test_released_lease_is_free_at_once(store: CertificateStore) -> None:
    """After release another owner takes the lease without waiting for it to expire."""
    name = "mta-sts.a.example"
    await store.acquire_lease(name, "one", NOW, NOW + 10 * MINUTE)
    await store.release_lease(name, "one")
    assert await store.acquire_lease(name, "two", NOW, NOW + 10 * MINUTE) is not None


async def test_concurrent_leases_have_one_winner(database: Database, database_url: str) -> None:
    """Many owners racing through separate engines on one database: exactly one gets the lease."""
    databases = [Database(database_url) for _ in range(6)]
    try:
        stores = [CertificateStore(db) for db in databases]
        results = await asyncio.gather(
            *(
                s.acquire_lease("mta-sts.race.example", f"owner{i}", NOW, NOW + MINUTE)
                for i, s in enumerate(stores)
            )
        )
    finally:
        for db in databases:
            await db.dispose()
    assert sum(result is not None for result in results) == 1


async def test_failure_then_success_updates_the_order_state(store: CertificateStore) -> None:
    """A failure records count, backoff and error and frees the lease; success clears them."""
    name = "mta-sts.a.example"
    await store.acquire_lease(name, "one", NOW, NOW + MINUTE)
    await store.record_failure(
        name, "one", NOW, failures=1, retry_at=NOW + 5 * MINUTE, error="validation failed"
    )
    state = await store.order_state(name)
    assert state is not None
    assert (state.failures, state.next_attempt_at, state.last_error) == (
        1,
        NOW + 5 * MINUTE,
        "validation failed",
    )
    assert (state.lease_owner, state.lease_until, state.last_attempt_at) == (None, None, NOW)
    await store.acquire_lease(name, "two", NOW, NOW + MINUTE)
    await store.record_success(name, "two", NOW + MINUTE)
    states = await store.order_states()
    assert states[name].failures == 0
    assert states[name].next_attempt_at is None
    assert states[name].last_error is None


async def test_outcome_of_a_lost_lease_is_ignored(store: CertificateStore) -> None:
    """An owner whose lease expired and was taken over cannot overwrite the new holder's state."""
    name = "mta-sts.a.example"
    await store.acquire_lease(name, "slow", NOW, NOW + MINUTE)
    await store.acquire_lease(name, "fast", NOW + 2 * MINUTE, NOW + 3 * MINUTE)
    await store.record_failure(name, "slow", NOW, failures=9, retry_at=NOW, error="late")
    state = await store.order_state(name)
    assert state is not None
    assert (state.failures, state.lease_owner) == (0, "fast")


@pytest.mark.parametrize(
    ("asked_at", "expected"),
    [
        pytest.param(NOW, "token.thumbprint", id="published"),
        pytest.param(NOW + 10 * MINUTE, None, id="expired"),
    ],
)
async def test_challenge_tokens_expire(
    store: CertificateStore, asked_at: dt.datetime, expected: str | None
) -> None:
    """A published key authorization is served until it expires."""
    await store.put_challenge("token", "mta-sts.a.example", "token.thumbprint", NOW + 5 * MINUTE)
    assert await store.challenge("token", asked_at) == expected


async def test_challenges_are_removed_and_purged(store: CertificateStore) -> None:
    """Removing withdraws named tokens; purging drops expired ones only."""
    for token, minutes in (("t1", 5), ("t2", 5), ("t3", -1)):
        await store.put_challenge(token, "mta-sts.a.example", f"{token}.x", NOW + minutes * MINUTE)
    await store.remove_challenges(["t1"])
    assert await store.purge_expired_challenges(NOW) == 1
    assert await store.challenge("t1", NOW) is None
    assert await store.challenge("t2", NOW) == "t2.x"
    await store.remove_challenges([])


async def test_challenge_by_name_is_the_latest_unexpired(store: CertificateStore) -> None:
    """TLS-ALPN-01 looks a name's key authorization up by name: the newest one still valid."""
    name = "mta-sts.a.example"
    await store.put_challenge("old", name, "old.x", NOW + 5 * MINUTE)
    await store.put_challenge("new", name, "new.x", NOW + 9 * MINUTE)
    await store.put_challenge("other", "mta-sts.b.example", "other.x", NOW + 20 * MINUTE)
    assert await store.challenge_for_name("MTA-STS.A.example", NOW) == "new.x"
    assert await store.challenge_for_name(name, NOW + 10 * MINUTE) is None
