"""SPF check: gather the domain's include/redirect tree through DNS, then evaluate it."""

from __future__ import annotations

from mailshield.core.evaluate.spf import evaluate_spf, invalid_domain, spf_queries
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_spf(dns: DnsLookup, domain: str) -> CheckResult:
    """The SPF result of ``domain``: each tree level's lookups run concurrently (RFC 7208)."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        return invalid_domain(domain, str(exc))
    answers = await gather_answers(dns, lambda gathered: spf_queries(name, gathered))
    return evaluate_spf(name, answers)
