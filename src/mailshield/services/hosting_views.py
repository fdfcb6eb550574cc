"""What the hosting service hands back: a domain with its policy, records, state and events.

Views are plain data with a ``to_dict`` for ``--json`` and the API; rendering for people is the
interfaces' job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from mailshield.core.hosting.gate import EnforceVerdict
from mailshield.core.hosting.model import (
    HostedDomain,
    HostingEvent,
    HostingState,
    PolicyVersion,
    Setup,
)
from mailshield.core.hosting.records import ZoneRecord, records_to_publish
from mailshield.core.hosting.removal import RemovalTiming, safe_deletion_time
from mailshield.core.hosting.rollout import publish_after
from mailshield.core.hosting.state import serves_policy
from mailshield.core.model import JSONValue
from mailshield.services.hosting_config import HostingConfig


@dataclass(frozen=True, slots=True)
class DomainView:
    """One hosted domain as an operator sees it."""

    domain: HostedDomain
    policy: PolicyVersion
    history: tuple[PolicyVersion, ...]
    records: tuple[ZoneRecord, ...]
    events: tuple[HostingEvent, ...]
    serving: bool
    notes: tuple[str, ...] = ()
    removal: RemovalTiming | None = None
    id_publish_after: dt.datetime | None = None  # delegated: when MailShield writes the new id

    @property
    def id_live(self) -> bool:
        """Whether senders already see the current policy id in DNS."""
        return self.domain.live_id == self.policy.id

    def to_dict(self) -> dict[str, JSONValue]:
        d = self.domain
        return {
            "domain": d.name,
            "setup": d.setup.value,
            "state": d.state.value,
            "serving": self.serving,
            "points_here": d.points_here,
            "policy": _version(self.policy),
            "policy_body": self.policy.spec.body(),
            "live_id": d.live_id,
            "id_live": self.id_live,
            "id_publish_after": _time(self.id_publish_after),
            "records": [_record(r) for r in self.records],
            "checks": [c.to_dict() for c in d.checks],
            "verified_at": _time(d.verified_at),
            "activated_at": _time(d.activated_at),
            "extra_mx": list(d.extra_mx),
            "mx_drift": d.drift.to_dict() if d.drift and d.drift.drifted else None,
            "removal": _removal(self.removal) if self.removal else None,
            "notes": list(self.notes),
            "history": [_version(v) for v in self.history],
            "events": [_event(e) for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A policy change: the domain after it, and the versions before and after."""

    view: DomainView
    previous: PolicyVersion
    current: PolicyVersion

    @property
    def changed(self) -> bool:
        return self.previous.id != self.current.id

    def to_dict(self) -> dict[str, JSONValue]:
        return {"changed": self.changed, "previous_id": self.previous.id, **self.view.to_dict()}


@dataclass(frozen=True, slots=True)
class ModeChange:
    """A mode change and, for enforce, the gate's verdict (``forced`` when overridden)."""

    change: PolicyChange
    verdict: EnforceVerdict | None
    forced: bool
    risk: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        gate = None
        if self.verdict is not None:
            gate = {
                "allowed": self.verdict.allowed,
                "blockers": [b.message for b in self.verdict.blockers],
                "cautions": [c.message for c in self.verdict.cautions],
            }
        return {"forced": self.forced, "risk": self.risk, "gate": gate, **self.change.to_dict()}


def view_of(
    domain: HostedDomain,
    history: Sequence[PolicyVersion],
    events: Sequence[HostingEvent],
    config: HostingConfig,
    now: dt.datetime,
    notes: Sequence[str] = (),
) -> DomainView:
    """The view of ``domain`` from its stored history and events."""
    current = history[-1]
    records = records_to_publish(
        domain.name,
        domain.setup,
        current.id,
        policy_host=config.policy_host,
        policy_addresses=config.policy_addresses,
        target=domain.delegation_target,
        tlsrpt_rua=config.tlsrpt_rua,
    )
    removing = domain.state is HostingState.REMOVING
    waiting = domain.setup is Setup.DELEGATED and current.txt_published_at is None
    return DomainView(
        domain=domain,
        policy=current,
        history=tuple(history),
        records=records,
        events=tuple(events),
        serving=serves_policy(domain.state, ever_active=domain.activated_at is not None),
        notes=tuple(notes),
        removal=safe_deletion_time(history) if removing else None,
        id_publish_after=max(publish_after(current, config.body_first_delay), now)
        if waiting
        else None,
    )


def _version(version: PolicyVersion) -> dict[str, JSONValue]:
    return {
        "id": version.id,
        "mode": version.spec.mode.value,
        "max_age": version.spec.max_age,
        "mx": list(version.spec.mx),
        "served_from": _time(version.served_from),
        "superseded_at": _time(version.superseded_at),
        "txt_published_at": _time(version.txt_published_at),
        "txt_live_at": _time(version.txt_live_at),
    }


def _record(record: ZoneRecord) -> dict[str, JSONValue]:
    return {
        "owner": record.owner,
        "type": record.rdtype,
        "value": record.value,
        "zone_line": record.zone_line(),
        "purpose": record.purpose,
        "required": record.required,
        "published_by_mailshield": record.published_by_mailshield,
    }


def _event(event: HostingEvent) -> dict[str, JSONValue]:
    detail = dict(event.detail) if event.detail is not None else None
    return {"at": _time(event.at), "kind": event.kind, "message": event.message, "detail": detail}


def _removal(timing: RemovalTiming) -> dict[str, JSONValue]:
    return {"delete_after": _time(timing.delete_after), "waiting_for": timing.waiting_for}


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
