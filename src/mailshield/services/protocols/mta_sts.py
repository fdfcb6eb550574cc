"""MTA-STS check: look up the record and fetch the policy concurrently, then evaluate.

A sender fetches the policy only after finding a valid record; the checker does both at once
and reports both (a policy served without a record, a record whose policy is broken). The live MX
hosts may still be on their way: they are awaited only once the record and the policy are in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from mailshield.core.catalogue import general
from mailshield.core.certs import CertVerdict
from mailshield.core.evaluate.mta_sts import (
    CHECK,
    MtaStsObservations,
    evaluate_mta_sts,
    fetch_url,
    record_name,
)
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, normalise, to_alabel
from mailshield.core.observations import TlsSession
from mailshield.services.ports import DnsLookup, HttpsFetcher

CertJudge = Callable[[TlsSession, str], CertVerdict]
"""Judges a presented chain for a host name (``core.certs.judge_chain`` with roots and time)."""
MxHosts = Sequence[str] | None


async def check_mta_sts(
    dns: DnsLookup,
    https: HttpsFetcher,
    domain: str,
    mx_hosts: MxHosts | Awaitable[MxHosts],
    judge: CertJudge,
) -> CheckResult:
    """The MTA-STS result of ``domain`` (RFC 8461).

    ``mx_hosts``: the live MX host names (``None`` when the MX lookup failed; empty for a
    null MX), or an awaitable of them, awaited after the record lookup and the policy fetch so
    that the MX lookup runs meanwhile. ``judge`` rates the policy host's certificate for
    ``mta-sts.<domain>``.
    """
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        invalid = finding(general.INVALID_DOMAIN, domain, reason=str(exc))
        return CheckResult(CHECK, (invalid,))
    async with asyncio.TaskGroup() as group:
        txt = group.create_task(dns.query(record_name(name), "TXT"))
        fetch = group.create_task(https.fetch(fetch_url(name)))
    fetched = fetch.result()
    # RFC 8461 §3.3: the certificate must be valid for the policy host, whatever IP served it.
    cert = judge(fetched.tls, f"mta-sts.{name}") if fetched.tls is not None else None
    live = await mx_hosts if isinstance(mx_hosts, Awaitable) else mx_hosts
    hosts = tuple(normalise(h) for h in live) if live is not None else None
    return evaluate_mta_sts(MtaStsObservations(name, txt.result(), fetched, cert, hosts))
