"""The hosting verifier: resolve a hosted domain's records, keep its state, guard its MX set.

One run for one domain, all lookups concurrent:

1. resolve ``mta-sts.<d>`` (A, AAAA), ``_mta-sts.<d>`` TXT (CNAMEs followed as senders do), the
   delegated target's TXT, ``_smtp._tls.<d>`` TXT and the MX set;
2. judge the records (:mod:`mailshield.core.hosting.verify`) and move the state
   (:mod:`mailshield.core.hosting.state`); note when a policy id is first seen live;
3. apply the MX drift guard (:mod:`mailshield.core.hosting.drift`): follow in testing when
   configured, otherwise record an alert once per change;
4. write a due delegated id (body first, then id) and, while removing, the safe deletion time.

The scheduler and ``mailshield domains verify`` call the same :meth:`HostingVerifier.verify`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailshield.core.evaluate.mx import MxSet, mx_set
from mailshield.core.hosting.drift import (
    DriftAction,
    drift_action,
    explain_drift,
    followed_patterns,
    mx_drift,
)
from mailshield.core.hosting.model import (
    HostedDomain,
    HostingEvent,
    HostingState,
    MxDrift,
    PolicySpec,
    PolicyVersion,
    RecordCheck,
    RecordStatus,
    Setup,
)
from mailshield.core.hosting.proposal import live_mx_names
from mailshield.core.hosting.removal import safe_deletion_time
from mailshield.core.hosting.state import after_verification
from mailshield.core.hosting.verify import Expectation, Observation, Verification, verify_records
from mailshield.core.model import JSONValue
from mailshield.core.observations import DnsAnswer
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_rollout import Rollout
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.transport import lookup_mx
from mailshield.storage.hosting import HostingStore, Verified

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class _Gathered:
    observation: Observation
    mx: MxSet


@dataclass(slots=True)
class HostingVerifier:
    """Verifies hosted domains; a fresh DNS client per run, so nothing is cached between runs."""

    store: HostingStore
    dns: Callable[[], DnsLookup]
    config: HostingConfig
    rollout: Rollout
    clock: Clock

    async def verify(self, domain: HostedDomain) -> HostedDomain:
        """Verify ``domain`` now and return it as stored afterwards."""
        now = self.clock()
        history = await self.store.history(domain.id)
        gathered = await self._gather(domain)
        verification = verify_records(self._expectation(domain, history), gathered.observation)
        await self._note_live_id(domain, history, verification.live_id, now)
        state = after_verification(
            domain.state, verification.checks, ever_active=domain.activated_at is not None
        )
        drift, drift_events = await self._guard_mx(domain, history[-1], gathered.mx, now)
        events = [*_state_events(domain, state, verification.checks, now), *drift_events]
        await self.store.save_verification(
            domain.id, _verified(domain, state, verification, drift, now), events
        )
        refreshed = await self._refreshed(domain)
        await self.rollout.publish_due(refreshed, now)
        if refreshed.state is HostingState.REMOVING:
            await self._removal_time(refreshed)
        return await self._refreshed(domain)

    async def verify_all(self, names: Sequence[str] | None = None) -> list[HostedDomain]:
        """Verify every hosted domain (or those in ``names``), one after another."""
        results = []
        for domain in await self.store.hosted():
            if names is None or domain.name in names:
                results.append(await self.verify(domain))
        return results

    # -- steps -------------------------------------------------------------------------------
    async def _gather(self, domain: HostedDomain) -> _Gathered:
        dns = self.dns()
        name = domain.name
        target = domain.delegation_target if domain.setup is Setup.DELEGATED else None
        rua = self.config.tlsrpt_rua
        host_a, host_aaaa, sts, target_txt, tlsrpt, mx = await asyncio.gather(
            dns.query(f"mta-sts.{name}", "A"),
            dns.query(f"mta-sts.{name}", "AAAA"),
            dns.query(f"_mta-sts.{name}", "TXT"),
            _maybe(dns, target, "TXT"),
            _maybe(dns, f"_smtp._tls.{name}" if rua else None, "TXT"),
            lookup_mx(dns, name),
        )
        observation = Observation(host_a, host_aaaa, sts, target_txt, tlsrpt)
        return _Gathered(observation, mx_set(mx))

    def _expectation(self, domain: HostedDomain, history: Sequence[PolicyVersion]) -> Expectation:
        return Expectation(
            domain=domain.name,
            setup=domain.setup,
            current_id=history[-1].id,
            earlier_ids=frozenset(v.id for v in history[:-1]),
            policy_host=self.config.policy_host,
            policy_addresses=self.config.policy_addresses,
            target=domain.delegation_target,
            tlsrpt_rua=self.config.tlsrpt_rua,
        )

    async def _note_live_id(
        self,
        domain: HostedDomain,
        history: Sequence[PolicyVersion],
        live_id: str | None,
        now: datetime,
    ) -> None:
        """Record when an id of ours is first seen in DNS (removal timing needs it)."""
        version = next((v for v in history if v.id == live_id), None)
        if version is None or version.txt_live_at is not None:
            return
        await self.store.mark_txt(domain.id, version.id, live_at=now)
        message = f"the TXT id={version.id} is live: senders now fetch this policy"
        await self.store.add_event(
            domain.id, HostingEvent(now, "id_live", message, {"policy_id": version.id})
        )

    async def _guard_mx(
        self, domain: HostedDomain, current: PolicyVersion, mxset: MxSet, now: datetime
    ) -> tuple[MxDrift | None, list[HostingEvent]]:
        """The drift flag to store, following the MX set or alerting as the mode requires."""
        if not mxset.known or mxset.null_mx or domain.state is HostingState.REMOVING:
            return domain.drift, []
        live = live_mx_names(domain.name, mxset)
        drift = mx_drift(current.spec.mx, live, domain.extra_mx)
        events = _mx_changed(domain.drift, drift, now)
        action = drift_action(current.spec.mode, drift, mx_follow=self.config.mx_follow)
        if action is DriftAction.FOLLOW:
            await self._follow(domain, current, live, now)
            return mx_drift(followed_patterns(live, domain.extra_mx), live, domain.extra_mx), events
        if action is DriftAction.ALERT and _drift_key(domain.drift) != _drift_key(drift):
            message = explain_drift(drift, current.spec.mode)
            events.append(HostingEvent(now, "mx_drift", message, drift.to_dict()))
        return drift, events

    async def _follow(
        self, domain: HostedDomain, current: PolicyVersion, live: Sequence[str], now: datetime
    ) -> None:
        spec = PolicySpec(
            current.spec.mode, current.spec.max_age, followed_patterns(live, domain.extra_mx)
        )
        if spec.body() == current.spec.body():
            return
        message = "the testing policy follows the MX set (mx_follow): " + ", ".join(spec.mx)
        await self.rollout.serve(domain, spec, now, ("mx_followed", message))

    async def _removal_time(self, domain: HostedDomain) -> None:
        timing = safe_deletion_time(await self.store.history(domain.id))
        if timing.delete_after != domain.delete_after:
            await self.store.set_delete_after(domain.id, timing.delete_after)

    async def _refreshed(self, domain: HostedDomain) -> HostedDomain:
        found = await self.store.find(domain.name)
        assert found is not None, f"{domain.name} vanished during verification"
        return found


async def _maybe(dns: DnsLookup, name: str | None, rdtype: str) -> DnsAnswer | None:
    return None if name is None else await dns.query(name, rdtype)


def _verified(
    domain: HostedDomain,
    state: HostingState,
    verification: Verification,
    drift: MxDrift | None,
    now: datetime,
) -> Verified:
    points = domain.points_here if verification.points_here is None else verification.points_here
    activated = domain.activated_at or (now if state is HostingState.ACTIVE else None)
    return Verified(
        state=state,
        checks=verification.checks,
        points_here=points,
        live_id=verification.live_id,
        verified_at=now,
        activated_at=activated,
        drift=drift,
    )


def _state_events(
    domain: HostedDomain, state: HostingState, checks: Sequence[RecordCheck], now: datetime
) -> list[HostingEvent]:
    if state is domain.state:
        return []
    wrong = [
        c for c in checks if c.required and c.status not in (RecordStatus.OK, RecordStatus.STALE)
    ]
    why = "; ".join(f"{c.label}: {c.status.value}, sees {c.seen}" for c in wrong)
    message = f"{domain.state.value} -> {state.value}" + (f" ({why})" if why else "")
    detail: dict[str, JSONValue] = {"from": domain.state.value, "to": state.value}
    return [HostingEvent(now, "state", message, detail)]


def _mx_changed(previous: MxDrift | None, drift: MxDrift, now: datetime) -> list[HostingEvent]:
    if previous is None or set(previous.live) == set(drift.live):
        return []
    message = f"the MX set changed: {', '.join(previous.live) or '-'} -> {', '.join(drift.live)}"
    detail: dict[str, JSONValue] = {"before": list(previous.live), "after": list(drift.live)}
    return [HostingEvent(now, "mx_changed", message, detail)]


def _drift_key(drift: MxDrift | None) -> tuple[frozenset[str], frozenset[str]]:
    if drift is None:
        return frozenset(), frozenset()
    return frozenset(drift.uncovered), frozenset(drift.unused)
