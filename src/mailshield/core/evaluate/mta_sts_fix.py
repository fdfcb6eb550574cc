"""Exact remedies for MTA-STS findings: a complete policy file and the TXT record that goes
with it, built from the live MX set.

The policy id is the first 32 hex digits of the SHA-256 of the policy body, so the id changes
exactly when the body does (RFC 8461 §3.1) and no clock is needed. Order of operations
(RFC 8461 §8.1): publish the new body first, then the TXT record with the new id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from mailshield.core.catalogue import mta_sts as codes
from mailshield.core.documents.mta_sts_policy import (
    MAX_AGE_LIMIT,
    Mode,
    PolicyParse,
    policy_id,
    render_policy,
)
from mailshield.core.model import Finding, Status
from mailshield.core.names import mx_pattern_matches

TESTING_MAX_AGE = 86_400  # one day while testing: a mistake is forgotten quickly
ENFORCE_MIN_MAX_AGE = 604_800  # one week: the least worth enforcing (RFC 8461 §10.2)


@dataclass(frozen=True, slots=True)
class Remedy:
    """What to publish: the policy body (CRLF lines) and its TXT record."""

    domain: str
    body: str

    @property
    def record_name(self) -> str:
        return f"_mta-sts.{self.domain}."

    @property
    def record(self) -> str:
        return f"v=STSv1; id={policy_id(self.body)}"

    @property
    def zone_line(self) -> str:
        return f'{self.record_name} IN TXT "{self.record}"'

    def policy_steps(self) -> str:
        """Serve the body, then publish the record (the order senders need)."""
        return (
            f"1. Serve this file at https://mta-sts.{self.domain}/.well-known/mta-sts.txt with "
            "status 200 and Content-Type: text/plain; charset=utf-8 (no redirect):\n"
            f"{self.body}"
            f"2. Then publish the TXT record with the new id:\n{self.zone_line}"
        )


def planned_patterns(current: Sequence[str], mx_hosts: Sequence[str] | None) -> list[str]:
    """The mx patterns to publish: current patterns still used by a live MX host, then every
    live MX host no pattern covers (RFC 8461 §4.1). Without the MX set, the current ones."""
    if mx_hosts is None:
        return list(current)
    hosts = [h for h in mx_hosts if h]
    kept = [p for p in current if any(mx_pattern_matches(p, h) for h in hosts)]
    uncovered = [h for h in hosts if not any(mx_pattern_matches(p, h) for p in kept)]
    return kept + uncovered


def plan(
    domain: str,
    parse: PolicyParse | None,
    mx_hosts: Sequence[str] | None,
    *,
    mode: Mode | None = None,
) -> Remedy | None:
    """A complete corrected policy for ``domain``, or ``None`` when no MX pattern is known.

    Keeps the current mode and ``max_age`` where they are valid; a new policy starts in
    ``testing`` with a one-day ``max_age``; ``enforce`` gets at least a week; ``max_age`` never
    exceeds the §3.2 maximum. ``mode`` overrides the mode (e.g. testing → enforce advice).
    """
    current = parse.mx if parse else ()
    patterns = planned_patterns(current, mx_hosts)
    chosen = mode or (parse.mode if parse and parse.mode else Mode.TESTING)
    if not patterns and chosen is not Mode.NONE:
        return None
    max_age = parse.max_age if parse and parse.max_age is not None else TESTING_MAX_AGE
    if chosen is Mode.ENFORCE:
        max_age = max(max_age, ENFORCE_MIN_MAX_AGE)
    max_age = min(max_age, MAX_AGE_LIMIT)
    try:
        return Remedy(domain, render_policy(chosen, max_age, patterns))
    except ValueError:  # a live MX name that is not a valid host name: no exact fix possible
        return None


_NEEDS_RECORD = frozenset(
    {
        codes.RECORD_MISSING.code,
        codes.RECORD_INVALID.code,
        codes.RECORD_MULTIPLE.code,
        codes.RECORD_DANGLING_CNAME.code,
        codes.RECORD_LENIENT_VERSION.code,
        codes.RECORD_DUPLICATE_FIELD.code,
        codes.POLICY_ORPHANED.code,
    }
)
_NEEDS_POLICY = frozenset(
    {
        codes.POLICY_FETCH_FAILED.code,
        codes.POLICY_REDIRECT.code,
        codes.POLICY_HTTP_STATUS.code,
        codes.POLICY_TOO_LARGE.code,
        codes.POLICY_HTML.code,
        codes.POLICY_SYNTAX.code,
        codes.POLICY_FORMAT.code,
        codes.POLICY_DUPLICATE_KEY.code,
        codes.POLICY_MAX_AGE_LONG.code,
        codes.MX_NOT_COVERED.code,
    }
)
_NEEDS_ENFORCE = frozenset({codes.POLICY_MODE_TESTING.code, codes.POLICY_MAX_AGE_SHORT.code})


@dataclass(frozen=True, slots=True)
class Remedies:
    """The exact fixes for one domain, computed once and attached by finding code: record
    problems get the TXT line (plus the file when the policy must change too), policy and
    coverage problems the corrected file and its record, testing mode the enforce version."""

    current: Remedy | None  # the served policy, when it needs no change
    planned: Remedy | None  # a corrected policy from the live MX set
    enforce: Remedy | None  # the same, in enforce mode

    @classmethod
    def build(
        cls, domain: str, policy: PolicyParse | None, mx_hosts: Sequence[str] | None
    ) -> Remedies:
        """The fixes for ``domain`` given the served policy (if any) and the live MX set."""
        unchanged = policy is not None and planned_patterns(policy.mx, mx_hosts) == list(policy.mx)
        current = Remedy(domain, policy.text) if policy and policy.valid and unchanged else None
        planned = plan(domain, policy, mx_hosts)
        enforce = plan(domain, policy, mx_hosts, mode=Mode.ENFORCE)
        return cls(current, planned, enforce)

    def attach(self, item: Finding) -> Finding:
        """``item`` with its exact fix, when one can be built."""
        if item.status in (Status.PASS, Status.INFO, Status.NOT_APPLICABLE, Status.ERROR):
            return item
        fix: str | None = None
        if item.code in _NEEDS_RECORD:
            fix = self.current.zone_line if self.current else _steps(self.planned)
        elif item.code in _NEEDS_POLICY:
            fix = _steps(self.planned)
        elif item.code in _NEEDS_ENFORCE:
            fix = _steps(self.enforce)
        if fix is not None:
            fix = _preamble(item) + fix
        return replace(item, fix=fix) if fix else item


_FETCH_PREAMBLE = {
    "no_address": "Give {host} an address (A/AAAA, or a CNAME to your policy host) that serves "
    "HTTPS on port 443.\n",
    "blocked": "Point {host} at a public address; it resolves to a private or loopback one.\n",
    "refused": "Make {host} accept HTTPS connections on port 443.\n",
    "protocol_error": "Make {host} answer the GET with a complete HTTP/1.1 response.\n",
}


def _preamble(item: Finding) -> str:
    """What to do before publishing the file, when the file alone is not the fix."""
    if item.code == codes.POLICY_MODE_TESTING.code:
        return "Once TLS-RPT reports show no failures for a few weeks, switch to enforce:\n"
    if item.code == codes.POLICY_FETCH_FAILED.code:
        host = item.subject.partition("://")[2].partition("/")[0]
        return _FETCH_PREAMBLE.get(str(item.params.get("outcome")), "").format(host=host)
    return ""


def _steps(remedy: Remedy | None) -> str | None:
    return remedy.policy_steps() if remedy else None
