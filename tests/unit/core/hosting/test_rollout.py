"""Body first, then id (RFC 8461 §8.1): when the delegated TXT may be written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.model import PolicySpec, PolicyVersion
from mailshield.core.hosting.rollout import BODY_FIRST_DELAY, publish_after, txt_due

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = PolicySpec(Mode.TESTING, 86400, ("mx.a.test",))


@pytest.mark.parametrize(
    ("version", "now", "due"),
    [
        (PolicyVersion("A", SPEC, T0), T0, False),
        (PolicyVersion("A", SPEC, T0), T0 + BODY_FIRST_DELAY, True),
        (PolicyVersion("A", SPEC, T0, txt_published_at=T0), T0 + timedelta(days=1), False),
        (PolicyVersion("A", SPEC, T0, superseded_at=T0), T0 + timedelta(days=1), False),
    ],
    ids=["body-just-changed", "after-the-delay", "already-published", "superseded"],
)
def test_txt_due(version: PolicyVersion, now: datetime, due: bool) -> None:
    """Only the current, unpublished id is written, and only once the body had time to spread."""
    assert txt_due(version, now) is due


def test_zero_delay_publishes_at_once() -> None:
    """With no delay (tests, single replica without caches) the id is due immediately."""
    version = PolicyVersion("A", SPEC, T0)
    assert txt_due(version, T0, timedelta(0))
    assert publish_after(version) == T0 + BODY_FIRST_DELAY
