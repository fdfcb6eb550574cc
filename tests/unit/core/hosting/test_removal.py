"""Safe removal: mode none, and the earliest safe deletion time (RFC 8461 §8.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.model import PolicySpec, PolicyVersion
from mailshield.core.hosting.removal import (
    REMOVAL_MAX_AGE,
    TXT_TTL_MARGIN,
    removal_spec,
    safe_deletion_time,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK_S = 604_800
MX = ("mx.a.test",)


def version(
    id_: str,
    mode: Mode,
    max_age: int,
    served: timedelta,
    superseded: timedelta | None = None,
    live: timedelta | None = None,
) -> PolicyVersion:
    """A policy version with times given as offsets from T0."""
    return PolicyVersion(
        id_,
        PolicySpec(mode, max_age, MX),
        T0 + served,
        T0 + superseded if superseded is not None else None,
        txt_live_at=T0 + live if live is not None else None,
    )


def test_removal_spec_is_none_with_short_max_age() -> None:
    """The opt-out policy is mode none with at most a day of max_age, keeping the mx list."""
    spec = removal_spec(PolicySpec(Mode.ENFORCE, WEEK_S, MX))
    assert spec == PolicySpec(Mode.NONE, REMOVAL_MAX_AGE, MX)
    assert removal_spec(PolicySpec(Mode.TESTING, 3600, MX)).max_age == 3600


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (
            [
                version("A", Mode.ENFORCE, WEEK_S, 0 * DAY, 10 * DAY, 0 * DAY),
                version("N", Mode.NONE, 86400, 10 * DAY, None, 11 * DAY),
            ],
            11 * DAY + timedelta(seconds=WEEK_S),
        ),
        (
            [
                version("A", Mode.ENFORCE, WEEK_S, 0 * DAY, 10 * DAY, 0 * DAY),
                version("N", Mode.NONE, 86400, 10 * DAY, None, 10 * DAY),
            ],
            10 * DAY + timedelta(seconds=WEEK_S),
        ),
        (
            [
                version("A", Mode.ENFORCE, 30 * 86400, 0 * DAY, 1 * DAY, 0 * DAY),
                version("B", Mode.TESTING, 86400, 1 * DAY, 50 * DAY, 2 * DAY),
                version("N", Mode.NONE, 86400, 50 * DAY, None, 51 * DAY),
            ],
            51 * DAY + DAY,
        ),
        (
            [
                version("A", Mode.ENFORCE, 30 * 86400, 0 * DAY, 1 * DAY, 0 * DAY),
                version("B", Mode.ENFORCE, 86400, 1 * DAY, 5 * DAY, None),
                version("N", Mode.NONE, 86400, 5 * DAY, None, 6 * DAY),
            ],
            6 * DAY + 30 * DAY,
        ),
    ],
    ids=[
        "id-seen-a-day-after-the-body",
        "id-seen-at-once",
        "old-long-policy-already-expired",
        "unpublished-id-keeps-the-older-one-cached",
    ],
)
def test_safe_deletion_time(versions: list[PolicyVersion], expected: timedelta) -> None:
    """The records may go once every earlier policy expired everywhere, plus the TTL margin."""
    timing = safe_deletion_time(versions)
    assert timing.delete_after == T0 + expected + TXT_TTL_MARGIN


@pytest.mark.parametrize(
    ("versions", "reason"),
    [
        ([version("A", Mode.ENFORCE, WEEK_S, 0 * DAY)], "has not started"),
        ([], "has not started"),
        (
            [
                version("A", Mode.ENFORCE, WEEK_S, 0 * DAY, 1 * DAY, 0 * DAY),
                version("N", Mode.NONE, 86400, 1 * DAY),
            ],
            "id=N is not live",
        ),
    ],
    ids=["no-removal-policy", "no-history", "none-id-not-live-yet"],
)
def test_unknown_deletion_time(versions: list[PolicyVersion], reason: str) -> None:
    """Until the mode none id is live in DNS the time is unknown, and the reason says so."""
    timing = safe_deletion_time(versions)
    assert timing.delete_after is None
    assert reason in timing.waiting_for
