"""The domain checker: gathers every observation concurrently and evaluates it into a Report.

Probes are passed in (constructor injection), so the same service runs against the internet,
the lab, or fakes. One failing protocol check never spoils the others: it becomes an
"internal error" (could not test) result of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailshield.core.catalogue import general
from mailshield.core.certs import CertVerdict, TrustRoots, judge_chain
from mailshield.core.checks import CHECK_ORDER
from mailshield.core.evaluate.dane import evaluate_dane
from mailshield.core.evaluate.mx import MxLookup, MxSet, evaluate_mx, mx_set
from mailshield.core.evaluate.starttls import evaluate_starttls
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Report
from mailshield.core.observations import Dnssec, TlsSession
from mailshield.core.scoring import score
from mailshield.services.ports import DnsLookup, HttpsFetcher, SmtpProber
from mailshield.services.protocols.bimi import check_bimi
from mailshield.services.protocols.dkim import check_dkim
from mailshield.services.protocols.dmarc import check_dmarc
from mailshield.services.protocols.mta_sts import check_mta_sts
from mailshield.services.protocols.spf import check_spf
from mailshield.services.protocols.tls_rpt import check_tls_rpt
from mailshield.services.protocols.transport import lookup_mx, observe_transport
from mailshield.services.transport_policy import authenticated_hosts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    smtp: bool = True
    dkim_selectors: Sequence[str] = ()
    private_ok: bool = False  # lab mode: loopback/private addresses are not findings


@dataclass(frozen=True, slots=True)
class Probes:
    """The probes of one domain check; their caches live as long as the check."""

    dns: DnsLookup
    https: HttpsFetcher
    smtp: SmtpProber | None


@dataclass(slots=True)
class Checker:
    """Checks domains; safe to share between concurrent checks (each gets fresh probes)."""

    probes: Callable[[], Probes]
    roots: TrustRoots
    options: CheckOptions = field(default_factory=CheckOptions)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    prepare: Callable[[], Awaitable[None]] | None = None  # awaited once, before the first check
    _prepared: asyncio.Lock | None = field(default=None, init=False, repr=False)

    async def check(self, domain: str) -> Report:
        """The full report for ``domain`` (an A-label name, already validated)."""
        await self._prepare_once()
        return await _DomainCheck(self.probes(), self.roots, self.options, self.clock()).run(domain)

    async def _prepare_once(self) -> None:
        if self.prepare is None:
            return
        if self._prepared is None:
            self._prepared = asyncio.Lock()
        async with self._prepared:
            if self.prepare is not None:
                await self.prepare()
                self.prepare = None


@dataclass(slots=True)
class _DomainCheck:
    probes: Probes
    roots: TrustRoots
    options: CheckOptions
    now: dt.datetime

    @property
    def dns(self) -> DnsLookup:
        return self.probes.dns

    async def run(self, domain: str) -> Report:
        now = self.now

        def judge(tls: TlsSession, host: str) -> CertVerdict:
            return judge_chain(tls.chain_der, host, self.roots, now)

        # Every check starts now; a check that needs another's result (MTA-STS the live MX
        # hosts, TLS-RPT whether MTA-STS is present, BIMI the DMARC result) awaits it alongside
        # its own lookups, so a domain costs its critical path, not the sum of the chains.
        mx_task = asyncio.ensure_future(lookup_mx(self.dns, domain))
        pending = self._start_policies(domain, mx_task, judge)
        independent = {
            "spf": _guard("spf", check_spf(self.dns, domain)),
            "dkim": _guard("dkim", check_dkim(self.dns, domain, self.options.dkim_selectors)),
        }
        dmarc_task = asyncio.ensure_future(_guard("dmarc", check_dmarc(self.dns, domain)))
        bimi_task = asyncio.ensure_future(self._bimi(domain, dmarc_task))
        spf_dkim = asyncio.gather(*independent.values())
        transport = await self._transport(domain, mx_task, pending, judge)
        spf, dkim = await spf_dkim
        results = {
            **transport,
            "spf": spf,
            "dkim": dkim,
            "dmarc": await dmarc_task,
            "bimi": await bimi_task,
        }
        ordered = tuple(results[name] for name in CHECK_ORDER)
        total = score(ordered)
        return Report(domain, now, ordered, total.points, total.grade)

    def _start_policies(
        self,
        domain: str,
        mx_task: asyncio.Future[MxLookup],
        judge: Callable[[TlsSession, str], CertVerdict],
    ) -> _Pending:
        """Start the MTA-STS and TLS-RPT checks, which await the MX hosts and MTA-STS only at
        the end."""
        names = asyncio.ensure_future(_names(mx_task))
        mta_sts = check_mta_sts(self.dns, self.probes.https, domain, names, judge)
        mta_sts_task = asyncio.ensure_future(_guard("mta_sts", mta_sts))
        present = asyncio.ensure_future(_present(mta_sts_task))
        tls_rpt = asyncio.ensure_future(_guard("tls_rpt", check_tls_rpt(self.dns, domain, present)))
        return _Pending(mta_sts_task, tls_rpt, (names, present))

    async def _bimi(self, domain: str, dmarc: Awaitable[CheckResult]) -> CheckResult:
        return await _guard("bimi", check_bimi(self.dns, domain, dmarc))

    async def _transport(
        self,
        domain: str,
        mx_task: Awaitable[MxLookup],
        pending: _Pending,
        judge: Callable[[TlsSession, str], CertVerdict],
    ) -> dict[str, CheckResult]:
        lookup = await mx_task
        mx_result = evaluate_mx(lookup, private_ok=self.options.private_ok)
        hosts = mx_set(lookup)
        if hosts.null_mx or not hosts.known:
            await pending.cancel()
            return {"mx": mx_result, **_transport_not_applicable(domain, lookup, hosts)}
        smtp = self.probes.smtp if self.options.smtp else None
        observed = await observe_transport(self.dns, smtp, hosts, judge)
        mta_sts, tls_rpt = await pending.mta_sts, await pending.tls_rpt
        dane = evaluate_dane(domain, lookup.mx.dnssec, observed.dane)
        strict = authenticated_hosts(mta_sts, dane, hosts.names)
        starttls = evaluate_starttls(observed.smtp, strict_hosts=strict, probed=smtp is not None)
        return {
            "mx": mx_result,
            "mta_sts": mta_sts,
            "tls_rpt": tls_rpt,
            "starttls": starttls,
            "dane": dane,
        }


@dataclass(frozen=True, slots=True)
class _Pending:
    """The MTA-STS and TLS-RPT checks, started before the MX hosts are known."""

    mta_sts: asyncio.Future[CheckResult]
    tls_rpt: asyncio.Future[CheckResult]
    helpers: tuple[asyncio.Future[Any], ...]  # what they await from the others

    async def cancel(self) -> None:
        """Stop both (no MX host to check them for) and wait until they have stopped."""
        tasks: list[asyncio.Future[Any]] = [self.mta_sts, self.tls_rpt, *self.helpers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _names(mx_task: Awaitable[MxLookup]) -> tuple[str, ...]:
    """The live MX host names, once the MX lookup is done."""
    return mx_set(await mx_task).names


async def _present(mta_sts: Awaitable[CheckResult]) -> bool:
    """Whether the domain publishes MTA-STS, once its check is done."""
    return _sts_present(await mta_sts)


def _sts_present(result: CheckResult) -> bool:
    return not any(f.code == "mta_sts.record.missing" for f in result.findings)


def _transport_not_applicable(
    domain: str, lookup: MxLookup, hosts: MxSet
) -> dict[str, CheckResult]:
    """The transport results when no MX host can be checked; a bogus MX RRset is still a DNSSEC
    finding (RFC 4035 §5.5: validating senders cannot deliver at all)."""
    reason = "the domain accepts no mail (null MX)" if hosts.null_mx else "the MX hosts are unknown"
    results = {
        name: CheckResult(name, (finding(general.NOT_APPLICABLE, check=name, reason=reason),))
        for name in ("mta_sts", "tls_rpt", "starttls", "dane")
    }
    if lookup.mx.dnssec is Dnssec.BOGUS:
        results["dane"] = evaluate_dane(domain, lookup.mx.dnssec, ())
    return results


async def _guard(check: str, work: Awaitable[CheckResult]) -> CheckResult:
    """Run one protocol check; an unexpected exception becomes a could-not-test result."""
    try:
        return await work
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("check %s failed", check)
        detail = f"{type(exc).__name__}: {exc}"
        return CheckResult(check, (finding(general.INTERNAL_ERROR, check=check, error=detail),))
