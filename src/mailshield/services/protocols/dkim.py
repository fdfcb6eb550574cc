"""DKIM check: look up the selectors' key records (the common ones where keys can exist),
then evaluate."""

from __future__ import annotations

from collections.abc import Sequence

from mailshield.core.evaluate.dkim import dkim_queries, evaluate_dkim, invalid_domain
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup
from mailshield.services.protocols.gather import gather_answers


async def check_dkim(dns: DnsLookup, domain: str, selectors: Sequence[str] = ()) -> CheckResult:
    """The DKIM result of ``domain`` for ``selectors`` plus the common ones (RFC 6376 §3.6.2)."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        return invalid_domain(domain, str(exc))
    answers = await gather_answers(dns, lambda gathered: dkim_queries(name, selectors, gathered))
    return evaluate_dkim(name, selectors, answers)
