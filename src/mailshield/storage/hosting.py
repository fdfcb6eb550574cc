"""The hosting repository: hosted domains, their policy history and their events.

Tenant reads (:meth:`HostingStore.get`, :meth:`HostingStore.list`) take the owner's user id, so a
caller acting for one account never sees another's domains; system callers (the verifier, the
policy server) use :meth:`HostingStore.find` and the serving reads. Every write that must be
atomic (a new policy superseding the current one, with its event) is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.model import (
    HostedDomain,
    HostingEvent,
    HostingState,
    MxDrift,
    PolicySpec,
    PolicyVersion,
    RecordCheck,
    Setup,
)
from mailshield.storage.checks import domain_key
from mailshield.storage.database import Database
from mailshield.storage.hosting_tables import hosted_domains, hosted_policies, hosting_events
from mailshield.storage.tables import domains, users

UNUSABLE_PASSWORD = "!"  # noqa: S105 - no hash verifies against it: the account cannot log in
MAX_EVENTS = 1000


class AlreadyHosted(Exception):
    """The name is already hosted (by this account or another)."""


@dataclass(frozen=True, slots=True)
class Verified:
    """What one verification run found, stored on the domain."""

    state: HostingState
    checks: tuple[RecordCheck, ...]
    points_here: bool
    live_id: str | None
    verified_at: datetime
    activated_at: datetime | None
    drift: MxDrift | None


@dataclass(frozen=True, slots=True)
class Served:
    """What the policy server needs about one name, read in one query."""

    state: HostingState
    ever_active: bool
    body: str


class HostingStore:
    """Hosted domains on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- accounts ---------------------------------------------------------------------------
    async def operator_account(self, email: str) -> int:
        """The id of the account ``email``, created (unable to log in) when missing."""
        found = await self._user_id(email)
        if found is not None:
            return found
        try:
            async with self._db.transaction() as connection:
                values = {"email": email, "password_hash": UNUSABLE_PASSWORD}
                result = await connection.execute(
                    users.insert().values(values).returning(users.c.id)
                )
                return int(result.scalar_one())
        except IntegrityError:  # created meanwhile by another process
            again = await self._user_id(email)
            if again is None:
                raise
            return again

    async def _user_id(self, email: str) -> int | None:
        query = select(users.c.id).where(func.lower(users.c.email) == email.lower())
        async with self._db.connect() as connection:
            value = (await connection.execute(query)).scalar_one_or_none()
        return None if value is None else int(value)

    # -- hosted domains ----------------------------------------------------------------------
    async def create(
        self,
        owner_id: int,
        name: str,
        *,
        setup: Setup,
        extra_mx: Sequence[str],
        target: str | None,
        first: PolicyVersion,
        event: HostingEvent,
    ) -> HostedDomain:
        """Host ``name`` for ``owner_id`` with its first policy; :class:`AlreadyHosted` if taken."""
        key = domain_key(name)
        try:
            async with self._db.transaction() as connection:
                domain_id = await _domain_row(connection, owner_id, key)
                hosted_id = await _insert_hosted(
                    connection, domain_id, key, setup, extra_mx, target, first.served_from
                )
                await _insert_policy(connection, hosted_id, first)
                await _insert_event(connection, hosted_id, event)
        except IntegrityError as exc:
            raise AlreadyHosted(f"{key} is already hosted") from exc
        found = await self.find(key)
        assert found is not None
        return found

    async def get(self, owner_id: int, name: str) -> HostedDomain | None:
        """``name`` if ``owner_id`` hosts it."""
        query = _domains().where(
            hosted_domains.c.name == domain_key(name), domains.c.owner_id == owner_id
        )
        return await self._one_domain(query)

    async def find(self, name: str) -> HostedDomain | None:
        """``name`` whoever hosts it (system callers only)."""
        return await self._one_domain(_domains().where(hosted_domains.c.name == domain_key(name)))

    async def hosted(self, owner_id: int | None = None) -> list[HostedDomain]:
        """Every domain of ``owner_id`` (every domain when ``None``), by name."""
        query = _domains().order_by(hosted_domains.c.name)
        if owner_id is not None:
            query = query.where(domains.c.owner_id == owner_id)
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_hosted(row) for row in rows]

    async def names(self) -> list[str]:
        """Every hosted name, whatever its state."""
        query = select(hosted_domains.c.name).order_by(hosted_domains.c.name)
        async with self._db.connect() as connection:
            return list((await connection.execute(query)).scalars().all())

    async def delete(self, hosted_id: int) -> None:
        """Forget a hosted domain with its history (the ``domains`` row stays)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                hosted_domains.delete().where(hosted_domains.c.id == hosted_id)
            )

    async def _one_domain(self, query: Select[Any]) -> HostedDomain | None:
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).mappings().one_or_none()
        return None if row is None else _hosted(row)

    # -- state -------------------------------------------------------------------------------
    async def save_verification(
        self, hosted_id: int, verified: Verified, events: Sequence[HostingEvent] = ()
    ) -> None:
        """Store a verification's outcome and the events it raised."""
        values = {
            "state": verified.state.value,
            "checks": [c.to_dict() for c in verified.checks],
            "points_here": verified.points_here,
            "live_id": verified.live_id,
            "verified_at": verified.verified_at,
            "activated_at": verified.activated_at,
            "drift": verified.drift.to_dict() if verified.drift else None,
        }
        await self._update(hosted_id, values, events)

    async def set_delete_after(self, hosted_id: int, at: datetime | None) -> None:
        await self._update(hosted_id, {"delete_after": at})

    async def set_extra_mx(self, hosted_id: int, patterns: Sequence[str]) -> None:
        await self._update(hosted_id, {"extra_mx": list(patterns)})

    async def _update(
        self, hosted_id: int, values: Mapping[str, Any], events: Sequence[HostingEvent] = ()
    ) -> None:
        async with self._db.transaction() as connection:
            statement = hosted_domains.update().where(hosted_domains.c.id == hosted_id)
            await connection.execute(statement.values(dict(values)))
            for event in events:
                await _insert_event(connection, hosted_id, event)

    # -- policies ----------------------------------------------------------------------------
    async def history(self, hosted_id: int) -> list[PolicyVersion]:
        """Every policy version of the domain, oldest first."""
        query = (
            select(hosted_policies)
            .where(hosted_policies.c.hosted_domain_id == hosted_id)
            .order_by(hosted_policies.c.served_from, hosted_policies.c.id)
        )
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_version(row) for row in rows]

    async def add_policy(
        self,
        hosted_id: int,
        version: PolicyVersion,
        event: HostingEvent,
        *,
        removing: bool = False,
    ) -> None:
        """Serve ``version`` from its ``served_from`` on, superseding the current one.

        ``removing`` also moves the domain to ``removing`` (RFC 8461 §8.3), in the same
        transaction.
        """
        async with self._db.transaction() as connection:
            await connection.execute(
                hosted_policies.update()
                .where(
                    hosted_policies.c.hosted_domain_id == hosted_id,
                    hosted_policies.c.superseded_at.is_(None),
                )
                .values(superseded_at=version.served_from)
            )
            await _insert_policy(connection, hosted_id, version)
            await _insert_event(connection, hosted_id, event)
            if removing:
                statement = hosted_domains.update().where(hosted_domains.c.id == hosted_id)
                await connection.execute(
                    statement.values(
                        state=HostingState.REMOVING.value, removal_started_at=version.served_from
                    )
                )

    async def mark_txt(
        self,
        hosted_id: int,
        policy_id: str,
        *,
        published_at: datetime | None = None,
        live_at: datetime | None = None,
    ) -> None:
        """Record that the id was written to the delegated TXT, or first seen in DNS."""
        where = (
            hosted_policies.c.hosted_domain_id == hosted_id,
            hosted_policies.c.policy_id == policy_id,
        )
        async with self._db.transaction() as connection:
            for column, value in (("txt_published_at", published_at), ("txt_live_at", live_at)):
                if value is None:
                    continue
                unset = hosted_policies.c[column].is_(None)
                statement = hosted_policies.update().where(*where, unset)
                await connection.execute(statement.values({column: value}))

    # -- events ------------------------------------------------------------------------------
    async def add_event(self, hosted_id: int, event: HostingEvent) -> None:
        async with self._db.transaction() as connection:
            await _insert_event(connection, hosted_id, event)

    async def events(self, hosted_id: int, limit: int = 50) -> list[HostingEvent]:
        """The newest ``limit`` events of the domain, newest first."""
        if not 1 <= limit <= MAX_EVENTS:
            raise ValueError(f"limit must be between 1 and {MAX_EVENTS}, not {limit}")
        query = (
            select(hosting_events)
            .where(hosting_events.c.hosted_domain_id == hosted_id)
            .order_by(hosting_events.c.at.desc(), hosting_events.c.id.desc())
            .limit(limit)
        )
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [HostingEvent(r["at"], r["kind"], r["message"], r["detail"]) for r in rows]

    # -- serving (policy server, certificate gate) -------------------------------------------
    async def served(self, name: str) -> Served | None:
        """The state and current body of hosted ``name``, in one query."""
        query = (
            select(
                hosted_domains.c.state,
                hosted_domains.c.activated_at,
                hosted_policies.c.body,
            )
            .join(hosted_policies, hosted_policies.c.hosted_domain_id == hosted_domains.c.id)
            .where(
                hosted_domains.c.name == domain_key(name),
                hosted_policies.c.superseded_at.is_(None),
            )
        )
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        if row is None:
            return None
        return Served(HostingState(row.state), row.activated_at is not None, row.body)

    async def gate(self, name: str) -> tuple[HostingState, bool] | None:
        """The state of hosted ``name`` and whether its ``mta-sts`` name points here."""
        query = select(hosted_domains.c.state, hosted_domains.c.points_here).where(
            hosted_domains.c.name == domain_key(name)
        )
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else (HostingState(row.state), bool(row.points_here))


