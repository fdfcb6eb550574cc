"""The SPF include/redirect tree of a domain, built from gathered DNS answers (RFC 7208 §4.6.4).

A checker counts what a receiver would query for a sender that matches nothing (the worst
case): every DNS-querying term up to and including the first ``all`` (RFC 7208 §5.1), plus
``redirect`` when there is no ``all`` (§6.1), across all nested includes and redirects. A void
lookup (§4.6.4) is a term whose lookup answers NXDOMAIN or no records: ``a`` with neither A nor
AAAA, ``mx`` with no MX, ``exists`` with no A, ``include``/``redirect`` with no TXT. ``ptr``
depends on the client address and a macro target on the message: both count as one lookup
and are not followed.

:func:`build_tree` never performs a lookup: a missing answer leaves the node ``pending`` and its
query in :attr:`SpfTree.pending`, which the gathering service looks up before building again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mailshield.core.catalogue import spf as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.findings import finding
from mailshield.core.model import Finding, JSONValue, Status
from mailshield.core.observations import DnsAnswer
from mailshield.core.records.spf import Mechanism, SpfParse, parse_spf, select_spf
from mailshield.core.records.spf_macro import has_macro

MAX_DEPTH = 11  # eleven nested includes already mean more than 10 lookups
MAX_NODES = 100  # a receiver stops after 10 lookups; a checker needs no more than this
MAX_MX_NAMES = 10  # RFC 7208 §4.6.4


class NodeState(enum.StrEnum):
    PENDING = "pending"  # the TXT answer has not been gathered yet
    DNS_FAILED = "dns_failed"  # the TXT lookup did not complete: temperror
    NO_RECORD = "no_record"
    MULTIPLE = "multiple"
    RECORD = "record"
    LOOP = "loop"  # this name is already being evaluated further up
    TRUNCATED = "truncated"  # beyond the depth or size a receiver would ever reach


@dataclass(slots=True)
class SpfNode:
    """One domain in the tree, the record found there and what evaluating it costs."""

    domain: str
    via: str  # "" for the checked domain, "include" or "redirect"
    state: NodeState = NodeState.PENDING
    parse: SpfParse | None = None
    lookups: int = 0  # DNS-querying terms of this record itself
    void: list[str] = field(default_factory=list)  # terms of this record whose lookup was void
    children: list[SpfNode] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def walk(self) -> list[SpfNode]:
        """This node and every node below it, depth first."""
        return [self, *(n for child in self.children for n in child.walk())]

    def redirect_child(self) -> SpfNode | None:
        return next((c for c in self.children if c.via == "redirect"), None)

    def to_evidence(self) -> dict[str, JSONValue]:
        """The node as JSON: domain, record, terms, lookups, children, errors."""
        record = self.parse.record if self.parse else None
        return {
            "domain": self.domain,
            "via": self.via or None,
            "state": self.state.value,
            "record": self.parse.text if self.parse else None,
            "terms": [t.text() for t in record.terms] if record else [],
            "lookups": self.lookups,
            "void_lookups": list(self.void),
            "children": [c.to_evidence() for c in self.children],
            "errors": [
                {"code": f.code, "message": f.message}
                for f in self.findings
                if f.status in (Status.FAIL, Status.ERROR)
            ],
        }


@dataclass(frozen=True, slots=True)
class SpfTree:
    """The whole tree plus the lookups still needed to complete it."""

    root: SpfNode
    pending: frozenset[Query]

    @property
    def nodes(self) -> list[SpfNode]:
        return self.root.walk()

    @property
    def lookups(self) -> int:
        return sum(n.lookups for n in self.nodes)

    @property
    def void_lookups(self) -> list[str]:
        return [v for n in self.nodes for v in n.void]

    @property
    def complete(self) -> bool:
        """Whether every node was resolved, so the counts are exact rather than lower bounds."""
        unresolved = (NodeState.PENDING, NodeState.DNS_FAILED, NodeState.TRUNCATED)
        return not self.pending and all(n.state not in unresolved for n in self.nodes)


def build_tree(domain: str, answers: AnswerMap) -> SpfTree:
    """The tree of ``domain`` as far as ``answers`` reach."""
    builder = _Builder(answers)
    root = builder.node(query(domain, "TXT")[0], "", (), 0)
    return SpfTree(root, frozenset(builder.pending))


class _Builder:
    def __init__(self, answers: AnswerMap) -> None:
        self.answers = answers
        self.pending: set[Query] = set()
        self.count = 0

    def answer(self, name: str, rdtype: str) -> DnsAnswer | None:
        """The gathered answer, or None after noting the lookup as pending."""
        key = query(name, rdtype)
        found = self.answers.get(key)
        if found is None:
            self.pending.add(key)
        return found

    def node(self, domain: str, via: str, path: tuple[str, ...], depth: int) -> SpfNode:
        """The node for ``domain`` reached through ``path``, expanded as far as answers go."""
        node = SpfNode(domain, via)
        self.count += 1
        if depth > MAX_DEPTH or self.count > MAX_NODES:
            node.state = NodeState.TRUNCATED
            top = path[0] if path else domain
            node.findings.append(finding(codes.TREE_TRUNCATED, top, depth=depth))
            return node
        answer = self.answer(domain, "TXT")
        if answer is None:
            return node
        if answer.outcome.is_failure:
            node.state = NodeState.DNS_FAILED
            node.findings.append(_dns_failed(domain, answer))
            return node
        self.read_record(node, answer, path)
        if node.state is NodeState.RECORD:
            self.expand(node, (*path, domain), depth)
        return node

    def read_record(self, node: SpfNode, answer: DnsAnswer, path: tuple[str, ...]) -> None:
        """Select the SPF record among the TXT records (RFC 7208 §4.5) and parse it."""
        selection = select_spf(answer.txt())
        for text in selection.near_misses:
            node.findings.append(finding(codes.VERSION_INVALID, node.domain, record=text))
        if len(selection.records) > 1:
            node.state = NodeState.MULTIPLE
            count = len(selection.records)
            node.findings.append(finding(codes.RECORD_MULTIPLE, node.domain, count=count))
            return
        if not selection.records:
            node.state = NodeState.NO_RECORD
            if node.via:
                self.no_record(node, answer, path[-1])
            return
        node.state = NodeState.RECORD
        node.parse = parse_spf(selection.records[0], domain=node.domain)
        node.findings.extend(node.parse.findings)

    def no_record(self, node: SpfNode, answer: DnsAnswer, parent: str) -> None:
        """An include or redirect target without SPF: permerror (RFC 7208 §5.2, §6.1)."""
        spec = codes.INCLUDE_NO_RECORD if node.via == "include" else codes.REDIRECT_NO_RECORD
        outcome = answer.outcome.value if answer.outcome.is_negative else "no v=spf1 record"
        node.findings.append(finding(spec, parent, target=node.domain, outcome=outcome))
        if answer.outcome.is_negative:
            node.void.append(f"{node.via}:{node.domain}")

    def expand(self, node: SpfNode, path: tuple[str, ...], depth: int) -> None:
        """Count and follow the terms a receiver would evaluate."""
        record = node.parse.record if node.parse else None
        if record is None:
            return
        for mechanism in record.evaluated:
            if mechanism.counts_lookup:
                node.lookups += 1
                self.term(node, mechanism, path, depth)
        if record.redirect is not None:
            node.lookups += 1
            self.follow(
                node, "redirect", record.redirect, f"redirect={record.redirect}", path, depth
            )

    def term(self, node: SpfNode, mechanism: Mechanism, path: tuple[str, ...], depth: int) -> None:
        """Follow one DNS-querying mechanism: descend, or check its lookup for void/failure."""
        target = mechanism.target(node.domain)
        if target is None or mechanism.name == "ptr":
            return
        text = mechanism.text()
        if mechanism.name == "include":
            self.follow(node, "include", target, text, path, depth)
        elif has_macro(target):
            node.findings.append(finding(codes.MACRO_UNRESOLVED, node.domain, term=text))
        elif mechanism.name == "mx":
            self.mx_term(node, target, text)
        else:
            rdtypes = ("A", "AAAA") if mechanism.name == "a" else ("A",)
            self.address_term(node, target, text, rdtypes)

    def follow(
        self, node: SpfNode, via: str, target: str, text: str, path: tuple[str, ...], depth: int
    ) -> None:
        """Descend into an include or redirect target, unless it is unknowable or a loop."""
        if has_macro(target):
            node.findings.append(finding(codes.MACRO_UNRESOLVED, node.domain, term=text))
            return
        name = query(target, "TXT")[0]
        if name in path:
            loop = " → ".join((*path, name))
            node.findings.append(finding(codes.INCLUDE_LOOP, node.domain, target=name, path=loop))
            node.children.append(SpfNode(name, via, NodeState.LOOP))
            return
        node.children.append(self.node(name, via, path, depth + 1))

    def mx_term(self, node: SpfNode, target: str, text: str) -> None:
        """An mx term: void without MX records, permerror beyond 10 MX names (§4.6.4)."""
        answer = self.answer(target, "MX")
        if answer is None:
            return
        if answer.outcome.is_failure:
            node.findings.append(_dns_failed(target, answer, node.domain))
        elif not answer.mx():
            node.void.append(text)
        elif len(answer.mx()) > MAX_MX_NAMES:
            count = len(answer.mx())
            node.findings.append(finding(codes.MX_TOO_MANY, node.domain, term=text, count=count))

    def address_term(self, node: SpfNode, target: str, text: str, rdtypes: tuple[str, ...]) -> None:
        found = [self.answer(target, rdtype) for rdtype in rdtypes]
        answers = [a for a in found if a is not None]
        if len(answers) < len(found):
            return
        failed = [a for a in answers if a.outcome.is_failure]
        if failed:
            node.findings.append(_dns_failed(target, failed[0], node.domain))
        elif not any(a.records for a in answers):
            node.void.append(text)


def _dns_failed(name: str, answer: DnsAnswer, subject: str = "") -> Finding:
    return finding(
        codes.DNS_FAILED,
        subject or name,
        name=name,
        rdtype=answer.rdtype,
        outcome=answer.outcome.value,
    )
