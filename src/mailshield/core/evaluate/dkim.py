"""DKIM evaluation: the key records at the supplied and common selectors of a domain.

Selectors cannot be discovered from DNS (reference §8.1), so the check looks at the selectors
the user names plus a short list of common ones. The common ones are guesses, so they are
asked only where a key can exist: when ``_domainkey.<domain>`` is NXDOMAIN nothing below it
exists (RFC 8020 §2) and no guess is made; a CNAME there, NODATA (an empty non-terminal above
real selectors), a record, or a failed lookup all lead to the guesses being asked.

A named selector without a key is fail (DKIM-01); an absent common selector says nothing, a
revoked key there is info (a retired key), and a TXT record at a common selector that does not
look like a DKIM key (e.g. a wildcard) is ignored. No key found at all is info — unless a lookup
failed, when the honest answer is "could not test".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mailshield.core.catalogue import dkim as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.names import hostname_problem
from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.core.records.dkim import DkimParse, looks_like_dkim, parse_dkim

CHECK = "dkim"
COMMON_SELECTORS = ("google", "selector1", "selector2", "default", "k1", "s1", "s2", "dkim", "mail")


@dataclass(frozen=True, slots=True)
class Selector:
    """A selector to look at; ``supplied`` when the user named it."""

    name: str
    supplied: bool

    def record_name(self, domain: str) -> str:
        """Where the selector's key lives (RFC 6376 §3.6.2.1)."""
        return f"{self.name}._domainkey.{domain}"


def selectors(supplied: Sequence[str]) -> tuple[tuple[Selector, ...], tuple[Finding, ...]]:
    """The supplied selectors (valid ones, lower-cased) then the common ones, each once."""
    return _selectors(tuple(supplied))


@functools.lru_cache(maxsize=64)  # the planner asks at every level of every check
def _selectors(supplied: tuple[str, ...]) -> tuple[tuple[Selector, ...], tuple[Finding, ...]]:
    out: dict[str, Selector] = {}
    problems: list[Finding] = []
    for raw in supplied:
        name = raw.strip().rstrip(".").lower()
        problem = hostname_problem(name)
        if problem:
            problems.append(finding(codes.SELECTOR_INVALID, raw, selector=raw, problem=problem))
        else:
            out.setdefault(name, Selector(name, True))
    for name in COMMON_SELECTORS:
        out.setdefault(name, Selector(name, False))
    return tuple(out.values()), tuple(problems)


def domainkey_query(domain: str) -> Query:
    """The lookup telling whether anything exists under ``_domainkey.<domain>``."""
    return query(f"_domainkey.{domain}", "TXT")


def dkim_queries(domain: str, supplied: Sequence[str], answers: AnswerMap) -> frozenset[Query]:
    """The planner: the supplied selectors and ``_domainkey.<domain>`` first; the common
    selectors once that answer shows they can exist (:func:`common_selectors_asked`)."""
    chosen = selectors(supplied)[0]
    probe = domainkey_query(domain)
    wanted = {query(s.record_name(domain), "TXT") for s in chosen if s.supplied}
    wanted.add(probe)
    if probe in answers and common_selectors_asked(answers[probe]):
        wanted.update(query(s.record_name(domain), "TXT") for s in chosen if not s.supplied)
    return frozenset(wanted)


def common_selectors_asked(domainkey: DnsAnswer) -> bool:
    """Whether ``_domainkey.<domain>``'s answer leaves room for keys below it: anything but a
    plain NXDOMAIN (RFC 8020 §2: no name exists below a name that does not exist). After a
    CNAME the NXDOMAIN is the target's and says nothing of the names below this one."""
    return not (domainkey.outcome is DnsOutcome.NXDOMAIN and not domainkey.cname_chain)


def invalid_domain(domain: str, problem: str) -> CheckResult:
    """The result for a name that cannot be looked up at all (could not test)."""
    return CheckResult(CHECK, (finding(codes.DOMAIN_INVALID, domain, problem=problem),))


