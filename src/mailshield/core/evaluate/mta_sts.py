"""MTA-STS evaluation: the TXT record, the policy fetch, the policy, the MX coverage.

Pure: everything comes in as observations (RFC 8461 §3.1 record lookup with its CNAME chain,
the §3.3 fetch of ``https://mta-sts.<domain>/.well-known/mta-sts.txt``, the certificate
verdict for ``mta-sts.<domain>``, the live MX host names) and one :class:`CheckResult` comes
out, with evidence (record, policy text, parsed policy, MX coverage table) and, on every
problem, the exact fix.

A sender fetches the policy whenever the record is valid; the checker fetches it regardless,
so a policy served without a record is seen too. Fetch problems are reported only when the
domain publishes a record or actually serves a policy; otherwise the domain simply does not
use MTA-STS and the one finding says so.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from mailshield.core.catalogue import mta_sts as codes
from mailshield.core.certs import CertVerdict
from mailshield.core.documents.mta_sts_policy import (
    Mode,
    PolicyParse,
    parse_policy,
)
from mailshield.core.evaluate.mta_sts_fetch import FetchJudgement, fetch_evidence, judge_fetch
from mailshield.core.evaluate.mta_sts_fix import ENFORCE_MIN_MAX_AGE, Remedies
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, JSONValue, Status
from mailshield.core.names import mx_pattern_matches
from mailshield.core.observations import DnsAnswer, DnsOutcome, HttpsFetch
from mailshield.core.records.mta_sts import StsRecordParse, select_record

CHECK = "mta_sts"
MAX_POLICY_FINDINGS = 50  # a 64 KiB page of junk must not bury the report


@dataclass(frozen=True, slots=True)
class MtaStsObservations:
    """What was gathered for one domain.

    ``mx_hosts``: the MX host names in preference order; empty for a domain that accepts no
    mail (null MX, RFC 7505; an entry ``""`` or ``"."`` means the same); ``None`` when the MX
    lookup failed. ``cert``: the verdict on the chain the policy host presented, if any.
    """

    domain: str
    txt: DnsAnswer
    fetch: HttpsFetch
    cert: CertVerdict | None = None
    mx_hosts: tuple[str, ...] | None = field(default=None)


class RecordState(enum.Enum):
    PRESENT = "present"  # at least one record begins with v=STSv1 (valid or not)
    BROKEN = "broken"  # meant as a record, but senders find none (near miss, dangling CNAME)
    ABSENT = "absent"  # authoritatively none
    UNKNOWN = "unknown"  # the lookup did not complete


@dataclass(frozen=True, slots=True)
class RecordJudgement:
    """What the ``_mta-sts`` lookup says: the state, the parsed records, the findings."""

    state: RecordState
    parse: StsRecordParse | None
    findings: tuple[Finding, ...]

    @property
    def intended(self) -> bool:
        """The domain means to use MTA-STS (so policy problems are its problems too)."""
        return self.state in (RecordState.PRESENT, RecordState.BROKEN)


def evaluate_mta_sts(obs: MtaStsObservations) -> CheckResult:
    """The MTA-STS result for ``obs.domain``."""
    record = judge_record(obs.txt)
    fetched = judge_fetch(obs.fetch, obs.cert)
    policy = _parse(fetched)
    null_mx = obs.mx_hosts is not None and not any(h.strip(".") for h in obs.mx_hosts)
    if null_mx and not record.intended:
        na = finding(codes.MX_NULL, obs.domain, status=Status.NOT_APPLICABLE)
        return CheckResult(CHECK, (na,), _evidence(obs, record, policy, [], None, None))
    found = list(record.findings)
    rows: list[dict[str, JSONValue]] = []
    if record.intended or (policy is not None and policy.version is not None):
        if record.state is RecordState.ABSENT:
            found.append(finding(codes.POLICY_ORPHANED, obs.fetch.url))
        found.extend(fetched.findings)
        if policy is not None:
            found.extend(_policy_findings(policy))
            rows, coverage = _coverage(obs.domain, policy, obs.mx_hosts, null_mx=null_mx)
            found.extend(coverage)
    remedies = Remedies.build(obs.domain, policy, obs.mx_hosts)
    findings = tuple(remedies.attach(f) for f in found)
    applied = policy if _senders_apply(record, fetched, policy) else None
    healthy = not any(f.status.severity >= Status.WARN.severity for f in findings)
    if applied is not None and healthy and not null_mx:
        findings = (_ok(obs.domain, applied, obs.mx_hosts), *findings)
    return CheckResult(CHECK, findings, _evidence(obs, record, policy, rows, remedies, applied))


def _ok(domain: str, policy: PolicyParse, mx_hosts: Sequence[str] | None) -> Finding:
    """The one-line summary of a healthy policy (shown so a pass says what was verified)."""
    return finding(
        codes.OK,
        domain,
        mode=policy.mode.value if policy.mode else "",
        max_age=policy.max_age,
        covered=len(mx_hosts or ()),
    )


def _senders_apply(
    record: RecordJudgement, fetched: FetchJudgement, policy: PolicyParse | None
) -> bool:
    """Whether a sender would apply the policy: valid record, clean fetch, valid policy."""
    return (
        record.parse is not None
        and record.parse.valid
        and not any(f.status is Status.FAIL for f in fetched.findings)
        and policy is not None
        and policy.valid
    )


def judge_record(answer: DnsAnswer) -> RecordJudgement:
    """The §3.1 record state and findings from the ``_mta-sts`` TXT lookup."""
    if answer.ok:
        parse = select_record(answer.txt(), answer.name)
        if parse.candidates:
            return RecordJudgement(RecordState.PRESENT, parse, parse.findings)
        if parse.findings:  # near misses: records senders silently discard
            return RecordJudgement(RecordState.BROKEN, parse, parse.findings)
        return RecordJudgement(RecordState.ABSENT, parse, (_missing(answer),))
    if answer.outcome.is_negative:
        missing = _missing(answer)
        dangling = missing.code == codes.RECORD_DANGLING_CNAME.code
        return RecordJudgement(
            RecordState.BROKEN if dangling else RecordState.ABSENT, None, (missing,)
        )
    # SERVFAIL is most often the domain's own DNS (dead servers, broken DNSSEC) and senders
    # see it too, so warn (reference STS-02). Timeouts, refusals and malformed answers may
    # well be our resolver's or network's doing: could not test.
    status = Status.WARN if answer.outcome is DnsOutcome.SERVFAIL else Status.ERROR
    failed = finding(
        codes.RECORD_LOOKUP_FAILED,
        answer.name,
        status=status,
        outcome=answer.outcome.value,
        detail=f": {answer.detail}" if answer.detail else "",
    )
    return RecordJudgement(RecordState.UNKNOWN, None, (failed,))


def _missing(answer: DnsAnswer) -> Finding:
    if answer.cname_chain and answer.outcome is DnsOutcome.NXDOMAIN:
        return finding(codes.RECORD_DANGLING_CNAME, answer.name, target=answer.canonical_name)
    return finding(codes.RECORD_MISSING, answer.name)


def _parse(fetched: FetchJudgement) -> PolicyParse | None:
    if fetched.body is None or fetched.looks_like_html:
        return None
    return parse_policy(fetched.body)


def _policy_findings(policy: PolicyParse) -> list[Finding]:
    found = list(policy.findings[:MAX_POLICY_FINDINGS])
    if policy.mode is Mode.TESTING:
        found.append(finding(codes.POLICY_MODE_TESTING, "mode"))
    elif policy.mode is Mode.NONE:
        found.append(finding(codes.POLICY_MODE_NONE, "mode"))
    elif (
        policy.mode is Mode.ENFORCE
        and policy.max_age is not None
        and policy.max_age < ENFORCE_MIN_MAX_AGE
    ):
        found.append(
            finding(
                codes.POLICY_MAX_AGE_SHORT,
                "max_age",
                max_age=policy.max_age,
                minimum=ENFORCE_MIN_MAX_AGE,
            )
        )
    return found


_CONSEQUENCE = {
    Mode.ENFORCE: (Status.FAIL, "refuse to deliver to it"),
    Mode.TESTING: (Status.WARN, "deliver to it but report a failure"),
    Mode.NONE: (Status.INFO, "ignore the policy anyway"),
}


def _coverage(
    domain: str, policy: PolicyParse, mx_hosts: Sequence[str] | None, *, null_mx: bool
) -> tuple[list[dict[str, JSONValue]], list[Finding]]:
    """One row per MX host with the pattern covering it (RFC 8461 §4.1), and the findings."""
    if null_mx:
        return [], [finding(codes.MX_NULL, domain)]
    if mx_hosts is None:
        return [], [finding(codes.MX_UNKNOWN, domain)]
    # An unreadable mode gets "testing" treatment: senders reject the policy anyway.
    status, consequence = _CONSEQUENCE[policy.mode or Mode.TESTING]
    rows: list[dict[str, JSONValue]] = []
    found: list[Finding] = []
    for host in mx_hosts:
        pattern = next((p for p in policy.mx if mx_pattern_matches(p, host)), None)
        rows.append({"host": host, "pattern": pattern})
        if pattern is None:
            found.append(
                finding(
                    codes.MX_NOT_COVERED,
                    host,
                    status=status,
                    patterns=", ".join(policy.mx) or "none",
                    mode=(policy.mode or Mode.TESTING).value,
                    consequence=consequence,
                )
            )
    for pattern in policy.mx:
        if not any(mx_pattern_matches(pattern, h) for h in mx_hosts):
            found.append(finding(codes.MX_PATTERN_UNUSED, pattern))
    return rows, found


def _evidence(
    obs: MtaStsObservations,
    record: RecordJudgement,
    policy: PolicyParse | None,
    rows: list[dict[str, JSONValue]],
    remedies: Remedies | None,
    applied: PolicyParse | None,
) -> dict[str, JSONValue]:
    """Evidence; ``policy.mode`` and ``policy.mx`` are the policy senders apply (``None`` and
    ``[]`` when they apply none), ``policy.parsed`` is what the served file says."""
    recommended = (remedies.current or remedies.planned) if remedies else None
    return {
        "domain": obs.domain,
        "record": _record_evidence(obs.txt, record),
        "policy": {
            **fetch_evidence(obs.fetch, obs.cert),
            "mode": applied.mode.value if applied and applied.mode else None,
            "mx": list(applied.mx) if applied else [],
            "max_age": applied.max_age if applied else None,
            "parsed": policy.to_evidence() if policy else None,
            "problems_total": len(policy.findings) if policy else 0,
        },
        "mx_hosts": list(obs.mx_hosts) if obs.mx_hosts is not None else None,
        "mx_coverage": list(rows),
        "recommended": (
            {"policy": recommended.body, "txt": recommended.zone_line} if recommended else None
        ),
    }


def _record_evidence(answer: DnsAnswer, record: RecordJudgement) -> dict[str, JSONValue]:
    parse = record.parse
    return {
        "name": answer.name,
        "outcome": answer.outcome.value,
        "state": record.state.value,
        "cname_chain": list(answer.cname_chain),
        "dnssec": answer.dnssec.value,
        "detail": answer.detail,
        "candidates": list(parse.candidates) if parse else [],
        "ignored": list(parse.ignored) if parse else [],
        "id": parse.record.id if parse and parse.record else None,
        "valid": parse.valid if parse else False,
    }


def fetch_url(domain: str) -> str:
    """Where senders fetch the policy of ``domain`` (A-label form), RFC 8461 §3.3."""
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


def record_name(domain: str) -> str:
    """Where the MTA-STS TXT record of ``domain`` lives, RFC 8461 §3.1."""
    return f"_mta-sts.{domain}"
