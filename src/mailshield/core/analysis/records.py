"""The stored TLS-RPT policy entries analysis works on, and whose domain they count for.

Storage reads :class:`PolicyRecord` values back from its rows; everything in
:mod:`mailshield.core.analysis` takes them as plain data (no database, no clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mailshield.core.documents.tls_report_model import FailureDetail

__all__ = ["PolicyRecord", "counts_for"]


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One ``policies`` entry of a stored report (RFC 8460 §4.4) with its report's identity.

    ``report`` is the stored report's id, ``day`` the UTC day its sessions count for (the
    report's ``start-datetime``, else the day it arrived). ``domain`` is ``None`` only when the
    reporter left ``policy-domain`` out.
    """

    report: int
    organization: str
    day: date
    policy_type: str
    domain: str | None
    successful: int
    failed: int
    policy_strings: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    details: tuple[FailureDetail, ...] = ()


def counts_for(policy_domain: str | None, domain: str) -> bool:
    """Whether a policy published at ``policy_domain`` speaks about mail to ``domain``.

    The domain itself (MTA-STS, RFC 8460 §1.1), or a name below it: for DANE the policy domain
    is the TLSA base domain, usually the MX host (``mx1.example.com`` counts for
    ``example.com``).
    """
    if policy_domain is None:
        return False
    return policy_domain == domain or policy_domain.endswith("." + domain)
