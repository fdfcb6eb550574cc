"""Policy proposal from the live MX set and validation of edits (RFC 8461 §3.2, §4.1)."""

from __future__ import annotations

import pytest

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.evaluate.mx import MxHostLookup, MxSet
from mailshield.core.hosting.model import PolicySpec
from mailshield.core.hosting.proposal import canonical_pattern, propose_policy, validate_edit
from mailshield.core.observations import DnsAnswer, DnsOutcome

WEEK = 604_800


def host(name: str, preference: int = 10) -> MxHostLookup:
    """An MX host with one lab address."""
    a = DnsAnswer(name, "A", DnsOutcome.OK, ("127.0.0.25",))
    return MxHostLookup(name, preference, a, DnsAnswer(name, "AAAA", DnsOutcome.NODATA))


TWO_MX = MxSet((host("mx1.example.com", 10), host("backup.example.net", 20)))
IMPLICIT = MxSet((host("example.com", 0),), implicit=True)
NULL_MX = MxSet((), null_mx=True)
UNKNOWN = MxSet((), known=False)
IP_MX = MxSet((host("192.0.2.1"),))


@pytest.mark.parametrize(
    ("mxset", "options", "mx"),
    [
        (TWO_MX, {}, ("mx1.example.com", "backup.example.net")),
        (IMPLICIT, {}, ("example.com",)),
        (TWO_MX, {"extra_patterns": ["*.mail.example.com"]}, None),
        (
            TWO_MX,
            {"extra_patterns": ["MX1.Example.COM."]},
            ("mx1.example.com", "backup.example.net"),
        ),
        (UNKNOWN, {"extra_patterns": ["mx.example.com"]}, ("mx.example.com",)),
        (TWO_MX, {"extra_patterns": ["bücher.example"]}, None),
        (TWO_MX, {"mode": "enforce"}, ("mx1.example.com", "backup.example.net")),
    ],
    ids=[
        "mx-in-preference-order",
        "implicit-mx-names-the-domain",
        "extra-wildcard-appended",
        "extra-duplicate-normalised-away",
        "failed-lookup-with-patterns-given",
        "u-label-becomes-a-label",
        "enforce-proposal",
    ],
)
def test_accepted_proposals(
    mxset: MxSet, options: dict[str, object], mx: tuple[str, ...] | None
) -> None:
    """A valid proposal lists the MX hosts, then the extra patterns, normalised and unique."""
    proposal = propose_policy("example.com", mxset, max_age=WEEK, **options)  # type: ignore[arg-type]
    assert proposal.ok, proposal.problems
    assert proposal.spec is not None
    if mx is not None:
        assert proposal.spec.mx == mx
    extras = [canonical_pattern(str(p)) for p in options.get("extra_patterns", [])]  # type: ignore[attr-defined]
    assert set(extras) <= set(proposal.spec.mx)


@pytest.mark.parametrize(
    ("mxset", "options", "problem"),
    [
        (NULL_MX, {}, "null MX"),
        (UNKNOWN, {}, "could not be looked up"),
        (TWO_MX, {"mode": "none"}, "only for removing"),
        (TWO_MX, {"mode": "Enforce"}, "must be testing or enforce"),
        (TWO_MX, {"max_age": 31_557_601}, "between 0 and 31557600"),
        (TWO_MX, {"max_age": -1}, "between 0 and 31557600"),
        (TWO_MX, {"extra_patterns": ["mx*.example.com"]}, "wildcard"),
        (TWO_MX, {"extra_patterns": ["exa mple.com"]}, "invalid mx pattern"),
        (IP_MX, {}, "is an IP address"),
    ],
    ids=[
        "null-mx-has-nothing-to-protect",
        "unknown-mx-without-patterns",
        "mode-none-is-for-removal",
        "mode-is-case-sensitive",
        "max-age-above-the-maximum",
        "negative-max-age",
        "wildcard-inside-a-label",
        "space-in-a-pattern",
        "mx-is-an-ip-literal",
    ],
)
def test_refused_proposals(mxset: MxSet, options: dict[str, object], problem: str) -> None:
    """A refused proposal has no policy and says why."""
    arguments: dict[str, object] = {"max_age": WEEK, **options}
    proposal = propose_policy("example.com", mxset, **arguments)  # type: ignore[arg-type]
    assert not proposal.ok
    assert any(problem in p for p in proposal.problems), proposal.problems