def _domains() -> Select[Any]:
    return select(hosted_domains, domains.c.owner_id).join(
        domains, domains.c.id == hosted_domains.c.domain_id
    )


async def _domain_row(connection: AsyncConnection, owner_id: int, name: str) -> int:
    query = select(domains.c.id).where(domains.c.owner_id == owner_id, domains.c.name == name)
    found = (await connection.execute(query)).scalar_one_or_none()
    if found is not None:
        return int(found)
    statement = domains.insert().values(owner_id=owner_id, name=name).returning(domains.c.id)
    return int((await connection.execute(statement)).scalar_one())


async def _insert_hosted(
    connection: AsyncConnection,
    domain_id: int,
    name: str,
    setup: Setup,
    extra_mx: Sequence[str],
    target: str | None,
    at: datetime,
) -> int:
    values = {
        "domain_id": domain_id,
        "name": name,
        "setup": setup.value,
        "state": HostingState.PENDING_DNS.value,
        "extra_mx": list(extra_mx),
        "delegation_target": target,
        "points_here": False,
        "checks": [],
        "created_at": at,
    }
    statement = hosted_domains.insert().values(values).returning(hosted_domains.c.id)
    return int((await connection.execute(statement)).scalar_one())


async def _insert_policy(
    connection: AsyncConnection, hosted_id: int, version: PolicyVersion
) -> None:
    spec = version.spec
    values = {
        "hosted_domain_id": hosted_id,
        "policy_id": version.id,
        "mode": spec.mode.value,
        "max_age": spec.max_age,
        "mx": list(spec.mx),
        "body": spec.body(),
        "served_from": version.served_from,
        "superseded_at": version.superseded_at,
        "txt_published_at": version.txt_published_at,
        "txt_live_at": version.txt_live_at,
    }
    await connection.execute(hosted_policies.insert().values(values))


