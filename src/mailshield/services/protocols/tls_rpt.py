"""TLS-RPT check: the ``_smtp._tls.<domain>`` record, then its destinations (RFC 8460 §3).

Level one is the TXT lookup; level two looks up, concurrently, what the listed destinations
need (MX and addresses of each mail domain, addresses of each HTTPS host). Whether MTA-STS is
present may still be on its way: it is awaited only once the lookups are done.
"""

from __future__ import annotations

from collections.abc import Awaitable

from mailshield.core.catalogue import general
from mailshield.core.evaluate.answers import query
from mailshield.core.evaluate.tls_rpt import (
    CHECK,
    evaluate_tls_rpt,
    record_name,
    tls_rpt_queries,
)
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_tls_rpt(
    dns: DnsLookup, domain: str, mta_sts_present: bool | Awaitable[bool]
) -> CheckResult:
    """The TLS-RPT result of ``domain``; a missing record warns when MTA-STS is present
    (``mta_sts_present`` may be an awaitable, awaited after the lookups)."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        invalid = finding(general.INVALID_DOMAIN, domain, reason=str(exc))
        return CheckResult(CHECK, (invalid,))
    answers = await gather_answers(dns, lambda gathered: tls_rpt_queries(name, gathered))
    record = answers[query(record_name(name), "TXT")]
    present = await mta_sts_present if isinstance(mta_sts_present, Awaitable) else mta_sts_present
    return evaluate_tls_rpt(name, record, present, answers)
