"""The /tls/ask snapshot: gate verdicts computed ahead, looked up without I/O."""

from __future__ import annotations

import pytest
from tests.support.hosting_fakes import FakeHosting

from mailshield.services.issuance_snapshot import AllowedNames


class FailingNames:
    """A hosted-names source whose storage is down."""

    async def policy_hosts(self) -> list[str]:
        raise ConnectionError("database unreachable")


async def test_only_names_the_gate_lets_through_are_allowed() -> None:
    """Hosted names pass, refused and unknown names do not; case and final dot do not matter."""
    hosting = FakeHosting()
    hosting.host("mta-sts.a.example")
    hosting.onboarding.add("mta-sts.b.example")
    hosting.refusals["mta-sts.b.example"] = "CNAME elsewhere"
    allowed = AllowedNames(hosting, hosting)
    assert await allowed.refresh() == frozenset({"mta-sts.a.example"})
    asked = list(hosting.gate_questions)
    assert allowed.allows("MTA-STS.A.example.")
    assert not allowed.allows("mta-sts.b.example")
    assert not allowed.allows("mta-sts.c.example")
    assert hosting.gate_questions == asked  # lookups ask nobody


async def test_empty_before_the_first_refresh() -> None:
    """Until the first refresh nothing is allowed."""
    hosting = FakeHosting()
    hosting.host("mta-sts.a.example")
    assert not AllowedNames(hosting, hosting).allows("mta-sts.a.example")


async def test_failed_refresh_keeps_the_previous_set() -> None:
    """A refresh that cannot reach storage raises and leaves the last good set in place."""
    hosting = FakeHosting()
    hosting.host("mta-sts.a.example")
    allowed = AllowedNames(hosting, hosting)
    await allowed.refresh()
    allowed._names = FailingNames()
    with pytest.raises(ConnectionError):
        await allowed.refresh()
    assert allowed.allows("mta-sts.a.example")
    assert len(allowed) == 1