async def _insert_event(connection: AsyncConnection, hosted_id: int, event: HostingEvent) -> None:
    values = {
        "hosted_domain_id": hosted_id,
        "at": event.at,
        "kind": event.kind,
        "message": event.message,
        "detail": dict(event.detail) if event.detail is not None else None,
    }
    await connection.execute(hosting_events.insert().values(values))


def _hosted(row: RowMapping) -> HostedDomain:
    drift = row["drift"]
    return HostedDomain(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        name=row["name"],
        setup=Setup(row["setup"]),
        state=HostingState(row["state"]),
        created_at=row["created_at"],
        extra_mx=tuple(row["extra_mx"] or ()),
        delegation_target=row["delegation_target"],
        points_here=bool(row["points_here"]),
        checks=tuple(RecordCheck.from_dict(c) for c in row["checks"] or ()),
        live_id=row["live_id"],
        verified_at=row["verified_at"],
        activated_at=row["activated_at"],
        drift=MxDrift.from_dict(drift) if drift else None,
        removal_started_at=row["removal_started_at"],
        delete_after=row["delete_after"],
    )


def _version(row: RowMapping) -> PolicyVersion:
    spec = PolicySpec(Mode(row["mode"]), int(row["max_age"]), tuple(row["mx"] or ()))
    return PolicyVersion(
        id=row["policy_id"],
        spec=spec,
        served_from=row["served_from"],
        superseded_at=row["superseded_at"],
        txt_published_at=row["txt_published_at"],
        txt_live_at=row["txt_live_at"],
    )