@pytest.mark.parametrize(
    ("mxset", "options", "note"),
    [
        (IMPLICIT, {}, "implicit MX"),
        (TWO_MX, {"mode": "enforce", "max_age": 86_400}, "short for enforce"),
        (TWO_MX, {"extra_patterns": ["*.example.org"]}, "§10.4"),
        (TWO_MX, {"extra_patterns": ["mx9.example.com"]}, "matches none of the current MX"),
        (UNKNOWN, {"extra_patterns": ["mx.example.com"]}, "MX lookup failed"),
    ],
    ids=[
        "implicit-mx",
        "short-enforce-max-age",
        "wildcard-exposure",
        "unused-pattern",
        "lookup-failed",
    ],
)
def test_proposal_notes(mxset: MxSet, options: dict[str, object], note: str) -> None:
    """Advice comes with an accepted proposal without refusing it."""
    arguments: dict[str, object] = {"max_age": WEEK, **options}
    proposal = propose_policy("example.com", mxset, **arguments)  # type: ignore[arg-type]
    assert proposal.ok
    assert any(note in n for n in proposal.notes), proposal.notes


@pytest.mark.parametrize(
    ("spec", "live", "problem"),
    [
        (PolicySpec(Mode.TESTING, WEEK, ("mx1.example.com",)), ("mx1.example.com",), None),
        (PolicySpec(Mode.ENFORCE, WEEK, ("*.example.com",)), ("mx1.example.com",), None),
        (
            PolicySpec(Mode.ENFORCE, WEEK, ("mx1.example.com",)),
            ("mx2.example.com",),
            "matches no mx pattern",
        ),
        (PolicySpec(Mode.TESTING, WEEK, ()), (), "at least one mx pattern"),
        (PolicySpec(Mode.NONE, 86_400, ()), (), None),
        (PolicySpec(Mode.TESTING, 10**9, ("mx.example.com",)), (), "between 0 and"),
    ],
    ids=[
        "covered",
        "wildcard-covers",
        "uncovered-live-mx",
        "no-patterns",
        "none-needs-no-mx",
        "max-age",
    ],
)
def test_validate_edit(spec: PolicySpec, live: tuple[str, ...], problem: str | None) -> None:
    """An edited policy must be valid and cover every live MX host."""
    problems, _notes = validate_edit(spec, live)
    if problem is None:
        assert problems == ()
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("mx.example.com", "mx.example.com"),
        ("MX.Example.com.", "mx.example.com"),
        ("*.Example.com", "*.example.com"),
        (" mx.example.com ", "mx.example.com"),
        ("mx.bücher.example", "mx.xn--bcher-kva.example"),
    ],
    ids=["plain", "case-and-dot", "wildcard", "spaces", "idn"],
)
def test_canonical_pattern(pattern: str, expected: str) -> None:
    """Patterns are stored lower-case, as A-labels, without the trailing dot (§3.2)."""
    assert canonical_pattern(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    ["", "*", "*.", "a.*.example.com", "**.example.com", "-mx.example.com", "mx..example.com"],
    ids=[
        "empty",
        "star",
        "star-dot",
        "inner-wildcard",
        "double-star",
        "leading-hyphen",
        "empty-label",
    ],
)
def test_canonical_pattern_refuses(pattern: str) -> None:
    """Patterns outside ``["*."] Domain`` are refused with the reason."""
    with pytest.raises(ValueError, match="invalid mx pattern"):
        canonical_pattern(pattern)