def evaluate_dkim(domain: str, supplied: Sequence[str], answers: AnswerMap) -> CheckResult:
    """Judge every selector's key record; see the module docstring for absent selectors."""
    chosen, problems = selectors(supplied)
    findings = list(problems)
    evidence: list[dict[str, JSONValue]] = []
    common_failures: list[Finding] = []
    keys = 0
    for selector in chosen:
        name = selector.record_name(domain)
        answer = answers.get(query(name, "TXT"))
        if answer is None:
            continue
        outcome = _judge(selector, name, answer)
        keys += outcome.present
        if selector.supplied or outcome.present:
            findings.extend(outcome.findings)
            evidence.append(outcome.to_evidence(selector, answer))
        else:
            common_failures.extend(outcome.findings)
    domainkey = answers.get(domainkey_query(domain))
    if keys == 0 and not any(s.supplied for s in chosen):
        findings.extend(common_failures or [_none_found(domain, domainkey)])
    facts: dict[str, JSONValue] = {
        "domain": domain,
        "domainkey": domainkey.outcome.value if domainkey else None,
        "common_selectors_asked": domainkey is not None and common_selectors_asked(domainkey),
        "selectors": evidence,
    }
    return CheckResult(CHECK, tuple(findings), facts)


@dataclass(frozen=True, slots=True)
class _Outcome:
    findings: list[Finding]
    parse: DkimParse | None = None
    present: bool = False  # a key record (or several) exists at the selector

    def to_evidence(self, selector: Selector, answer: DnsAnswer) -> dict[str, JSONValue]:
        """The selector as JSON: lookup, CNAME chain, record and key facts."""
        record = self.parse.record if self.parse else None
        return {
            "selector": selector.name,
            "name": answer.name,
            "supplied": selector.supplied,
            "outcome": answer.outcome.value,
            "cname_chain": list(answer.cname_chain),
            "record": self.parse.text if self.parse else None,
            "key_type": record.key_type if record else None,
            "key_bits": record.key_bits if record else None,
            "revoked": record.revoked if record else None,
            "testing": record.testing if record else None,
        }


def _judge(selector: Selector, name: str, answer: DnsAnswer) -> _Outcome:
    """The findings for one selector's answer (RFC 6376 §3.6.2.2)."""
    if answer.outcome.is_failure:
        return _Outcome([finding(codes.DNS_FAILED, name, outcome=answer.outcome.value)])
    texts = [t.decode("utf-8", errors="replace") for t in answer.txt()]
    if not selector.supplied:
        texts = [t for t in texts if looks_like_dkim(t)]
    if not texts:
        if not selector.supplied:
            return _Outcome([])
        outcome = answer.outcome.value if answer.outcome.is_negative else "no TXT record"
        spec = codes.KEY_NOT_FOUND
        return _Outcome([finding(spec, name, outcome=outcome, selector=selector.name)])
    if len(texts) > 1:
        return _Outcome([finding(codes.RECORD_MULTIPLE, name, count=len(texts))], present=True)
    parse = parse_dkim(texts[0], name=name)
    found = [_revoked_is_info(f) if not selector.supplied else f for f in parse.findings]
    if parse.valid and parse.record is not None:
        found.append(finding(codes.KEY_OK, name, description=parse.record.describe()))
    return _Outcome(found, parse, present=True)


def _revoked_is_info(found: Finding) -> Finding:
    """A revoked key at a common selector is most likely a retired key: info (DKIM-06)."""
    if found.code == codes.KEY_REVOKED.code:
        return replace(found, status=Status.INFO)
    return found


def _none_found(domain: str, domainkey: DnsAnswer | None) -> Finding:
    if domainkey is not None and not common_selectors_asked(domainkey):
        where = f"_domainkey.{domain} does not exist (NXDOMAIN), so no selector below it can"
    else:
        where = f"none of the common selectors ({', '.join(COMMON_SELECTORS)}) has one"
    return finding(codes.NONE_FOUND, domain, where=where)
