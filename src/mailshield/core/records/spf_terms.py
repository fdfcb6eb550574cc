"""SPF terms (RFC 7208 §4.6.1, §5, §6, §12): one mechanism or modifier, parsed or rejected.

```abnf
directive        = [ qualifier ] mechanism
qualifier        = "+" / "-" / "?" / "~"
mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
modifier         = redirect / explanation / unknown-modifier
unknown-modifier = name "=" macro-string
name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
a                = "a"      [ ":" domain-spec ] [ dual-cidr-length ]
mx               = "mx"     [ ":" domain-spec ] [ dual-cidr-length ]
ptr              = "ptr"    [ ":" domain-spec ]
ip4              = "ip4"    ":" ip4-network [ ip4-cidr-length ]
ip6              = "ip6"    ":" ip6-network [ ip6-cidr-length ]
ip4-cidr-length  = "/" ("0" / %x31-39 0*1DIGIT)   ; 0-32
ip6-cidr-length  = "/" ("0" / %x31-39 0*2DIGIT)   ; 0-128
dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
```
Mechanism and modifier names are case-insensitive; they are kept in lower case.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass

from mailshield.core.records.spf_macro import DOMAIN_SPEC_LETTERS, domain_spec_problem, scan_macros

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})  # RFC 7208 §4.6.4
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)\Z", re.DOTALL)
_DIRECTIVE = re.compile(r"([-+?~]?)([A-Za-z][A-Za-z0-9_.-]*)(.*)\Z", re.DOTALL)
_DUAL_CIDR = re.compile(r"(?P<spec>.*?)(?:/(?P<v4>\d+))?(?://(?P<v6>\d+))?\Z", re.DOTALL)
_CIDR_DIGITS = re.compile(r"(?:0|[1-9][0-9]*)\Z")


class Qualifier(enum.StrEnum):
    """The result a matching mechanism gives (RFC 7208 §4.6.2)."""

    PASS = "+"  # noqa: S105 - an SPF result, not a password
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"


@dataclass(frozen=True, slots=True)
class Mechanism:
    """One directive; ``qualifier`` is as written ("" when omitted, meaning ``+``)."""

    name: str
    qualifier: str = ""
    domain_spec: str | None = None
    network: str | None = None
    cidr4: int | None = None
    cidr6: int | None = None

    @property
    def result(self) -> Qualifier:
        return Qualifier(self.qualifier or "+")

    @property
    def counts_lookup(self) -> bool:
        """Whether the term counts towards the 10-lookup limit (RFC 7208 §4.6.4)."""
        return self.name in LOOKUP_MECHANISMS

    def target(self, current: str) -> str | None:
        """The name this term queries when evaluated for ``current`` (None for ip4/ip6/all)."""
        if self.name in ("include", "exists"):
            return self.domain_spec
        if self.name in ("a", "mx", "ptr"):
            return self.domain_spec or current
        return None

    def text(self) -> str:
        """The term in canonical form (lower-case name)."""
        out = self.qualifier + self.name
        if self.domain_spec is not None:
            out += ":" + self.domain_spec
        if self.network is not None:
            out += ":" + self.network
        if self.name == "ip6":
            return out + (f"/{self.cidr6}" if self.cidr6 is not None else "")
        out += f"/{self.cidr4}" if self.cidr4 is not None else ""
        return out + (f"//{self.cidr6}" if self.cidr6 is not None else "")


@dataclass(frozen=True, slots=True)
class Modifier:
    """One ``name=value`` modifier; ``name`` is lower-case."""

    name: str
    value: str

    @property
    def counts_lookup(self) -> bool:
        return self.name == "redirect"

    def text(self) -> str:
        return f"{self.name}={self.value}"


Term = Mechanism | Modifier


def parse_term(token: str) -> tuple[Term | None, str | None]:
    """One term: the parsed term or a reason why it is not one (RFC 7208 §4.6.1)."""
    if any(c.isspace() for c in token):
        return None, "terms must be separated by spaces only"
    modifier = _MODIFIER.match(token)
    if modifier is not None:
        return _parse_modifier(modifier.group(1).lower(), modifier.group(2))
    directive = _DIRECTIVE.match(token)
    if directive is None:
        return None, "not a mechanism or modifier"
    qualifier, name, rest = directive.group(1), directive.group(2).lower(), directive.group(3)
    if name not in MECHANISMS:
        if rest.startswith("="):
            return None, "a modifier cannot have a qualifier"
        return None, f"unknown mechanism {name!r}"
    return _parse_mechanism(qualifier, name, rest)


def _parse_modifier(name: str, value: str) -> tuple[Term | None, str | None]:
    """``redirect``/``exp`` take a domain-spec; other modifiers a macro-string (RFC 7208 §6)."""
    if name in ("redirect", "exp"):
        problem = domain_spec_problem(value)
    else:
        problem = scan_macros(value, DOMAIN_SPEC_LETTERS).problem
    return (None, problem) if problem else (Modifier(name, value), None)


def _parse_mechanism(qualifier: str, name: str, rest: str) -> tuple[Term | None, str | None]:
    if name == "all":
        return (Mechanism(name, qualifier), None) if not rest else (None, "all takes no argument")
    if name in ("ip4", "ip6"):
        return _parse_ip(qualifier, name, rest)
    if name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) == 1:
            return None, f"{name} needs ':' and a domain"
        problem = domain_spec_problem(rest[1:])
        return (None, problem) if problem else (Mechanism(name, qualifier, rest[1:]), None)
    return _parse_host_mechanism(qualifier, name, rest)


def _parse_host_mechanism(qualifier: str, name: str, rest: str) -> tuple[Term | None, str | None]:
    """``a``, ``mx`` (optional domain and dual CIDR) and ``ptr`` (optional domain only)."""
    if rest and rest[0] not in ":/":
        return None, f"unknown mechanism {name + rest.split(':')[0]!r}"
    match = _DUAL_CIDR.match(rest)
    assert match is not None  # the pattern matches every string
    spec, v4, v6 = match.group("spec"), match.group("v4"), match.group("v6")
    if name == "ptr":
        spec, v4, v6 = rest, None, None
    domain: str | None = None
    if spec:
        if not spec.startswith(":"):
            return None, f"bad prefix length {spec!r}: write /n for IPv4 and //n for IPv6"
        if len(spec) == 1:
            return None, f"{name} needs a domain after ':'"
        domain = spec[1:]
        problem = domain_spec_problem(domain)
        if problem:
            return None, problem
    cidr4, problem4 = _cidr(v4, 32)
    cidr6, problem6 = _cidr(v6, 128)
    if problem4 or problem6:
        return None, problem4 or problem6
    return Mechanism(name, qualifier, domain, None, cidr4, cidr6), None


def _parse_ip(qualifier: str, name: str, rest: str) -> tuple[Term | None, str | None]:
    """``ip4:``/``ip6:`` with a complete address and an optional prefix (RFC 7208 §5.6)."""
    if not rest.startswith(":"):
        return None, f"{name} needs ':' and an address"
    address, slash, prefix = rest[1:].partition("/")
    limit = 32 if name == "ip4" else 128
    cidr, problem = _cidr(prefix if slash else None, limit)
    if problem:
        return None, problem
    try:
        if name == "ip4":
            ipaddress.IPv4Address(address)
        elif "%" in address:
            raise ValueError(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        return None, f"{address!r} is not a complete IPv{name[-1]} address"
    if name == "ip4":
        return Mechanism(name, qualifier, network=address, cidr4=cidr), None
    return Mechanism(name, qualifier, network=address, cidr6=cidr), None


def _cidr(digits: str | None, limit: int) -> tuple[int | None, str | None]:
    """A prefix length without leading zeros and within ``limit`` (RFC 7208 §5.6, §12)."""
    if digits is None:
        return None, None
    if not _CIDR_DIGITS.match(digits) or int(digits) > limit:
        return None, f"prefix length /{digits} must be 0-{limit} without leading zeros"
    return int(digits), None
