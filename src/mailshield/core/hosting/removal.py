"""Removing a hosted domain safely (RFC 8461 §8.3).

Deleting the TXT record and the policy host at once would leave senders enforcing their cached
policies until those expire, with nobody serving a way out. Instead MailShield serves
``mode: none`` with a short ``max_age`` under a new id, keeps serving it, and says when the
records may go: once every earlier non-``none`` policy has expired from every sender's cache.

A sender caches a policy for ``max_age`` from its last fetch (§3.3, §5.1), and refreshes it
while the TXT id is unchanged. So a policy can stay cached until ``max_age`` after the later of
(a) the moment its body stopped being served and (b) the moment a newer id was first seen in DNS.
The earliest safe deletion time is the latest such expiry (reference §2.7 item 20), plus a
margin for resolvers that still hold the old TXT record (its TTL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.model import PolicySpec, PolicyVersion

REMOVAL_MAX_AGE = 86_400  # reference §2.7 item 20: "a small max_age (e.g. 86400)"
TXT_TTL_MARGIN = timedelta(days=1)  # covers an old TXT record's TTL in resolver caches


@dataclass(frozen=True, slots=True)
class RemovalTiming:
    """When the records may be deleted; ``None`` with the reason while that is not known yet."""

    delete_after: datetime | None
    waiting_for: str = ""


def removal_spec(current: PolicySpec) -> PolicySpec:
    """The opt-out policy: mode none, a short max_age, the same mx list (§8.3)."""
    return PolicySpec(Mode.NONE, min(current.max_age, REMOVAL_MAX_AGE), current.mx)


def safe_deletion_time(
    versions: Sequence[PolicyVersion], *, margin: timedelta = TXT_TTL_MARGIN
) -> RemovalTiming:
    """The earliest safe time to delete the records, given the domain's whole policy history.

    The newest version must be the ``mode: none`` one; until its id has been seen in DNS the
    time is unknown (senders learn of the removal only through that id).
    """
    ordered = sorted(versions, key=lambda v: v.served_from)
    if not ordered or ordered[-1].spec.mode is not Mode.NONE:
        return RemovalTiming(None, "removal has not started (no mode none policy is served)")
    removal = ordered[-1]
    if removal.txt_live_at is None:
        return RemovalTiming(None, f"the TXT record with id={removal.id} is not live in DNS yet")
    expiries = [removal.txt_live_at]
    for index, version in enumerate(ordered[:-1]):
        if version.spec.mode is Mode.NONE:
            continue
        later_seen = [v.txt_live_at for v in ordered[index + 1 :] if v.txt_live_at is not None]
        id_gone = min(later_seen, default=removal.txt_live_at)
        stopped = version.superseded_at or removal.served_from
        expiries.append(max(stopped, id_gone) + timedelta(seconds=version.spec.max_age))
    return RemovalTiming(max(expiries) + margin)
