"""Server-side sessions: a random cookie value, stored only as its digest, for a fixed lifetime.

The cookie carries 256 random bits (``secrets.token_urlsafe``); the database keeps the SHA-256
of it, so a copy of the table cannot be used to log in. Logging out deletes the row; a password
change or reset deletes every row of the user (OWASP Session Management Cheat Sheet).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from mailshield.services.clock import Clock, utc_now
from mailshield.services.users import User, user_from
from mailshield.storage.accounts import AccountStore

LIFETIME = timedelta(days=14)
SECRET_BYTES = 32


def digest(secret: str) -> str:
    """The stored form of a session, token or reset secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Sessions:
    """Opens, resolves and closes login sessions."""

    def __init__(self, store: AccountStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def open(self, user: User) -> str:
        """Start a session for ``user``; return the secret for the cookie."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        now = self._clock()
        await self._store.add_session(digest(secret), user.id, now, now + LIFETIME)
        return secret

    async def user_for(self, secret: str) -> User | None:
        """The user whose unexpired session this is, if any."""
        if not secret:
            return None
        return user_from(await self._store.session_user(digest(secret), self._clock()))

    async def close(self, secret: str) -> None:
        await self._store.delete_session(digest(secret))

    async def close_all(self, user: User) -> None:
        await self._store.delete_sessions(user.id)

    async def purge(self) -> int:
        """Delete expired sessions and reset links (the worker calls this now and then)."""
        return await self._store.purge_expired(self._clock())
