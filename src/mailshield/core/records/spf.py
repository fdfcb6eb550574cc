"""SPF records (RFC 7208): selection among TXT records, parsing every term, rendering.

```abnf
record           = version terms *SP
version          = "v=spf1"
terms            = *( 1*SP ( directive / modifier ) )
directive        = [ qualifier ] mechanism
qualifier        = "+" / "-" / "?" / "~"
mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
modifier         = redirect / explanation / unknown-modifier
unknown-modifier = name "=" macro-string
name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
a                = "a"      [ ":" domain-spec ] [ dual-cidr-length ]
ip4              = "ip4"    ":" ip4-network [ ip4-cidr-length ]
ip6              = "ip6"    ":" ip6-network [ ip6-cidr-length ]
dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
```
(RFC 7208 §4.6.1, §5, §6, §12.) Mechanism and modifier names are case-insensitive.

:func:`parse_spf` never raises. Every bad term is reported (one ``spf.syntax`` finding each) and
the well-formed terms are kept, so a checker can still count lookups in a broken record; the
record is usable by receivers only when :attr:`SpfParse.valid`.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mailshield.core.catalogue import spf as codes
from mailshield.core.findings import finding
from mailshield.core.model import Finding, Status
from mailshield.core.records.spf_macro import (
    CACHE_HOSTILE_LETTERS,
    DOMAIN_SPEC_LETTERS,
    domain_spec_problem,
    has_macro,
    scan_macros,
)

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})  # RFC 7208 §4.6.4
_VERSION = re.compile(r"v=spf1(?: |\Z)", re.IGNORECASE)  # RFC 7208 §4.5
_NEAR_MISS = re.compile(r"\s*v\s*=\s*spf", re.IGNORECASE)
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)\Z", re.DOTALL)
_DIRECTIVE = re.compile(r"([-+?~]?)([A-Za-z][A-Za-z0-9_.-]*)(.*)\Z", re.DOTALL)
_DUAL_CIDR = re.compile(r"(?P<spec>.*?)(?:/(?P<v4>\d+))?(?://(?P<v6>\d+))?\Z", re.DOTALL)
_CIDR_DIGITS = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_BROAD_V4, _BROAD_V6 = 8, 16  # reference SPF-15: /0-/8 and /0-/16


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


@dataclass(frozen=True, slots=True)
class SpfRecord:
    """The well-formed terms of one record, in the order written."""

    terms: tuple[Term, ...] = ()

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    def modifier(self, name: str) -> str | None:
        """The value of the first modifier called ``name``."""
        return next(
            (t.value for t in self.terms if isinstance(t, Modifier) and t.name == name), None
        )

    @property
    def all(self) -> Mechanism | None:
        """The first ``all`` mechanism; terms after it are never evaluated (RFC 7208 §5.1)."""
        return next((m for m in self.mechanisms if m.name == "all"), None)

    @property
    def evaluated(self) -> tuple[Mechanism, ...]:
        """The mechanisms a receiver may evaluate: those up to and including the first all."""
        out: list[Mechanism] = []
        for mechanism in self.mechanisms:
            out.append(mechanism)
            if mechanism.name == "all":
                break
        return tuple(out)

    @property
    def redirect(self) -> str | None:
        """The redirect target a receiver uses: ignored when an all exists (RFC 7208 §6.1)."""
        return None if self.all is not None else self.modifier("redirect")


@dataclass(frozen=True, slots=True)
class SpfParse:
    """The outcome of parsing one TXT record as SPF."""

    text: str
    record: SpfRecord | None  # None when the text is not an SPF record at all
    findings: tuple[Finding, ...] = ()

    @property
    def valid(self) -> bool:
        """Whether receivers can use the record (no syntax error, no duplicate modifier)."""
        return self.record is not None and all(f.status is not Status.FAIL for f in self.findings)


@dataclass(frozen=True, slots=True)
class SpfSelection:
    """Which TXT records at a name are SPF records (RFC 7208 §4.5)."""

    records: tuple[str, ...]  # those beginning with "v=spf1" + SP or end
    near_misses: tuple[str, ...]  # those that look meant as SPF but are ignored


def decode_txt(record: bytes | str) -> str:
    """A TXT record as text; undecodable bytes become U+FFFD and are reported by the parsers."""
    return record if isinstance(record, str) else record.decode("utf-8", errors="replace")


def is_spf(text: str) -> bool:
    """Whether ``text`` begins with ``v=spf1`` followed by a space or its end (RFC 7208 §4.5)."""
    return _VERSION.match(text) is not None


def select_spf(records: Sequence[bytes | str]) -> SpfSelection:
    """Keep the SPF records among a name's TXT records; note near misses such as ``v=spf1a``."""
    texts = [decode_txt(r) for r in records]
    chosen = tuple(t for t in texts if is_spf(t))
    near = tuple(t for t in texts if not is_spf(t) and _NEAR_MISS.match(t))
    return SpfSelection(chosen, near)


