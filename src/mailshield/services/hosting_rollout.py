"""Serving a new policy version and publishing its id: body first, then id (RFC 8461 §8.1).

A new version gets a fresh id (never one the domain had before, RFC 8461 §3.1) and is served
from the moment it is stored. In the delegated setup MailShield then writes the id to the TXT
record at the domain's target (RFC 2136), once :func:`~mailshield.core.hosting.rollout.txt_due`
says the body had time to reach every replica; in the two-record setup the operator publishes
it and the verifier watches for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mailshield.core.hosting.ids import new_policy_id
from mailshield.core.hosting.model import (
    HostedDomain,
    HostingEvent,
    PolicySpec,
    PolicyVersion,
    Setup,
    UpdateResult,
)
from mailshield.core.hosting.records import sts_txt
from mailshield.core.hosting.rollout import txt_due
from mailshield.core.model import JSONValue
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_ports import TxtPublisher
from mailshield.storage.hosting import HostingStore


@dataclass(frozen=True, slots=True)
class Rollout:
    """Creates policy versions and writes delegated ids for the hosting service and verifier."""

    store: HostingStore
    config: HostingConfig
    publisher: TxtPublisher | None = None

    async def serve(
        self,
        domain: HostedDomain,
        spec: PolicySpec,
        now: datetime,
        event: tuple[str, str],
        *,
        removing: bool = False,
        detail: Mapping[str, JSONValue] | None = None,
    ) -> PolicyVersion:
        """Serve ``spec`` for ``domain`` from ``now`` under a new id; record ``event``."""
        history = await self.store.history(domain.id)
        version = PolicyVersion(new_policy_id(now, spec.body(), {v.id for v in history}), spec, now)
        kind, message = event
        facts: dict[str, JSONValue] = {
            "policy_id": version.id,
            "previous_id": history[-1].id if history else None,
            "mode": spec.mode.value,
            "max_age": spec.max_age,
            "mx": list(spec.mx),
            **(detail or {}),
        }
        await self.store.add_policy(
            domain.id, version, HostingEvent(now, kind, message, facts), removing=removing
        )
        return version

    async def publish_due(self, domain: HostedDomain, now: datetime) -> UpdateResult | None:
        """Write the current id to the delegated TXT when it is due; ``None`` when nothing to do."""
        if domain.setup is not Setup.DELEGATED or not domain.delegation_target:
            return None
        if self.publisher is None:
            return None
        history = await self.store.history(domain.id)
        current = history[-1]
        if not txt_due(current, now, self.config.body_first_delay):
            return None
        text = sts_txt(current.id)
        result = await self.publisher.replace_txt(
            domain.delegation_target, text, self.config.txt_ttl
        )
        detail: dict[str, JSONValue] = {
            "owner": domain.delegation_target,
            "policy_id": current.id,
            "outcome": result.outcome.value,
            "detail": result.detail,
        }
        if result.ok:
            await self.store.mark_txt(domain.id, current.id, published_at=now)
            message = f'wrote {domain.delegation_target} TXT "{text}" (RFC 2136)'
            await self.store.add_event(
                domain.id, HostingEvent(now, "txt_published", message, detail)
            )
        else:
            message = f"could not update {domain.delegation_target}: {result.outcome.value}"
            await self.store.add_event(domain.id, HostingEvent(now, "txt_failed", message, detail))
        return result
