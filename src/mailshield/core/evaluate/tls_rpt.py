"""TLS-RPT record evaluation (RFC 8460 §3): is there exactly one usable reporting record?

Without TLS-RPT a domain never learns that senders failed to reach it securely; with MTA-STS
(above all in testing mode) it is how problems surface, so a missing record is a warning
whenever MTA-STS is present and information otherwise (reference STS-33).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from mailshield.core.catalogue import tls_rpt as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.evaluate.tls_rpt_destinations import destination_queries, unreachable_reason
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.core.records.tls_rpt import TlsRptParse, select_record

CHECK = "tls_rpt"
_WHY_WITH_STS = " — with MTA-STS deployed, TLS reports are how delivery failures become visible"


def record_name(domain: str) -> str:
    """Where the TLS-RPT record of ``domain`` lives (RFC 8460 §3)."""
    return f"_smtp._tls.{domain}"


def recommended_record(
    domain: str, parse: TlsRptParse | None = None, unreachable: Collection[str] = ()
) -> str:
    """The exact record to publish: the usable, reachable destinations already listed, else
    ``mailto:tlsrpt@<domain>``, as a zone-file line."""
    usable: list[str] = []
    if parse is not None and parse.record is not None:
        usable = [
            d.uri
            for d in parse.record.destinations
            if d.problem is None and d.uri not in unreachable
        ]
    rua = ",".join(usable) or f"mailto:tlsrpt@{domain}"
    return f'{record_name(domain)}. IN TXT "v=TLSRPTv1; rua={rua}"'


def tls_rpt_queries(domain: str, answers: AnswerMap) -> list[Query]:
    """Planner for the gathering loop: the record first, then what its destinations need."""
    record_query = query(record_name(domain), "TXT")
    answer = answers.get(record_query)
    if answer is None:
        return [record_query]
    parse = _select(answer)
    return destination_queries(parse.record.destinations) if parse and parse.record else []


def _select(answer: DnsAnswer) -> TlsRptParse | None:
    return select_record(answer.txt(), answer.name) if answer.ok else None


def evaluate_tls_rpt(
    domain: str,
    answer: DnsAnswer,
    mta_sts_present: bool,
    destinations: AnswerMap | None = None,
) -> CheckResult:
    """The TLS-RPT result for ``domain`` (A-label form) from its ``_smtp._tls`` TXT lookup.

    ``destinations``: the lookups :func:`tls_rpt_queries` asked for; without them the
    destinations are judged by syntax only.
    """
    parse = _select(answer)
    if parse is not None and parse.candidates:
        found = parse.findings + _reachability(parse, destinations or {})
    elif answer.outcome.is_failure:
        found = (_lookup_failed(answer),)
    else:
        found = (parse.findings if parse else ()) or (_missing(answer, mta_sts_present),)
    unreachable = {f.subject for f in found if f.code == codes.RUA_UNREACHABLE.code}
    fix = recommended_record(domain, parse, unreachable)
    findings = tuple(_with_fix(f, fix) for f in found)
    return CheckResult(CHECK, findings, _evidence(domain, answer, parse, fix))


def _reachability(parse: TlsRptParse, answers: AnswerMap) -> tuple[Finding, ...]:
    """RPT-06/RPT-07: destinations whose domain cannot take reports; fail if none can."""
    usable = [d for d in (parse.record.destinations if parse.record else ()) if d.problem is None]
    reasons = [(d, unreachable_reason(d, answers)) for d in usable]
    broken = [(d, reason) for d, reason in reasons if reason is not None]
    status = Status.FAIL if usable and len(broken) == len(usable) else Status.WARN
    return tuple(
        finding(codes.RUA_UNREACHABLE, d.uri, status=status, problem=reason) for d, reason in broken
    )


def _missing(answer: DnsAnswer, mta_sts_present: bool) -> Finding:
    status = Status.WARN if mta_sts_present else Status.INFO
    why = _WHY_WITH_STS if mta_sts_present else ""
    return finding(codes.RECORD_MISSING, answer.name, status=status, why=why)


def _lookup_failed(answer: DnsAnswer) -> Finding:
    # SERVFAIL is most often the domain's own DNS and reporters see it too: warn. Timeouts,
    # refusals and malformed answers may be our own resolver's doing: could not test.
    status = Status.WARN if answer.outcome is DnsOutcome.SERVFAIL else Status.ERROR
    detail = f": {answer.detail}" if answer.detail else ""
    return finding(
        codes.RECORD_LOOKUP_FAILED,
        answer.name,
        status=status,
        outcome=answer.outcome.value,
        detail=detail,
    )


def _with_fix(item: Finding, fix: str) -> Finding:
    if item.code == codes.RECORD_LOOKUP_FAILED.code:
        return item
    if item.status in (Status.WARN, Status.FAIL) or item.code == codes.RECORD_MISSING.code:
        return replace(item, fix=fix)
    return item


def _evidence(
    domain: str, answer: DnsAnswer, parse: TlsRptParse | None, fix: str
) -> dict[str, JSONValue]:
    record = parse.record if parse else None
    return {
        "domain": domain,
        "name": answer.name,
        "outcome": answer.outcome.value,
        "cname_chain": list(answer.cname_chain),
        "dnssec": answer.dnssec.value,
        "candidates": list(parse.candidates) if parse else [],
        "ignored": list(parse.ignored) if parse else [],
        "destinations": [
            {"uri": d.uri, "kind": d.kind, "target": d.target, "problem": d.problem}
            for d in (record.destinations if record else ())
        ],
        "valid": parse.valid if parse else False,
        "recommended": fix,
    }
