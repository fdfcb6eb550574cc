"""BIMI evaluation: the ``default._bimi`` record and the DMARC precondition.

Discovery (BIMI draft §8.2): ``default._bimi.<domain>``; when it has no BIMI record, the
Organizational Domain's (taken from the DMARC check's evidence). Several records mean no BIMI.
Eligibility (§8.1) reads the DMARC result's ``policy`` evidence: the effective policy must be
quarantine or reject, the subdomain policy must not be none, and quarantine needs pct=100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mailshield.core.catalogue import bimi as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.evaluate.dmarc import default_rua
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.records.bimi import BimiParse, parse_bimi, select_bimi
from mailshield.core.records.dmarc import parse_dmarc, render_dmarc, with_tags

CHECK = "bimi"
SELECTOR = "default"


def record_name(domain: str) -> str:
    """Where the default selector's assertion record lives (BIMI draft §5)."""
    return f"{SELECTOR}._bimi.{domain}"


def org_domain(dmarc: CheckResult, domain: str) -> str:
    """The Organizational Domain the DMARC check found (the domain itself if unknown)."""
    org = dmarc.evidence.get("org_domain")
    return org if isinstance(org, str) and org else domain


def bimi_queries(domain: str, dmarc: CheckResult) -> frozenset[Query]:
    """The domain's record name and, when different, the Organizational Domain's (one level)."""
    names = {record_name(domain), record_name(org_domain(dmarc, domain))}
    return frozenset(query(n, "TXT") for n in names)


def invalid_domain(domain: str, problem: str) -> CheckResult:
    """The result for a name that cannot be looked up at all (could not test)."""
    return CheckResult(CHECK, (finding(codes.DOMAIN_INVALID, domain, problem=problem),))


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool | None  # None: the DMARC policy could not be determined
    reasons: tuple[str, ...] = ()
    fix: str | None = None


def evaluate_bimi(domain: str, answers: AnswerMap, dmarc: CheckResult) -> CheckResult:
    """Judge the BIMI record of ``domain`` and whether its DMARC policy makes it eligible."""
    findings: list[Finding] = []
    name, parse = _discover(domain, dmarc, answers, findings)
    eligibility = dmarc_eligibility(domain, dmarc)
    evidence: dict[str, JSONValue] = {
        "domain": domain,
        "name": name,
        "record": parse.text if parse else None,
        "org_fallback": name is not None and name != record_name(domain),
        "dmarc_eligible": eligibility.eligible,
        "dmarc_reasons": list(eligibility.reasons),
    }
    if parse is None or parse.record is None or name is None:
        if parse is not None:
            findings.extend(parse.findings)
        return CheckResult(CHECK, tuple(findings), evidence)
    record = parse.record
    evidence.update(location=record.location, evidence_location=record.evidence)
    findings.extend(parse.findings)
    if record.declined:
        findings.append(finding(codes.DECLINED, name))
        return CheckResult(CHECK, tuple(findings), evidence)
    findings.extend(_eligibility_findings(domain, eligibility))
    findings.extend(_advice(name, parse))
    if not any(f.status in (Status.FAIL, Status.ERROR, Status.WARN) for f in findings):
        findings.append(finding(codes.PASS, domain, url=record.location))
    return CheckResult(CHECK, tuple(findings), evidence)


def _discover(
    domain: str, dmarc: CheckResult, answers: AnswerMap, findings: list[Finding]
) -> tuple[str | None, BimiParse | None]:
    """The name and parsed record that apply, adding lookup and selection findings."""
    candidates = [record_name(domain)]
    org = org_domain(dmarc, domain)
    if org != domain:
        candidates.append(record_name(org))
    for name in candidates:
        answer = answers.get(query(name, "TXT"))
        if answer is None:
            continue
        if answer.outcome.is_failure:
            findings.append(finding(codes.DNS_FAILED, name, outcome=answer.outcome.value))
            return None, None
        records, near = select_bimi(answer.txt())
        findings.extend(f for text in near for f in parse_bimi(text, name=name).findings)
        if len(records) > 1:
            findings.append(finding(codes.RECORD_MULTIPLE, name, count=len(records)))
            return None, None
        if records:
            return name, parse_bimi(records[0], name=name)
    findings.append(finding(codes.RECORD_MISSING, domain))
    return None, None


def dmarc_eligibility(domain: str, dmarc: CheckResult) -> Eligibility:
    """Whether the DMARC result lets receivers show a logo (BIMI draft §8.1)."""
    policy = dmarc.evidence.get("policy")
    if not isinstance(policy, Mapping):
        if dmarc.status is Status.ERROR:
            return Eligibility(None)
        fix = render_dmarc([("p", "quarantine"), ("rua", default_rua(domain))])
        return Eligibility(False, ("no DMARC record applies",), fix)
    reasons = []
    if policy.get("effective") == "none":
        reasons.append("the DMARC policy is none")
    if policy.get("subdomains") == "none" and policy.get("effective") != "none":
        reasons.append("the subdomain policy is none (sp=none)")
    pct = policy.get("pct", 100)
    if policy.get("effective") == "quarantine" and isinstance(pct, int) and pct < 100:
        reasons.append(f"pct={pct} applies quarantine to part of the mail only")
    if not reasons:
        return Eligibility(True)
    return Eligibility(False, tuple(reasons), _dmarc_fix(dmarc, policy))


def _dmarc_fix(dmarc: CheckResult, policy: Mapping[str, JSONValue]) -> str | None:
    """The domain's DMARC record changed to meet the precondition (own records only)."""
    text = dmarc.evidence.get("record")
    if dmarc.evidence.get("inherited") or not isinstance(text, str):
        return None
    record = parse_dmarc(text).record
    if record is None:
        return None
    changes: dict[str, str | None] = {"pct": None}
    if policy.get("effective") == "none":
        changes["p"] = "quarantine"
    if record.sp is not None and record.sp.value == "none":
        changes["sp"] = None
    return with_tags(record, **changes)


def _eligibility_findings(domain: str, eligibility: Eligibility) -> list[Finding]:
    if eligibility.eligible is None:
        return [finding(codes.DMARC_UNKNOWN, domain)]
    if eligibility.eligible:
        return []
    reasons = "; ".join(eligibility.reasons)
    return [finding(codes.DMARC_NOT_ELIGIBLE, domain, reasons=reasons, fix=eligibility.fix)]


def _advice(name: str, parse: BimiParse) -> list[Finding]:
    """Evidence document and logo format (BIMI-06, BIMI-09)."""
    record = parse.record
    out: list[Finding] = []
    if record is None:
        return out
    location = record.location or ""
    path = location.split("?", 1)[0].lower()
    if location and not path.endswith((".svg", ".svgz")):
        out.append(finding(codes.LOGO_NOT_SVG, name, url=location))
    if not record.evidence:
        out.append(finding(codes.EVIDENCE_MISSING, name))
    return out
