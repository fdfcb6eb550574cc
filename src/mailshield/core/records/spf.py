"""SPF records (RFC 7208): selection among TXT records, parsing every term, rendering.

```abnf
record           = version terms *SP
version          = "v=spf1"
terms            = *( 1*SP ( directive / modifier ) )
```
(RFC 7208 §4.5, §4.6.1, §12; the grammar of one term is in :mod:`.spf_terms`.)

:func:`parse_spf` never raises. Every bad term is reported (one ``spf.syntax`` finding each) and
the well-formed terms are kept, so a checker can still count lookups in a broken record; the
record is usable by receivers only when :attr:`SpfParse.valid`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mailshield.core.catalogue import spf as codes
from mailshield.core.findings import finding
from mailshield.core.model import Finding, Status
from mailshield.core.records.spf_macro import CACHE_HOSTILE_LETTERS, has_macro, scan_macros
from mailshield.core.records.spf_terms import (
    LOOKUP_MECHANISMS,
    MECHANISMS,
    Mechanism,
    Modifier,
    Qualifier,
    Term,
    parse_term,
)

__all__ = [
    "LOOKUP_MECHANISMS",
    "MECHANISMS",
    "Mechanism",
    "Modifier",
    "Qualifier",
    "SpfParse",
    "SpfRecord",
    "SpfSelection",
    "Term",
    "decode_txt",
    "is_spf",
    "parse_spf",
    "render_spf",
    "select_spf",
    "with_all",
]

_VERSION = re.compile(r"v=spf1(?: |\Z)", re.IGNORECASE)  # RFC 7208 §4.5
_NEAR_MISS = re.compile(r"\s*v\s*=\s*spf", re.IGNORECASE)
_BROAD_V4, _BROAD_V6 = 8, 16  # reference SPF-15: /0-/8 and /0-/16


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
    return _parse_spf(text, domain)


@functools.lru_cache(maxsize=1024)  # the tree is built again at every DNS level of one check
def _parse_spf(text: str | bytes, domain: str) -> SpfParse:
    text = decode_txt(text)
    if not is_spf(text):
        return SpfParse(text, None, (finding(codes.VERSION_INVALID, domain, record=text),))
    terms: list[Term] = []
    findings: list[Finding] = []
    for token in text[len("v=spf1") :].split(" "):
        if not token:
            continue  # terms are separated by 1*SP (RFC 7208 §4.6.1)
        term, problem = parse_term(token)
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
