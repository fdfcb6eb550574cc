"""DMARC policy discovery by DNS tree walk and the Organizational Domain (RFC 9989 §4.10).

No public suffix list: the walk queries ``_dmarc.<name>`` for the domain itself and then its
parents, at most 8 names — a name of 8 or more labels jumps to its last 7 labels after the
first query, then one label is removed at a time down to the top-level domain (§4.10.1).

* Policy discovery: the first name (in walk order) with DMARC records decides; exactly one
  record applies, several mean no DMARC at all (RFC 7489 §6.6.3). A failed lookup before any
  record was found leaves the policy unknown.
* Organizational Domain (§4.10.2): walking up, a record with ``psd=n`` makes its domain the
  Organizational Domain; ``psd=y`` makes it the domain one label below (or the domain itself
  when the record is its own); otherwise the domain with the fewest labels that has a record;
  with no record at all, the domain itself.

All walk names are gathered at once (one concurrent level); a checker wants both answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.observations import DnsAnswer
from mailshield.core.records.dmarc import DmarcParse, DmarcSelection, parse_dmarc, select_dmarc

MAX_LABELS_AFTER_FIRST = 7  # RFC 9989 §4.10.1: at most 8 queries in all


def walk_names(domain: str) -> tuple[str, ...]:
    """The domains whose ``_dmarc`` records the walk queries, in order."""
    labels = domain.split(".")
    start = min(len(labels) - 1, MAX_LABELS_AFTER_FIRST)
    return (domain, *(".".join(labels[-k:]) for k in range(start, 0, -1)))


def record_name(domain: str) -> str:
    """Where a domain's DMARC record lives (RFC 7489 §6.1)."""
    return f"_dmarc.{domain}"


def walk_queries(domain: str) -> frozenset[Query]:
    """The TXT lookups of the whole walk, gathered as one concurrent level."""
    return frozenset(query(record_name(n), "TXT") for n in walk_names(domain))


@dataclass(frozen=True, slots=True)
class WalkStep:
    """The answer for one walked name and the DMARC records selected from it."""

    domain: str
    answer: DnsAnswer
    selection: DmarcSelection

    @property
    def name(self) -> str:
        return record_name(self.domain)

    def to_evidence(self) -> dict[str, object]:
        """The step as JSON: the name, the lookup outcome and the DMARC records there."""
        return {
            "name": self.name,
            "outcome": self.answer.outcome.value,
            "records": list(self.selection.records),
        }


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the walk found for ``domain``."""

    domain: str
    steps: tuple[WalkStep, ...]
    policy_step: WalkStep | None = None  # where the record(s) deciding the policy were found
    failed_step: WalkStep | None = None  # a failed lookup that left the policy unknown
    parse: DmarcParse | None = None  # the applying record, when exactly one was found
    org_domain: str = ""
    org_complete: bool = True  # False when a failed lookup may hide the true boundary

    @property
    def inherited(self) -> bool:
        """Whether the policy comes from a parent domain rather than the domain itself."""
        return self.policy_step is not None and self.policy_step.domain != self.domain


def discover(domain: str, answers: AnswerMap) -> Discovery:
    """Run policy discovery and Organizational Domain selection over gathered ``answers``."""
    steps = tuple(
        WalkStep(n, answer, select_dmarc(answer.txt()))
        for n in walk_names(domain)
        if (answer := answers.get(query(record_name(n), "TXT"))) is not None
    )
    policy_step = failed_step = None
    for step in steps:
        if step.answer.outcome.is_failure:
            failed_step = step
            break
        if step.selection.records:
            policy_step = step
            break
    parse = None
    if policy_step is not None and len(policy_step.selection.records) == 1:
        parse = parse_dmarc(policy_step.selection.records[0], name=policy_step.name)
    org, complete = organizational_domain(domain, steps)
    return Discovery(domain, steps, policy_step, failed_step, parse, org, complete)


def organizational_domain(domain: str, steps: tuple[WalkStep, ...]) -> tuple[str, bool]:
    """The Organizational Domain of ``domain`` and whether every walk lookup completed."""
    candidate = domain
    for index, step in enumerate(steps):
        if step.answer.outcome.is_failure:
            return candidate, False
        if len(step.selection.records) != 1:
            continue
        record = parse_dmarc(step.selection.records[0], name=step.name).record  # as discover
        psd = record.psd if record is not None else "u"
        if psd == "n":
            return step.domain, True
        if psd == "y":
            return (domain if index == 0 else _one_below(domain, step.domain)), True
        candidate = step.domain
    return candidate, len(steps) == len(walk_names(domain))


def _one_below(domain: str, ancestor: str) -> str:
    """The name one label longer than ``ancestor`` on the way down to ``domain``."""
    keep = ancestor.count(".") + 2
    return ".".join(domain.split(".")[-keep:])