def parse_spf(text: str | bytes, *, domain: str = "") -> SpfParse:
    """Parse one record, reporting every problem as a finding about ``domain``; never raises."""
    text = decode_txt(text)
    if not is_spf(text):
        return SpfParse(text, None, (finding(codes.VERSION_INVALID, domain, record=text),))
    terms: list[Term] = []
    findings: list[Finding] = []
    for token in text[len("v=spf1") :].split(" "):
        if not token:
            continue  # terms are separated by 1*SP (RFC 7208 §4.6.1)
        term, problem = _parse_term(token)
        if problem is not None:
            findings.append(finding(codes.SYNTAX, domain, term=token, problem=problem))
        if term is not None:
            terms.append(term)
            findings.extend(_term_notes(term, token, domain))
    record = SpfRecord(tuple(terms))
    findings.extend(_record_notes(record, domain))
    return SpfParse(text, record, tuple(findings))


def render_spf(record: SpfRecord) -> str:
    """The record text: ``v=spf1`` and each term in canonical form, separated by one space."""
    return " ".join(["v=spf1", *(t.text() for t in record.terms)])


def with_all(record: SpfRecord, qualifier: Qualifier) -> SpfRecord:
    """``record`` ending in ``<qualifier>all``: the first all is replaced, else one is appended."""
    new_all = Mechanism("all", "" if qualifier is Qualifier.PASS else qualifier.value)
    if record.all is None:
        return SpfRecord((*record.terms, new_all))
    index = record.terms.index(record.all)
    return replace(record, terms=(*record.terms[:index], new_all, *record.terms[index + 1 :]))


def _parse_term(token: str) -> tuple[Term | None, str | None]:
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


def _term_notes(term: Term, token: str, domain: str) -> list[Finding]:
    """Advice about one well-formed term: ptr, broad networks, macros, trailing dots."""
    notes: list[Finding] = []
    spec = term.value if isinstance(term, Modifier) else (term.domain_spec or "")
    letters = scan_macros(spec).letters if has_macro(spec) else frozenset()
    if (isinstance(term, Mechanism) and term.name == "ptr") or "p" in letters:
        notes.append(finding(codes.PTR, domain, term=token))
    if letters & CACHE_HOSTILE_LETTERS:
        notes.append(finding(codes.MACRO_CACHE_HOSTILE, domain, term=token))
    if isinstance(term, Modifier) and term.name not in ("redirect", "exp"):
        notes.append(finding(codes.MODIFIER_UNKNOWN, domain, term=token))
    if spec.endswith("."):
        notes.append(finding(codes.TRAILING_DOT, domain, term=token))
    if isinstance(term, Mechanism):
        notes.extend(_broad_network(term, token, domain))
    return notes


def _broad_network(term: Mechanism, token: str, domain: str) -> list[Finding]:
    prefixes = []
    if term.cidr4 is not None and term.cidr4 <= _BROAD_V4 and term.name != "ip6":
        prefixes.append(term.cidr4)
    if term.cidr6 is not None and term.cidr6 <= _BROAD_V6:
        prefixes.append(term.cidr6)
    return [finding(codes.NETWORK_BROAD, domain, term=token, prefix=p) for p in prefixes]


def _record_notes(record: SpfRecord, domain: str) -> list[Finding]:
    """Record-wide rules: duplicate redirect/exp, redirect beside all, terms after all."""
    notes: list[Finding] = []
    for name in ("redirect", "exp"):
        count = sum(1 for t in record.terms if isinstance(t, Modifier) and t.name == name)
        if count > 1:  # RFC 7208 §6: at most once each
            notes.append(finding(codes.MODIFIER_DUPLICATE, domain, modifier=name, count=count))
    all_term = record.all
    if all_term is None:
        return notes
    redirect = record.modifier("redirect")
    if redirect is not None:
        notes.append(finding(codes.REDIRECT_IGNORED, domain, target=redirect))
    after = record.mechanisms[record.mechanisms.index(all_term) + 1 :]
    if after:
        listed = ", ".join(repr(m.text()) for m in after)
        notes.append(finding(codes.TERMS_AFTER_ALL, domain, terms=listed))
    return notes
