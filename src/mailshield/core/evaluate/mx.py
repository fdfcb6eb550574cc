"""MX evaluation: which hosts receive the domain's mail (RFC 5321 §5.1, RFC 7505).

The result feeds every transport check: MTA-STS matches these names, STARTTLS and DANE probe
these addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mailshield.core.catalogue import mx as codes
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.observations import DnsAnswer, DnsOutcome


@dataclass(frozen=True, slots=True)
class MxHostLookup:
    """An MX host name with its address lookups."""

    name: str
    preference: int
    a: DnsAnswer
    aaaa: DnsAnswer

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.a.texts() + self.aaaa.texts()


@dataclass(frozen=True, slots=True)
class MxLookup:
    """Everything gathered about a domain's mail hosts."""

    domain: str
    mx: DnsAnswer
    hosts: tuple[MxHostLookup, ...] = ()  # one per MX record; the domain itself when implicit


@dataclass(frozen=True, slots=True)
class MxSet:
    """The mail hosts the transport checks work on, in preference order."""

    hosts: tuple[MxHostLookup, ...]
    null_mx: bool = False
    implicit: bool = False
    known: bool = True  # False when the MX lookup failed: transport checks cannot run

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_public_address(text: str) -> bool:
    """Whether an address is globally routable (a hint for findings; probes enforce the guard)."""
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


def mx_set(lookup: MxLookup) -> MxSet:
    """The hosts to test: MX targets sorted by preference, or the implicit MX."""
    answer = lookup.mx
    if answer.outcome.is_failure:
        return MxSet((), known=False)
    records = answer.mx()
    if answer.ok and any(r.exchange == "" for r in records) and len(records) == 1:
        return MxSet((), null_mx=True)
    hosts = tuple(sorted(lookup.hosts, key=lambda h: (h.preference, h.name)))
    implicit = not answer.ok
    return MxSet(hosts, implicit=implicit)


def evaluate_mx(lookup: MxLookup, *, private_ok: bool = False) -> CheckResult:
    """Findings about the MX records of ``lookup.domain``.

    ``private_ok`` (lab mode) stops non-public addresses from being flagged.
    """
    findings = list(_record_findings(lookup))
    if not findings:
        findings.extend(_host_findings(lookup, private_ok))
    return CheckResult("mx", tuple(findings), _evidence(lookup))


def _record_findings(lookup: MxLookup) -> list[Finding]:
    domain, answer = lookup.domain, lookup.mx
    if answer.outcome.is_failure:
        return [finding(codes.LOOKUP_FAILED, domain, rdtype="MX", outcome=answer.outcome.value)]
    if answer.outcome is DnsOutcome.NXDOMAIN:
        return [finding(codes.DOMAIN_MISSING, domain)]
    records = answer.mx()
    if any(r.exchange == "" for r in records):
        return [finding(codes.NULL_MIXED if len(records) > 1 else codes.NULL, domain)]
    if answer.ok:
        return []
    implicit = lookup.hosts[0] if lookup.hosts else None
    if implicit is None or not implicit.addresses:
        if implicit is not None and (
            implicit.a.outcome.is_failure or implicit.aaaa.outcome.is_failure
        ):
            return [finding(codes.LOOKUP_FAILED, domain, rdtype="A/AAAA", outcome="failed")]
        return [finding(codes.NONE, domain)]
    return [finding(codes.IMPLICIT, domain)]


def _host_findings(lookup: MxLookup, private_ok: bool) -> list[Finding]:
    findings: list[Finding] = []
    for host in lookup.hosts:
        findings.extend(_one_host(host, private_ok))
    if lookup.mx.ok and not any(f.status is Status.FAIL for f in findings):
        names = [h.name for h in sorted(lookup.hosts, key=lambda h: h.preference)]
        findings.insert(
            0, finding(codes.OK, lookup.domain, count=len(names), hosts=", ".join(names))
        )
    return findings


def _one_host(host: MxHostLookup, private_ok: bool) -> list[Finding]:
    if _is_ip(host.name):
        return [finding(codes.IP_LITERAL, host.name)]
    found: list[Finding] = []
    chain = host.a.cname_chain or host.aaaa.cname_chain
    if chain:
        found.append(finding(codes.CNAME, host.name, target=chain[-1]))
    if host.a.outcome.is_failure and host.aaaa.outcome.is_failure:
        found.append(
            finding(codes.LOOKUP_FAILED, host.name, rdtype="A/AAAA", outcome=host.a.outcome.value)
        )
    elif not host.addresses:
        found.append(finding(codes.NO_ADDRESS, host.name))
    for address in host.addresses:
        if not private_ok and not is_public_address(address):
            found.append(finding(codes.PRIVATE_ADDRESS, host.name, address=address))
    return found


def _evidence(lookup: MxLookup) -> dict[str, JSONValue]:
    return {
        "mx_outcome": lookup.mx.outcome.value,
        "hosts": [
            {
                "name": h.name,
                "preference": h.preference,
                "addresses": list(h.addresses),
                "cname_chain": list(h.a.cname_chain or h.aaaa.cname_chain),
            }
            for h in lookup.hosts
        ],
    }
