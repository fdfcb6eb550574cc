"""STARTTLS evaluation per MX address (RFC 3207 §4; certificate rules of RFC 8461 §4.2).

A connection that could not be made, timed out or met a 4xx greeting is "could not test"
(``starttls.unreachable``), never "no STARTTLS": only a completed EHLO without the STARTTLS
keyword proves it missing. Certificate problems are failures for hosts a sender would
authenticate (MTA-STS or DANE published for them) and warnings otherwise.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from mailshield.core.catalogue import starttls as codes
from mailshield.core.certs import CertInfo, CertProblem, CertVerdict
from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.observations import ConnectOutcome, SmtpProbe, TlsSession

OLD_TLS_VERSIONS = frozenset({"SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"})
EXPIRY_WARNING_DAYS = 14
WEAK_RSA_BITS = 2048

_UNREACHABLE_REASONS = {
    ConnectOutcome.BLOCKED: "the address is not public; probing it is not allowed",
    ConnectOutcome.NO_ADDRESS: "the host has no address",
    ConnectOutcome.DNS_FAILED: "its address could not be resolved",
    ConnectOutcome.REFUSED: "the connection to port {port} was refused",
    ConnectOutcome.TIMEOUT: "no answer in time (port {port} may be filtered on this network)",
}

_CERT_CODES: dict[CertProblem, FindingSpec] = {
    CertProblem.EXPIRED: codes.CERT_EXPIRED,
    CertProblem.NOT_YET_VALID: codes.CERT_NOT_YET_VALID,
    CertProblem.NAME_MISMATCH: codes.CERT_NAME_MISMATCH,
    CertProblem.UNTRUSTED: codes.CERT_UNTRUSTED,
    CertProblem.SELF_SIGNED: codes.CERT_UNTRUSTED,
    CertProblem.NO_CERTIFICATE: codes.CERT_UNTRUSTED,
    CertProblem.UNPARSEABLE: codes.CERT_UNTRUSTED,
}


@dataclass(frozen=True, slots=True)
class SmtpObservation:
    """One probed MX address and the verdict on the certificate it presented (if any)."""

    probe: SmtpProbe
    verdict: CertVerdict | None = None


def evaluate_starttls(
    observations: Sequence[SmtpObservation],
    *,
    strict_hosts: Collection[str] = (),
    probed: bool = True,
) -> CheckResult:
    """Findings for every probed address; ``strict_hosts`` are authenticated by senders."""
    if not probed:
        return CheckResult("starttls", (finding(codes.SKIPPED, ""),))
    findings: list[Finding] = []
    for obs in observations:
        findings.extend(_address_findings(obs, obs.probe.host in strict_hosts))
    findings.extend(_inconsistencies(observations))
    return CheckResult(
        "starttls", tuple(findings), {"addresses": [_evidence(o) for o in observations]}
    )


def _address_findings(obs: SmtpObservation, strict: bool) -> list[Finding]:
    probe = obs.probe
    reason = _unreachable_reason(probe)
    if reason is not None:
        return [finding(codes.UNREACHABLE, probe.host, address=probe.address, reason=reason)]
    if probe.starttls_offered is False:
        return [finding(codes.NOT_OFFERED, probe.host, address=probe.address)]
    if probe.tls is None:
        reason = probe.starttls_reply or probe.error or "the TLS handshake failed"
        return [finding(codes.FAILED, probe.host, address=probe.address, reason=reason)]
    return _session_findings(probe, probe.tls, obs.verdict, strict)


def _unreachable_reason(probe: SmtpProbe) -> str | None:
    """Why the address could not be tested, or ``None`` when the conversation got to EHLO."""
    if probe.banner_code is not None and probe.banner_code >= 400:
        return f"the server greeted with {probe.banner_code} ({probe.banner[:120]})"
    if probe.outcome in _UNREACHABLE_REASONS:
        return _UNREACHABLE_REASONS[probe.outcome].format(port=probe.port)
    if probe.starttls_offered is None:
        return probe.error or "the conversation ended before EHLO completed"
    return None


def _session_findings(
    probe: SmtpProbe, tls: TlsSession, verdict: CertVerdict | None, strict: bool
) -> list[Finding]:
    severity = Status.FAIL if strict else None
    where = {"address": probe.address}
    found: list[Finding] = []
    if tls.version in OLD_TLS_VERSIONS:
        found.append(
            finding(
                codes.TLS_VERSION_OLD, probe.host, status=severity, version=tls.version, **where
            )
        )
    if "STARTTLS" in probe.ehlo_keywords_after_tls:
        found.append(finding(codes.OFFERED_AFTER_TLS, probe.host, address=probe.address))
    if verdict is None:
        return found
    params = {**_cert_params(verdict), **where}
    for spec in dict.fromkeys(_CERT_CODES[p] for p in verdict.problems):
        found.append(finding(spec, probe.host, status=severity, **params))
    if verdict.valid and verdict.leaf is not None:
        found.extend(_healthy_cert_findings(probe.host, tls, verdict, verdict.leaf, params))
    return found


def _healthy_cert_findings(
    host: str, tls: TlsSession, verdict: CertVerdict, leaf: CertInfo, params: dict[str, JSONValue]
) -> list[Finding]:
    found: list[Finding] = []
    if verdict.days_left is not None and verdict.days_left <= EXPIRY_WARNING_DAYS:
        found.append(finding(codes.CERT_EXPIRING, host, **params))
    if leaf.key_type == "rsa" and leaf.key_bits < WEAK_RSA_BITS:
        found.append(finding(codes.KEY_WEAK, host, **params))
    if not found and tls.version not in OLD_TLS_VERSIONS:
        found.append(finding(codes.OK, host, version=tls.version, cipher=tls.cipher, **params))
    return found


def _cert_params(verdict: CertVerdict) -> dict[str, JSONValue]:
    leaf = verdict.leaf
    if leaf is None:
        return {"detail": verdict.detail or "no usable certificate was presented"}
    return {
        "names": ", ".join(leaf.names) or leaf.subject,
        "not_before": leaf.not_before.date().isoformat(),
        "not_after": leaf.not_after.date().isoformat(),
        "days_left": verdict.days_left,
        "issuer": leaf.issuer,
        "key_type": leaf.key_type,
        "key_bits": leaf.key_bits,
        "detail": verdict.detail,
    }


def _inconsistencies(observations: Sequence[SmtpObservation]) -> list[Finding]:
    """MX hosts whose addresses differ in STARTTLS support (ref. TLS-09)."""
    support: dict[str, set[bool]] = {}
    for obs in observations:
        if obs.probe.starttls_offered is not None:
            support.setdefault(obs.probe.host, set()).add(obs.probe.tls is not None)
    return [
        finding(codes.INCONSISTENT, host, detail="some addresses offer working STARTTLS, some not")
        for host, kinds in support.items()
        if len(kinds) > 1
    ]


def _evidence(obs: SmtpObservation) -> dict[str, JSONValue]:
    probe, verdict = obs.probe, obs.verdict
    data: dict[str, JSONValue] = {
        "host": probe.host,
        "address": probe.address,
        "port": probe.port,
        "outcome": probe.outcome.value,
        "banner": probe.banner[:200],
        "starttls_offered": probe.starttls_offered,
        "error": probe.error,
        "elapsed_ms": round(probe.elapsed * 1000, 1),
    }
    if probe.tls is not None:
        data["tls"] = {"version": probe.tls.version, "cipher": probe.tls.cipher}
    if verdict is not None:
        data["certificate"] = {
            "problems": [p.value for p in verdict.problems],
            "spki_sha256": verdict.leaf.spki_sha256 if verdict.leaf else None,
            **_cert_params(verdict),
        }
    return data
