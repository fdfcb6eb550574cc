"""DMARC evaluation: tree-walk answers in, the applying policy and its problems out.

Rules on top of the record parser: which record applies (the domain's own or a parent's, RFC
9989 §4.10), the effective policy for the domain (``p`` for its own record, ``sp`` else ``p``
for an inherited one, RFC 7489 §6.3; a missing or invalid ``p`` acts as ``none``, RFC 9989
§4.10.1), ``sp`` below the Organizational Domain, ``psd=y``, and external report destinations
(RFC 7489 §7.1). The evidence names the record that applied and where it was found; its
``policy`` entry is what the BIMI check reads.
"""

from __future__ import annotations

from mailshield.core.catalogue import dmarc as codes
from mailshield.core.evaluate.answers import AnswerMap, Query
from mailshield.core.evaluate.dmarc_reports import (
    Destination,
    authorisation_findings,
    authorisation_queries,
    destinations,
)
from mailshield.core.evaluate.dmarc_walk import Discovery, discover, walk_queries
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.records.dmarc import DmarcRecord, Policy, parse_dmarc, render_dmarc, with_tags

CHECK = "dmarc"


def default_rua(domain: str) -> str:
    """The aggregate-report address suggested in fixes when a record has none."""
    return f"mailto:dmarc-reports@{domain}"


def first_record(domain: str) -> str:
    """The record to start with: monitoring plus aggregate reports (RFC 7489 §6.3)."""
    return render_dmarc([("p", "none"), ("rua", default_rua(domain))])


def dmarc_queries(domain: str, answers: AnswerMap) -> frozenset[Query]:
    """The lookups still needed: every tree-walk name, then external destinations' names."""
    missing = walk_queries(domain) - answers.keys()
    if missing:
        return missing
    return authorisation_queries(_destinations(discover(domain, answers))) - answers.keys()


def invalid_domain(domain: str, problem: str) -> CheckResult:
    """The result for a name that cannot be looked up at all (could not test)."""
    return CheckResult(CHECK, (finding(codes.DOMAIN_INVALID, domain, problem=problem),))


def evaluate_dmarc(domain: str, answers: AnswerMap) -> CheckResult:
    """Judge the DMARC policy that applies to ``domain`` (A-label form)."""
    found = discover(domain, answers)
    findings = _near_misses(found)
    step, parse = found.policy_step, found.parse
    if found.failed_step is not None:
        answer = found.failed_step.answer
        name, outcome = found.failed_step.name, answer.outcome.value
        findings.append(finding(codes.DNS_FAILED, domain, name=name, outcome=outcome))
    elif step is None:
        findings.append(finding(codes.RECORD_MISSING, domain, fix=first_record(domain)))
    elif parse is None:
        count = len(step.selection.records)
        findings.append(finding(codes.RECORD_MULTIPLE, step.name, name=step.name, count=count))
    elif parse.record is not None:
        findings.extend(parse.findings)
        findings.extend(_policy_findings(found, parse.record))
        dests = _destinations(found)
        findings.extend(authorisation_findings(dests, answers, step.name))
    if not any(f.status in (Status.FAIL, Status.ERROR, Status.WARN) for f in findings):
        findings.extend(_pass(found))
    return CheckResult(CHECK, tuple(findings), _evidence(found, answers))


def effective_policy(found: Discovery) -> Policy | None:
    """The policy receivers apply to the domain's own mail (None when no record applies)."""
    record = found.parse.record if found.parse else None
    if record is None:
        return None
    policy = record.subdomain_policy if found.inherited else record.p
    return policy or Policy.NONE


def _policy_findings(found: Discovery, record: DmarcRecord) -> list[Finding]:
    out: list[Finding] = []
    assert found.policy_step is not None
    where = found.policy_step
    if effective_policy(found) is Policy.NONE:
        out.append(
            finding(
                codes.POLICY_NONE,
                found.domain,
                policy_domain=where.domain,
                fix=_enforcing_record(found, record),
            )
        )
    if not found.inherited and record.sp is not None and found.org_domain != found.domain:
        out.append(
            finding(codes.SP_IGNORED, where.name, name=where.name, org_domain=found.org_domain)
        )
    if record.psd == "y" and "." in where.domain:
        out.append(finding(codes.PSD_SET, where.name, name=where.name, policy_domain=where.domain))
    return out


def _enforcing_record(found: Discovery, record: DmarcRecord) -> str:
    """The published record with p=quarantine, keeping its rua (or adding one).

    For an inherited policy, a record of the domain's own to publish at ``_dmarc.<domain>``.
    """
    rua = record.get("rua") or default_rua(found.domain)
    if found.inherited:
        return render_dmarc([("p", Policy.QUARANTINE.value), ("rua", rua)])
    return with_tags(record, p=Policy.QUARANTINE.value, rua=rua)


def _destinations(found: Discovery) -> list[Destination]:
    record = found.parse.record if found.parse else None
    if record is None or found.policy_step is None:
        return []
    return destinations(record, found.policy_step.domain, found.org_domain)


def _near_misses(found: Discovery) -> list[Finding]:
    """Records meant as DMARC but ignored, at the names that decide the domain's policy."""
    out: list[Finding] = []
    for step in found.steps:
        for text in step.selection.near_misses:
            out.extend(parse_dmarc(text, name=step.name).findings)
        if step is found.policy_step:
            break
    return out


def _pass(found: Discovery) -> list[Finding]:
    policy = effective_policy(found)
    if policy is None or found.policy_step is None:
        return []
    where = found.policy_step.domain
    return [finding(codes.PASS, found.domain, policy=policy.value, policy_domain=where)]


def _evidence(found: Discovery, answers: AnswerMap) -> dict[str, JSONValue]:
    record = found.parse.record if found.parse else None
    step = found.policy_step
    return {
        "domain": found.domain,
        "policy_domain": step.domain if step else None,
        "record_name": step.name if step else None,
        "record": found.parse.text if found.parse else None,
        "inherited": found.inherited,
        "org_domain": found.org_domain,
        "org_domain_complete": found.org_complete,
        "walk": [s.to_evidence() for s in found.steps],
        "policy": _policy_evidence(found, record),
        "destinations": [d.to_evidence(answers) for d in _destinations(found)],
    }


def _policy_evidence(found: Discovery, record: DmarcRecord | None) -> dict[str, JSONValue] | None:
    if record is None:
        return None
    policy = effective_policy(found)
    return {
        "p": record.p.value if record.p else None,
        "sp": record.sp.value if record.sp else None,
        "np": record.np.value if record.np else None,
        "pct": record.pct if record.pct is not None else 100,
        "testing": record.testing,
        "effective": policy.value if policy else None,
        "subdomains": (record.subdomain_policy or Policy.NONE).value,
    }
