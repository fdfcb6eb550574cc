"""The verifier's rules: what DNS shows for a hosted domain against what it should show.

Checked per record, each saying what it expected and what it saw instead:

- ``mta-sts.<d>`` must reach this service: its CNAME chain passes through the policy host name,
  or every address it has is one of ours (reference §2.7 item 22: control of ``<d>`` is shown by
  pointing the name here). This is the "points here" fact the certificate gate relies on.
- ``_mta-sts.<d>`` must carry exactly one valid ``v=STSv1`` record (RFC 8461 §3.1) whose id is
  the current policy's. An id of one of our earlier policies is *stale*: senders keep their
  cached policy until they see the new id, which is the expected state right after a change
  (§8.1: body first, then id). In the delegated setup the name must be a CNAME to the domain's
  target (§8.2), whose TXT MailShield writes.
- ``_smtp._tls.<d>`` should list the configured report address (RFC 8460 §3); recommended only.

A lookup that could not be completed is *unknown* (could not test), never *missing*.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mailshield.core.hosting.model import RecordCheck, RecordStatus, Setup
from mailshield.core.hosting.records import sts_txt, tlsrpt_txt
from mailshield.core.model import Status
from mailshield.core.names import normalise
from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.core.records import mta_sts, tls_rpt


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the records of one hosted domain should say."""

    domain: str
    setup: Setup
    current_id: str
    earlier_ids: frozenset[str]
    policy_host: str
    policy_addresses: tuple[str, ...] = ()
    target: str | None = None
    tlsrpt_rua: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """The answers gathered for one hosted domain (CNAMEs followed)."""

    host_a: DnsAnswer  # mta-sts.<d> A
    host_aaaa: DnsAnswer  # mta-sts.<d> AAAA
    sts: DnsAnswer  # _mta-sts.<d> TXT, as senders see it
    target: DnsAnswer | None = None  # <target> TXT (delegated setup)
    tlsrpt: DnsAnswer | None = None  # _smtp._tls.<d> TXT (when a report address is configured)


@dataclass(frozen=True, slots=True)
class Verification:
    """Every record check, whether ``mta-sts.<d>`` points here, and the id senders see."""

    checks: tuple[RecordCheck, ...]
    points_here: bool | None  # None: the lookup could not be completed
    live_id: str | None


def verify_records(expect: Expectation, seen: Observation) -> Verification:
    """Compare ``seen`` with ``expect``; see the module docstring for the rules."""
    host = check_policy_host(expect, seen.host_a, seen.host_aaaa)
    checks = [host]
    if expect.setup is Setup.CNAME:
        checks.append(_id_check(f"_mta-sts.{expect.domain}", seen.sts, expect))
    else:
        checks.append(_delegation_check(expect, seen.sts))
        if seen.target is not None and expect.target:
            checks.append(_id_check(expect.target, seen.target, expect))
    if expect.tlsrpt_rua and seen.tlsrpt is not None:
        checks.append(_tlsrpt_check(expect, seen.tlsrpt))
    points = None if host.status is RecordStatus.UNKNOWN else host.status is RecordStatus.OK
    return Verification(tuple(checks), points, _live_id(seen.sts))


def check_policy_host(expect: Expectation, a: DnsAnswer, aaaa: DnsAnswer) -> RecordCheck:
    """Whether ``mta-sts.<d>`` reaches this service by name (CNAME) or by address."""
    expected = expect.policy_host or ", ".join(expect.policy_addresses)
    rdtype = "CNAME" if expect.policy_host else "A/AAAA"
    check = _Record(f"mta-sts.{expect.domain}", rdtype, expected).check

    if a.outcome.is_failure and aaaa.outcome.is_failure:
        return check(RecordStatus.UNKNOWN, f"the lookup failed ({a.outcome.value})")
    chain = a.cname_chain or aaaa.cname_chain
    addresses = tuple(_ip(text) for text in (*a.texts(), *aaaa.texts()))
    ours = {_ip(text) for text in expect.policy_addresses}
    if expect.policy_host and normalise(expect.policy_host) in chain:
        return check(RecordStatus.OK, "CNAME " + " -> ".join(chain))
    if ours and addresses and set(addresses) <= ours:
        return check(RecordStatus.OK, "addresses " + ", ".join(addresses))
    if chain:
        return check(RecordStatus.WRONG, f"CNAME to {chain[0]}", "point it at " + expected)
    if addresses:
        note = "senders would fetch the policy from another server"
        return check(RecordStatus.WRONG, "addresses " + ", ".join(addresses), note)
    return check(RecordStatus.MISSING, _absence(a))


