"""Which MX hosts senders authenticate: those covered by a published MTA-STS policy
(RFC 8461 §4.1, enforce or testing) or by DNSSEC-signed TLSA records (RFC 7672 §2.2).

For these hosts a certificate problem breaks (or, in testing, is reported as breaking) delivery,
so the STARTTLS check rates it a failure rather than a warning.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mailshield.core.model import CheckResult
from mailshield.core.names import mx_pattern_matches

_DANE_COMMITTED = {"dane.tlsa.match", "dane.tlsa.mismatch", "dane.starttls_missing"}


def _policy(mta_sts: CheckResult) -> Mapping[str, object] | None:
    policy = mta_sts.evidence.get("policy")
    return policy if isinstance(policy, Mapping) else None


def authenticated_hosts(
    mta_sts: CheckResult, dane: CheckResult, names: Collection[str]
) -> frozenset[str]:
    hosts = {f.subject for f in dane.findings if f.code in _DANE_COMMITTED}
    policy = _policy(mta_sts)
    if policy is not None and policy.get("mode") in ("enforce", "testing"):
        patterns = policy.get("mx")
        if isinstance(patterns, list):
            hosts.update(n for n in names if any(mx_pattern_matches(str(p), n) for p in patterns))
    return frozenset(hosts)
