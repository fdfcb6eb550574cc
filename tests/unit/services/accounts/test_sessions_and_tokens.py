"""Sessions and API tokens: secrets only as digests, lifetimes, and one owner each."""

from __future__ import annotations

import pytest

from mailshield.services.account_errors import InvalidInput, NotFound
from mailshield.services.api_tokens import TOKEN_PREFIX, ApiTokens
from mailshield.services.sessions import LIFETIME, Sessions, digest
from mailshield.services.users import User
from mailshield.storage.accounts import AccountStore

from .conftest import FakeClock


async def test_a_session_lasts_its_lifetime(
    sessions: Sessions, ada: User, clock: FakeClock
) -> None:
    """A session resolves to its user until its lifetime has passed, then to nobody."""
    secret = await sessions.open(ada)
    assert await sessions.user_for(secret) == ada
    clock.advance(LIFETIME)
    assert await sessions.user_for(secret) is None
    assert await sessions.purge() == 1


async def test_closing_a_session(sessions: Sessions, ada: User) -> None:
    """A closed session no longer resolves; other sessions stay open."""
    first, second = await sessions.open(ada), await sessions.open(ada)
    await sessions.close(first)
    assert await sessions.user_for(first) is None
    assert await sessions.user_for(second) == ada


@pytest.mark.parametrize("secret", [pytest.param("", id="empty"), pytest.param("x", id="unknown")])
async def test_unknown_sessions_resolve_to_nobody(sessions: Sessions, secret: str) -> None:
    """Empty or unknown cookie values are nobody's session."""
    assert await sessions.user_for(secret) is None


async def test_the_session_secret_is_not_stored(
    sessions: Sessions, store: AccountStore, ada: User
) -> None:
    """Only the digest of the cookie value is stored: the value itself finds nothing."""
    secret = await sessions.open(ada)
    assert await store.session_user(secret, sessions._clock()) is None
    assert await store.session_user(digest(secret), sessions._clock()) is not None


async def test_a_token_is_shown_once_and_resolves(tokens: ApiTokens, ada: User) -> None:
    """A new token's secret resolves to its owner; listings show only its prefix."""
    created = await tokens.create(ada, "  CI   pipeline ")
    assert created.secret.startswith(TOKEN_PREFIX)
    assert created.token.name == "CI pipeline"
    assert created.secret.startswith(created.token.prefix)
    assert await tokens.user_for(created.secret) == ada
    listed = await tokens.list(ada)
    assert [t.id for t in listed] == [created.token.id]
    assert listed[0].last_used_at is not None
    assert created.secret not in repr(listed)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty"),
        pytest.param("msk_unknown", id="unknown"),
        pytest.param("Bearer msk_x", id="scheme-included"),
        pytest.param("msk_" + "a" * 500, id="oversized"),
    ],
)
async def test_bad_tokens_resolve_to_nobody(tokens: ApiTokens, secret: str) -> None:
    """Unknown, malformed and oversized tokens belong to nobody."""
    assert await tokens.user_for(secret) is None


async def test_only_the_owner_revokes(tokens: ApiTokens, ada: User, bob: User) -> None:
    """Another user's revoke is NotFound and changes nothing; the owner's revoke works."""
    created = await tokens.create(ada, "ci")
    with pytest.raises(NotFound):
        await tokens.revoke(bob, created.token.id)
    assert await tokens.list(bob) == []
    assert await tokens.user_for(created.secret) == ada
    await tokens.revoke(ada, created.token.id)
    assert await tokens.user_for(created.secret) is None
    with pytest.raises(NotFound):
        await tokens.revoke(ada, created.token.id)


@pytest.mark.parametrize("name", [pytest.param("", id="empty"), pytest.param("x" * 101, id="long")])
async def test_tokens_need_a_name(tokens: ApiTokens, ada: User, name: str) -> None:
    """A token must be named (1 to 100 characters)."""
    with pytest.raises(InvalidInput):
        await tokens.create(ada, name)
