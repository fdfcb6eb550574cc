"""The hosted domain state machine: verification outcomes and what is served."""

from __future__ import annotations

import pytest

from mailshield.core.hosting.model import HostingState, RecordCheck, RecordStatus
from mailshield.core.hosting.state import (
    after_verification,
    change_refusal,
    removal_refusal,
    serves_policy,
)

OK, STALE, MISSING, WRONG, UNKNOWN = (
    RecordStatus.OK,
    RecordStatus.STALE,
    RecordStatus.MISSING,
    RecordStatus.WRONG,
    RecordStatus.UNKNOWN,
)
PENDING, ACTIVE, BROKEN, REMOVING = (
    HostingState.PENDING_DNS,
    HostingState.ACTIVE,
    HostingState.MISCONFIGURED,
    HostingState.REMOVING,
)


def checks(*statuses: RecordStatus, optional: RecordStatus | None = None) -> list[RecordCheck]:
    """Required checks with ``statuses``, plus an optional one."""
    found = [RecordCheck(f"r{i}.test", "TXT", s, "", "") for i, s in enumerate(statuses)]
    if optional is not None:
        found.append(RecordCheck("opt.test", "TXT", optional, "", "", required=False))
    return found


@pytest.mark.parametrize(
    ("current", "statuses", "ever_active", "expected"),
    [
        (PENDING, (OK, OK), False, ACTIVE),
        (PENDING, (OK, MISSING), False, PENDING),
        (PENDING, (MISSING, MISSING), False, PENDING),
        (PENDING, (OK, WRONG), False, BROKEN),
        (PENDING, (UNKNOWN, MISSING), False, PENDING),
        (ACTIVE, (OK, STALE), True, ACTIVE),
        (ACTIVE, (OK, MISSING), True, BROKEN),
        (ACTIVE, (UNKNOWN, OK), True, ACTIVE),
        (ACTIVE, (UNKNOWN, WRONG), True, BROKEN),
        (BROKEN, (OK, OK), True, ACTIVE),
        (BROKEN, (UNKNOWN, UNKNOWN), True, BROKEN),
        (REMOVING, (WRONG, MISSING), True, REMOVING),
    ],
    ids=[
        "pending-becomes-active",
        "pending-half-published",
        "pending-nothing-published",
        "pending-wrong-record",
        "pending-lookup-failed-stays",
        "stale-id-is-still-active",
        "active-record-gone",
        "active-lookup-failed-stays",
        "wrong-beats-unknown",
        "repaired",
        "broken-lookup-failed-stays",
        "removing-is-left-only-by-finishing",
    ],
)
def test_after_verification(
    current: HostingState,
    statuses: tuple[RecordStatus, ...],
    ever_active: bool,
    expected: HostingState,
) -> None:
    """Each verification outcome moves the domain as the state diagram says."""
    assert after_verification(current, checks(*statuses), ever_active=ever_active) is expected


def test_optional_records_never_block_activation() -> None:
    """A missing TLS-RPT record (recommended only) does not keep a domain pending."""
    found = checks(OK, OK, optional=MISSING)
    assert after_verification(PENDING, found, ever_active=False) is ACTIVE


@pytest.mark.parametrize(
    ("state", "ever_active", "served"),
    [
        (PENDING, False, False),
        (ACTIVE, True, True),
        (BROKEN, False, False),
        (BROKEN, True, True),
        (REMOVING, True, True),
    ],
    ids=["pending", "active", "never-verified-broken", "once-active-broken", "removing"],
)
def test_serves_policy(state: HostingState, ever_active: bool, served: bool) -> None:
    """Only domains that showed control are served; removal keeps serving mode none."""
    assert serves_policy(state, ever_active=ever_active) is served


def test_removing_refuses_changes_and_a_second_removal() -> None:
    """A domain being removed keeps its mode none policy and cannot be removed twice."""
    assert change_refusal(REMOVING)
    assert removal_refusal(REMOVING)
    assert change_refusal(ACTIVE) is None
    assert removal_refusal(PENDING) is None
