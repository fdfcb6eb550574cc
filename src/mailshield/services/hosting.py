"""Hosted MTA-STS: onboarding, status, policy changes, safe mode changes and safe removal.

Every tenant call takes the acting owner's user id and only ever sees that owner's domains
(the dashboard passes the logged-in user; the CLI the operator account). The rules live in
:mod:`mailshield.core.hosting`; this module gathers what they need, stores what they decide, and
hands back views for the interfaces to render.

- :meth:`HostingService.add`: propose a policy from the live MX set (validated), serve it, and
  return the records to publish (two-record or delegated setup, RFC 8461 §8.2).
- :meth:`HostingService.edit`: a new body under a new id, served first (§8.1).
- :meth:`HostingService.set_mode`: ``testing → enforce`` only through the gate (§5), or forced.
- :meth:`HostingService.remove` / :meth:`HostingService.finish_removal`: ``mode: none``, then
  deletion once the old policies expired (§8.3).
- :meth:`HostingService.verify` / :meth:`HostingService.verify_all`: the verifier, also what the
  scheduler calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.evaluate.mx import mx_set
from mailshield.core.hosting.gate import EnforceVerdict, enforce_verdict, force_risk
from mailshield.core.hosting.ids import new_policy_id
from mailshield.core.hosting.model import (
    HostedDomain,
    HostingEvent,
    HostingState,
    PolicySpec,
    PolicyVersion,
    Setup,
)
from mailshield.core.hosting.proposal import Proposal, canonical_pattern, propose_policy
from mailshield.core.hosting.records import delegation_target
from mailshield.core.hosting.removal import RemovalTiming, removal_spec, safe_deletion_time
from mailshield.core.hosting.state import change_refusal, removal_refusal
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.hosting_errors import (
    AlreadyHosted,
    EnforceBlocked,
    NotConfigured,
    NotHosted,
    Refused,
)
from mailshield.services.hosting_ports import DomainChecker, TlsRptReadiness, TxtPublisher
from mailshield.services.hosting_rollout import Rollout
from mailshield.services.hosting_verifier import HostingVerifier
from mailshield.services.hosting_views import DomainView, ModeChange, PolicyChange, view_of
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.transport import lookup_mx
from mailshield.storage import hosting as storage
from mailshield.storage.hosting import HostingStore

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class HostingService:
    """The hosting use cases; probes, checker and DNS publisher are passed in."""

    store: HostingStore
    dns: Callable[[], DnsLookup]
    config: HostingConfig
    checker: DomainChecker | None = None
    tlsrpt: TlsRptReadiness | None = None
    publisher: TxtPublisher | None = None
    clock: Clock = _utc_now
    _rollout: Rollout = field(init=False)
    _verifier: HostingVerifier = field(init=False)

    def __post_init__(self) -> None:
        self._rollout = Rollout(self.store, self.config, self.publisher)
        self._verifier = HostingVerifier(
            self.store, self.dns, self.config, self._rollout, self.clock
        )

    async def operator_account(self) -> int:
        """The account CLI-hosted domains belong to (created on first use, cannot log in)."""
        return await self.store.operator_account(self.config.operator_email)

    # -- onboarding --------------------------------------------------------------------------
    async def propose(
        self,
        domain: str,
        *,
        mode: str = Mode.TESTING,
        max_age: int | None = None,
        extra_mx: Sequence[str] = (),
    ) -> Proposal:
        """The policy ``add`` would serve for ``domain``, from its live MX set; stores nothing."""
        name = _name(domain)
        lookup = await lookup_mx(self.dns(), name)
        age = self.config.default_max_age if max_age is None else max_age
        return propose_policy(name, mx_set(lookup), mode=mode, max_age=age, extra_patterns=extra_mx)

    async def add(
        self,
        owner: int,
        domain: str,
        *,
        mode: str = Mode.TESTING,
        max_age: int | None = None,
        extra_mx: Sequence[str] = (),
        setup: Setup = Setup.CNAME,
        force: bool = False,
    ) -> DomainView:
        """Host ``domain`` for ``owner`` and return it with the records to publish.

        ``enforce`` straight away passes the same gate as :meth:`set_mode` (or ``force``).
        """
        name = _name(domain)
        self._check_setup(setup)
        await self._refuse_taken(owner, name)
        proposal = await self.propose(name, mode=mode, max_age=max_age, extra_mx=extra_mx)
        if proposal.spec is None:
            raise Refused(f"no policy can be proposed for {name}", proposal.problems)
        if proposal.spec.mode is Mode.ENFORCE:
            await self._gate(name, proposal.spec, force=force)
        hosted = await self._create(owner, name, proposal.spec, extra_mx, setup)
        await self._rollout.publish_due(hosted, self.clock())
        return await self._view(hosted, notes=proposal.notes)

    async def _create(
        self, owner: int, name: str, spec: PolicySpec, extra_mx: Sequence[str], setup: Setup
    ) -> HostedDomain:
        now = self.clock()
        first = PolicyVersion(new_policy_id(now, spec.body()), spec, now)
        target = (
            delegation_target(name, self.config.delegation_zone)
            if setup is Setup.DELEGATED
            else None
        )
        message = f"onboarded ({setup.value} setup), serving policy id={first.id}"
        event = HostingEvent(now, "added", message, {"policy_id": first.id, "setup": setup.value})
        extras = tuple(p for p in spec.mx if p in {_pattern(x) for x in extra_mx})
        try:
            return await self.store.create(
                owner, name, setup=setup, extra_mx=extras, target=target, first=first, event=event
            )
        except storage.AlreadyHosted as exc:
            raise AlreadyHosted(f"{name} is already hosted") from exc

    def _check_setup(self, setup: Setup) -> None:
        problem = self.config.problem(setup)
        if problem is None and setup is Setup.DELEGATED and self.publisher is None:
            problem = "the delegated setup needs dns_update_server and the tsig_* settings"
        if problem is not None:
            raise NotConfigured(problem)

    async def _refuse_taken(self, owner: int, name: str) -> None:
        existing = await self.store.find(name)
        if existing is None:
            return
        if existing.owner_id == owner:
            raise AlreadyHosted(f"{name} is already hosted; change it with `domains edit`")
        raise AlreadyHosted(f"{name} is hosted by another account")

    # -- reading -----------------------------------------------------------------------------
    async def status(self, owner: int, domain: str | None = None) -> list[DomainView]:
        """The owner's domains (or one of them) with their records, state and recent events."""
        domains = [await self._own(owner, domain)] if domain else await self.store.hosted(owner)
        return [await self._view(d) for d in domains]

    async def verify(self, owner: int, domain: str | None = None) -> list[DomainView]:
        """Run the verifier now for the owner's domains (or one of them)."""
        domains = [await self._own(owner, domain)] if domain else await self.store.hosted(owner)
        return [await self._view(await self._verifier.verify(d)) for d in domains]

    async def verify_all(self) -> list[HostedDomain]:
        """Verify every hosted domain of every account (the scheduler's job)."""
        return await self._verifier.verify_all()

    # -- policy changes ----------------------------------------------------------------------
    async def edit(
        self,
        owner: int,
        domain: str,
        *,
        max_age: int | None = None,
        extra_mx: Sequence[str] | None = None,
    ) -> PolicyChange:
        """Change max_age and/or the extra mx patterns; a new body gets a new id, served first.

        The mx list is the live MX set plus the extra patterns, validated like a proposal.
        """
        hosted = await self._own(owner, domain)
        _refuse(change_refusal(hosted.state))
        current = (await self.store.history(hosted.id))[-1]
        extras = hosted.extra_mx if extra_mx is None else tuple(extra_mx)
        age = current.spec.max_age if max_age is None else max_age
        proposal = await self.propose(
            hosted.name, mode=current.spec.mode, max_age=age, extra_mx=extras
        )
        if proposal.spec is None:
            raise Refused(f"the policy of {hosted.name} was not changed", proposal.problems)
        if extra_mx is not None:
            await self.store.set_extra_mx(hosted.id, [_pattern(x) for x in extras])
        return await self._change(hosted, current, proposal.spec, "edited", proposal.notes)

    async def set_mode(
        self, owner: int, domain: str, mode: str, *, force: bool = False
    ) -> ModeChange:
        """Move between ``testing`` and ``enforce``; ``enforce`` only through the gate or forced."""
        hosted = await self._own(owner, domain)
        _refuse(change_refusal(hosted.state))
        wanted = _mode(mode)
        current = (await self.store.history(hosted.id))[-1]
        verdict: EnforceVerdict | None = None
        if wanted is Mode.ENFORCE and current.spec.mode is not Mode.ENFORCE:
            verdict = await self._gate(hosted.name, current.spec, force=force, hosted=hosted)
        change = await self._change(hosted, current, current.spec.with_mode(wanted), "mode")
        forced = verdict is not None and not verdict.allowed
        risk = force_risk(verdict, current.spec.max_age) if forced and verdict else ""
        return ModeChange(change, verdict, forced, risk)

    async def _gate(
        self,
        name: str,
        spec: PolicySpec,
        *,
        force: bool,
        hosted: HostedDomain | None = None,
    ) -> EnforceVerdict:
        if self.checker is None:
            raise NotConfigured("the enforce gate needs the domain checker")
        report = await self.checker.check(name)
        readiness = await self.tlsrpt.readiness(name) if self.tlsrpt is not None else None
        verdict = enforce_verdict(report, spec.mx, readiness)
        if verdict.allowed or force:
            return verdict
        risk = force_risk(verdict, spec.max_age)
        if hosted is not None:
            blockers = [{"code": b.code, "subject": b.subject} for b in verdict.blockers]
            message = "enforce refused: " + "; ".join(b.message for b in verdict.blockers)
            event = HostingEvent(self.clock(), "enforce_refused", message, {"blockers": blockers})
            await self.store.add_event(hosted.id, event)
        raise EnforceBlocked(name, verdict, risk)

    async def _change(
        self,
        hosted: HostedDomain,
        current: PolicyVersion,
        spec: PolicySpec,
        kind: str,
        notes: Sequence[str] = (),
    ) -> PolicyChange:
        if spec.body() == current.spec.body():
            return PolicyChange(await self._view(hosted, notes=notes), current, current)
        now = self.clock()
        message = f"policy changed ({kind}): mode {spec.mode.value}, max_age {spec.max_age}"
        version = await self._rollout.serve(hosted, spec, now, (kind, message))
        await self._rollout.publish_due(hosted, now)
        view = await self._view(hosted, notes=notes)
        return PolicyChange(view, current, version)

    # -- removal -----------------------------------------------------------------------------
    async def remove(self, owner: int, domain: str) -> DomainView:
        """Start removal: serve ``mode: none`` with a short max_age under a new id (§8.3)."""
        hosted = await self._own(owner, domain)
        _refuse(removal_refusal(hosted.state))
        current = (await self.store.history(hosted.id))[-1]
        spec = removal_spec(current.spec)
        now = self.clock()
        message = "removal started: serving mode none until the old policies expire"
        await self._rollout.serve(hosted, spec, now, ("removing", message), removing=True)
        await self._rollout.publish_due(hosted, now)
        return await self._view(hosted)

    async def finish_removal(self, owner: int, domain: str, *, force: bool = False) -> DomainView:
        """Stop hosting once the records may safely go; ``force`` skips the wait (unsafe)."""
        hosted = await self._own(owner, domain)
        if hosted.state is not HostingState.REMOVING:
            raise Refused(f"{hosted.name} is not being removed: run `domains remove` first")
        timing = safe_deletion_time(await self.store.history(hosted.id))
        _refuse(_too_early(timing, self.clock()) if not force else None)
        view = await self._view(hosted)
        if hosted.delegation_target and self.publisher is not None:
            await self.publisher.delete_txt(hosted.delegation_target)
        await self.store.delete(hosted.id)
        return view

    # -- helpers -----------------------------------------------------------------------------
    async def _own(self, owner: int, domain: str | None) -> HostedDomain:
        name = _name(domain or "")
        hosted = await self.store.get(owner, name)
        if hosted is None:
            raise NotHosted(f"{name} is not hosted by this account")
        return hosted

    async def _view(self, hosted: HostedDomain, notes: Sequence[str] = ()) -> DomainView:
        fresh = await self.store.find(hosted.name) or hosted
        history = await self.store.history(fresh.id)
        events = await self.store.events(fresh.id, limit=10)
        return view_of(fresh, history, events, self.config, self.clock(), notes)


def _name(domain: str) -> str:
    try:
        return to_alabel(domain)
    except InvalidName as exc:
        raise Refused(f"{domain!r} is not a valid domain name: {exc}") from exc


def _pattern(pattern: str) -> str:
    try:
        return canonical_pattern(pattern)
    except ValueError:
        return pattern


def _mode(mode: str) -> Mode:
    if mode not in (Mode.TESTING, Mode.ENFORCE):
        raise Refused(f"mode must be testing or enforce, not {mode!r} (remove the domain instead)")
    return Mode(mode)


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise Refused(reason)


def _too_early(timing: RemovalTiming, now: dt.datetime) -> str | None:
    if timing.delete_after is None:
        return f"not yet safe to stop: {timing.waiting_for}"
    if now < timing.delete_after:
        return (
            f"not yet safe to stop: senders may hold the old policy until "
            f"{timing.delete_after.isoformat()} (RFC 8461 §8.3)"
        )
    return None
