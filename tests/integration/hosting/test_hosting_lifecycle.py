"""Policy changes, the enforce gate, the MX drift guard and removal, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.integration.hosting.hosting_support import (
    FakeReadiness,
    World,
    make_world,
    publish_cname_setup,
    zone_for,
)

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.gate import TlsRptVerdict
from mailshield.core.hosting.model import HostingState, RecordStatus
from mailshield.core.hosting.removal import TXT_TTL_MARGIN
from mailshield.services.hosting_errors import EnforceBlocked, Refused
from mailshield.services.hosting_serving import HostedPolicies
from mailshield.storage import Database

D = "shop.test"
MX1, MX2 = "mx1.shop.test", "mx2.shop.test"


@pytest.fixture
def world(migrated: Database) -> World:
    """shop.test with one MX host, and a TLS-RPT verdict the tests can change."""
    return make_world(migrated, zone_for(D, MX1), readiness=FakeReadiness())


async def active(world: World) -> int:
    """Onboard shop.test, publish its records, verify; return the owner id."""
    me = await world.store.operator_account("operator@localhost")
    view = await world.service.add(me, D)
    publish_cname_setup(world.zone, D, view.policy.id)
    [verified] = await world.service.verify(me, D)
    assert verified.domain.state is HostingState.ACTIVE
    return me


async def served(world: World) -> str:
    body = await HostedPolicies(world.store).policy_for(f"mta-sts.{D}")
    assert body is not None
    return body.decode()


async def test_edit_serves_the_new_body_first_under_a_new_id(world: World) -> None:
    """A change is served at once; DNS still shows the old id, which is stale, not wrong."""
    me = await active(world)
    world.clock.advance(hours=1)
    change = await world.service.edit(me, D, max_age=1209600)
    assert change.changed
    assert change.current.id != change.previous.id
    assert "max_age: 1209600" in await served(world)
    [view] = await world.service.verify(me, D)
    assert view.domain.state is HostingState.ACTIVE
    txt = next(c for c in view.domain.checks if c.owner == f"_mta-sts.{D}")
    assert txt.status is RecordStatus.STALE
    assert f"publish id={change.current.id}" in txt.note
    assert not view.id_live


async def test_new_id_is_watched_until_live(world: World) -> None:
    """Once the customer publishes the new id the verifier records when it went live."""
    me = await active(world)
    world.clock.advance(hours=1)
    change = await world.service.edit(me, D, extra_mx=["backup.shop.test"])
    world.clock.advance(hours=1)
    publish_cname_setup(world.zone, D, change.current.id)
    [view] = await world.service.verify(me, D)
    assert view.id_live
    assert view.history[-1].txt_live_at == world.clock.now
    assert "id_live" in [e.kind for e in view.events]


async def test_unchanged_body_keeps_the_id(world: World) -> None:
    """An edit that changes nothing serves nothing new."""
    me = await active(world)
    change = await world.service.edit(me, D, max_age=604800)
    assert not change.changed


async def test_ids_are_never_reused(world: World) -> None:
    """Going back to an earlier body, even within the same second, gets a fresh id."""
    me = await active(world)
    for age in (86400, 604800, 86400, 604800):
        await world.service.edit(me, D, max_age=age)
    [view] = await world.service.status(me, D)
    ids = [v.id for v in view.history]
    assert len(ids) == 5
    assert len(set(ids)) == 5


async def test_enforce_allowed_when_every_mx_is_ready(world: World) -> None:
    """A covered MX with valid TLS passes the gate; the enforce body is served."""
    me = await active(world)
    world.checker.tls = {MX1: "starttls.ok"}
    result = await world.service.set_mode(me, D, "enforce")
    assert result.verdict is not None
    assert result.verdict.allowed
    assert not result.forced
    assert "mode: enforce" in await served(world)


@pytest.mark.parametrize(
    ("tls", "verdict", "reason"),
    [
        ({MX1: "starttls.cert_expired"}, None, "starttls.cert_expired on mx1.shop.test"),
        ({MX1: "starttls.ok", MX2: "starttls.ok"}, None, "mx2.shop.test matches no mx pattern"),
        ({MX1: "starttls.ok"}, TlsRptVerdict(False, ("no reports yet",)), "no reports yet"),
    ],
    ids=["expired-mx-certificate", "mx-not-in-policy", "tls-rpt-not-ready"],
)
async def test_enforce_refused_with_the_reason(
    world: World, tls: dict[str, str], verdict: TlsRptVerdict | None, reason: str
) -> None:
    """The gate refuses, says why and what --force risks, and serves nothing new."""
    me = await active(world)
    world.checker.tls = tls
    assert world.service.tlsrpt is not None
    world.service.tlsrpt.verdict = verdict  # type: ignore[attr-defined]
    with pytest.raises(EnforceBlocked) as blocked:
        await world.service.set_mode(me, D, "enforce")
    assert any(reason in p for p in blocked.value.problems), blocked.value.problems
    assert "refuse to deliver" in blocked.value.risk
    assert "mode: testing" in await served(world)
    [view] = await world.service.status(me, D)
    assert view.events[0].kind == "enforce_refused"


async def test_force_overrides_the_gate_and_says_the_risk(world: World) -> None:
    """--force moves to enforce anyway and reports what it risks."""
    me = await active(world)
    world.checker.tls = {MX1: "starttls.cert_expired"}
    result = await world.service.set_mode(me, D, "enforce", force=True)
    assert result.forced
    assert MX1 in result.risk
    assert "mode: enforce" in await served(world)


async def test_back_to_testing_needs_no_gate(world: World) -> None:
    """Relaxing to testing is always allowed (the emergency exit) and asks no checker."""
    me = await active(world)
    world.checker.tls = {MX1: "starttls.ok"}
    await world.service.set_mode(me, D, "enforce")
    world.checker.checked.clear()
    result = await world.service.set_mode(me, D, "testing")
    assert result.change.changed
    assert world.checker.checked == []


async def test_testing_policy_follows_the_mx_set(world: World) -> None:
    """In testing with mx_follow, a new MX host is added to the policy under a new id."""
    me = await active(world)
    world.zone[f"{D} MX"] = [f"10 {MX1}.", f"20 {MX2}."]
    world.clock.advance(hours=1)
    [view] = await world.service.verify(me, D)
    assert view.policy.spec.mx == (MX1, MX2)
    assert not view.domain.drift or not view.domain.drift.drifted
    assert {"mx_followed", "mx_changed"} <= {e.kind for e in view.events}
    assert f"mx: {MX2}" in await served(world)


async def test_enforce_policy_never_follows_silently(world: World) -> None:
    """In enforce, a new MX host raises one alert with the explanation; the policy stays."""
    me = await active(world)
    world.checker.tls = {MX1: "starttls.ok"}
    before = (await world.service.set_mode(me, D, "enforce")).change.current
    world.zone[f"{D} MX"] = [f"10 {MX1}.", f"20 {MX2}."]
    [view] = await world.service.verify(me, D)
    [again] = await world.service.verify(me, D)
    assert again.policy.id == before.id
    assert again.domain.drift is not None
    assert again.domain.drift.uncovered == (MX2,)
    alerts = [e for e in again.events if e.kind == "mx_drift"]
    assert len(alerts) == 1
    assert "refuse to deliver" in alerts[0].message
    assert view.domain.state is HostingState.ACTIVE


async def test_testing_without_follow_alerts(migrated: Database) -> None:
    """With mx_follow off, even a testing policy only alerts."""
    world = make_world(migrated, zone_for(D, MX1), mx_follow=False)
    me = await active(world)
    world.zone[f"{D} MX"] = [f"10 {MX2}."]
    [view] = await world.service.verify(me, D)
    assert view.policy.spec.mx == (MX1,)
    assert view.domain.drift is not None
    assert view.domain.drift.uncovered == (MX2,)
    assert view.domain.drift.unused == (MX1,)


async def test_removal_serves_none_then_says_when_records_may_go(world: World) -> None:
    """Removal serves mode none under a new id; the safe time follows the old max_age (§8.3)."""
    me = await active(world)
    world.clock.advance(days=2)
    removing = await world.service.remove(me, D)
    assert removing.domain.state is HostingState.REMOVING
    assert "mode: none" in await served(world)
    assert removing.removal is not None
    assert removing.removal.delete_after is None
    with pytest.raises(Refused, match="not yet safe"):
        await world.service.finish_removal(me, D)
    world.clock.advance(hours=1)
    publish_cname_setup(world.zone, D, removing.policy.id)
    [view] = await world.service.verify(me, D)
    expected = world.clock.now + timedelta(seconds=604800) + TXT_TTL_MARGIN
    assert view.removal is not None
    assert view.removal.delete_after == expected
    assert view.domain.delete_after == expected
    world.clock.now = expected - timedelta(seconds=1)
    with pytest.raises(Refused, match="not yet safe"):
        await world.service.finish_removal(me, D)
    world.clock.now = expected
    finished = await world.service.finish_removal(me, D)
    assert finished.domain.name == D
    assert await HostedPolicies(world.store).policy_for(f"mta-sts.{D}") is None
    assert await world.service.status(me) == []


async def test_removing_domain_refuses_changes(world: World) -> None:
    """While removing, the none policy cannot be edited, re-moded or removed again."""
    me = await active(world)
    await world.service.remove(me, D)
    for call in (
        world.service.edit(me, D, max_age=86400),
        world.service.set_mode(me, D, "enforce"),
        world.service.remove(me, D),
    ):
        with pytest.raises(Refused):
            await call


async def test_removal_keeps_verifying_without_following(world: World) -> None:
    """A removing domain keeps its none policy even when the MX set changes."""
    me = await active(world)
    removing = await world.service.remove(me, D)
    world.zone[f"{D} MX"] = [f"10 {MX2}."]
    [view] = await world.service.verify(me, D)
    assert view.policy.id == removing.policy.id
    assert view.policy.spec.mode is Mode.NONE
