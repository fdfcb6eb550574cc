"""The certificate manager against a scripted issuer, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest
from tests.support.hosting_fakes import FakeHosting

from mailshield.lab.ca import LabCA
from mailshield.services.certificates import CertificateManager, ManagerOptions
from mailshield.services.certificates_acme import ChallengeBoard, IssuanceFailed, Issued
from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore, OrderState

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
A = "mta-sts.a.example"
B = "mta-sts.b.example"


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class ScriptedIssuer:
    """Issues lab certificates valid 90 days from the clock; fails for names in ``failing``.

    Each order publishes one token, so tests can see the board is used and cleaned up.
    """

    def __init__(self, clock: Clock, store: CertificateStore) -> None:
        self.ca = LabCA(now=T0)
        self.clock = clock
        self.store = store
        self.failing: set[str] = set()
        self.orders: list[str] = []
        self.tokens_seen: list[str | None] = []
        self.gate: asyncio.Event | None = None
        self.on_order: Callable[[], None] = lambda: None

    async def issue(self, name: str, board: ChallengeBoard) -> Issued:
        self.orders.append(name)
        self.on_order()
        token = f"token-{name}-{len(self.orders)}"
        await board.publish(token, name, "key-authorization")
        self.tokens_seen.append(await self.store.challenge(token, self.clock()))
        if self.gate is not None:
            await self.gate.wait()
        await board.withdraw([token])
        if name in self.failing:
            raise IssuanceFailed("validation failed: connection refused")
        start = self.clock()
        cert = self.ca.issue(name, not_before=start, not_after=start + dt.timedelta(days=90))
        return Issued(cert.fullchain_pem, cert.key_pem, start, start + dt.timedelta(days=90))


@pytest.fixture
def clock() -> Clock:
    """A clock standing at T0 until moved."""
    return Clock()


@pytest.fixture
def hosting() -> FakeHosting:
    """Two hosted names and one that is onboarding but refused by the gate."""
    fake = FakeHosting()
    fake.host(A)
    fake.host(B)
    fake.onboarding.add("mta-sts.c.example")
    fake.refusals["mta-sts.c.example"] = "mta-sts CNAME points elsewhere"
    return fake


@pytest.fixture
def issuer(clock: Clock, store: CertificateStore) -> ScriptedIssuer:
    """The scripted issuer."""
    return ScriptedIssuer(clock, store)


def manager(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> CertificateManager:
    """A manager with the default options and the test clock."""
    return CertificateManager(store, hosting, hosting, issuer, clock=clock)


async def test_first_run_issues_for_allowed_names_only(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> None:
    """Allowed names get certificates; the refused one gets no order and its reason is kept."""
    summary = await manager(store, hosting, issuer, clock).run_once()
    assert sorted(summary.issued) == [A, B]
    assert summary.refused == {"mta-sts.c.example": "mta-sts CNAME points elsewhere"}
    assert sorted(issuer.orders) == [A, B]
    assert sorted(await store.versions()) == [A, B]
    assert issuer.tokens_seen == ["key-authorization", "key-authorization"]
    stored = await store.certificate(A)
    assert stored is not None
    assert stored.renew_at == T0 + dt.timedelta(days=60)


async def test_nothing_is_ordered_until_renewal_is_due(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> None:
    """A second run orders nothing; past 2/3 of the lifetime the certificates are renewed."""
    runner = manager(store, hosting, issuer, clock)
    await runner.run_once()
    clock.now = T0 + dt.timedelta(days=59)
    assert (await runner.run_once()).ordered == []
    clock.now = T0 + dt.timedelta(days=60, minutes=1)
    summary = await runner.run_once()
    assert sorted(summary.renewed) == [A, B]
    assert await store.versions() == {A: 2, B: 2}


async def test_gate_is_asked_before_renewal_too(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> None:
    """A name the gate refuses by renewal time is not renewed."""
    runner = manager(store, hosting, issuer, clock)
    await runner.run_once()
    hosting.refusals[A] = "domain removed"
    clock.now = T0 + dt.timedelta(days=61)
    summary = await runner.run_once()
    assert summary.renewed == [B]
    assert summary.refused[A] == "domain removed"


async def test_failure_backs_off_exponentially(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> None:
    """After a failed order the name waits 15 min, then 30 min, before the next order."""
    issuer.failing.add(A)
    runner = manager(store, hosting, issuer, clock)
    first = await runner.run_once()
    assert A in first.failed
    assert (await runner.run_once()).waiting == [A]
    clock.now = T0 + dt.timedelta(minutes=15)
    assert A in (await runner.run_once()).failed
    clock.now = T0 + dt.timedelta(minutes=44)
    assert (await runner.run_once()).waiting == [A]
    state = await store.order_state(A)
    assert state is not None
    assert (state.failures, state.next_attempt_at) == (2, T0 + dt.timedelta(minutes=45))
    assert state.last_error == "validation failed: connection refused"
    issuer.failing.clear()
    clock.now = T0 + dt.timedelta(minutes=45)
    assert (await runner.run_once()).issued == [A]
    assert issuer.orders.count(A) == 3
    state = await store.order_state(A)
    assert state is not None
    assert (state.failures, state.next_attempt_at) == (0, None)


async def test_two_managers_on_one_database_order_once(
    database: Database, hosting: FakeHosting, clock: Clock
) -> None:
    """Two managers (two replicas) running at once place one order per name between them."""
    first_store, second_store = CertificateStore(database), CertificateStore(database)
    first, second = ScriptedIssuer(clock, first_store), ScriptedIssuer(clock, second_store)
    release = asyncio.Event()
    first.gate = second.gate = release
    managers = [
        CertificateManager(s, hosting, hosting, i, clock=clock, owner=f"replica-{n}")
        for n, (s, i) in enumerate(((first_store, first), (second_store, second)))
    ]
    in_flight = asyncio.Event()

    def count() -> None:
        if len(first.orders) + len(second.orders) >= 2:  # both names ordered, each somewhere
            in_flight.set()

    first.on_order = second.on_order = count
    runs = [asyncio.create_task(m.run_once()) for m in managers]
    await in_flight.wait()
    release.set()
    summaries = await asyncio.gather(*runs)
    assert sorted(first.orders + second.orders) == [A, B]
    busy = summaries[0].busy + summaries[1].busy
    # At least one replica met the other's lease; whether the second name was still leased when
    # the first replica reached it depends on scheduling, so only the orders are exact.
    assert busy
    assert set(busy) <= {A, B}
    assert await first_store.versions() == {A: 1, B: 1}


async def test_a_run_after_another_replica_issued_orders_nothing(
    database: Database, hosting: FakeHosting, clock: Clock
) -> None:
    """A manager whose snapshot is stale re-checks under the lease and does not order again."""
    store = CertificateStore(database)
    one, two = ScriptedIssuer(clock, store), ScriptedIssuer(clock, store)
    await CertificateManager(store, hosting, hosting, one, clock=clock, owner="one").run_once()
    other = CertificateManager(store, hosting, hosting, two, clock=clock, owner="two")
    assert (await other._recheck(A, await _state(store, A), clock.now)).value == "nothing"
    assert (await other.run_once()).ordered == []
    assert two.orders == []


async def _state(store: CertificateStore, name: str) -> OrderState:
    state = await store.order_state(name)
    assert state is not None
    return state


async def test_expired_tokens_are_purged_each_run(
    store: CertificateStore, hosting: FakeHosting, issuer: ScriptedIssuer, clock: Clock
) -> None:
    """Tokens left by a crashed order are deleted once expired."""
    await store.put_challenge("left-over", A, "x", T0 - dt.timedelta(minutes=1))
    options = ManagerOptions(concurrency=1)
    await CertificateManager(
        store, hosting, hosting, issuer, clock=clock, options=options
    ).run_once()
    assert await store.purge_expired_challenges(T0) == 0
