"""Onboarding and verification through the hosting service, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.integration.hosting.hosting_support import (
    POLICY_HOST,
    World,
    make_world,
    publish_cname_setup,
    zone_for,
)
from tests.support.fake_dns import SERVFAIL

from mailshield.core.hosting.model import HostingState, RecordStatus
from mailshield.services.hosting_errors import AlreadyHosted, EnforceBlocked, NotHosted, Refused
from mailshield.storage import Database

D = "shop.test"


@pytest.fixture
def world(migrated: Database) -> World:
    """A service with shop.test's zone: two MX hosts, nothing for MTA-STS yet."""
    return make_world(migrated, zone_for(D, "mx1.shop.test", "mx2.shop.test"))


async def owner(world: World, email: str = "operator@localhost") -> int:
    return await world.store.operator_account(email)


async def test_add_proposes_from_the_live_mx_set(world: World) -> None:
    """A new domain serves a testing policy naming its MX hosts and lists the records to publish."""
    view = await world.service.add(await owner(world), "Shop.Test.")
    assert view.domain.name == D
    assert view.domain.state is HostingState.PENDING_DNS
    assert view.policy.spec.mx == ("mx1.shop.test", "mx2.shop.test")
    assert view.policy.spec.mode.value == "testing"
    lines = [r.zone_line() for r in view.records]
    assert lines == [
        f"mta-sts.{D}.\tIN\tCNAME\t{POLICY_HOST}.",
        f'_mta-sts.{D}.\tIN\tTXT\t"v=STSv1; id={view.policy.id}"',
        f'_smtp._tls.{D}.\tIN\tTXT\t"v=TLSRPTv1; rua=mailto:tlsrpt@mailshield.test"',
    ]
    assert [e.kind for e in view.events] == ["added"]


async def test_add_keeps_validated_extra_patterns(world: World) -> None:
    """Extra mx patterns are normalised, served, and remembered as the operator's own."""
    view = await world.service.add(
        await owner(world), D, extra_mx=["MX3.Shop.Test."], max_age=86400
    )
    assert view.policy.spec.mx[-1] == "mx3.shop.test"
    assert view.policy.spec.max_age == 86400
    assert view.domain.extra_mx == ("mx3.shop.test",)


@pytest.mark.parametrize(
    ("domain", "options", "problem"),
    [
        ("shop..test", {}, "not a valid domain name"),
        (D, {"max_age": 40_000_000}, "max_age must be between"),
        (D, {"extra_mx": ["m*x.shop.test"]}, "wildcard"),
        ("nomail.test", {}, "null MX"),
    ],
    ids=["invalid-name", "max-age-too-long", "bad-pattern", "null-mx"],
)
async def test_add_refuses_invalid_requests(
    world: World, domain: str, options: dict[str, object], problem: str
) -> None:
    """Invalid names and edits are refused with the reason, and nothing is stored."""
    world.zone["nomail.test MX"] = ["0 ."]
    with pytest.raises(Refused) as refused:
        await world.service.add(await owner(world), domain, **options)  # type: ignore[arg-type]
    assert problem in str(refused.value) + " ".join(refused.value.problems)
    assert await world.store.names() == []


async def test_a_name_is_hosted_once(world: World) -> None:
    """Neither the same account nor another may host a domain twice."""
    first = await owner(world)
    await world.service.add(first, D)
    with pytest.raises(AlreadyHosted, match="already hosted"):
        await world.service.add(first, D)
    with pytest.raises(AlreadyHosted, match="another account"):
        await world.service.add(await owner(world, "other@example.test"), D)


async def test_tenants_see_only_their_domains(world: World) -> None:
    """Every tenant call is scoped to the acting owner."""
    alice, bob = await owner(world, "alice@example.test"), await owner(world, "bob@example.test")
    await world.service.add(alice, D)
    assert await world.service.status(bob) == []
    for call in (
        world.service.status(bob, D),
        world.service.verify(bob, D),
        world.service.edit(bob, D, max_age=86400),
        world.service.set_mode(bob, D, "testing"),
        world.service.remove(bob, D),
    ):
        with pytest.raises(NotHosted):
            await call
    assert [v.domain.name for v in await world.service.status(alice)] == [D]


