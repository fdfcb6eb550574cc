"""The values of hosted MTA-STS: setups, states, policy versions and a hosted domain.

Plain, immutable data shared by the pure rules beside this module, the hosting repository and
the hosting service. Nothing here reads a clock: every time is given by the caller (aware UTC).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mailshield.core.documents.mta_sts_policy import Mode, render_policy
from mailshield.core.model import JSONValue


class Setup(enum.StrEnum):
    """How the customer points their names at MailShield (RFC 8461 §8.2)."""

    CNAME = "cname"  # mta-sts CNAME to the policy host; the customer publishes the TXT id
    DELEGATED = "delegated"  # _mta-sts CNAME into our zone too; MailShield rotates the id


class HostingState(enum.StrEnum):
    """Where a hosted domain stands (see :mod:`mailshield.core.hosting.state`)."""

    PENDING_DNS = "pending_dns"  # onboarded, records not (all) published yet, nothing wrong seen
    ACTIVE = "active"  # every required record points here and carries one of our ids
    MISCONFIGURED = "misconfigured"  # a record is wrong, or was right and has gone
    REMOVING = "removing"  # serving mode none until the old policies have expired (§8.3)


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """What a policy says: mode, max_age and the mx patterns (RFC 8461 §3.2)."""

    mode: Mode
    max_age: int
    mx: tuple[str, ...]

    def body(self) -> str:
        """The canonical body: CRLF lines, one ``mx`` line per pattern (reference §2.7 item 5)."""
        return render_policy(self.mode, self.max_age, self.mx)

    def with_mode(self, mode: Mode) -> PolicySpec:
        return PolicySpec(mode, self.max_age, self.mx)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One policy instance as served: its id, content and the times that bound its life.

    ``served_from``: the body began to be served; ``superseded_at``: a newer body replaced it
    (``None`` while current); ``txt_published_at``: MailShield updated the delegated TXT to this
    id; ``txt_live_at``: the verifier first saw this id in DNS.
    """

    id: str
    spec: PolicySpec
    served_from: datetime
    superseded_at: datetime | None = None
    txt_published_at: datetime | None = None
    txt_live_at: datetime | None = None

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class RecordStatus(enum.StrEnum):
    """The verifier's verdict on one DNS record."""

    OK = "ok"
    STALE = "stale"  # our previous policy id is still published: the new one is not live yet
    MISSING = "missing"
    WRONG = "wrong"
    UNKNOWN = "unknown"  # the lookup could not be completed: could not test


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """One record the customer (or MailShield) must publish, and what DNS shows instead."""

    owner: str
    rdtype: str
    status: RecordStatus
    expected: str
    seen: str
    required: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.owner} {self.rdtype}"

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "owner": self.owner,
            "rdtype": self.rdtype,
            "status": self.status.value,
            "expected": self.expected,
            "seen": self.seen,
            "required": self.required,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> RecordCheck:
        return cls(
            owner=str(data["owner"]),
            rdtype=str(data["rdtype"]),
            status=RecordStatus(data["status"]),
            expected=str(data.get("expected", "")),
            seen=str(data.get("seen", "")),
            required=bool(data.get("required", True)),
            note=str(data.get("note", "")),
        )


@dataclass(frozen=True, slots=True)
class MxDrift:
    """The live MX set against the policy's patterns (RFC 8461 §4.1)."""

    live: tuple[str, ...]
    uncovered: tuple[str, ...] = ()  # MX hosts no pattern matches
    unused: tuple[str, ...] = ()  # patterns that match no MX host

    @property
    def drifted(self) -> bool:
        return bool(self.uncovered or self.unused)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "live": list(self.live),
            "uncovered": list(self.uncovered),
            "unused": list(self.unused),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> MxDrift:
        return cls(
            live=tuple(data.get("live") or ()),
            uncovered=tuple(data.get("uncovered") or ()),
            unused=tuple(data.get("unused") or ()),
        )


@dataclass(frozen=True, slots=True)
class HostedDomain:
    """A hosted domain as stored: who owns it, how it is set up and what was last verified."""

    id: int
    owner_id: int
    name: str
    setup: Setup
    state: HostingState
    created_at: datetime
    extra_mx: tuple[str, ...] = ()
    delegation_target: str | None = None
    points_here: bool = False
    checks: tuple[RecordCheck, ...] = ()
    live_id: str | None = None
    verified_at: datetime | None = None
    activated_at: datetime | None = None
    drift: MxDrift | None = None
    removal_started_at: datetime | None = None
    delete_after: datetime | None = None

    @property
    def policy_host(self) -> str:
        """``mta-sts.<domain>``: the name senders fetch the policy from (RFC 8461 §3.3)."""
        return f"mta-sts.{self.name}"


@dataclass(frozen=True, slots=True)
class HostingEvent:
    """Something that happened to a hosted domain: added, verified, changed, alerted, removed."""

    at: datetime
    kind: str
    message: str
    detail: Mapping[str, JSONValue] | None = None


class UpdateOutcome(enum.StrEnum):
    """How an RFC 2136 dynamic update ended (the probe's observation, judged by nobody)."""

    OK = "ok"
    REFUSED = "refused"  # the server refuses updates for the zone (REFUSED)
    NOT_AUTHORISED = "not_authorised"  # NOTAUTH: the key is not allowed (RFC 2136 §2.2)
    BAD_KEY = "bad_key"  # TSIG: the server does not know the key (RFC 8945 §5.2)
    BAD_SIGNATURE = "bad_signature"  # TSIG: wrong secret
    NOT_ZONE = "not_zone"  # the name is outside the zone (NOTZONE)
    TIMEOUT = "timeout"
    ERROR = "error"  # anything else: unreachable server, SERVFAIL, malformed reply


@dataclass(frozen=True, slots=True)
class UpdateResult:
    outcome: UpdateOutcome
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is UpdateOutcome.OK
