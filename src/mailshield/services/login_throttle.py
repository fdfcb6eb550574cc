"""Login throttling: per account and per client address, over a sliding window.

Failures are kept in the database (``login_failures``) so every replica sees the same counts.
An account is locked out after :data:`ACCOUNT_LIMIT` failures in :data:`WINDOW`, whoever made
them (guessing one password from many addresses); a client address after :data:`CLIENT_LIMIT`
(trying many accounts from one place). The check runs *before* the password is verified, so a
throttled attempt costs no hashing and reveals nothing. A successful login clears the account's
failures. OWASP Authentication Cheat Sheet, "Protect against automated attacks".
"""

from __future__ import annotations

import math
from datetime import timedelta

from mailshield.services.account_errors import Throttled
from mailshield.services.clock import Clock, utc_now
from mailshield.storage.accounts import AccountStore

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
CLIENT_LIMIT = 20


class LoginThrottle:
    """Counts failed logins and refuses attempts over the limits."""

    def __init__(
        self,
        store: AccountStore,
        clock: Clock = utc_now,
        *,
        account_limit: int = ACCOUNT_LIMIT,
        client_limit: int = CLIENT_LIMIT,
    ) -> None:
        self._store = store
        self._clock = clock
        self._account_limit = account_limit
        self._client_limit = client_limit

    async def check(self, account: str, client: str) -> None:
        """Raise :class:`Throttled` when this account or this client has failed too often."""
        now = self._clock()
        since = now - WINDOW
        key = account.strip().lower()
        by_account, by_client = await self._store.failures(account=key, client=client, since=since)
        if by_account < self._account_limit and by_client < self._client_limit:
            return
        oldest = await self._store.oldest_failure(account=key, client=client, since=since)
        wait = max(1, math.ceil((oldest + WINDOW - now).total_seconds()))
        minutes = math.ceil(wait / 60)
        raise Throttled(
            f"Too many failed log-in attempts. Try again in {minutes} minute"
            f"{'' if minutes == 1 else 's'}, or reset your password.",
            retry_after=wait,
        )

    async def failed(self, account: str, client: str) -> None:
        """Record one failed attempt (and drop records older than the window)."""
        now = self._clock()
        await self._store.add_failure(account.strip().lower(), client, now)
        await self._store.purge_failures(now - WINDOW)

    async def succeeded(self, account: str) -> None:
        await self._store.clear_failures(account.strip().lower())
