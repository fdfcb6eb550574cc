"""The certificate repository: ACME accounts, certificates per name, order leases, HTTP-01 tokens.

Several policy-server replicas and workers share one database, so every rule that keeps them from
stepping on each other is a single conditional statement here:

- :meth:`CertificateStore.acquire_lease` takes a name's order lease only when nobody else holds
  an unexpired one (at most one ACME order in flight per name across replicas);
- :meth:`CertificateStore.save_account` keeps the first account stored for a directory, so two
  replicas registering at once end up using the same one;
- challenge tokens are stored before a challenge is answered, so whichever replica the CA's
  validation request reaches can serve the key authorization (HTTP-01, RFC 8555 §8.3, by
  token) or the validation certificate built from it (TLS-ALPN-01, RFC 8737, by name).

Names are stored as lower-case A-labels without the trailing dot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.storage.certificate_tables import (
    acme_accounts,
    acme_challenges,
    certificate_orders,
    certificates,
)
from mailshield.storage.checks import domain_key
from mailshield.storage.database import Database


@dataclass(frozen=True, slots=True)
class AcmeAccount:
    """An ACME account (RFC 8555 §7.3): its private key and the URL the CA gave it."""

    directory_url: str
    key_pem: bytes
    account_url: str


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    """The current certificate of one name: full chain (leaf first) and key, as PEM."""

    name: str
    version: int
    key_pem: bytes
    fullchain_pem: bytes
    not_before: datetime
    not_after: datetime
    renew_at: datetime


@dataclass(frozen=True, slots=True)
class NewCertificate:
    """A certificate to store for ``name`` (replacing any previous one)."""

    name: str
    key_pem: bytes
    fullchain_pem: bytes
    not_before: datetime
    not_after: datetime
    renew_at: datetime


@dataclass(frozen=True, slots=True)
class OrderState:
    """Where ordering a certificate for one name stands."""

    name: str
    failures: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


class CertificateStore:
    """Certificates, ACME account and order state on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- ACME account ---------------------------------------------------------------------------

    async def account(self, directory_url: str) -> AcmeAccount | None:
        """The account registered with the CA at ``directory_url``, if any."""
        query = select(acme_accounts).where(acme_accounts.c.directory_url == directory_url)
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return AcmeAccount(row["directory_url"], row["key_pem"].encode(), row["account_url"])

    async def save_account(self, account: AcmeAccount, now: datetime) -> AcmeAccount:
        """Store ``account`` unless one exists for its directory; return the one stored."""
        values = {
            "directory_url": account.directory_url,
            "key_pem": account.key_pem.decode(),
            "account_url": account.account_url,
            "created_at": now,
        }
        async with self._db.transaction() as connection:
            await _insert_ignore(connection, acme_accounts, values)
        stored = await self.account(account.directory_url)
        assert stored is not None
        return stored

    # -- certificates ---------------------------------------------------------------------------

    async def certificate(self, name: str) -> StoredCertificate | None:
        """The current certificate and key for ``name``, if one was issued."""
        query = select(certificates).where(certificates.c.name == domain_key(name))
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _certificate(row)

    async def versions(self) -> dict[str, int]:
        """Every name that has a certificate, with the version of that certificate.

        Two small columns only: this is the cheap index a policy server keeps in memory.
        """
        query = select(certificates.c.name, certificates.c.version)
        async with self._db.connect() as connection:
            result = await connection.execute(query)
            return {row[0]: row[1] for row in result}

    async def renewal_times(self) -> dict[str, datetime]:
        """When each stored certificate is due for renewal."""
        query = select(certificates.c.name, certificates.c.renew_at)
        async with self._db.connect() as connection:
            result = await connection.execute(query)
            return {row[0]: row[1] for row in result}

    async def save_certificate(self, new: NewCertificate, now: datetime) -> int:
        """Store ``new`` as the current certificate of its name; return its version."""
        name = domain_key(new.name)
        values: dict[str, Any] = {
            "key_pem": new.key_pem.decode(),
            "fullchain_pem": new.fullchain_pem.decode(),
            "not_before": new.not_before,
            "not_after": new.not_after,
            "renew_at": new.renew_at,
            "issued_at": now,
        }
        async with self._db.transaction() as connection:
            query = select(certificates.c.version).where(certificates.c.name == name)
            previous: int | None = (await connection.execute(query)).scalar_one_or_none()
            if previous is None:
                await connection.execute(
                    certificates.insert().values(name=name, version=1, **values)
                )
                return 1
            version = previous + 1
            await connection.execute(
                update(certificates)
                .where(certificates.c.name == name)
                .values(version=version, **values)
            )
            return version

    # -- orders ---------------------------------------------------------------------------------

    async def order_states(self) -> dict[str, OrderState]:
        """The order state of every name that was ever ordered."""
        async with self._db.connect() as connection:
            rows = (await connection.execute(select(certificate_orders))).mappings().all()
        return {row["name"]: _order_state(row) for row in rows}

    async def order_state(self, name: str) -> OrderState | None:
        """The order state of ``name``, if it was ever ordered."""
        query = select(certificate_orders).where(certificate_orders.c.name == domain_key(name))
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _order_state(row)

    async def acquire_lease(
        self, name: str, owner: str, now: datetime, until: datetime
    ) -> OrderState | None:
        """Take the order lease of ``name`` for ``owner`` until ``until``.

        Succeeds when no lease is held, the held one expired before ``now``, or ``owner`` already
        holds it; returns the state under the new lease, or ``None`` when someone else holds it.
        """
        key = domain_key(name)
        free = or_(
            certificate_orders.c.lease_until.is_(None),
            certificate_orders.c.lease_until < now,
            certificate_orders.c.lease_owner == owner,
        )
        statement = (
            update(certificate_orders)
            .where(and_(certificate_orders.c.name == key, free))
            .values(lease_owner=owner, lease_until=until)
        )
        async with self._db.transaction() as connection:
            await _insert_ignore(connection, certificate_orders, {"name": key, "failures": 0})
            taken = (await connection.execute(statement)).rowcount == 1
        return await self.order_state(key) if taken else None

    async def record_success(self, name: str, owner: str, now: datetime) -> None:
        """Clear failures and backoff of ``name`` and release ``owner``'s lease."""
        values = {"failures": 0, "next_attempt_at": None, "last_error": None}
        await self._finish(name, owner, now, values)

    async def record_failure(
        self, name: str, owner: str, now: datetime, *, failures: int, retry_at: datetime, error: str
    ) -> None:
        """Record the ``failures``-th failure in a row, the backoff until ``retry_at``, and the
        error; release ``owner``'s lease."""
        values = {"failures": failures, "next_attempt_at": retry_at, "last_error": error[:2000]}
        await self._finish(name, owner, now, values)

    async def release_lease(self, name: str, owner: str) -> None:
        """Give up ``owner``'s lease on ``name`` without recording an attempt."""
        statement = (
            update(certificate_orders)
            .where(_held_by(name, owner))
            .values(lease_owner=None, lease_until=None)
        )
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    async def _finish(self, name: str, owner: str, now: datetime, values: dict[str, Any]) -> None:
        statement = (
            update(certificate_orders)
            .where(_held_by(name, owner))
            .values(lease_owner=None, lease_until=None, last_attempt_at=now, **values)
        )
        async with self._db.transaction() as connection:
            await connection.execute(statement)

    # -- HTTP-01 challenges ---------------------------------------------------------------------

    async def put_challenge(
        self, token: str, name: str, key_authorization: str, expires_at: datetime
    ) -> None:
        """Publish the key authorization for ``token`` (RFC 8555 §8.3) until ``expires_at``."""
        async with self._db.transaction() as connection:
            stale = delete(acme_challenges).where(acme_challenges.c.token == token)
            await connection.execute(stale)
            await connection.execute(
                acme_challenges.insert().values(
                    token=token,
                    name=domain_key(name),
                    key_authorization=key_authorization,
                    expires_at=expires_at,
                )
            )

    async def challenge(self, token: str, now: datetime) -> str | None:
        """The key authorization published for ``token``, unless absent or expired."""
        query = select(acme_challenges.c.key_authorization).where(
            acme_challenges.c.token == token, acme_challenges.c.expires_at > now
        )
        async with self._db.connect() as connection:
            value: str | None = (await connection.execute(query)).scalar_one_or_none()
        return value

    async def challenge_for_name(self, name: str, now: datetime) -> str | None:
        """The key authorization published last for ``name`` and not yet expired.

        TLS-ALPN-01 (RFC 8737 §3) is validated by name, not by token: the server builds its
        validation certificate from this value.
        """
        query = (
            select(acme_challenges.c.key_authorization)
            .where(acme_challenges.c.name == domain_key(name), acme_challenges.c.expires_at > now)
            .order_by(acme_challenges.c.expires_at.desc())
            .limit(1)
        )
        async with self._db.connect() as connection:
            value: str | None = (await connection.execute(query)).scalar_one_or_none()
        return value

    async def remove_challenges(self, tokens: Iterable[str]) -> None:
        """Withdraw the given tokens (after the order is done, whatever its outcome)."""
        tokens = list(tokens)
        if not tokens:
            return
        async with self._db.transaction() as connection:
            await connection.execute(
                delete(acme_challenges).where(acme_challenges.c.token.in_(tokens))
            )

    async def purge_expired_challenges(self, now: datetime) -> int:
        """Delete tokens whose time is over (left by a crashed order); return how many."""
        statement = delete(acme_challenges).where(acme_challenges.c.expires_at <= now)
        async with self._db.transaction() as connection:
            return int((await connection.execute(statement)).rowcount)


def _held_by(name: str, owner: str) -> Any:
    return and_(
        certificate_orders.c.name == domain_key(name), certificate_orders.c.lease_owner == owner
    )


async def _insert_ignore(connection: AsyncConnection, table: Table, values: dict[str, Any]) -> None:
    """INSERT the row unless it conflicts with an existing key (both databases, one statement)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values).on_conflict_do_nothing()
    await connection.execute(statement)


def _certificate(row: Any) -> StoredCertificate:
    return StoredCertificate(
        name=row["name"],
        version=row["version"],
        key_pem=row["key_pem"].encode(),
        fullchain_pem=row["fullchain_pem"].encode(),
        not_before=row["not_before"],
        not_after=row["not_after"],
        renew_at=row["renew_at"],
    )


def _order_state(row: Any) -> OrderState:
    return OrderState(
        name=row["name"],
        failures=row["failures"],
        next_attempt_at=row["next_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        last_error=row["last_error"],
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
    )
