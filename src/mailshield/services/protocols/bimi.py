"""BIMI check: look up default._bimi at the domain and its Organizational Domain, then evaluate."""

from __future__ import annotations

from mailshield.core.evaluate.bimi import bimi_queries, evaluate_bimi, invalid_domain
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_bimi(dns: DnsLookup, domain: str, dmarc: CheckResult) -> CheckResult:
    """The BIMI result of ``domain``; ``dmarc`` is the DMARC result of the same domain."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        return invalid_domain(domain, str(exc))
    queries = bimi_queries(name, dmarc)
    answers = await gather_answers(dns, lambda _gathered: queries)
    return evaluate_bimi(name, answers, dmarc)
