"""TLS-RPT check: the ``_smtp._tls.<domain>`` record, then its destinations (RFC 8460 §3).

Level one is the TXT lookup; level two looks up, concurrently, what the listed destinations
need (MX and addresses of each mail domain, addresses of each HTTPS host).
"""

from __future__ import annotations

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


async def check_tls_rpt(dns: DnsLookup, domain: str, mta_sts_present: bool) -> CheckResult:
    """The TLS-RPT result of ``domain``; a missing record warns when MTA-STS is present."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        invalid = finding(general.INVALID_DOMAIN, domain, reason=str(exc))
        return CheckResult(CHECK, (invalid,))
    answers = await gather_answers(dns, lambda gathered: tls_rpt_queries(name, gathered))
    record = answers[query(record_name(name), "TXT")]
    return evaluate_tls_rpt(name, record, mta_sts_present, answers)
