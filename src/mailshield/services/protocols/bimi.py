"""BIMI check: look up default._bimi at the domain and its Organizational Domain, then evaluate.

The domain's own record name is known up front, so it is looked up while the DMARC check runs;
only the Organizational Domain's record (BIMI draft §8.2), which DMARC names, waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from mailshield.core.evaluate.answers import query
from mailshield.core.evaluate.bimi import (
    bimi_queries,
    evaluate_bimi,
    invalid_domain,
    record_name,
)
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_bimi(
    dns: DnsLookup, domain: str, dmarc: CheckResult | Awaitable[CheckResult]
) -> CheckResult:
    """The BIMI result of ``domain``; ``dmarc`` is the DMARC result of the same domain (or an
    awaitable of it, awaited while the domain's own record is looked up)."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        return invalid_domain(domain, str(exc))
    own = query(record_name(name), "TXT")
    answer, result = await asyncio.gather(dns.query(*own), _result(dmarc))
    rest = bimi_queries(name, result) - {own}
    answers = {own: answer, **await gather_answers(dns, lambda _gathered: rest)}
    return evaluate_bimi(name, answers, result)


async def _result(dmarc: CheckResult | Awaitable[CheckResult]) -> CheckResult:
    return await dmarc if isinstance(dmarc, Awaitable) else dmarc
