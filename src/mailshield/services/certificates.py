"""The certificate manager: issue and renew the policy hosts' certificates (RFC 8555).

:meth:`CertificateManager.run_once` is what the worker/scheduler calls, e.g. every few minutes.
One run walks every hosted policy host name and, for each name that needs an order
(:mod:`.certificate_schedule`: no certificate, or past 2/3 of its lifetime, and not backing
off after a failure):

1. asks the issuance gate (``IssuanceGate.refusal``) — a refused name gets no order;
2. takes the name's lease in storage, so that managers on several replicas sharing one database
   never have two orders in flight for one name, and re-reads the name's state under the lease
   (another replica may just have issued);
3. orders through the :class:`~.certificates_acme.Issuer`, publishing HTTP-01 tokens in storage
   where any policy-server replica answers them;
4. stores certificate and key (servers pick them up at their next index refresh) or records the
   failure with its backoff.

Nothing outside this module places orders, and nothing here reacts to incoming connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from mailshield.services.certificate_schedule import Need, backoff, need, renewal_time
from mailshield.services.certificates_acme import IssuanceFailed, Issued, Issuer
from mailshield.services.ports import HostedNames, IssuanceGate
from mailshield.storage.certificates import CertificateStore, NewCertificate, OrderState

__all__ = ["CertificateManager", "Clock", "ManagerOptions", "RunSummary", "utc_now"]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_owner() -> str:
    """A lease owner id unique to this process: host, PID and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class ManagerOptions:
    """Tuning of the manager; the defaults suit Let's Encrypt."""

    lease: dt.timedelta = dt.timedelta(minutes=10)  # longer than any order may take
    challenge_lifetime: dt.timedelta = dt.timedelta(minutes=10)
    backoff_base: dt.timedelta = dt.timedelta(minutes=15)
    backoff_cap: dt.timedelta = dt.timedelta(hours=24)
    concurrency: int = 4


@dataclass
class RunSummary:
    """What one run did, name by name."""

    issued: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)  # backing off after a failure
    busy: list[str] = field(default_factory=list)  # another manager holds the lease

    @property
    def ordered(self) -> list[str]:
        """Names an order was placed for in this run (successful or not)."""
        return [*self.issued, *self.renewed, *self.failed]


class _Board:
    """HTTP-01 tokens published in storage, readable by every policy-server replica."""

    def __init__(self, store: CertificateStore, clock: Clock, lifetime: dt.timedelta) -> None:
        self._store, self._clock, self._lifetime = store, clock, lifetime

    async def publish(self, token: str, name: str, key_authorization: str) -> None:
        expires = self._clock() + self._lifetime
        await self._store.put_challenge(token, name, key_authorization, expires)

    async def withdraw(self, tokens: list[str]) -> None:
        await self._store.remove_challenges(tokens)


class CertificateManager:
    """Keeps a valid certificate in storage for every hosted name the gate allows."""

    def __init__(
        self,
        store: CertificateStore,
        names: HostedNames,
        gate: IssuanceGate,
        issuer: Issuer,
        *,
        options: ManagerOptions | None = None,
        clock: Clock = utc_now,
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._names = names
        self._gate = gate
        self._issuer = issuer
        self._options = options or ManagerOptions()
        self._clock = clock
        self.owner = owner or default_owner()
        self._board = _Board(store, clock, self._options.challenge_lifetime)

    async def run_once(self) -> RunSummary:
        """Issue what is missing and renew what is due; return what happened."""
        summary = RunSummary()
        now = self._clock()
        await self._store.purge_expired_challenges(now)
        due = await self._due(now, summary)
        limit = asyncio.Semaphore(max(1, self._options.concurrency))

        async def attempt(name: str) -> None:
            async with limit:
                await self._attempt(name, summary)

        await asyncio.gather(*(attempt(name) for name in due))
        return summary

    async def _due(self, now: dt.datetime, summary: RunSummary) -> list[str]:
        """Hosted names needing an order now; those still backing off go to ``waiting``."""
        renew_times = await self._store.renewal_times()
        states = await self._store.order_states()
        due = []
        for name in dict.fromkeys(
            n.strip().lower().rstrip(".") for n in await self._names.policy_hosts()
        ):
            state = states.get(name)
            verdict = need(now, renew_times.get(name), state.next_attempt_at if state else None)
            if verdict is Need.WAIT:
                summary.waiting.append(name)
            elif verdict is not Need.NOTHING:
                due.append(name)
        return due

    async def _attempt(self, name: str, summary: RunSummary) -> None:
        refusal = await self._gate.refusal(name)
        if refusal is not None:
            summary.refused[name] = refusal
            return
        now = self._clock()
        state = await self._store.acquire_lease(name, self.owner, now, now + self._options.lease)
        if state is None:
            summary.busy.append(name)
            return
        try:
            verdict = await self._recheck(name, state, now)
            if verdict in (Need.NOTHING, Need.WAIT):
                await self._store.release_lease(name, self.owner)
                return
            await self._order(name, state, verdict, summary)
        except BaseException:
            await self._store.release_lease(name, self.owner)
            raise

    async def _recheck(self, name: str, state: OrderState, now: dt.datetime) -> Need:
        """The name's need as storage says under the lease (another replica may have acted)."""
        current = await self._store.certificate(name)
        return need(now, current.renew_at if current else None, state.next_attempt_at)

    async def _order(
        self, name: str, state: OrderState, verdict: Need, summary: RunSummary
    ) -> None:
        try:
            issued = await self._issuer.issue(name, self._board)
        except IssuanceFailed as exc:
            await self._record_failure(name, state, str(exc))
            summary.failed[name] = str(exc)
            return
        await self._store.save_certificate(_to_store(name, issued), self._clock())
        await self._store.record_success(name, self.owner, self._clock())
        (summary.issued if verdict is Need.ISSUE else summary.renewed).append(name)
        log.info("certificate for %s %s, valid until %s", name, verdict.value, issued.not_after)

    async def _record_failure(self, name: str, state: OrderState, error: str) -> None:
        now = self._clock()
        failures = state.failures + 1
        wait = backoff(failures, base=self._options.backoff_base, cap=self._options.backoff_cap)
        await self._store.record_failure(
            name, self.owner, now, failures=failures, retry_at=now + wait, error=error
        )
        log.warning(
            "certificate order for %s failed (%d in a row, next try in %s): %s",
            name,
            failures,
            wait,
            error,
        )


def _to_store(name: str, issued: Issued) -> NewCertificate:
    return NewCertificate(
        name=name,
        key_pem=issued.key_pem,
        fullchain_pem=issued.fullchain_pem,
        not_before=issued.not_before,
        not_after=issued.not_after,
        renew_at=renewal_time(issued.not_before, issued.not_after),
    )
