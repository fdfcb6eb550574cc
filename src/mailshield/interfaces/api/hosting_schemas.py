"""The JSON shapes of hosted MTA-STS and TLS-RPT reports under ``/api/v1/domains/{id}``.

They follow the ``--json`` output of ``mailshield domains`` and ``mailshield reports summary``
(built from the same views' ``to_dict``), so scripts can move between the CLI and the API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mailshield.core.analysis.readiness import Readiness
from mailshield.core.analysis.summary import TlsRptSummary
from mailshield.services.hosting_views import DomainView, ModeChange


class PolicyOut(BaseModel):
    id: str
    mode: Literal["testing", "enforce", "none"]
    max_age: int
    mx: list[str]


class ZoneRecordOut(BaseModel):
    owner: str
    type: str
    value: str
    zone_line: str = Field(description="The record as a zone-file line.")
    purpose: str
    required: bool
    published_by_mailshield: bool


class EventOut(BaseModel):
    at: str | None
    kind: str
    message: str


class RemovalOut(BaseModel):
    delete_after: str | None
    waiting_for: str | None = None


class HostingOut(BaseModel):
    """A hosted domain: its state, the policy served, the records to publish and what DNS shows."""

    domain: str
    setup: Literal["cname", "delegated"]
    state: Literal["pending_dns", "active", "misconfigured", "removing"]
    serving: bool
    points_here: bool
    policy: PolicyOut
    policy_body: str
    live_id: str | None
    id_live: bool
    records: list[ZoneRecordOut]
    checks: list[dict[str, Any]] = Field(description="Each record's verdict from the last look.")
    extra_mx: list[str]
    removal: RemovalOut | None
    events: list[EventOut]

    @classmethod
    def of(cls, view: DomainView) -> HostingOut:
        return cls.model_validate(view.to_dict())


class GateOut(BaseModel):
    allowed: bool
    blockers: list[str]
    cautions: list[str]


class ModeChangeOut(HostingOut):
    forced: bool
    risk: str
    gate: GateOut | None = Field(description="The enforce gate's verdict, for a move to enforce.")

    @classmethod
    def of_change(cls, change: ModeChange) -> ModeChangeOut:
        return cls.model_validate(change.to_dict())


class ModeIn(BaseModel):
    mode: Literal["testing", "enforce"]
    force: bool = Field(False, description="Enforce although the gate refuses (risky).")


class PolicyIn(BaseModel):
    max_age: int | None = Field(None, ge=1, le=31_557_600, description="RFC 8461 §3.2 bound.")
    extra_mx: list[str] | None = Field(None, max_length=50)


class SummaryOut(BaseModel):
    """TLS-RPT over a window of days (keys as in ``mailshield reports summary --json``)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    domain: str
    since: str
    until: str
    reports: int
    successful_sessions: int = Field(alias="successful-sessions")
    failed_sessions: int = Field(alias="failed-sessions")
    failure_rate: float = Field(alias="failure-rate")
    days: list[dict[str, Any]]
    by_result_type: list[dict[str, Any]] = Field(alias="by-result-type")
    by_organization: list[dict[str, Any]] = Field(alias="by-organization")
    by_mx: list[dict[str, Any]] = Field(alias="by-mx")
    by_sending_ip: list[dict[str, Any]] = Field(alias="by-sending-ip")
    problems: list[dict[str, Any]]

    @classmethod
    def of(cls, summary: TlsRptSummary) -> SummaryOut:
        return cls.model_validate(summary.to_dict())


class ReadinessOut(BaseModel):
    """Whether the reports say the domain may move to enforce, and what blocks it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    domain: str
    ready: bool
    blockers: list[dict[str, Any]]
    reports: int
    sessions: int
    failure_rate: float = Field(alias="failure-rate")
    days: int
    live_checked: bool = Field(alias="live-checked")

    @classmethod
    def of(cls, readiness: Readiness) -> ReadinessOut:
        return cls.model_validate(readiness.to_dict())
