"""Accounts in storage: users, sessions, API tokens, password resets, plans, login failures.

The repository stores what the account services hand it and never makes a security decision of
its own, with two exceptions that must be atomic: a password-reset token is consumed by one
UPDATE (so two concurrent uses cannot both succeed), and sessions and tokens are looked up only
while unexpired. Secrets arrive already digested (see :mod:`mailshield.storage.account_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mailshield.storage.account_tables import (
    account_plans,
    api_tokens,
    login_failures,
    password_resets,
    sessions,
)
from mailshield.storage.database import Database
from mailshield.storage.tables import users


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user; ``password_hash`` is an argon2 string (or an unusable marker)."""

    id: int
    email: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored API token, without its secret."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


_USER_COLUMNS = (users.c.id, users.c.email, users.c.password_hash, users.c.created_at)
_TOKEN_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.user_id,
    api_tokens.c.name,
    api_tokens.c.prefix,
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
)


def _user(row: Row[*tuple[Any, ...]] | None) -> UserRecord | None:
    return None if row is None else UserRecord(**row._mapping)


class AccountStore:
    """The account repository (one per database)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- users ---------------------------------------------------------------------------------

    async def create_user(
        self, email: str, password_hash: str, created_at: datetime
    ) -> UserRecord | None:
        """Store a new user; ``None`` when the address is taken (in any letter case)."""
        values = {"email": email, "password_hash": password_hash, "created_at": created_at}
        try:
            async with self._db.transaction() as connection:
                result = await connection.execute(
                    insert(users).values(values).returning(*_USER_COLUMNS)
                )
                return _user(result.one())
        except IntegrityError:
            return None

    async def user_by_email(self, email: str) -> UserRecord | None:
        """The user with this address, compared without regard to letter case."""
        query = select(*_USER_COLUMNS).where(func.lower(users.c.email) == email.lower())
        async with self._db.connect() as connection:
            return _user((await connection.execute(query)).one_or_none())

    async def user_by_id(self, user_id: int) -> UserRecord | None:
        query = select(*_USER_COLUMNS).where(users.c.id == user_id)
        async with self._db.connect() as connection:
            return _user((await connection.execute(query)).one_or_none())

    async def set_password(self, user_id: int, password_hash: str) -> None:
        statement = update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    # -- sessions ------------------------------------------------------------------------------

    async def add_session(
        self, digest: str, user_id: int, created_at: datetime, expires_at: datetime
    ) -> None:
        row = {"id": digest, "user_id": user_id, "created_at": created_at, "expires_at": expires_at}
        async with self._db.transaction() as connection:
            await connection.execute(insert(sessions).values(row))

    async def session_user(self, digest: str, now: datetime) -> UserRecord | None:
        """The user of the unexpired session stored under ``digest``."""
        query = (
            select(*_USER_COLUMNS)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == digest, sessions.c.expires_at > now)
        )
        async with self._db.connect() as connection:
            return _user((await connection.execute(query)).one_or_none())

    async def delete_session(self, digest: str) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(delete(sessions).where(sessions.c.id == digest))

    async def delete_sessions(self, user_id: int) -> None:
        """End every session of a user (after a password change or reset)."""
        async with self._db.transaction() as connection:
            await connection.execute(delete(sessions).where(sessions.c.user_id == user_id))

    async def purge_expired(self, now: datetime) -> int:
        """Delete expired sessions and reset tokens; return how many rows went."""
        async with self._db.transaction() as connection:
            gone = await connection.execute(delete(sessions).where(sessions.c.expires_at <= now))
            resets = await connection.execute(
                delete(password_resets).where(password_resets.c.expires_at <= now)
            )
        return int(gone.rowcount or 0) + int(resets.rowcount or 0)

    # -- API tokens ----------------------------------------------------------------------------

    async def add_token(
        self, user_id: int, name: str, prefix: str, digest: str, created_at: datetime
    ) -> TokenRecord:
        values = {
            "user_id": user_id,
            "name": name,
            "prefix": prefix,
            "digest": digest,
            "created_at": created_at,
        }
        async with self._db.transaction() as connection:
            result = await connection.execute(
                insert(api_tokens).values(values).returning(*_TOKEN_COLUMNS)
            )
            return TokenRecord(**result.one()._mapping)

    async def tokens(self, user_id: int) -> list[TokenRecord]:
        """The tokens of one user, newest first."""
        query = (
            select(*_TOKEN_COLUMNS)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.id.desc())
        )
        async with self._db.connect() as connection:
            return [TokenRecord(**row._mapping) for row in (await connection.execute(query)).all()]

    async def token_user(self, digest: str, now: datetime) -> UserRecord | None:
        """The owner of the token stored under ``digest``; records the use."""
        query = (
            select(*_USER_COLUMNS)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.digest == digest)
        )
        async with self._db.transaction() as connection:
            user = _user((await connection.execute(query)).one_or_none())
            if user is not None:
                await connection.execute(
                    update(api_tokens).where(api_tokens.c.digest == digest).values(last_used_at=now)
                )
        return user

    async def delete_token(self, user_id: int, token_id: int) -> bool:
        """Delete a token of this user; ``False`` when it has no such token."""
        statement = delete(api_tokens).where(
            api_tokens.c.id == token_id, api_tokens.c.user_id == user_id
        )
        async with self._db.transaction() as connection:
            return bool((await connection.execute(statement)).rowcount)

    # -- password resets -----------------------------------------------------------------------

    async def add_reset(
        self, digest: str, user_id: int, created_at: datetime, expires_at: datetime
    ) -> None:
        row = {
            "digest": digest,
            "user_id": user_id,
            "created_at": created_at,
            "expires_at": expires_at,
        }
        async with self._db.transaction() as connection:
            await connection.execute(insert(password_resets).values(row))

    async def reset_user(self, digest: str, now: datetime) -> UserRecord | None:
        """The user a still-valid, unused reset token belongs to (the token is not consumed)."""
        query = (
            select(*_USER_COLUMNS)
            .join(password_resets, password_resets.c.user_id == users.c.id)
            .where(*_usable_reset(digest, now))
        )
        async with self._db.connect() as connection:
            return _user((await connection.execute(query)).one_or_none())

    async def recent_resets(self, user_id: int, since: datetime) -> int:
        """How many reset links were issued to the user since ``since``."""
        query = select(func.count()).where(
            password_resets.c.user_id == user_id, password_resets.c.created_at >= since
        )
        async with self._db.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def consume_reset(self, digest: str, now: datetime) -> int | None:
        """Mark a valid, unused token used and return its user id; ``None`` if it was not usable.

        One conditional UPDATE, so of two concurrent uses of one token only one succeeds.
        """
        statement = (
            update(password_resets)
            .where(*_usable_reset(digest, now))
            .values(used_at=now)
            .returning(password_resets.c.user_id)
        )
        async with self._db.transaction() as connection:
            user_id = (await connection.execute(statement)).scalar_one_or_none()
        return None if user_id is None else int(user_id)

    # -- login failures ------------------------------------------------------------------------

    async def add_failure(self, account: str, client: str, at: datetime) -> None:
        row = {"account": account, "client": client, "failed_at": at}
        async with self._db.transaction() as connection:
            await connection.execute(insert(login_failures).values(row))

    async def failures(self, *, account: str, client: str, since: datetime) -> tuple[int, int]:
        """Failures since ``since`` for this account and from this client address."""
        recent = login_failures.c.failed_at >= since
        by_account = select(func.count()).where(login_failures.c.account == account, recent)
        by_client = select(func.count()).where(login_failures.c.client == client, recent)
        async with self._db.connect() as connection:
            accounts = (await connection.execute(by_account)).scalar_one()
            clients = (await connection.execute(by_client)).scalar_one()
        return int(accounts), int(clients)

    async def oldest_failure(self, *, account: str, client: str, since: datetime) -> datetime:
        """When the oldest failure still in the window happened (``since`` when there is none)."""
        query = select(func.min(login_failures.c.failed_at)).where(
            login_failures.c.failed_at >= since,
            (login_failures.c.account == account) | (login_failures.c.client == client),
        )
        async with self._db.connect() as connection:
            oldest = (await connection.execute(query)).scalar_one_or_none()
        return oldest or since

    async def clear_failures(self, account: str) -> None:
        """Forget an account's failures (after a successful login)."""
        statement = delete(login_failures).where(login_failures.c.account == account)
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    async def purge_failures(self, before: datetime) -> None:
        statement = delete(login_failures).where(login_failures.c.failed_at < before)
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    # -- plans ---------------------------------------------------------------------------------

    async def plan_of(self, user_id: int) -> str | None:
        """The plan key stored for a user; ``None``: the default plan."""
        query = select(account_plans.c.plan).where(account_plans.c.user_id == user_id)
        async with self._db.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def set_plan(self, user_id: int, plan: str, at: datetime) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                delete(account_plans).where(account_plans.c.user_id == user_id)
            )
            await connection.execute(
                insert(account_plans).values(user_id=user_id, plan=plan, changed_at=at)
            )


def _usable_reset(digest: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        password_resets.c.digest == digest,
        password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > now,
    )
