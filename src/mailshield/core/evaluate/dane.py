"""DANE and DNSSEC evaluation for the MX hosts (RFC 7672 §2.2, §3; RFC 6698 §4.1).

TLSA records count only when their RRset validates (secure); per RFC 7672 §2.2.2 a host whose
addresses are insecure is not asked for TLSA at all (``tlsa is None``), which also avoids the
false failures of nameservers that mishandle TLSA queries for unsigned zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from mailshield.core.catalogue import dane as codes
from mailshield.core.certs import load_chain
from mailshield.core.evaluate.starttls import SmtpObservation
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.observations import DnsAnswer, Dnssec, TlsaRecord
from mailshield.core.records.tlsa import (
    record_matches,
    render_tlsa,
    suggest_tlsa,
    tlsa_owner,
    unusable_reason,
)


@dataclass(frozen=True, slots=True)
class DaneHost:
    """One MX host: the DNSSEC status of its addresses, its TLSA answer and its probes."""

    name: str
    address_dnssec: Dnssec
    tlsa: DnsAnswer | None  # None: not looked up because the addresses are not secure
    observations: tuple[SmtpObservation, ...] = ()


def dane_deployed(result: CheckResult) -> bool:
    """Whether every MX host has matching, DNSSEC-signed TLSA records (for scoring)."""
    matches = [f for f in result.findings if f.code == codes.MATCH.code]
    return bool(matches) and not any(
        f.status in (Status.FAIL, Status.ERROR) or f.code == codes.MISSING.code
        for f in result.findings
    )


def evaluate_dane(domain: str, mx_dnssec: Dnssec, hosts: Sequence[DaneHost]) -> CheckResult:
    """DNSSEC status of the domain's MX RRset and DANE findings for each MX host."""
    findings = _dnssec_findings(domain, "MX", mx_dnssec)
    for host in hosts:
        if host.address_dnssec is Dnssec.BOGUS:
            findings.extend(_dnssec_findings(host.name, "A/AAAA", host.address_dnssec))
            continue
        findings.extend(_host_findings(host))
    evidence: dict[str, JSONValue] = {
        "mx_dnssec": mx_dnssec.value,
        "hosts": [_host_evidence(h) for h in hosts],
    }
    return CheckResult("dane", tuple(findings), evidence)


def _dnssec_findings(subject: str, rdtype: str, status: Dnssec) -> list[Finding]:
    if status is Dnssec.BOGUS:
        return [finding(codes.BOGUS, subject, rdtype=rdtype)]
    if status is Dnssec.SECURE:
        return [finding(codes.SECURE, subject)]
    if status is Dnssec.INSECURE:
        return [finding(codes.UNSIGNED, subject)]
    return [finding(codes.UNKNOWN, subject, detail="the resolver gave no DNSSEC verdict")]


def _host_findings(host: DaneHost) -> list[Finding]:
    owner = tlsa_owner(host.name)
    answer = host.tlsa
    if answer is None or answer.outcome.is_negative:
        return [finding(codes.MISSING, host.name, owner=owner)]
    if answer.dnssec is Dnssec.BOGUS:
        return [finding(codes.BOGUS, owner, rdtype="TLSA")]
    if answer.outcome.is_failure:
        return [finding(codes.LOOKUP_FAILED, host.name, owner=owner, outcome=answer.outcome.value)]
    if answer.dnssec is not Dnssec.SECURE:
        return [finding(codes.INSECURE, host.name, owner=owner)]
    return _match_findings(host, answer.tlsa())


def _match_findings(host: DaneHost, records: Sequence[TlsaRecord]) -> list[Finding]:
    found = [
        finding(codes.UNUSABLE, host.name, record=render_tlsa(r), reason=reason)
        for r in records
        if (reason := unusable_reason(r)) is not None
    ]
    usable = [r for r in records if unusable_reason(r) is None]
    if not usable:
        return found
    for obs in host.observations:
        found.extend(_observation_findings(host.name, usable, obs))
    if not host.observations:
        found.append(finding(codes.NOT_TESTED, host.name))
    return found


def _observation_findings(
    name: str, usable: Sequence[TlsaRecord], obs: SmtpObservation
) -> list[Finding]:
    probe = obs.probe
    if probe.starttls_offered is False:
        return [finding(codes.NO_STARTTLS, name, address=probe.address)]
    chain = load_chain(probe.tls.chain_der) if probe.tls else None
    if not chain:
        return [finding(codes.NOT_TESTED, name, address=probe.address)]
    matched = next((r for r in usable if record_matches(r, chain)), None)
    if matched is not None:
        return [finding(codes.MATCH, name, address=probe.address, record=render_tlsa(matched))]
    return [
        finding(
            codes.MISMATCH,
            name,
            address=probe.address,
            fix=_tlsa_fix(name, chain[0]),
        )
    ]


def _tlsa_fix(name: str, leaf: x509.Certificate) -> str:
    record = render_tlsa(suggest_tlsa(leaf))
    return (
        f"Publish a TLSA record for the certificate the server presents now (keep the old one"
        f" until the switch is done, RFC 7671 §8):\n{tlsa_owner(name)}. 3600 IN TLSA {record}"
    )


def _host_evidence(host: DaneHost) -> dict[str, JSONValue]:
    answer = host.tlsa
    return {
        "name": host.name,
        "address_dnssec": host.address_dnssec.value,
        "tlsa_owner": tlsa_owner(host.name),
        "tlsa_outcome": answer.outcome.value if answer else "not_queried",
        "tlsa_dnssec": answer.dnssec.value if answer else None,
        "tlsa": [render_tlsa(r) for r in answer.tlsa()] if answer else [],
    }
