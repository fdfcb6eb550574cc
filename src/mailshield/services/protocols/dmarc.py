"""DMARC check: gather the tree walk and report-destination authorisations, then evaluate."""

from __future__ import annotations

from mailshield.core.evaluate.dmarc import dmarc_queries, evaluate_dmarc, invalid_domain
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_dmarc(dns: DnsLookup, domain: str) -> CheckResult:
    """The DMARC result of ``domain``: all walk names at once, then external destinations."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        return invalid_domain(domain, str(exc))
    answers = await gather_answers(dns, lambda gathered: dmarc_queries(name, gathered))
    return evaluate_dmarc(name, answers)
