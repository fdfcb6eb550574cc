"""RFC 2136 with TSIG against Knot: the updater's outcomes and the delegated setup end to end."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.support.lab import require_binary

from mailshield.core.hosting.model import HostingState, Setup, UpdateOutcome
from mailshield.core.hosting.rollout import BODY_FIRST_DELAY
from mailshield.lab.endpoint import free_port, loopback
from mailshield.lab.knot import Knot, KnotZone, TsigKey, UpdateAccess
from mailshield.probes.dns import DnsClient
from mailshield.probes.dns_update import DnsUpdater, TsigCredentials
from mailshield.services.hosting import HostingService
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_serving import HostedPolicies
from mailshield.storage import Database
from mailshield.storage.hosting import HostingStore

pytestmark = pytest.mark.lab

HOST = "127.0.0.1"
ZONE = "sts.test"  # the operator's delegation zone, updated by MailShield
POLICY_HOST = "mta-sts.policy.test"
D = "shop.test"
TARGET = f"{D}.{ZONE}"


def zone_text(extra: str = "") -> str:
    return f"$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A {HOST}\n{extra}"


ZONES = (
    KnotZone(ZONE, zone_text()),
    KnotZone("closed.test", zone_text(), updates=UpdateAccess.NONE),
    KnotZone(D, zone_text("@ MX 10 mx\nmx A 127.0.0.25\n"), updates=UpdateAccess.NONE),
    KnotZone("policy.test", zone_text("mta-sts A 127.0.0.80\n"), updates=UpdateAccess.NONE),
)


@pytest.fixture(scope="module")
def knot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Knot]:
    """Knot serving the customer zone, our policy host zone and the delegation zone."""
    require_binary("knotd")
    with Knot(ZONES, listen=loopback(HOST), workdir=tmp_path_factory.mktemp("knot")) as server:
        yield server


def credentials(key: TsigKey) -> TsigCredentials:
    return TsigCredentials(key.name, key.secret, key.algorithm)


def updater(knot: Knot, zone: str = ZONE, key: TsigKey | None = None) -> DnsUpdater:
    return DnsUpdater(knot.listen.colon(), zone, credentials(key or knot.tsig_key), timeout=5)


async def txt(knot: Knot, name: str) -> list[bytes]:
    """The TXT records Knot serves at ``name`` (a fresh client: nothing cached)."""
    answer = await DnsClient([knot.listen.colon()], timeout=2).query(name, "TXT")
    return sorted(answer.txt())


async def test_replace_then_delete(knot: Knot) -> None:
    """A replacement leaves exactly the new record; deletion leaves none."""
    owner = f"replace.{ZONE}"
    dns_update = updater(knot)
    assert (await dns_update.replace_txt(owner, "v=STSv1; id=one", 60)).ok
    assert (await dns_update.replace_txt(owner, "v=STSv1; id=two", 60)).ok
    assert await txt(knot, owner) == [b"v=STSv1; id=two"]
    assert (await dns_update.delete_txt(owner)).ok
    assert await txt(knot, owner) == []


async def test_long_text_is_split_into_strings(knot: Knot) -> None:
    """A value over 255 octets is written as several strings that join back exactly."""
    owner = f"long.{ZONE}"
    text = "v=STSv1; id=x; note=" + "a" * 400
    assert (await updater(knot).replace_txt(owner, text, 60)).ok
    assert await txt(knot, owner) == [text.encode()]


def wrong_secret(knot: Knot) -> TsigKey:
    return TsigKey(knot.tsig_key.name, base64.b64encode(b"x" * 32).decode())


@pytest.mark.parametrize(
    ("zone", "key", "outcome"),
    [
        (ZONE, "wrong-secret", UpdateOutcome.BAD_SIGNATURE),
        (ZONE, "unknown-key", UpdateOutcome.BAD_KEY),
        ("closed.test", "server", UpdateOutcome.BAD_KEY),
        ("elsewhere.test", "server", UpdateOutcome.NOT_AUTHORISED),
    ],
    ids=["wrong-secret", "unknown-key", "zone-closed-to-updates", "zone-not-served"],
)
async def test_refused_updates_become_outcomes(
    knot: Knot, zone: str, key: str, outcome: UpdateOutcome
) -> None:
    """TSIG and zone errors are outcomes with a detail, never exceptions; nothing is written."""
    keys = {
        "server": knot.tsig_key,
        "wrong-secret": wrong_secret(knot),
        "unknown-key": TsigKey.generate("stranger."),
    }
    owner = f"refused.{zone}"
    result = await updater(knot, zone, keys[key]).replace_txt(owner, "v=STSv1; id=x", 60)
    assert result.outcome is outcome
    assert result.detail
    assert await txt(knot, owner) == []


async def test_unreachable_server_is_an_error_outcome() -> None:
    """Nothing listening is an error outcome naming the server."""
    port = free_port(HOST)
    dns_update = DnsUpdater(f"{HOST}:{port}", ZONE, TsigCredentials("k.", "c2VjcmV0"), timeout=2)
    result = await dns_update.replace_txt(f"x.{ZONE}", "v=STSv1; id=x", 60)
    assert result.outcome is UpdateOutcome.ERROR
    assert f"{HOST}:{port}" in result.detail


def test_owner_outside_the_zone_is_refused_before_sending(knot: Knot) -> None:
    """An owner name outside the zone is a programming error, caught locally."""
    with pytest.raises(ValueError, match="not inside the zone"):
        updater(knot)._owner("shop.test")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def test_delegated_setup_against_knot(knot: Knot, migrated: Database) -> None:
    """Onboard, verify, rotate and remove a delegated domain, every id written by RFC 2136 only
    once its body has been served for the body-first delay (RFC 8461 §8.1)."""
    clock = Clock()
    store = HostingStore(migrated)
    config = HostingConfig(policy_host=POLICY_HOST, delegation_zone=ZONE)
    service = HostingService(
        store,
        lambda: DnsClient([knot.listen.colon()], timeout=2),
        config,
        publisher=updater(knot),
        clock=clock,
    )
    me = await service.operator_account()
    view = await service.add(me, D, setup=Setup.DELEGATED)
    assert await txt(knot, TARGET) == []  # body first: the id waits

    # The customer publishes the two CNAMEs printed by add; the verifier writes the id when due.
    knot.set_rrset(D, "mta-sts", "CNAME", [f"{POLICY_HOST}."])
    knot.set_rrset(D, "_mta-sts", "CNAME", [f"{TARGET}."])
    clock.advance(BODY_FIRST_DELAY)
    await service.verify(me, D)
    assert await txt(knot, TARGET) == [f"v=STSv1; id={view.policy.id}".encode()]
    [active] = await service.verify(me, D)
    assert active.domain.state is HostingState.ACTIVE
    assert active.id_live
    assert await HostedPolicies(store).refusal(f"mta-sts.{D}") is None

    clock.advance(timedelta(hours=1))
    change = await service.edit(me, D, max_age=1209600)
    assert await txt(knot, TARGET) == [f"v=STSv1; id={view.policy.id}".encode()]
    clock.advance(BODY_FIRST_DELAY)
    await service.verify(me, D)
    assert await txt(knot, TARGET) == [f"v=STSv1; id={change.current.id}".encode()]
    [rotated] = await service.verify(me, D)
    assert rotated.id_live

    clock.advance(timedelta(hours=1))
    removing = await service.remove(me, D)
    clock.advance(BODY_FIRST_DELAY)
    await service.verify(me, D)
    assert await txt(knot, TARGET) == [f"v=STSv1; id={removing.policy.id}".encode()]
    [verified] = await service.verify(me, D)
    assert verified.removal is not None
    assert verified.removal.delete_after is not None
    await service.finish_removal(me, D, force=True)
    assert await txt(knot, TARGET) == []
