"""The account repository on SQLite and PostgreSQL: users, sessions, tokens, resets, failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mailshield.storage import Database
from mailshield.storage.accounts import AccountStore, UserRecord

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(migrated: Database) -> AccountStore:
    return AccountStore(migrated)


async def new_user(store: AccountStore, email: str = "ada@example.com") -> UserRecord:
    user = await store.create_user(email, "argon2-hash", NOW)
    assert user is not None
    return user


async def test_user_round_trip(store: AccountStore) -> None:
    """A created user is found by id and by address in any letter case."""
    user = await new_user(store, "Ada@Example.com")
    assert await store.user_by_id(user.id) == user
    assert await store.user_by_email("ada@EXAMPLE.com") == user
    assert user.created_at == NOW


async def test_an_address_is_taken_whatever_its_case(store: AccountStore) -> None:
    """A second account for the same address in another case is refused with None."""
    await new_user(store, "ada@example.com")
    assert await store.create_user("ADA@example.com", "other", NOW) is None


async def test_set_password_replaces_the_hash(store: AccountStore) -> None:
    """The stored hash is replaced."""
    user = await new_user(store)
    await store.set_password(user.id, "new-hash")
    found = await store.user_by_id(user.id)
    assert found is not None
    assert found.password_hash == "new-hash"


@pytest.mark.parametrize(
    ("expires_in", "found"),
    [pytest.param(HOUR, True, id="valid"), pytest.param(-HOUR, False, id="expired")],
)
async def test_sessions_are_found_only_until_they_expire(
    store: AccountStore, expires_in: timedelta, found: bool
) -> None:
    """A session answers with its user while unexpired, and with None afterwards."""
    user = await new_user(store)
    await store.add_session("a" * 64, user.id, NOW - HOUR, NOW + expires_in)
    assert (await store.session_user("a" * 64, NOW) == user) is found


async def test_deleting_sessions(store: AccountStore) -> None:
    """One session can be ended, or every session of a user at once."""
    user = await new_user(store)
    for digest in ("a" * 64, "b" * 64, "c" * 64):
        await store.add_session(digest, user.id, NOW, NOW + HOUR)
    await store.delete_session("a" * 64)
    assert await store.session_user("a" * 64, NOW) is None
    assert await store.session_user("b" * 64, NOW) == user
    await store.delete_sessions(user.id)
    assert await store.session_user("c" * 64, NOW) is None


async def test_purge_removes_only_expired_rows(store: AccountStore) -> None:
    """Expired sessions and reset tokens are purged; live ones stay."""
    user = await new_user(store)
    await store.add_session("a" * 64, user.id, NOW - 2 * HOUR, NOW - HOUR)
    await store.add_session("b" * 64, user.id, NOW, NOW + HOUR)
    await store.add_reset("c" * 64, user.id, NOW - 2 * HOUR, NOW - HOUR)
    assert await store.purge_expired(NOW) == 2
    assert await store.session_user("b" * 64, NOW) == user


async def test_tokens_belong_to_their_user(store: AccountStore) -> None:
    """Tokens are listed per user, resolve to their owner, record use; only the owner deletes."""
    ada, bob = await new_user(store), await new_user(store, "bob@example.com")
    token = await store.add_token(ada.id, "ci", "msk_abcd", "d" * 64, NOW)
    assert [t.id for t in await store.tokens(ada.id)] == [token.id]
    assert await store.tokens(bob.id) == []
    assert await store.token_user("d" * 64, NOW + HOUR) == ada
    assert (await store.tokens(ada.id))[0].last_used_at == NOW + HOUR
    assert not await store.delete_token(bob.id, token.id)
    assert await store.delete_token(ada.id, token.id)
    assert await store.token_user("d" * 64, NOW) is None


async def test_a_reset_token_is_consumed_once(store: AccountStore) -> None:
    """A valid token names its user until consumed; consuming it twice fails the second time."""
    user = await new_user(store)
    await store.add_reset("e" * 64, user.id, NOW, NOW + HOUR)
    assert await store.reset_user("e" * 64, NOW) == user
    assert await store.consume_reset("e" * 64, NOW) == user.id
    assert await store.consume_reset("e" * 64, NOW) is None
    assert await store.reset_user("e" * 64, NOW) is None


async def test_concurrent_consumption_has_one_winner(store: AccountStore) -> None:
    """Of several simultaneous uses of one reset token exactly one succeeds."""
    user = await new_user(store)
    await store.add_reset("f" * 64, user.id, NOW, NOW + HOUR)
    results = await asyncio.gather(*(store.consume_reset("f" * 64, NOW) for _ in range(5)))
    assert sorted(results, key=str) == [user.id, None, None, None, None]


async def test_an_expired_reset_token_is_refused(store: AccountStore) -> None:
    """A token past its expiry cannot be consumed."""
    user = await new_user(store)
    await store.add_reset("g" * 64, user.id, NOW - 2 * HOUR, NOW - HOUR)
    assert await store.consume_reset("g" * 64, NOW) is None


async def test_failures_are_counted_per_account_and_per_client(store: AccountStore) -> None:
    """Failures in the window are counted by account and by client; clearing forgets an account."""
    await store.add_failure("ada@example.com", "192.0.2.1", NOW - 2 * HOUR)
    await store.add_failure("ada@example.com", "192.0.2.1", NOW)
    await store.add_failure("bob@example.com", "192.0.2.1", NOW)
    window = {"account": "ada@example.com", "client": "192.0.2.1", "since": NOW - HOUR}
    assert await store.failures(**window) == (1, 2)
    assert await store.oldest_failure(**window) == NOW
    await store.clear_failures("ada@example.com")
    assert await store.failures(**window) == (0, 1)
    await store.purge_failures(NOW + HOUR)
    assert await store.failures(**window) == (0, 0)


async def test_plans_default_to_none_and_can_change(store: AccountStore) -> None:
    """A user has no stored plan until one is set; setting again replaces it."""
    user = await new_user(store)
    assert await store.plan_of(user.id) is None
    await store.set_plan(user.id, "pro", NOW)
    await store.set_plan(user.id, "team", NOW)
    assert await store.plan_of(user.id) == "team"