async def test_verify_moves_pending_to_active(world: World) -> None:
    """Nothing published is pending; the two records published make the domain active."""
    me = await owner(world)
    view = await world.service.add(me, D)
    [pending] = await world.service.verify(me, D)
    assert pending.domain.state is HostingState.PENDING_DNS
    assert {c.status for c in pending.domain.checks if c.required} == {RecordStatus.MISSING}
    publish_cname_setup(world.zone, D, view.policy.id)
    [active] = await world.service.verify(me, D)
    assert active.domain.state is HostingState.ACTIVE
    assert active.domain.points_here
    assert active.domain.live_id == view.policy.id
    assert active.history[-1].txt_live_at == world.clock.now
    assert active.serving


async def test_half_published_stays_pending(world: World) -> None:
    """The CNAME without the TXT yet is progress, not a misconfiguration."""
    me = await owner(world)
    await world.service.add(me, D)
    world.zone[f"mta-sts.{D} CNAME"] = [POLICY_HOST]
    [view] = await world.service.verify(me, D)
    assert view.domain.state is HostingState.PENDING_DNS
    assert view.domain.points_here


async def test_wrong_record_says_what_it_sees(world: World) -> None:
    """A CNAME to another host makes the domain misconfigured, naming what DNS shows."""
    me = await owner(world)
    await world.service.add(me, D)
    world.zone[f"mta-sts.{D} CNAME"] = ["web.elsewhere.test"]
    world.zone["web.elsewhere.test A"] = ["192.0.2.1"]
    [view] = await world.service.verify(me, D)
    assert view.domain.state is HostingState.MISCONFIGURED
    check = next(c for c in view.domain.checks if c.owner == f"mta-sts.{D}")
    assert check.status is RecordStatus.WRONG
    assert "web.elsewhere.test" in check.seen
    assert "pending_dns -> misconfigured" in view.events[0].message


async def test_failed_lookups_change_nothing(world: World) -> None:
    """A resolver failure is no evidence: an active domain stays active."""
    me = await owner(world)
    view = await world.service.add(me, D)
    publish_cname_setup(world.zone, D, view.policy.id)
    await world.service.verify(me, D)
    world.zone[f"mta-sts.{D} CNAME"] = SERVFAIL
    world.zone[f"_mta-sts.{D} TXT"] = SERVFAIL
    [after] = await world.service.verify(me, D)
    assert after.domain.state is HostingState.ACTIVE
    assert after.domain.points_here


async def test_records_gone_after_active_is_misconfigured(world: World) -> None:
    """Once active, a vanished TXT record is a misconfiguration, still served to senders."""
    me = await owner(world)
    view = await world.service.add(me, D)
    publish_cname_setup(world.zone, D, view.policy.id)
    await world.service.verify(me, D)
    del world.zone[f"_mta-sts.{D} TXT"]
    [after] = await world.service.verify(me, D)
    assert after.domain.state is HostingState.MISCONFIGURED
    assert after.serving


async def test_verify_all_covers_every_account(world: World) -> None:
    """The scheduler's run verifies every hosted domain of every account."""
    world.zone.update(zone_for("other.test", "mx.other.test"))
    await world.service.add(await owner(world, "a@x.test"), D)
    await world.service.add(await owner(world, "b@x.test"), "other.test")
    verified = await world.service.verify_all()
    assert sorted(d.name for d in verified) == ["other.test", D]
    assert all(d.verified_at == world.clock.now for d in verified)


async def test_add_in_enforce_passes_the_gate(world: World) -> None:
    """Adding straight into enforce asks the live checker; ready MX hosts let it through."""
    world.checker.tls = {"mx1.shop.test": "starttls.ok", "mx2.shop.test": "starttls.ok"}
    view = await world.service.add(await owner(world), D, mode="enforce")
    assert view.policy.spec.mode.value == "enforce"
    assert world.checker.checked == [D]


async def test_add_in_enforce_is_refused_when_an_mx_is_not_ready(world: World) -> None:
    """An MX without STARTTLS blocks enforce at onboarding; nothing is hosted unless forced."""
    world.checker.tls = {"mx1.shop.test": "starttls.ok", "mx2.shop.test": "starttls.not_offered"}
    me = await owner(world)
    with pytest.raises(EnforceBlocked) as blocked:
        await world.service.add(me, D, mode="enforce")
    assert "mx2.shop.test" in blocked.value.risk
    assert await world.store.names() == []
    forced = await world.service.add(me, D, mode="enforce", force=True)
    assert forced.policy.spec.mode.value == "enforce"
