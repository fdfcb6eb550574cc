"""Personal API tokens: created by their user, shown once, stored hashed, revocable.

A token reads ``msk_`` followed by 256 random bits in base64url, so it is recognisable in logs
and by secret scanners. The database keeps its SHA-256 digest and a short prefix for people to
tell tokens apart. Every call takes the acting user; a token of another user is "not found".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from mailshield.services.account_errors import InvalidInput, NotFound
from mailshield.services.clock import Clock, utc_now
from mailshield.services.sessions import SECRET_BYTES, digest
from mailshield.services.users import User, user_from
from mailshield.storage.accounts import AccountStore, TokenRecord

TOKEN_PREFIX = "msk_"  # noqa: S105 - a marker, not a secret
SHOWN_PREFIX = 12  # characters kept to identify a token ("msk_AbCdEfGh")
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed: never its secret."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created, with the secret to show exactly once."""

    token: ApiToken
    secret: str


def _view(record: TokenRecord) -> ApiToken:
    return ApiToken(record.id, record.name, record.prefix, record.created_at, record.last_used_at)


class ApiTokens:
    """Creates, lists, revokes and resolves API tokens."""

    def __init__(self, store: AccountStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def create(self, actor: User, name: str) -> NewToken:
        """A new token for ``actor`` named ``name`` (what it is for)."""
        label = " ".join(name.split())
        if not label or len(label) > MAX_NAME:
            raise InvalidInput(f"Name the token (1 to {MAX_NAME} characters).", field="name")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        record = await self._store.add_token(
            actor.id, label, secret[:SHOWN_PREFIX], digest(secret), self._clock()
        )
        return NewToken(_view(record), secret)

    async def list(self, actor: User) -> list[ApiToken]:
        """The actor's tokens, newest first."""
        return [_view(r) for r in await self._store.tokens(actor.id)]

    async def revoke(self, actor: User, token_id: int) -> None:
        """Delete one of the actor's tokens; NotFound when it has no such token."""
        if not await self._store.delete_token(actor.id, token_id):
            raise NotFound("No such API token.")

    async def user_for(self, secret: str) -> User | None:
        """The owner of a presented token (``None`` for anything unknown or malformed)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        return user_from(await self._store.token_user(digest(secret), self._clock()))
