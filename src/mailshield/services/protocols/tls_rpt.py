"""TLS-RPT check: one TXT lookup at ``_smtp._tls.<domain>``, then evaluate (RFC 8460 §3)."""

from __future__ import annotations

from mailshield.core.catalogue import general
from mailshield.core.evaluate.tls_rpt import CHECK, evaluate_tls_rpt, record_name
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.ports import DnsLookup


async def check_tls_rpt(dns: DnsLookup, domain: str, mta_sts_present: bool) -> CheckResult:
    """The TLS-RPT result of ``domain``; a missing record warns when MTA-STS is present."""
    try:
        name = to_alabel(domain)
    except InvalidName as exc:
        invalid = finding(general.INVALID_DOMAIN, domain, reason=str(exc))
        return CheckResult(CHECK, (invalid,))
    answer = await dns.query(record_name(name), "TXT")
    return evaluate_tls_rpt(name, answer, mta_sts_present)
