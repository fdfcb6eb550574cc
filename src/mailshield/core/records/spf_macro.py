"""SPF ``domain-spec`` and ``macro-string`` validation (RFC 7208 §7.1, §4.6.1).

```abnf
domain-spec      = macro-string domain-end
domain-end       = ( "." toplabel [ "." ] ) / macro-expand
toplabel         = ( *alphanum ALPHA *alphanum ) /
                   ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
macro-string     = *( macro-expand / macro-literal )
macro-expand     = ( "%{" macro-letter transformers *delimiter "}" )
                   / "%%" / "%_" / "%-"
macro-literal    = %x21-24 / %x26-7E
macro-letter     = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"
transformers     = *DIGIT [ "r" ]
delimiter        = "." / "-" / "+" / "," / "/" / "_" / "="
```

A ``domain-spec`` with a macro depends on the message being checked (sender, client address),
so its target is unknowable to a checker; :func:`has_macro` says so and callers must not guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 7208 §7.1: "c", "r" and "t" are only allowed in "exp" text, never in a domain-spec.
DOMAIN_SPEC_LETTERS = frozenset("slodiphv")
# RFC 7208 §7.2 (caching note) and §10.1: per-sender letters defeat resolver caches.
CACHE_HOSTILE_LETTERS = frozenset("slo" + "h")

_EXPAND = re.compile(r"%\{([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)\}")
_TOPLABEL = re.compile(
    r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])\Z"
)
_MAX_NAME = 253  # RFC 1035 §2.3.4
_MAX_LABEL = 63


@dataclass(frozen=True, slots=True)
class MacroScan:
    """The macro letters a string uses (lower-case), or why it is not a valid macro-string."""

    letters: frozenset[str]
    problem: str | None = None
    ends_with_expand: bool = False


def scan_macros(text: str, allowed: frozenset[str] = DOMAIN_SPEC_LETTERS) -> MacroScan:
    """Walk ``text`` as a ``macro-string``; report the first grammar violation (RFC 7208 §7.1)."""
    letters: set[str] = set()
    i, ends_with_expand = 0, False
    while i < len(text):
        char = text[i]
        ends_with_expand = False
        if char == "%":
            step, letter, problem = _expand_at(text, i, allowed)
            if problem:
                return MacroScan(frozenset(letters), problem)
            letters.update(letter)
            i += step
            ends_with_expand = True
            continue
        if not "\x21" <= char <= "\x7e":
            return MacroScan(frozenset(letters), f"character {char!r} is not printable ASCII")
        i += 1
    return MacroScan(frozenset(letters), None, ends_with_expand)


def _expand_at(text: str, i: int, allowed: frozenset[str]) -> tuple[int, str, str | None]:
    """Length, letter and problem of the macro-expand starting at ``text[i] == "%"``."""
    following = text[i + 1 : i + 2]
    if following in ("%", "_", "-"):
        return 2, "", None
    if following != "{":
        return 0, "", "'%' must be followed by '{', '%', '_' or '-' (RFC 7208 §7.1)"
    match = _EXPAND.match(text, i)
    if match is None:
        return 0, "", f"malformed macro {text[i : i + 12]!r}… (RFC 7208 §7.1)"
    letter, digits = match.group(1).lower(), match.group(2)
    if letter not in allowed:
        return 0, "", f"macro letter {match.group(1)!r} is not allowed here (RFC 7208 §7.1)"
    if digits and int(digits) == 0:
        return 0, "", "a macro's digit transformer must be non-zero (RFC 7208 §7.3)"
    return match.end() - i, letter, None


def has_macro(text: str) -> bool:
    """Whether ``text`` contains any macro, making the name it denotes message-dependent."""
    return "%" in text


def domain_spec_problem(spec: str) -> str | None:
    """Why ``spec`` is not a valid ``domain-spec`` (RFC 7208 §7.1), or ``None`` when it is."""
    if not spec:
        return "the domain is empty"
    scan = scan_macros(spec)
    if scan.problem:
        return scan.problem
    if scan.ends_with_expand:
        return None
    bare = spec[:-1] if spec.endswith(".") else spec
    _, dot, toplabel = bare.rpartition(".")
    if not dot or not _TOPLABEL.match(toplabel):
        return f"{spec!r} does not end in a valid top-level label (RFC 7208 §7.1 domain-end)"
    if has_macro(spec):
        return None
    return _name_problem(bare)


def _name_problem(name: str) -> str | None:
    """Length and empty-label problems that make a macro-free name unqueryable."""
    if len(name) > _MAX_NAME:
        return f"the name is longer than {_MAX_NAME} characters"
    for label in name.split("."):
        if not label:
            return f"{name!r} has an empty label"
        if len(label) > _MAX_LABEL:
            return f"label {label[:20]!r}… is longer than {_MAX_LABEL} characters"
    return None
