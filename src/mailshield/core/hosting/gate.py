"""The enforce gate: may a hosted domain move from ``testing`` to ``enforce``?

In ``enforce`` a sender MUST NOT deliver to an MX that matches no policy pattern, lacks STARTTLS
or presents a certificate that is not valid for the MX name (RFC 8461 §4.1, §4.2, §5). So the
move is allowed only when a fresh check of the domain shows, for every MX host:

- the host matches one of the policy's mx patterns (§4.1);
- every address was reached, offered STARTTLS, negotiated TLS 1.2 or newer (§7.2) and presented
  a trusted, unexpired certificate naming the host (§4.2);

and, when a TLS-RPT readiness verdict is available, that it shows no blocking failures
(reference §2.7 items 14-15). Anything else blocks, with the reason. A certificate that expires
soon or a weak key is a caution, not a blocker. ``--force`` overrides the gate; :func:`force_risk`
says what that risks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailshield.core.model import CheckResult, Finding, Report
from mailshield.core.names import mx_pattern_matches

# STARTTLS findings that mean a sender in enforce mode would refuse the MX (RFC 8461 §4.2, §5).
BLOCKING_STARTTLS = frozenset(
    {
        "starttls.not_offered",
        "starttls.failed",
        "starttls.unreachable",
        "starttls.tls_version_old",
        "starttls.cert_expired",
        "starttls.cert_not_yet_valid",
        "starttls.cert_name_mismatch",
        "starttls.cert_untrusted",
        "starttls.inconsistent",
    }
)
CAUTION_STARTTLS = frozenset({"starttls.cert_expiring", "starttls.key_weak"})


@dataclass(frozen=True, slots=True)
class TlsRptVerdict:
    """What TLS-RPT reports say about readiness for enforce (supplied by the reports work)."""

    ready: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason (or caution) about moving to enforce, with what it is about."""

    code: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class EnforceVerdict:
    blockers: tuple[Blocker, ...]
    cautions: tuple[Blocker, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.blockers


def enforce_verdict(
    report: Report, patterns: Sequence[str], tlsrpt: TlsRptVerdict | None = None
) -> EnforceVerdict:
    """The gate's verdict on ``report`` for a policy with mx ``patterns``."""
    hosts, blockers = _mx_hosts(report)
    blockers += [
        Blocker("mx.not_covered", host, f"{host} matches no mx pattern of the policy (§4.1)")
        for host in hosts
        if not any(mx_pattern_matches(p, host) for p in patterns)
    ]
    tls_blockers, cautions = _starttls(report.result("starttls"), hosts)
    blockers += tls_blockers
    if tlsrpt is not None and not tlsrpt.ready:
        reasons = tlsrpt.reasons or ("TLS-RPT reports show failures",)
        blockers += [Blocker("tls_rpt.not_ready", report.domain, r) for r in reasons]
    return EnforceVerdict(tuple(blockers), tuple(cautions))


def _mx_hosts(report: Report) -> tuple[list[str], list[Blocker]]:
    result = report.result("mx")
    domain = report.domain
    if result is None:
        return [], [Blocker("mx.not_checked", domain, "the MX hosts were not checked")]
    failing = [f for f in result.findings if f.code in ("mx.lookup_failed", "mx.null", "mx.none")]
    if any(f.subject == domain for f in failing):
        return [], [Blocker(f.code, f.subject, f.message) for f in failing]
    hosts = [str(h["name"]) for h in result.evidence.get("hosts", ()) if h.get("name")]
    if not hosts:
        return [], [Blocker("mx.none", domain, f"no MX host of {domain} was found")]
    return list(dict.fromkeys(hosts)), []


def _starttls(
    result: CheckResult | None, hosts: Sequence[str]
) -> tuple[list[Blocker], list[Blocker]]:
    if result is None or any(f.code == "starttls.skipped" for f in result.findings):
        reason = "STARTTLS was not tested (SMTP probes are off), so no MX is known to be ready"
        return [Blocker("starttls.not_tested", "", reason)], []
    blockers: list[Blocker] = []
    cautions: list[Blocker] = []
    for host in hosts:
        found = [f for f in result.findings if f.subject == host]
        blockers += _blocking(found, BLOCKING_STARTTLS)
        cautions += _blocking(found, CAUTION_STARTTLS)
        if not found:
            message = f"{host} was not tested over SMTP (no address reached)"
            blockers.append(Blocker("starttls.not_tested", host, message))
    return blockers, cautions


def _blocking(findings: Iterable[Finding], codes: frozenset[str]) -> list[Blocker]:
    return [Blocker(f.code, f.subject, f.message) for f in findings if f.code in codes]


def force_risk(verdict: EnforceVerdict, max_age: int) -> str:
    """What forcing ``enforce`` past ``verdict`` risks, for the operator to read first."""
    hosts = sorted({b.subject for b in verdict.blockers if _about_an_mx(b) and b.subject})
    which = ", ".join(hosts) if hosts else "any MX host that fails MTA-STS validation"
    return (
        f"Senders that fetch the enforce policy will refuse to deliver to {which} "
        "(RFC 8461 §5): mail is deferred and finally bounced, and senders keep the policy "
        f"cached for up to max_age={max_age} s even after you switch back to testing, until "
        "they see the new id."
    )


def _about_an_mx(blocker: Blocker) -> bool:
    return blocker.code.startswith("starttls.") or blocker.code == "mx.not_covered"
