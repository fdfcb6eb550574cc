"""The top problems of a domain's TLS-RPT failures, each in plain words with its fix.

Failure details (RFC 8460 §4.4) are grouped by result type and where it happened (the receiving
MX, else its IP, else the policy host for ``sts-policy-*`` results), ranked by failed sessions.
Each group is explained from what the reports say: the result type (RFC 8460 §4.3), the MX's
HELO name, ``failure-reason-code`` texts and who reported it. The advice per result type follows
the reference's mapping (policy host, policy syntax, MX certificates, STARTTLS, DANE/DNSSEC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mailshield.core.documents.tls_report_model import FailureDetail
from mailshield.core.model import JSONValue

__all__ = ["Problem", "top_problems"]

STS_POLICY_RESULTS = frozenset(
    {"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"}
)
_MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class Problem:
    """One kind of failure at one place: how many sessions it cost, what it means, the fix."""

    result_type: str
    subject: str
    failed_sessions: int
    organizations: tuple[str, ...]
    reason_codes: tuple[str, ...]
    explanation: str
    fix: str

    @property
    def headline(self) -> str:
        """``"<result-type> on <subject>: <explanation> — <fix>"``."""
        return f"{self.result_type} on {self.subject}: {self.explanation} — {self.fix}"

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "result-type": self.result_type,
            "subject": self.subject,
            "failed-sessions": self.failed_sessions,
            "organizations": list(self.organizations),
            "failure-reason-codes": list(self.reason_codes),
            "explanation": self.explanation,
            "fix": self.fix,
            "headline": self.headline,
        }


@dataclass(slots=True)
class _Group:
    result_type: str
    subject: str
    failed: int = 0
    organizations: dict[str, None] = field(default_factory=dict)
    reasons: dict[str, None] = field(default_factory=dict)
    helos: dict[str, None] = field(default_factory=dict)


def top_problems(
    failures: Iterable[tuple[str, FailureDetail]], domain: str, limit: int = 5
) -> list[Problem]:
    """The ``limit`` worst problems among ``(organization, detail)`` pairs for ``domain``."""
    groups: dict[tuple[str, str], _Group] = {}
    for organization, detail in failures:
        subject = _subject(detail, domain)
        group = groups.setdefault(
            (detail.result_type, subject), _Group(detail.result_type, subject)
        )
        group.failed += detail.failed_session_count
        group.organizations[organization or "an unnamed reporter"] = None
        if detail.failure_reason_code:
            group.reasons[detail.failure_reason_code] = None
        if detail.receiving_mx_helo:
            group.helos[detail.receiving_mx_helo.rstrip(".").lower()] = None
    ranked = sorted(groups.values(), key=lambda g: (-g.failed, g.result_type, g.subject))
    return [_explain(group, domain) for group in ranked[:limit]]


def _subject(detail: FailureDetail, domain: str) -> str:
    if detail.result_type in STS_POLICY_RESULTS:
        return f"mta-sts.{domain}"
    return detail.receiving_mx_hostname or detail.receiving_ip or "an unnamed MX"


def _explain(group: _Group, domain: str) -> Problem:
    advice = _ADVICE.get(group.result_type, _unknown)
    explanation, fix = advice(group, domain)
    reasons = tuple(list(group.reasons)[:_MAX_REASONS])
    if reasons:
        explanation += f" (reported as: {'; '.join(reasons)})"
    return Problem(
        result_type=group.result_type,
        subject=group.subject,
        failed_sessions=group.failed,
        organizations=tuple(group.organizations),
        reason_codes=reasons,
        explanation=explanation,
        fix=fix,
    )


def _who(group: _Group) -> str:
    names = list(group.organizations)
    return names[0] if len(names) == 1 else f"{len(names)} reporters"


def _host_mismatch(group: _Group, domain: str) -> tuple[str, str]:
    mx = group.subject
    others = [helo for helo in group.helos if helo != mx.lower()]
    if others:
        names = " and ".join(others)
        return (
            f"it introduces itself as {names}, so its certificate most likely names only {names}",
            f"reissue it with both names ({mx} and {names})",
        )
    return (
        f"its certificate does not name {mx}",
        f"reissue it so that it names {mx} (every MX name senders connect to needs to be in it)",
    )


def _expired(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} found an expired certificate",
        "renew it, install the full chain, and automate renewal (e.g. ACME) so it cannot lapse",
    )


def _not_trusted(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} could not chain its certificate to a trusted root",
        "use a certificate from a public CA and serve the intermediate certificates with it",
    )


def _no_starttls(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} found no STARTTLS on it",
        "turn on STARTTLS with a valid certificate; if it is already on, something between "
        "senders and the MX strips it (a firewall feature, or a downgrade attack)",
    )


def _validation(group: _Group, domain: str) -> tuple[str, str]:
    if any("notinpolicy" in reason.replace(" ", "").lower() for reason in group.reasons):
        return (
            "the MX is not matched by any mx line of the MTA-STS policy",
            f"add `mx: {group.subject}` to the policy of {domain} and publish a new id",
        )
    return (
        f"{_who(group)} could not validate the TLS session",
        "check the certificate, its chain and the TLS versions and ciphers offered",
    )


def _tlsa(group: _Group, domain: str) -> tuple[str, str]:
    return (
        "none of its TLSA records matches the certificate it serves",
        "publish TLSA records for the current key (3 1 1 of the public key is simplest), and "
        "for the next key before every certificate change",
    )


def _dnssec(group: _Group, domain: str) -> tuple[str, str]:
    return (
        "DNSSEC validation failed when looking up its TLSA records",
        "repair the zone's DNSSEC chain (DS at the parent, DNSKEY, unexpired signatures)",
    )


def _dane_required(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} requires DANE for it but found no DNSSEC-validated TLSA record",
        "publish TLSA records for it in a DNSSEC-signed zone",
    )


def _fetch_error(group: _Group, domain: str) -> tuple[str, str]:
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    return (
        f"{_who(group)} could not fetch the policy at {url}",
        "make the policy host answer 200 with the policy file over HTTPS, without redirects, "
        "from every address its name resolves to",
    )


def _policy_invalid(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} fetched the policy but found it invalid",
        "fix the policy syntax (version: STSv1, mode, one mx line per pattern, max_age) and "
        "serve it as text/plain",
    )


def _webpki(group: _Group, domain: str) -> tuple[str, str]:
    return (
        "the policy host's certificate did not validate",
        f"serve a publicly trusted certificate that names mta-sts.{domain}, with its chain",
    )


def _unknown(group: _Group, domain: str) -> tuple[str, str]:
    return (
        f"{_who(group)} reported a result type outside the RFC 8460 registry",
        "look at the reason codes and the reporter's documentation",
    )


_ADVICE: dict[str, Callable[[_Group, str], tuple[str, str]]] = {
    "certificate-host-mismatch": _host_mismatch,
    "certificate-expired": _expired,
    "certificate-not-trusted": _not_trusted,
    "starttls-not-supported": _no_starttls,
    "validation-failure": _validation,
    "tlsa-invalid": _tlsa,
    "dnssec-invalid": _dnssec,
    "dane-required": _dane_required,
    "sts-policy-fetch-error": _fetch_error,
    "sts-policy-invalid": _policy_invalid,
    "sts-webpki-invalid": _webpki,
}