def _id_check(owner: str, answer: DnsAnswer, expect: Expectation) -> RecordCheck:
    record = _Record(owner, "TXT", sts_txt(expect.current_id))
    check = record.check

    if answer.outcome.is_failure:
        return check(RecordStatus.UNKNOWN, f"the lookup failed ({answer.outcome.value})")
    parsed = mta_sts.select_record(answer.txt(), owner)
    others = "; ".join(repr(text) for text in parsed.ignored)
    if len(parsed.candidates) > 1:
        seen = f"{len(parsed.candidates)} v=STSv1 records"
        return check(RecordStatus.WRONG, seen, "keep exactly one; senders ignore them all (§3.1)")
    if parsed.record is None:
        problem = next((f.message for f in parsed.findings), "")
        if problem:
            return check(RecordStatus.WRONG, problem)
        return check(
            RecordStatus.MISSING, f"other TXT records: {others}" if others else _absence(answer)
        )
    if not parsed.valid:
        problem = next(f.message for f in parsed.findings if f.status is Status.FAIL)
        return check(RecordStatus.WRONG, problem)
    return _compare_id(parsed.record, expect, record)


def _compare_id(sts: mta_sts.StsRecord, expect: Expectation, record: _Record) -> RecordCheck:
    if sts.id == expect.current_id:
        return record.check(RecordStatus.OK, sts.text)
    if sts.id in expect.earlier_ids:
        note = f"still the previous policy's id: publish id={expect.current_id}"
        return record.check(RecordStatus.STALE, sts.text, note)
    note = f"id={sts.id} was not issued by MailShield"
    return record.check(RecordStatus.WRONG, sts.text, note)


def _delegation_check(expect: Expectation, answer: DnsAnswer) -> RecordCheck:
    target = normalise(expect.target or "")
    check = _Record(f"_mta-sts.{expect.domain}", "CNAME", target + ".").check

    if answer.cname_chain:
        if answer.cname_chain[0] == target:
            return check(RecordStatus.OK, f"CNAME to {answer.cname_chain[0]}")
        return check(RecordStatus.WRONG, f"CNAME to {answer.cname_chain[0]}")
    if answer.outcome.is_failure:
        return check(RecordStatus.UNKNOWN, f"the lookup failed ({answer.outcome.value})")
    if answer.txt():
        note = "replace the TXT record by the CNAME so MailShield can rotate the id"
        return check(RecordStatus.WRONG, "a TXT record instead of the CNAME", note)
    return check(RecordStatus.MISSING, _absence(answer))


def _tlsrpt_check(expect: Expectation, answer: DnsAnswer) -> RecordCheck:
    owner = f"_smtp._tls.{expect.domain}"
    check = _Record(owner, "TXT", tlsrpt_txt(expect.tlsrpt_rua), required=False).check

    if answer.outcome.is_failure:
        return check(RecordStatus.UNKNOWN, f"the lookup failed ({answer.outcome.value})")
    parsed = tls_rpt.select_record(answer.txt(), owner)
    if parsed.record is None:
        if parsed.candidates:
            return check(RecordStatus.WRONG, f"{len(parsed.candidates)} v=TLSRPTv1 records")
        return check(RecordStatus.MISSING, _absence(answer))
    if expect.tlsrpt_rua in (d.uri for d in parsed.record.destinations):
        return check(RecordStatus.OK, parsed.record.text)
    note = f"add {expect.tlsrpt_rua} to rua (comma-separated) to see reports in MailShield"
    return check(RecordStatus.WRONG, parsed.record.text, note)


def _live_id(answer: DnsAnswer) -> str | None:
    """The policy id a sender would see at ``_mta-sts.<d>`` right now, if any."""
    if not answer.ok:
        return None
    parsed = mta_sts.select_record(answer.txt())
    return parsed.record.id if parsed.valid and parsed.record is not None else None


def _absence(answer: DnsAnswer) -> str:
    if answer.outcome is DnsOutcome.NXDOMAIN:
        return "no such name (NXDOMAIN)"
    return f"no {answer.rdtype} record"


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class _Record:
    """One record being checked; :meth:`check` states the verdict on it."""

    owner: str
    rdtype: str
    expected: str
    required: bool = True

    def check(self, status: RecordStatus, seen: str, note: str = "") -> RecordCheck:
        return RecordCheck(
            self.owner, self.rdtype, status, self.expected, seen, self.required, note
        )
