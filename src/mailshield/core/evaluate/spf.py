"""SPF evaluation: gathered DNS answers in, a ``CheckResult`` with the include tree out.

The rules applied on top of the tree (:mod:`mailshield.core.evaluate.spf_tree`): a missing
record (with a record to publish built from the domain's MX), the ``all`` qualifier of the
record (or of its redirect target, RFC 7208 §6.1), the 10-lookup and 2-void-lookup limits
(§4.6.4), the answer size (§3.4) and ``v=spf1 -all`` for domains with a null MX (RFC 7505 §4.2).
"""

from __future__ import annotations

from collections.abc import Iterable

from mailshield.core.catalogue import spf as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.evaluate.spf_tree import NodeState, SpfNode, SpfTree, build_tree
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.observations import DnsAnswer
from mailshield.core.records.spf import Mechanism, Qualifier, SpfRecord, render_spf, with_all

CHECK = "spf"
MAX_LOOKUPS = 10  # RFC 7208 §4.6.4
NEAR_LOOKUPS = 8  # reference SPF-16
MAX_VOID = 2  # RFC 7208 §4.6.4
MAX_ANSWER_OCTETS = 450  # RFC 7208 §3.4
_NO_ALL = "the record has neither an all mechanism nor a redirect"


def spf_queries(domain: str, answers: AnswerMap) -> frozenset[Query]:
    """The lookups still needed to evaluate ``domain``: its TXT and MX, then the tree's names."""
    needed = set(build_tree(domain, answers).pending)
    needed.add(query(domain, "MX"))
    return frozenset(needed - answers.keys())


def invalid_domain(domain: str, problem: str) -> CheckResult:
    """The result for a name that cannot be looked up at all (could not test)."""
    return CheckResult(CHECK, (finding(codes.DOMAIN_INVALID, domain, problem=problem),))


def evaluate_spf(domain: str, answers: AnswerMap) -> CheckResult:
    """Judge the SPF record of ``domain`` (A-label form) from the gathered ``answers``."""
    tree = build_tree(domain, answers)
    mx = answers.get(query(domain, "MX"))
    findings = [f for node in tree.nodes for f in node.findings]
    root = tree.root
    if root.state is NodeState.NO_RECORD:
        fix = suggested_record(mx)
        findings.append(finding(codes.RECORD_MISSING, root.domain, fix=fix))
    if root.state is NodeState.RECORD:
        findings.extend(_record_findings(tree, answers, mx))
    findings = _unique(findings)
    if not any(f.status in (Status.FAIL, Status.ERROR) for f in findings):
        effective = _effective_all(root)
        findings.append(finding(codes.PASS, root.domain, all=effective, lookups=tree.lookups))
    return CheckResult(CHECK, tuple(findings), _evidence(tree, mx))


def suggested_record(mx: DnsAnswer | None) -> str:
    """A first SPF record: ``mx -all`` when the domain has mail hosts, else ``-all``."""
    if mx is not None and mx.ok and not _null_mx(mx) and mx.mx():
        return "v=spf1 mx -all"
    if mx is None or mx.outcome.is_failure:
        return "v=spf1 mx -all"
    return "v=spf1 -all"  # RFC 7208 §10.1.2: domains that send no mail


def _record_findings(tree: SpfTree, answers: AnswerMap, mx: DnsAnswer | None) -> list[Finding]:
    root = tree.root
    out = _all_findings(root)
    out.extend(_limit_findings(tree))
    txt = answers.get(query(root.domain, "TXT"))
    size = sum(len(r) for r in txt.txt()) if txt is not None else 0
    if size > MAX_ANSWER_OCTETS:
        out.append(finding(codes.RECORD_TOO_LONG, root.domain, size=size))
    parse = root.parse
    only_reject_all = parse is not None and parse.record == SpfRecord((Mechanism("all", "-"),))
    if parse is not None and mx is not None and _null_mx(mx) and not only_reject_all:
        out.append(finding(codes.NULL_MX_NOT_REJECT_ALL, root.domain, record=parse.text))
    return out


def _limit_findings(tree: SpfTree) -> list[Finding]:
    """The 10 DNS-querying terms and 2 void lookups of RFC 7208 §4.6.4, tree-wide."""
    out: list[Finding] = []
    domain, count = tree.root.domain, tree.lookups
    if count > MAX_LOOKUPS:
        out.append(finding(codes.LOOKUPS_TOO_MANY, domain, count=count))
    elif count >= NEAR_LOOKUPS:
        out.append(finding(codes.LOOKUPS_NEAR_LIMIT, domain, count=count))
    void = tree.void_lookups
    names = ", ".join(void)
    if len(void) > MAX_VOID:
        out.append(finding(codes.VOID_TOO_MANY, domain, count=len(void), names=names))
    elif len(void) == MAX_VOID:
        out.append(finding(codes.VOID_NEAR_LIMIT, domain, count=len(void), names=names))
    return out


def _decisive(root: SpfNode) -> tuple[SpfNode, Mechanism | None] | None:
    """The record whose ``all`` decides unlisted senders: the root's, or its redirect target's.

    ``None`` when that cannot be known (the redirect target is missing or unresolved).
    """
    node = root
    while node.state is NodeState.RECORD and node.parse and node.parse.record:
        record = node.parse.record
        if record.all is not None or record.redirect is None:
            return node, record.all
        child = node.redirect_child()
        if child is None:
            return None
        node = child
    return None


def _effective_all(root: SpfNode) -> str | None:
    decisive = _decisive(root)
    if decisive is None:
        return None
    return decisive[1].text() if decisive[1] is not None else "(no all: neutral)"


def _all_findings(root: SpfNode) -> list[Finding]:
    """The result for senders the record does not list (RFC 7208 §4.7, §5.1, §8)."""
    decisive = _decisive(root)
    if decisive is None:
        return []
    node, all_term = decisive
    fix = None
    if node is root and root.parse and root.parse.record:
        fix = render_spf(with_all(root.parse.record, Qualifier.FAIL))
    if all_term is None:
        return [finding(codes.ALL_NEUTRAL, node.domain, term=_NO_ALL, fix=fix)]
    spec = {
        Qualifier.PASS: codes.ALL_PASS,
        Qualifier.NEUTRAL: codes.ALL_NEUTRAL,
        Qualifier.SOFTFAIL: codes.ALL_SOFTFAIL,
    }.get(all_term.result)
    if spec is None:
        return []
    term = (
        all_term.text()
        if spec is not codes.ALL_NEUTRAL
        else f"the record ends in {all_term.text()}"
    )
    return [finding(spec, node.domain, term=term, fix=fix)]


def _null_mx(mx: DnsAnswer) -> bool:
    """A single ``MX 0 .`` record (RFC 7505 §3)."""
    return mx.ok and any(r.exchange == "" for r in mx.mx())


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    """Findings without repeats (a domain included twice reports its problems once)."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.code, f.subject, f.message), f)
    return list(seen.values())


def _evidence(tree: SpfTree, mx: DnsAnswer | None) -> dict[str, JSONValue]:
    root = tree.root
    return {
        "domain": root.domain,
        "record": root.parse.text if root.parse else None,
        "all": _effective_all(root),
        "lookups": tree.lookups,
        "lookups_complete": tree.complete,
        "void_lookups": tree.void_lookups,
        "mx": [r.exchange for r in mx.mx()] if mx is not None else None,
        "tree": root.to_evidence(),
    }
