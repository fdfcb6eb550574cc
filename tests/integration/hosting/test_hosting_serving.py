"""The policy server's questions (PolicySource, IssuanceGate, HostedNames) and delegated ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.integration.hosting.hosting_support import (
    POLICY_HOST,
    World,
    make_world,
    publish_cname_setup,
    zone_for,
)

from mailshield.core.hosting.model import HostingState, Setup, UpdateOutcome
from mailshield.services.hosting_errors import NotConfigured
from mailshield.services.hosting_serving import HostedPolicies
from mailshield.storage import Database

D = "shop.test"
TARGET = "shop.test.sts.mailshield.test"


@pytest.fixture
def world(migrated: Database) -> World:
    return make_world(migrated, zone_for(D, "mx.shop.test"))


async def operator(world: World) -> int:
    return await world.store.operator_account("operator@localhost")


async def test_nothing_is_served_before_control_is_shown(world: World) -> None:
    """A pending domain gets no policy and no certificate; its name is listed for the manager."""
    await world.service.add(await operator(world), D)
    hosted = HostedPolicies(world.store)
    assert await hosted.policy_for(f"mta-sts.{D}") is None
    assert (
        await hosted.refusal(f"mta-sts.{D}")
        == f"mta-sts.{D} does not point at this service (as last verified)"
    )
    assert await hosted.policy_hosts() == [f"mta-sts.{D}"]


async def test_certificate_allowed_once_the_cname_points_here(world: World) -> None:
    """The gate opens when the verifier saw the CNAME, before the TXT exists (body first)."""
    me = await operator(world)
    await world.service.add(me, D)
    world.zone[f"mta-sts.{D} CNAME"] = [POLICY_HOST]
    await world.service.verify(me, D)
    hosted = HostedPolicies(world.store)
    assert await hosted.refusal(f"MTA-STS.{D}.") is None
    assert await hosted.policy_for(f"mta-sts.{D}") is None  # still pending: not served


async def test_active_domain_is_served_with_any_host_spelling(world: World) -> None:
    """SNI or Host in any case, with a port or a trailing dot, finds the canonical body."""
    me = await operator(world)
    view = await world.service.add(me, D)
    publish_cname_setup(world.zone, D, view.policy.id)
    await world.service.verify(me, D)
    hosted = HostedPolicies(world.store)
    for host in (f"mta-sts.{D}", "MTA-STS.Shop.Test.", f"mta-sts.{D}:443"):
        body = await hosted.policy_for(host)
        assert body == view.policy.spec.body().encode()
    assert body is not None
    assert body.endswith(b"\r\n")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("mta-sts.unknown.test", "unknown.test is not onboarded"),
        ("www.shop.test", "is not a policy host name"),
        ("127.0.0.1", "is not a policy host name"),
        ("mta-sts.", "is not a policy host name"),
    ],
    ids=["not-onboarded", "not-a-policy-host", "ip-literal", "bare-prefix"],
)
async def test_refusals_say_why(world: World, name: str, reason: str) -> None:
    """Names that are not onboarded policy hosts are refused, with the reason."""
    refusal = await HostedPolicies(world.store).refusal(name)
    assert refusal is not None
    assert reason in refusal
    assert await HostedPolicies(world.store).policy_for(name) is None


async def test_delegated_setup_writes_and_rotates_the_id(world: World) -> None:
    """In the delegated setup MailShield writes the TXT at the target and rotates it on change."""
    me = await operator(world)
    view = await world.service.add(me, D, setup=Setup.DELEGATED)
    assert world.publisher.writes == [(TARGET, f"v=STSv1; id={view.policy.id}")]
    assert [r.zone_line() for r in view.records][:2] == [
        f"mta-sts.{D}.\tIN\tCNAME\t{POLICY_HOST}.",
        f"_mta-sts.{D}.\tIN\tCNAME\t{TARGET}.",
    ]
    world.zone[f"mta-sts.{D} CNAME"] = [POLICY_HOST]
    world.zone[f"_mta-sts.{D} CNAME"] = [TARGET]
    [verified] = await world.service.verify(me, D)
    assert verified.domain.state is HostingState.ACTIVE
    assert verified.id_live
    change = await world.service.edit(me, D, max_age=86400)
    assert world.publisher.writes[-1] == (TARGET, f"v=STSv1; id={change.current.id}")
    [after] = await world.service.verify(me, D)
    assert after.id_live


async def test_delegated_id_waits_until_the_body_has_spread(migrated: Database) -> None:
    """With a body-first delay the new id is written only by a verification after the delay."""
    world = make_world(migrated, zone_for(D, "mx.shop.test"), delay=timedelta(minutes=2))
    me = await operator(world)
    view = await world.service.add(me, D, setup=Setup.DELEGATED)
    assert world.publisher.writes == []
    assert view.id_publish_after == world.clock.now + timedelta(minutes=2)
    world.clock.advance(seconds=119)
    await world.service.verify(me, D)
    assert world.publisher.writes == []
    world.clock.advance(seconds=1)
    await world.service.verify(me, D)
    assert world.publisher.writes == [(TARGET, f"v=STSv1; id={view.policy.id}")]


async def test_failed_update_is_recorded_and_retried(world: World) -> None:
    """A refused RFC 2136 update leaves an event and is tried again at the next verification."""
    me = await operator(world)
    world.publisher.outcome = UpdateOutcome.BAD_KEY
    await world.service.add(me, D, setup=Setup.DELEGATED)
    [view] = await world.service.status(me, D)
    assert view.events[0].kind == "txt_failed"
    world.publisher.outcome = UpdateOutcome.OK
    await world.service.verify(me, D)
    assert len(world.publisher.writes) == 1


async def test_delegated_setup_needs_a_publisher(migrated: Database) -> None:
    """Without a delegation zone or an update server the delegated setup is refused up front."""
    world = make_world(migrated, zone_for(D, "mx.shop.test"), with_publisher=False)
    with pytest.raises(NotConfigured, match="dns_update_server"):
        await world.service.add(await operator(world), D, setup=Setup.DELEGATED)


async def test_missing_policy_host_setting_is_refused(migrated: Database) -> None:
    """No policy host name and no addresses: nothing can be onboarded."""
    world = make_world(migrated, zone_for(D, "mx.shop.test"), policy_host="")
    with pytest.raises(NotConfigured, match="policy_host"):
        await world.service.add(await operator(world), D)


async def test_address_setup_points_here_by_address(migrated: Database) -> None:
    """With policy addresses instead of a name, A records pointing at them satisfy the gate."""
    world = make_world(
        migrated, zone_for(D, "mx.shop.test"), policy_host="", addresses=["127.0.0.80"]
    )
    me = await operator(world)
    view = await world.service.add(me, D)
    assert view.records[0].zone_line() == f"mta-sts.{D}.\tIN\tA\t127.0.0.80"
    world.zone[f"mta-sts.{D} A"] = ["127.0.0.80"]
    await world.service.verify(me, D)
    assert await HostedPolicies(world.store).refusal(f"mta-sts.{D}") is None
