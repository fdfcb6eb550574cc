"""A policy proposed from the live MX set, and validation of the operator's edits.

The proposal lists every MX host by name (RFC 8461 §4.1 compares the name in the MX record), in
preference order, then the operator's extra patterns. Edits are checked against RFC 8461 §3.2
(mode, ``max_age`` ≤ 31557600, ``["*."] Domain`` patterns in A-label form) and against the MX
set itself: a pattern list that leaves a live MX uncovered is refused, because in ``enforce``
senders would refuse that MX and in ``testing`` they would report every message to it (§5).
Problems refuse the proposal; notes are advice shown beside it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailshield.core.documents.mta_sts_policy import MAX_AGE_LIMIT, Mode
from mailshield.core.evaluate.mx import MxSet
from mailshield.core.hosting.model import PolicySpec
from mailshield.core.names import InvalidName, mx_pattern_matches, mx_pattern_problem, to_alabel

ENFORCE_MIN_MAX_AGE = 604_800  # one week: RFC 8461 §3.2 expects "weeks or greater", §10.2


@dataclass(frozen=True, slots=True)
class Proposal:
    """The policy to serve (``None`` when refused), why it was refused, and advice."""

    spec: PolicySpec | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    live_mx: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.spec is not None


def canonical_pattern(pattern: str) -> str:
    """``pattern`` in A-label, lower-case form without a trailing dot; ``ValueError`` if invalid.

    RFC 8461 §3.2: ``sts-policy-mx-value = ["*."] Domain``, A-labels only.
    """
    text = pattern.strip()
    wildcard = text.startswith("*.")
    if "*" in (text[2:] if wildcard else text):
        raise ValueError(
            f"invalid mx pattern {pattern!r}: a wildcard is allowed only as the whole left-most "
            "label (*.example.com)"
        )
    try:
        name = to_alabel(text[2:] if wildcard else text)
    except InvalidName as exc:
        raise ValueError(f"invalid mx pattern {pattern!r}: {exc}") from None
    result = f"*.{name}" if wildcard else name
    problem = mx_pattern_problem(result)
    if problem:
        raise ValueError(f"invalid mx pattern {pattern!r}: {problem}")
    return result


def live_mx_names(domain: str, mxset: MxSet) -> tuple[str, ...]:
    """The MX host names senders would use, in preference order (the domain for an implicit MX)."""
    if mxset.implicit:
        return (domain,)
    return tuple(dict.fromkeys(host.name for host in mxset.hosts))


def propose_policy(
    domain: str,
    mxset: MxSet,
    *,
    mode: Mode | str = Mode.TESTING,
    max_age: int,
    extra_patterns: Sequence[str] = (),
) -> Proposal:
    """The policy for ``domain`` covering its live MX hosts plus ``extra_patterns``."""
    problems: list[str] = []
    notes: list[str] = []
    live = live_mx_names(domain, mxset)
    chosen_mode = _mode(mode, problems)
    _check_max_age(max_age, chosen_mode, problems, notes)
    extras = _patterns(extra_patterns, problems)
    _check_mx_set(domain, mxset, bool(extras), problems, notes)
    from_mx = _mx_patterns(live, problems) if mxset.known and not mxset.null_mx else ()
    patterns = tuple(dict.fromkeys((*from_mx, *extras)))
    notes.extend(_pattern_notes(patterns, live))
    if problems or chosen_mode is None:
        return Proposal(None, tuple(problems), tuple(notes), live)
    return Proposal(PolicySpec(chosen_mode, max_age, patterns), (), tuple(notes), live)


def validate_edit(spec: PolicySpec, live: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Problems and notes for an edited policy against the live MX hosts ``live``."""
    problems: list[str] = []
    notes: list[str] = []
    _check_max_age(spec.max_age, spec.mode, problems, notes)
    patterns = _patterns(spec.mx, problems)
    if spec.mode is not Mode.NONE and not patterns:
        problems.append("a policy needs at least one mx pattern unless its mode is none (§3.2)")
    for host in live:
        if not any(mx_pattern_matches(p, host) for p in patterns):
            problems.append(
                f"the MX host {host} matches no mx pattern: senders would refuse it in enforce "
                "mode and report it in testing mode (RFC 8461 §4.1, §5)"
            )
    notes.extend(_pattern_notes(patterns, live))
    return tuple(problems), tuple(notes)


def _mode(mode: Mode | str, problems: list[str]) -> Mode | None:
    try:
        chosen = Mode(mode)
    except ValueError:
        problems.append(f"mode {mode!r} must be testing or enforce (RFC 8461 §3.2)")
        return None
    if chosen is Mode.NONE:
        problems.append("mode none is only for removing a domain (RFC 8461 §8.3)")
        return None
    return chosen


def _check_max_age(max_age: int, mode: Mode | None, problems: list[str], notes: list[str]) -> None:
    if not 0 <= max_age <= MAX_AGE_LIMIT:
        problems.append(f"max_age must be between 0 and {MAX_AGE_LIMIT} seconds (RFC 8461 §3.2)")
    elif mode is Mode.ENFORCE and max_age < ENFORCE_MIN_MAX_AGE:
        notes.append(
            f"max_age {max_age} s is short for enforce: at least {ENFORCE_MIN_MAX_AGE} s "
            "(one week) is advised so an attacker cannot wait out the cache (RFC 8461 §10.2)"
        )


def _patterns(patterns: Iterable[str], problems: list[str]) -> tuple[str, ...]:
    result: list[str] = []
    for pattern in patterns:
        try:
            result.append(canonical_pattern(pattern))
        except ValueError as exc:
            problems.append(str(exc))
    return tuple(dict.fromkeys(result))


def _mx_patterns(hosts: Sequence[str], problems: list[str]) -> tuple[str, ...]:
    literals = [h for h in hosts if _is_ip(h)]
    problems.extend(
        f"the MX target {h} is an IP address, not a host name (RFC 5321 §5.1): no policy can "
        "name it; publish an MX record with a host name first"
        for h in literals
    )
    return _patterns((h for h in hosts if h not in literals), problems)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_mx_set(
    domain: str, mxset: MxSet, has_extras: bool, problems: list[str], notes: list[str]
) -> None:
    if mxset.null_mx:
        problems.append(
            f"{domain} publishes a null MX (RFC 7505): it accepts no mail, so MTA-STS has "
            "nothing to protect"
        )
    elif not mxset.known and not has_extras:
        problems.append(
            f"the MX records of {domain} could not be looked up; try again, or give the mx "
            "patterns yourself"
        )
    elif not mxset.known:
        notes.append("the MX lookup failed: the policy lists only the patterns you gave")
    elif mxset.implicit:
        notes.append(
            f"{domain} has no MX record: senders deliver to the domain itself (implicit MX, "
            "RFC 5321 §5.1), so the policy names it"
        )


def _pattern_notes(patterns: Sequence[str], live: Sequence[str]) -> list[str]:
    notes = [
        f"the wildcard {p} lets any host under {p[2:]} with a valid certificate receive your "
        "mail (RFC 8461 §10.4)"
        for p in patterns
        if p.startswith("*.")
    ]
    notes += [
        f"the mx pattern {p} matches none of the current MX hosts (fine if you are adding one)"
        for p in patterns
        if live and not any(mx_pattern_matches(p, host) for host in live)
    ]
    return notes
