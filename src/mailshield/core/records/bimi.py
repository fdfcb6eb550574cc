"""BIMI assertion records at ``<selector>._bimi.<domain>`` (BIMI draft, editor's copy v12).

```abnf
bimi-record            = bimi-version (bimi-sep bimi-location)
                         [(bimi-sep bimi-evidence-location)] [(local-part-selector)]
                         [(bimi-sep bimi-logo-preference)] [bimi-sep]
bimi-version           = "v" *WSP "=" *WSP "BIMI1"
bimi-location          = "l" *WSP "=" *WSP [bimi-uri]
bimi-evidence-location = "a" *WSP "=" *WSP [bimi-uri]
bimi-uri               = [FWS] URI [FWS]          ; HTTPS only, "," must be encoded
local-part-selector    = "lps" *WSP "=" *WSP *1local-part-prefix-list
local-part-prefix      = 1*63local-part-text       ; ALPHA / DIGIT / "-"
bimi-logo-preference   = "avp" *WSP "=" *WSP ("personal" / "brand")
```

Receivers MUST NOT fix syntax or capitalisation errors: ``v=BIMI1`` is exact and first,
``l=`` is required (it may be empty), and ``l=`` and ``a=`` both empty is a declination.
Unknown tags are ignored; duplicates are unspecified (first wins, with a warning).
:func:`parse_bimi` never raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailshield.core.catalogue import bimi as codes
from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import Finding, JSONValue, Status
from mailshield.core.names import hostname_problem
from mailshield.core.records.tag_value import TagProblemKind, parse_tag_list

_VERSION = re.compile(r"v[ \t]*=[ \t]*BIMI1[ \t]*(?:;|\Z)")
_NEAR_MISS = re.compile(r"\s*v\s*=\s*bimi", re.IGNORECASE)
_HTTPS = re.compile(
    r"https://(?P<host>[^/?#:@\s]+)(?::[0-9]+)?(?P<path>/[^?#\s]*)?(?:\?\S*)?\Z", re.I
)
_LPS = re.compile(r"[A-Za-z0-9-]{1,63}\Z")


@dataclass(frozen=True, slots=True)
class BimiRecord:
    """An assertion record; ``location``/``evidence`` are "" when empty, None when absent."""

    tags: tuple[tuple[str, str], ...]
    location: str | None = None
    evidence: str | None = None
    avp: str = "brand"

    @property
    def declined(self) -> bool:
        """``l=`` and ``a=`` both empty (or ``a=`` absent): the domain declines BIMI."""
        return self.location == "" and not self.evidence


@dataclass(frozen=True, slots=True)
class BimiParse:
    text: str
    record: BimiRecord | None
    findings: tuple[Finding, ...] = ()

    @property
    def valid(self) -> bool:
        return self.record is not None and all(f.status is not Status.FAIL for f in self.findings)


def is_bimi(text: str) -> bool:
    """Whether ``text`` begins with the exact version tag ``v=BIMI1``."""
    return _VERSION.match(text) is not None


def select_bimi(records: Sequence[bytes | str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The BIMI records among a name's TXT records, and the near misses (``v=bimi1`` …)."""
    texts = [r if isinstance(r, str) else r.decode("utf-8", errors="replace") for r in records]
    near = tuple(t for t in texts if not is_bimi(t) and _NEAR_MISS.match(t))
    return tuple(t for t in texts if is_bimi(t)), near


def https_url_problem(value: str) -> str | None:
    """Why ``value`` is not a single HTTPS URL with a valid host, or ``None``."""
    if "," in value:
        return "only one URL is allowed (a ',' must be written %2C)"
    match = _HTTPS.match(value)
    if match is None:
        return "not an https:// URL"
    problem = hostname_problem(match.group("host").rstrip("."))
    return f"host {match.group('host')!r} {problem}" if problem else None


def parse_bimi(text: str | bytes, *, name: str = "") -> BimiParse:
    """Parse a record found at ``name``, reporting every problem; never raises."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    notes = _Notes(name)
    if not is_bimi(text):
        notes.add(codes.RECORD_INVALID, problem="it must begin exactly with v=BIMI1")
        return BimiParse(text, None, tuple(notes.findings))
    tags = parse_tag_list(text)
    for bad in tags.problems:
        if bad.kind is TagProblemKind.DUPLICATE:
            notes.add(codes.TAG_DUPLICATE, tag=bad.name)
        else:
            notes.add(codes.RECORD_INVALID, problem=f"{bad.text!r} is not a tag=value pair")
    location, evidence = tags.get("l"), tags.get("a")
    if location is None:
        notes.add(codes.RECORD_INVALID, problem="the required l= tag is missing")
    for key, value in (("l", location), ("a", evidence)):
        problem = https_url_problem(value) if value else None
        if problem:
            notes.add(codes.RECORD_INVALID, problem=f"{key}={value}: {problem}")
    avp = _optional_tags(tags.get("avp"), tags.get("lps"), notes)
    pairs: dict[str, str] = {}
    for tag in tags.tags:
        pairs.setdefault(tag.name, tag.value)
    record = BimiRecord(tuple(pairs.items()), location, evidence, avp)
    return BimiParse(text, record, tuple(notes.findings))


class _Notes:
    """Collects findings about the record at one name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.findings: list[Finding] = []

    def add(self, spec: FindingSpec, **params: JSONValue) -> None:
        self.findings.append(finding(spec, self.name, **params))


def _optional_tags(avp: str | None, lps: str | None, notes: _Notes) -> str:
    """``avp`` (personal/brand, default brand) and ``lps`` prefixes (BIMI-10)."""
    if avp is not None and avp not in ("personal", "brand"):
        notes.add(codes.TAG_INVALID, tag="avp", value=avp, expected="personal or brand")
        avp = None
    if lps is not None:
        prefixes = [p.strip(" \t") for p in lps.split(",")]
        if not all(_LPS.match(p) for p in prefixes):
            expected = "letters, digits and '-', at most 63 each, separated by ','"
            notes.add(codes.TAG_INVALID, tag="lps", value=lps, expected=expected)
    return avp or "brand"
