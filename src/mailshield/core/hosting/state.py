"""The state machine of a hosted domain.

::

    add ──> pending_dns ──(records right)──> active <──(records right)──> misconfigured
                 │                              │     (a record wrong, or gone)    │
                 └──(a record wrong)──> misconfigured                              │
    pending_dns | active | misconfigured ──remove──> removing ──finish──> (deleted)

- A verification that could not be completed (SERVFAIL, timeout) changes nothing: an unreachable
  resolver is no evidence about the customer's records.
- Before the domain was ever active, records that are merely absent mean "pending"; once it was
  active, an absent record is a misconfiguration (senders that cached the policy keep it).
- A stale id (our previous policy's) still counts as active: §8.1 says to serve the new body
  first and publish the id after, so that window is expected.
- ``removing`` is left only by finishing the removal (RFC 8461 §8.3), never by verification.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailshield.core.hosting.model import HostingState, RecordCheck, RecordStatus

_GOOD = (RecordStatus.OK, RecordStatus.STALE)


def after_verification(
    current: HostingState, checks: Sequence[RecordCheck], *, ever_active: bool
) -> HostingState:
    """The state a domain moves to once its records were checked (see the module docstring)."""
    if current is HostingState.REMOVING:
        return current
    required = [c for c in checks if c.required]
    if any(c.status is RecordStatus.WRONG for c in required):
        return HostingState.MISCONFIGURED
    if any(c.status is RecordStatus.UNKNOWN for c in required):
        return current
    if all(c.status in _GOOD for c in required):
        return HostingState.ACTIVE
    return HostingState.MISCONFIGURED if ever_active else HostingState.PENDING_DNS


def serves_policy(state: HostingState, *, ever_active: bool) -> bool:
    """Whether the policy server answers for the domain.

    Active and removing domains are served (removal serves ``mode: none``, RFC 8461 §8.3). A
    misconfigured domain that was active before stays served: its control was shown, and
    senders holding its cached policy need the body to refresh it (§3.3, §5.1). A domain that
    never verified is not served (reference §2.7 item 22: verify control before serving).
    """
    if state in (HostingState.ACTIVE, HostingState.REMOVING):
        return True
    return state is HostingState.MISCONFIGURED and ever_active


def change_refusal(state: HostingState) -> str | None:
    """Why the policy of a domain in ``state`` may not be changed, or ``None``."""
    if state is HostingState.REMOVING:
        return "the domain is being removed; its policy stays mode none until removal finishes"
    return None


def removal_refusal(state: HostingState) -> str | None:
    """Why removal may not start from ``state``, or ``None``."""
    if state is HostingState.REMOVING:
        return "removal has already started"
    return None
